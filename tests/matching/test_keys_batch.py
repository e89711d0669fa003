"""The batched key and transliteration paths (index build, item words) agree word by word."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from alerts.matching.termkeys import term_keys
from alerts.matching.translit import (
    by_script,
    script,
    to_cyrillic,
    to_cyrillic_many,
    to_latin,
    to_latin_many,
)
from alerts.matching.variants import word_key, word_keys

# Letters that exercise digraphs (shch, kh, ts, iy, yy...), final y, doubled letters,
# Ukrainian letters, soft signs, a final "а" (adjectives), digits and another script.
LATIN = st.text(alphabet=st.sampled_from(list("ashchkzytijwoeu")), min_size=1, max_size=9)
CYRILLIC = st.text(alphabet=st.sampled_from(list("калугаьъіїєґйщх")), min_size=1, max_size=9)
OTHER = st.text(alphabet=st.sampled_from(list("é9αβkа")), min_size=1, max_size=5)
ALIASES = st.sampled_from(["kyiv", "київ", "odessa", "харків", "zaporizhzhia"])
WORDS = st.lists(st.one_of(LATIN, CYRILLIC, OTHER, ALIASES), max_size=25)


@given(WORDS)
@settings(max_examples=300, deadline=None)
def test_term_keys_in_batch_are_the_keys_word_by_word(words: list[str]) -> None:
    names = words[::2]  # some words are names (other orthographies, place forms), some not
    batch = term_keys(words, names)
    assert batch == {w: term_keys([w], [w] if w in names else [])[w] for w in words}


@given(WORDS)
@settings(max_examples=300, deadline=None)
def test_word_keys_in_batch_are_the_keys_word_by_word(words: list[str]) -> None:
    assert word_keys(words) == [word_key(w) for w in words]
    assert word_keys(words, "cs") == [word_key(w, "cs") for w in words]


@given(st.lists(LATIN, max_size=25), st.lists(CYRILLIC, max_size=25))
@settings(max_examples=300, deadline=None)
def test_transliteration_in_batch_is_word_by_word(lat: list[str], cyr: list[str]) -> None:
    assert to_cyrillic_many(lat) == [to_cyrillic(w) for w in lat]
    assert to_latin_many(cyr) == [to_latin(w) for w in cyr]


@given(WORDS)
@settings(max_examples=300, deadline=None)
def test_sorting_words_by_script_agrees_with_script(words: list[str]) -> None:
    lat, cyr, other = by_script(words)
    assert sorted(lat) == sorted(w for w in words if script(w) == "lat")
    assert sorted(cyr) == sorted(w for w in words if script(w) == "cyr")
    assert sorted(other) == sorted(w for w in words if script(w) == "other")
