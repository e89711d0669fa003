"""How a hit was found: the classification table, and hits that carry it."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

import pytest

from alerts.matching import Matcher
from alerts.matching.how import describe
from alerts.models import Hit
from alerts.rules.confidence import KINDS, rank
from alerts.rules.spec import RuleSpec
from tests.matching.helpers import item, ruleset_of

# Each row: term as written, the item's text, the item's language, how it was found.
TABLE = [
    # equal once case and diacritics are folded
    ("Kaluga", "KALUGA", "en", ("exact",)),
    ("Kraków", "Krakow", "pl", ("exact",)),
    ("coalition of the willing", "Coalition of the Willing", "en", ("exact",)),
    # another ending, the stem kept (a Finnish case, a German plural, an English plural)
    ("Tula", "Tulassa", "fi", ("inflected",)),
    ("Kaluga", "Kalugi", "pl", ("inflected",)),
    ("Rakete", "Raketen", "de", ("inflected",)),
    ("strike", "strikes", "en", ("inflected",)),
    # a Slavic stem's last consonant alternates before the ending
    ("Рига", "Ризі", "uk", ("inflected",)),
    ("Рига", "ризький", "uk", ("inflected",)),
    # another script: transliterated, and inflected when the ending differs too
    ("Kaluga", "Калуге", "ru", ("transliterated", "inflected")),
    ("Zelensky", "Зеленский", "ru", ("transliterated",)),
    ("Kyiv", "Киев", "ru", ("transliterated", "other_spelling")),
    # another orthography or an alias, same script
    ("Tula", "Toula", "fr", ("other_spelling",)),
    ("Kharkiv", "Charkiw", "de", ("other_spelling",)),
    ("Zelensky", "Selenskyj", "de", ("other_spelling",)),
    ("Kyiv", "Kiev", "en", ("other_spelling",)),
    # a closed compound: the term as its first part or its head
    ("Rakete", "Raketenangriff", "de", ("compound",)),
    ("Drohne", "Kampfdrohnen", "de", ("compound",)),
    ("ohjus", "ohjushyökkäys", "fi", ("compound",)),
    # a language that does not write compounds closed: a long tail is another spelling
    ("Rakete", "Raketenangriff", "en", ("other_spelling",)),
    # a hyphenated term found closed: the words joined are compared
    ("cease-fire", "ceasefire", "en", ("exact",)),
]


@pytest.mark.parametrize(("term", "found", "language", "expected"), TABLE)
def test_how_a_term_was_found(
    term: str, found: str, language: str, expected: tuple[str, ...]
) -> None:
    assert describe(term, found, language) == expected


def test_confidence_order_is_the_rule_language_order() -> None:
    accepted = get_args(get_args(RuleSpec.model_fields["min_confidence"].annotation)[0])
    assert accepted == KINDS
    assert rank(("exact",)) == 0
    assert rank(("transliterated", "inflected")) == KINDS.index("transliterated")


def test_found_as_reads_like_the_explanation() -> None:
    hit = Hit(term="Kaluga", field="body", start=0, end=6, text="Калуге")
    assert hit.found_as() == "Kaluga → «Калуге»"
    described = hit.model_copy(update={"how": ("transliterated", "inflected")})
    assert described.found_as() == "Kaluga → «Калуге» (transliterated, inflected)"


def test_every_reported_hit_says_how(tmp_path: Path) -> None:
    ruleset = ruleset_of(
        tmp_path,
        """\
        id: k
        any: [Kaluga, {term: drone, exact: true}, {regex: 'Tul[ay]'}]
        notify: {channels: [email]}
        """,
    )
    (match,) = Matcher(ruleset).match(item("Drone over Калуге and Tula", language="ru"))
    assert [(h.text, h.how) for h in match.hits] == [
        ("Drone", ("exact",)),  # an exact term matches as written
        ("Калуге", ("transliterated", "inflected")),
        ("Tula", ("exact",)),  # so does a regex
    ]
