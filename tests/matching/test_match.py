"""Table-driven matching: terms, phrases, booleans, queries, scripts, inflections, offsets."""

from __future__ import annotations

from pathlib import Path

import pytest

from alerts.matching import Matcher, build_alerts
from alerts.models import Alert, Item
from tests.matching.helpers import fired, item, ruleset_of


def one_watch(tmp_path: Path, body: str) -> Matcher:
    """A matcher over a single watch 'w' given as YAML lines (without id/notify)."""
    return Matcher(ruleset_of(tmp_path, "id: w\nnotify: {channels: [email]}\n" + body))


# Each row: watch body, item title, item text (body), whether 'w' fires.
ROWS = [
    # plain term, case-insensitive
    ("any: [Kaluga]", "", "drones over KALUGA", True),
    # whole words only: a surname that starts with the term is not the term
    ("any: [Kaluga]", "", "Kalugin said so", False),
    # ... nor is a word that merely contains it
    ("any: [ceasefire]", "", "preceasefirework", False),
    # Cyrillic spelling, every case ending the Snowball stemmer strips
    ("any: [Kaluga]", "", "Пожар в Калуге", True),
    ("any: [Kaluga]", "", "Аэропорт Калуги закрыт", True),
    ("any: [Kaluga]", "", "Еду в Калугу", True),
    ("any: [Kaluga]", "", "Под Калугой", True),
    # the adjective of the place name (г -> ж mutation)
    ("any: [Kaluga]", "", "в Калужской области", True),
    ("any: [Kaluga]", "", "Калужская область", True),
    # the Cyrillic surname stays out in every case
    ("any: [Kaluga]", "", "Интервью Калугина", False),
    # inflection in English: plural, and the hyphenated spelling
    ("any: [ceasefire]", "", "talks on ceasefires", True),
    ("any: [ceasefire]", "", "a cease-fire was agreed", True),
    ("any: [cease-fire]", "", "a ceasefire was agreed", True),
    # typographic dashes and soft hyphens are folded before matching
    ("any: [ceasefire]", "", "a cease\u2011fire held", True),
    ("any: [ceasefire]", "", "cease\u00adfire", True),
    # zero-width characters inside a word
    ("any: [Kaluga]", "", "Ka\u200bluga region", True),
    # diacritics fold
    ("any: [Zelensky]", "", "Zélensky spoke", True),
    # Zelensky in every script and spelling
    ("any: [Zelensky]", "", "Zelenskyy spoke", True),
    ("any: [Zelensky]", "", "Zelenskiy spoke", True),
    ("any: [Zelensky]", "", "Präsident Selenskyj", True),
    ("any: [Zelensky]", "", "Зеленский заявил", True),
    ("any: [Zelensky]", "", "Зеленський заявив", True),
    ("any: [Зеленский]", "", "President Zelenskyy", True),
    # Kyiv <-> Київ <-> Киев <-> Kiev (alias table for the renamed forms)
    ("any: [Kyiv]", "", "Київ", True),
    ("any: [Kyiv]", "", "в Киеве", True),
    ("any: [Kyiv]", "", "Kiev's mayor", True),
    ("any: [Київ]", "", "Kyiv mayor", True),
    # ё folds to е
    ("any: [Королёв]", "", "Королев сказал", True),
    # exact: true turns translit and inflection off
    ("any: [{term: Kaluga, exact: true}]", "", "в Калуге", False),
    ("any: [{term: Kaluga, exact: true}]", "", "KALUGA", True),
    ("exact: true\nany: [ceasefire]", "", "ceasefires", False),
    # phrases are whole-word sequences
    ("any: [coalition of the willing]", "", "a “coalition of the willing”", True),
    ("any: [coalition of the willing]", "", "a coalition of willing states", False),
    # all: every term; none: exclusions
    ("all: [Kaluga, drone]", "", "drones hit Kaluga", True),
    ("all: [Kaluga, drone]", "", "Kaluga airport", False),
    ("any: [Kaluga]\nnone: [exercise]", "", "Kaluga exercise", False),
    # query syntax: boolean, NOT, -term, grouping
    ("query: 'Kaluga AND (drone OR missile) -exercise'", "", "missile hits Kaluga", True),
    ("query: 'Kaluga AND (drone OR missile) -exercise'", "", "missile exercise in Kaluga", False),
    ("query: 'Kaluga NOT airport'", "", "Kaluga airport", False),
    # implicit operator is AND
    ("query: 'Kaluga drone'", "", "Kaluga airport", False),
    # prefix
    ("query: 'negotiat*'", "", "negotiators met", True),
    ("query: 'negotiat*'", "", "renegotiation", False),
    # proximity
    ("query: '\"ceasefire Ukraine\"~3'", "", "ceasefire talks in Ukraine", True),
    (
        "query: '\"ceasefire Ukraine\"~3'",
        "",
        "ceasefire was discussed at length before Ukraine",
        False,
    ),
    # regex on RE2, case-insensitive
    ("any: [{regex: '\\d+-day (ceasefire|truce)'}]", "", "a 30-day Truce", True),
    ("query: '/kalug[ai]/'", "", "no such place", False),
    # exact and fuzzy hits, and a compound, in one item (exact scan string is the longer one)
    (
        "any: [{term: internationalisation, exact: true}, ceasefire]",
        "",
        "internationalisation internationalisation internationalisation a cease-fire",
        True,
    ),
    # filters
    ("any: [Kaluga]\nsources: [tass]", "", "Kaluga", False),
    ("any: [Kaluga]\nlanguages: [ru]", "", "Kaluga", False),
]


@pytest.mark.parametrize(("watch", "title", "body", "expected"), ROWS)
def test_match_table(tmp_path: Path, watch: str, title: str, body: str, expected: bool) -> None:
    matcher = one_watch(tmp_path, watch)
    assert (fired(matcher, item(title, body)) == ["w"]) is expected


def test_filters_pass_matching_source_and_language(tmp_path: Path) -> None:
    matcher = one_watch(tmp_path, "any: [Kaluga]\nsources: [tass]\nlanguages: [ru]")
    assert fired(matcher, item("Kaluga", source="tass", language="ru-RU")) == ["w"]


def test_title_scoped_watch_ignores_url_only_hit(tmp_path: Path) -> None:
    matcher = one_watch(tmp_path, "any: [Kaluga]\nfields: [title]")
    url_only = item("Drones hit a factory", url="https://example.org/news/kaluga-drones")
    assert fired(matcher, url_only) == []
    assert fired(matcher, item("Drones hit Kaluga")) == ["w"]


def test_url_is_not_searched_by_default_but_can_be(tmp_path: Path) -> None:
    it = item("Drones", url="https://example.org/kaluga")
    assert fired(one_watch(tmp_path / "a", "any: [Kaluga]"), it) == []
    assert fired(one_watch(tmp_path / "b", "query: 'url:kaluga'"), it) == ["w"]


def test_hits_point_into_original_text(tmp_path: Path) -> None:
    matcher = one_watch(tmp_path, "any: [Kaluga, cease-fire, Zelensky]")
    it = item("“Ka\u00adluga” ﬁne", "Сказал Зеленському: cease\u2014fire — Ⅻ ß Kaluga")
    (match,) = matcher.match(it)
    assert [(h.field, h.text) for h in match.hits] == [
        ("title", "Ka\u00adluga"),
        ("body", "Зеленському"),
        ("body", "cease\u2014fire"),
        ("body", "Kaluga"),
    ]
    for hit in match.hits:
        assert it.field_text(hit.field)[hit.start : hit.end] == hit.text


def test_match_carries_version_and_fired_clause(tmp_path: Path) -> None:
    matcher = one_watch(tmp_path, "any: [Kaluga, Tula]\nall: [drone]\nnone: [exercise]")
    (match,) = matcher.match(item("Drones over Tula"))
    assert match.ruleset_version == matcher.ruleset.version
    assert match.clause == "Tula AND drone AND NOT exercise"
    assert [h.term for h in match.hits] == ["drone", "Tula"]


def test_build_alerts_carries_name_and_channels(tmp_path: Path) -> None:
    matcher = one_watch(tmp_path, "name: Kaluga region\nany: [Kaluga]")
    it = item("Kaluga")
    (alert,) = build_alerts(matcher.ruleset, it, matcher.match(it))
    assert (alert.watch, alert.watch_name, alert.channels, alert.item) == (
        "w",
        "Kaluga region",
        ("email",),
        it,
    )
    assert alert.delivery_key("email") == "w|Kaluga|email"


def test_one_matcher_many_watches_only_the_right_ones_fire(tmp_path: Path) -> None:
    lines = ["watches:"]
    for i in range(300):
        lines += [f"  - id: w{i}", f"    any: [term{i}]", "    notify: {channels: [email]}"]
    matcher = Matcher(ruleset_of(tmp_path, "\n".join(lines) + "\n"))
    assert fired(matcher, item("term7 and term123 but not term")) == ["w7", "w123"]


def test_item_fields_are_all_searched(tmp_path: Path) -> None:
    matcher = one_watch(tmp_path, "any: [Kaluga]")
    assert fired(matcher, Item(id="i", source="s", title="x", summary="in Kaluga")) == ["w"]


def test_build_alerts_makes_what_validation_makes(tmp_path: Path) -> None:
    """Alerts are made without validation (``models.constructed``): every field, in order, set
    as validation sets it (a field added to Alert but not to build_alerts fails here)."""
    matcher = one_watch(tmp_path, "name: Kaluga region\nany: [Kaluga]")
    it = item("Kaluga")
    (alert,) = build_alerts(matcher.ruleset, it, matcher.match(it))
    validated = Alert(**{name: getattr(alert, name) for name in Alert.model_fields})
    assert alert == validated and list(alert.__dict__) == list(validated.__dict__)
    assert alert.model_fields_set == validated.model_fields_set
