"""Watch options that filter occurrences: not_near, min_confidence, exact; surname_gender."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from alerts.matching import Matcher
from alerts.rules.tree import Guard, terms_of
from tests.matching.helpers import fired, item, ruleset_of
from tests.rules.test_loader import errors_of

TULA = """\
id: tula
any: [Tula]
not_near: {terms: [gingerbread, пряник, samovar], within: 2}
none: [exercise]
notify: {channels: [email]}
"""


def tula(tmp_path: Path) -> Matcher:
    return Matcher(ruleset_of(tmp_path, TULA))


# Each row: title, whether the tula watch fires.
NOT_NEAR = [
    ("Tula gingerbread sells well", False),  # the only occurrence is next to the word
    ("Tula gingerbread is famous. Drones hit Tula at night", True),  # another one counts
    ("Gingerbread from Tula", False),  # before it counts as near too
    ("Tula, its spiced gingerbread", False),  # two words between: within 2
    ("Tula and its spiced gingerbread", True),  # three words between
    ("Тульские пряники: the Tula region", False),  # the words are inflected, another script
    ("Samovars of Tula", False),  # an inflection of the not_near term
    ("Drones hit Tula", True),
    ("Drones hit Tula during an exercise", False),  # none: still drops the whole item
]


@pytest.mark.parametrize(("title", "fires"), NOT_NEAR)
def test_not_near_drops_only_the_near_occurrences(tmp_path: Path, title: str, fires: bool) -> None:
    assert fired(tula(tmp_path), item(title)) == (["tula"] if fires else [])


def test_not_near_reports_only_the_occurrences_that_count(tmp_path: Path) -> None:
    title = "Tula gingerbread is famous. Drones hit Tula at night"
    (match,) = tula(tmp_path).match(item(title))
    assert [(h.text, h.start) for h in match.hits] == [("Tula", title.rindex("Tula"))]
    assert match.clause == "Tula AND NOT exercise"


def test_not_near_keeps_the_field_apart(tmp_path: Path) -> None:
    # A not_near word in another field is never near.
    assert fired(tula(tmp_path), item("Tula", body="gingerbread")) == ["tula"]


def test_not_near_applies_to_phrases_and_every_positive_term(tmp_path: Path) -> None:
    ruleset = ruleset_of(
        tmp_path,
        """\
        id: strike
        any: [missile strike, drone]
        all: [Kyiv]
        not_near: {terms: [metro station], within: 1}
        notify: {channels: [email]}
        """,
    )
    m = Matcher(ruleset)
    assert fired(m, item("Missile strike on Kyiv")) == ["strike"]
    assert fired(m, item("Missile strike near the Kyiv metro station")) == []
    assert fired(m, item("Kyiv metro station: a missile strike")) == []
    assert fired(m, item("Kyiv metro station shut; a drone hit Kyiv")) == ["strike"]


def test_the_guard_holds_the_positive_part_only(tmp_path: Path) -> None:
    (rule,) = ruleset_of(tmp_path, TULA).rules
    guard = rule.tree.children[0]  # type: ignore[union-attr]
    assert isinstance(guard, Guard) and guard.within == 2
    assert [t.text for t in terms_of(guard)] == ["Tula", "gingerbread", "пряник", "samovar"]
    assert rule.clause == (
        "Tula [not within 2 words of (gingerbread OR пряник OR samovar)] AND NOT exercise"
    )


LEVELS = """\
id: kaluga
any: [Kaluga, drone, Kyiv]
min_confidence: {level}
notify: {{channels: [email]}}
"""

# Each row: min_confidence, title, language, whether it fires.
CONFIDENCE = [
    ("exact", "Fire in Kaluga", "en", True),
    ("exact", "Fire in Калуге", "ru", False),
    ("inflected", "Two drones down", "en", True),
    ("inflected", "Fire in Калуге", "ru", False),
    ("transliterated", "Fire in Калуге", "ru", True),
    ("transliterated", "Talks in Kiev", "en", False),  # an older name: another spelling
    ("other_spelling", "Talks in Kiev", "en", True),
    ("compound", "Talks in Kiev", "en", True),  # the default: every hit counts
]


@pytest.mark.parametrize(("level", "title", "language", "fires"), CONFIDENCE)
def test_min_confidence_counts_hits_found_at_least_as_confidently(
    tmp_path: Path, level: str, title: str, language: str, fires: bool
) -> None:
    m = Matcher(ruleset_of(tmp_path, LEVELS.format(level=level)))
    assert fired(m, item(title, language=language)) == (["kaluga"] if fires else [])


def test_min_confidence_keeps_the_confident_occurrence(tmp_path: Path) -> None:
    m = Matcher(ruleset_of(tmp_path, LEVELS.format(level="inflected")))
    (match,) = m.match(item("Калуге и Kaluga", language="ru"))
    assert [(h.text, h.how) for h in match.hits] == [("Kaluga", ("exact",))]


def test_exact_true_counts_only_exact_hits(tmp_path: Path) -> None:
    m = Matcher(
        ruleset_of(tmp_path, "id: k\nany: [Kaluga]\nexact: true\nnotify: {channels: [email]}\n")
    )
    assert fired(m, item("KALUGA")) == ["k"]
    assert fired(m, item("Калуге")) == []
    assert fired(m, item("Kalugas")) == []


def test_surname_gender_reaches_every_term_the_key_layer_reads(tmp_path: Path) -> None:
    text = """\
    lists:
      people: [Zelensky]
    watches:
      - id: both
        any: [Navalny, {list: people}]
        surname_gender: any
        notify: {channels: [email]}
      - id: same
        any: [Navalny, {list: people}]
        notify: {channels: [email]}
    """
    both, same = ruleset_of(tmp_path, text).rules
    assert {t.surname_gender for t in terms_of(both.tree)} == {"any"}
    assert {t.surname_gender for t in terms_of(same.tree)} == {"same"}  # the list is not changed


def test_a_watch_asking_for_both_genders_gets_atoms_of_its_own(tmp_path: Path) -> None:
    text = """\
    watches:
      - {id: both, any: [Navalny], surname_gender: any, notify: {channels: [email]}}
      - {id: same, any: [Navalny], notify: {channels: [email]}}
    """
    both, same = Matcher(ruleset_of(tmp_path, text)).index.watches
    assert both.node.atom != same.node.atom  # type: ignore[attr-defined]
    assert fired(Matcher(ruleset_of(tmp_path, text)), item("Navalny")) == ["both", "same"]


# Each row: a title and the watches that fire: `same` is the default, `both` asks for both genders.
GENDERS = [
    ("Navalny's widow spoke", ["both", "same"]),
    ("Yulia Navalnaya spoke in Berlin", ["both"]),  # the feminine form: only the watch asking
    ("Юлия Навальная выступила", ["both"]),  # in Russian too
    ("Олексій Навальний", ["both", "same"]),  # the masculine form in Ukrainian
]


@pytest.mark.parametrize(("title", "watches"), GENDERS)
def test_surname_gender_any_finds_both_forms_and_same_only_its_own(
    tmp_path: Path, title: str, watches: list[str]
) -> None:
    text = """\
    watches:
      - {id: both, any: [Navalny], surname_gender: any, notify: {channels: [email]}}
      - {id: same, any: [Navalny], notify: {channels: [email]}}
    """
    assert fired(Matcher(ruleset_of(tmp_path, text)), item(title)) == watches


# Each row: the options of a watch of `any: [x]`, the exact errors (file name a.yaml).
BAD = [
    (
        "not_near: {terms: [y], within: 0}",
        ["a.yaml:3:32: not_near.within: input should be greater than or equal to 1"],
    ),
    (
        "not_near: {terms: [y], within: 51}",
        ["a.yaml:3:32: not_near.within: input should be less than or equal to 50"],
    ),
    ("not_near: {terms: [y]}", ["a.yaml:3:11: missing key 'within'"]),
    ("not_near: {terms: [y], within: 2, near: 3}", ["a.yaml:3:35: unknown key 'near'"]),
    (
        "not_near: [y]",
        ["a.yaml:3:11: not_near: a mapping is expected: {terms: [word, ...], within: N}"],
    ),
    (
        "not_near: {terms: [y, {regex: a+}], within: 2}",
        ["a.yaml:3:23: not_near takes words, not regexes"],
    ),
    ("not_near: {terms: ['!!!'], within: 2}", ["a.yaml:3:20: term '!!!' has no words to match"]),
    (
        "min_confidence: fuzzy",
        [
            "a.yaml:3:17: min_confidence: input should be 'exact', 'inflected', "
            "'transliterated', 'other_spelling' or 'compound'"
        ],
    ),
    (
        "exact: true\nmin_confidence: compound",
        ["a.yaml:4:17: min_confidence 'compound' contradicts exact: true (only exact hits count)"],
    ),
    ("surname_gender: both", ["a.yaml:3:17: surname_gender: input should be 'same' or 'any'"]),
]


@pytest.mark.parametrize(("options", "expected"), BAD)
def test_bad_options_exact_errors(tmp_path: Path, options: str, expected: list[str]) -> None:
    text = f"id: k\nany: [x]\n{options}\nnotify: {{channels: [email]}}\n"
    assert errors_of(tmp_path, a__yaml=text) == expected


def test_not_near_measures_a_hyphenated_form_from_its_words(tmp_path: Path) -> None:
    m = Matcher(
        ruleset_of(
            tmp_path,
            """\
            id: truce
            any: [ceasefire]
            not_near: {terms: [Olympic], within: 1}
            notify: {channels: [email]}
            """,
        )
    )
    assert fired(m, item("An Olympic cease-fire was declared")) == []
    assert fired(m, item("A cease-fire, said the Olympic committee")) == ["truce"]


def test_option_errors_come_in_the_same_pass_as_the_terms(tmp_path: Path) -> None:
    text = (
        "id: k\nany: ['!!!']\nexact: true\nmin_confidence: inflected\n"
        "not_near: {terms: ['...'], within: 2}\nnotify: {channels: [email]}\n"
    )
    assert errors_of(tmp_path, a__yaml=text) == [
        "a.yaml:2:7: term '!!!' has no words to match",
        "a.yaml:4:17: min_confidence 'inflected' contradicts exact: true (only exact hits count)",
        "a.yaml:5:20: term '...' has no words to match",
    ]


def test_a_phrase_with_many_keys_per_word_keeps_every_form(tmp_path: Path) -> None:
    """A phrase is matched word by word, each word by any of its keys: no combination of its
    words' forms is dropped, however many there are (a cap of 64 once lost the German form of
    a multi-language watch: the keys a language's view adds never reached the capped list)."""
    phrases = ["coalition of the willing", "Koalition der Willigen", "koalicja chętnych",
               "coalizione dei volenterosi", "коалиция желающих", "коаліція охочих"]  # fmt: skip
    rule = {"id": "c", "any": phrases, "notify": {"channels": ["email"]}}
    matcher = Matcher(ruleset_of(tmp_path, yaml.safe_dump(rule, allow_unicode=True)))
    text = "Gipfel der Koalition der Willigen: Starmer lädt nach London ein"
    assert fired(matcher, item(text, language="de")) == ["c"]
    assert fired(matcher, item("Treffen der Willigen der Koalition", language="de")) == []
