"""Closed compounds' part keys: remembered parts and the scan's own keys change no key."""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import product

import pytest

from alerts.matching import compounds
from alerts.matching.compounds import MIN_PART, MIN_REST, SUFFIXES, part_keys
from alerts.matching.keytable import scan
from alerts.matching.languages import COMPOUNDING, stem_language
from alerts.matching.variants import latin_keys, skeleton_many

# Real parts, so that the stemmers cut endings, feminine forms and Finnish grades occur.
HEADS = ["raketen", "luft", "drohnen", "waffen", "ohjus", "sanktion", "zelenska", "tauko"]
TAILS = ["angriff", "abwehr", "stillstand", "iskuja", "erade", "ierung", "skaya", "tulitauon"]
WORDS = ["".join(pair) for pair in product(HEADS, TAILS)] + ["bq00001234", "kurz", "łódźwerke"]


def _reference(word: str, language: str) -> tuple[str, ...]:
    """A word's part keys, each part keyed on its own, nothing remembered."""
    if len(word) < MIN_PART + MIN_REST or not word.isalpha():
        return ()
    ends = SUFFIXES.get(language, frozenset())
    cuts = [word[:i] for i in range(MIN_PART, len(word) - MIN_REST + 1) if word[i:] not in ends]
    heads = [word[i:] for i in range(MIN_REST, len(word) - MIN_PART + 1)]
    keys = [latin_keys([part], language)[0] for part in cuts + heads]
    own = latin_keys([word], language)[0]
    return tuple(k for k in dict.fromkeys(keys) if k != own)


@pytest.fixture
def empty() -> Iterator[None]:
    """Start and end with nothing remembered."""
    compounds.clear()
    yield
    compounds.clear()


@pytest.mark.parametrize("language", sorted({stem_language(c) for c in COMPOUNDING}))
def test_parts_remembered_from_other_words_key_as_alone(empty: None, language: str) -> None:
    expected = [_reference(word, language) for word in WORDS]
    assert any(expected)
    # Half the words first: the other half's parts are then mostly remembered ones.
    assert part_keys(WORDS[::2], language) == expected[::2]
    assert compounds._PARTS[language]
    assert part_keys(WORDS[1::2], language) == expected[1::2]
    assert part_keys(WORDS, language) == expected  # every word remembered


@pytest.mark.parametrize("language", ["de", "fi", "sv"])
def test_the_scans_own_keys_give_the_same_parts(empty: None, language: str) -> None:
    keys = scan([" ".join(WORDS)], {}, language=language)[0]
    owns = keys[: len(WORDS)]
    assert part_keys(WORDS, language, owns) == [_reference(w, language) for w in WORDS]


def test_the_skeleton_undoubles_every_run_as_the_template_did() -> None:
    words = ["zelenskyy", "aaa", "abba", "kkhh", "sellllo", "a", "", "wwzz", "łłl", "jjy"]
    old = re.compile(r"([a-z])\1+")
    joined = (
        "\n".join(words)
        .replace("kh", "h")
        .translate(str.maketrans({"y": "i", "j": "i", "z": "s", "w": "v", "ł": "l"}))
    )
    assert skeleton_many(words) == old.sub(r"\1", joined).split("\n")


def test_each_language_remembers_its_own_part_keys(empty: None) -> None:
    part_keys(WORDS, "de")
    assert part_keys(WORDS, "fi") == [_reference(w, "fi") for w in WORDS]
    assert part_keys(WORDS, "de") == [_reference(w, "de") for w in WORDS]
