"""The cold-word fast paths (words new to the caches) agree with the general ones, word by word."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from alerts.matching import gender, keytable, languages
from alerts.matching.gender import feminine, feminine_many
from alerts.matching.languages import ALGORITHMS, LANGUAGES
from alerts.matching.text import COMPOUND
from alerts.matching.variants import _keyed, word_keys

# Letters of every feminine and masculine ending (Latin and Cyrillic), so that words end in
# them, in their last two letters only (-na, -ka without -ln, -sk) and in neither.
ENDINGS = list("skczlnaoyjieuvw") + list("скцзьлнаяойуюїівеиы")
ENDING_WORDS = st.text(alphabet=st.sampled_from(ENDINGS), max_size=10)
# Latin words the stemmers cut (Raketen, sanktioner), feminine surnames, -ske, ł, digits.
LATIN = st.text(alphabet=st.sampled_from(list("askceinorltuwyzjhgł0")), min_size=1, max_size=14)
ASCII = st.text(alphabet=st.sampled_from(list("askceinorltuwyzjhg09_")), min_size=1, max_size=14)
NAMED = st.sampled_from(["zelenska", "zelenskaya", "navalnaya", "budanovova", "pokrovske"])


@given(st.lists(st.one_of(ENDING_WORDS, NAMED), max_size=40))
@settings(max_examples=400, deadline=None)
def test_feminine_many_is_feminine_of_each_word_with_an_ending(words: list[str]) -> None:
    expected = [feminine(w) if w.endswith(gender._FEMININE_ENDS) else None for w in words]
    assert feminine_many(words) == expected


def test_feminine_many_finds_the_feminine_forms() -> None:
    words = ["zelenska", "kaluga", "зеленської", "budanovova", "una", "navalnaya", "ska"]
    assert feminine_many(words) == ["zelensk", None, "зеленськ", "budanovov", None, "navaln", None]


@given(st.lists(st.one_of(ASCII, NAMED), max_size=30))
@settings(max_examples=200, deadline=None)
def test_ascii_words_are_keyed_as_the_general_path_keys_them(words: list[str]) -> None:
    for language in LANGUAGES:
        keyed = _keyed(words, language)  # by script, through a dict: the general path
        assert word_keys(words, language) == [keyed[w] for w in words]


@given(st.lists(st.one_of(LATIN, NAMED), max_size=30))
@settings(max_examples=100, deadline=None)
def test_latin_words_beyond_ascii_take_the_general_path_alike(words: list[str]) -> None:
    for language in ("en", "pl", "de"):
        keyed = _keyed(words, language)
        assert word_keys(words, language) == [keyed[w] for w in words]


def test_the_held_tables_are_the_distinct_tables_each_once() -> None:
    for code in ALGORITHMS:
        keytable.table_for(code)
    distinct = {id(t): t for t in keytable._TABLES.values()}
    assert [id(t) for t in keytable.tables()] == list(distinct)


def test_words_the_table_cannot_keep_are_keyed_every_scan() -> None:
    table = keytable.new_table(max_word=8)
    text = "raketenangriff kaluga raketenangriffe kaluga"  # two words too long to keep
    expected = [*word_keys(text.split(), "de"), keytable.SEP]
    for _ in range(2):
        assert keytable.scan([text], {}, table, language="de")[0] == expected
    assert len(table) == 1


# The endings' regexes as first written: a lookbehind tried at every character.
LOOKBEHIND_FIRST = {
    "cs": re.compile("(?:(?<=[^\n]{5})(?:eho|emu|ych|ymi|ym)|(?<=[^\n]{4})(?:om|och|ej))$", re.M),
    "pl": re.compile("(?<=[^\n]{3})ow$", re.MULTILINE),
    "accent": re.compile("(?<=[^\n]{4})(?:ach|ich|am|im|um)$", re.MULTILINE),
}
CUT_WORDS = st.text(alphabet=st.sampled_from(list("ehomuycijwa")), max_size=10)


@given(st.lists(CUT_WORDS, max_size=30))
@settings(max_examples=500, deadline=None)
def test_ending_regexes_cut_as_the_lookbehind_first_ones(words: list[str]) -> None:
    joined = "\n".join(words)
    accented = languages._CZECH_ACCENT
    for new, old in (
        (languages._CUTS["cs"], LOOKBEHIND_FIRST["cs"]),
        (languages._CUTS["sk"], LOOKBEHIND_FIRST["cs"]),
        (languages._CUTS["pl"], LOOKBEHIND_FIRST["pl"]),
        (accented, LOOKBEHIND_FIRST["accent"]),
    ):
        assert new.sub("", joined) == old.sub("", joined)
        assert [m.span() for m in new.finditer(joined)] == [m.span() for m in old.finditer(joined)]


# The compound regex as first written: \w+ tried from every letter, backtracking.
COMPOUND_FIRST = re.compile(r"\w+(?:[-']\w+)+")
HYPHENATED = st.text(alphabet=st.sampled_from(list("ab9_- '’Кя\u0301.\nß")), max_size=80)


@given(HYPHENATED)
@settings(max_examples=1000, deadline=None)
def test_compounds_are_found_as_the_backtracking_regex_finds_them(text: str) -> None:
    assert [m.span() for m in COMPOUND.finditer(text)] == [
        m.span() for m in COMPOUND_FIRST.finditer(text)
    ]
