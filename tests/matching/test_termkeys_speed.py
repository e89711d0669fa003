"""The term-key build's shortcuts give what the plain definitions give."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from alerts.matching.gender import (
    _FEMININE_ENDS,
    _MASCULINE_ENDS,
    feminine,
    feminine_many,
    masculine_many,
    masculine_surname,
    ov_surname,
)
from alerts.matching.termkeys import _adjectives, adjective_key, term_keys
from alerts.matching.translit import script
from alerts.matching.variants import _keyed
from tests.matching.test_keys_batch import CYRILLIC, LATIN, OTHER

# Cyrillic words ending in -а with digits and other letters mixed in: what the scan must tell apart.
ENDING_IN_A = st.builds(lambda w: w + "а", st.one_of(CYRILLIC, OTHER, LATIN, st.just("")))


@given(st.sets(st.one_of(LATIN, CYRILLIC, OTHER, ENDING_IN_A), max_size=30))
@settings(max_examples=300, deadline=None)
def test_adjectives_found_in_one_scan_are_those_of_each_cyrillic_spelling_in_a(
    every: set[str],
) -> None:
    keyed = _keyed(every)
    expected = {}
    for s in every:  # the definition, one spelling at a time
        if s[-1:] == "а" and script(s) == "cyr":
            adjective = adjective_key(keyed[s])
            if adjective is not None:
                expected[s] = adjective
    assert _adjectives(every, keyed) == expected


def test_a_place_gets_its_adjective_and_feminine_twins_a_surname_does_not() -> None:
    keys = term_keys(["калуга", "зеленский"], names=set())
    # калужск: the adjective (калужский); ~f: the feminine twin (Калужская область)
    assert {"калуг", "калужск", "калужск~f"} <= set(keys["калуга"].every)
    assert not any(k.endswith("~f") for k in keys["зеленский"].every)


# Letters of the feminine and masculine surname endings, Latin and Cyrillic.
ENDINGS = st.text(alphabet=st.sampled_from(list("skczlnayijoeuvскцзьлнаяйоуюіїы")), max_size=9)


@given(st.lists(ENDINGS, max_size=40))
@settings(max_examples=500, deadline=None)
def test_surname_endings_grouped_by_last_letter_find_what_the_whole_list_finds(
    words: list[str],
) -> None:
    every_end = [feminine(w) if w.endswith(_FEMININE_ENDS) else None for w in words]
    assert feminine_many(words) == every_end
    assert masculine_many(words) == {
        w for w in words if w.endswith(_MASCULINE_ENDS) and masculine_surname(w)
    }


# The regex ov_surname was, before its endings were spelled out for str.endswith.
_OV_REGEX = re.compile(r"(?:[oe]v|[iy]n|[ое]в|[иы]н|ін)$")
OV_LETTERS = st.text(alphabet="oeviynkal овеинытаі -", max_size=8)


@given(OV_LETTERS)
@settings(max_examples=500, deadline=None)
def test_ov_surname_by_its_endings_is_the_regex(word: str) -> None:
    assert ov_surname(word) == (_OV_REGEX.search(word) is not None)
