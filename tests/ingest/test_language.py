"""Every item gets a language: declared (document or source) wins, else it is detected."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from alerts.ingest import parse_bulletin
from alerts.ingest.language import detect_language, normalise_language, ru_or_uk, with_language
from alerts.ingest.settings import SourceSettings
from alerts.matching import Matcher, load_ruleset
from alerts.models import Item
from tests.support.bulletins import DECLARING_KINDS, KINDS, bulletin

UK_STORY = ("Макрон прибув до Києва на переговори", "Президенти обговорили нові гарантії безпеки.")
RU_STORY = (
    "Макрон прибыл в Киев на переговоры",
    "Президенты обсудили новые гарантии безопасности.",
)
EN_STORY = ("Macron arrives in Kyiv for talks", "The presidents discussed new security guarantees.")

DETECT = [
    # (expected, text): short headlines as feeds carry them, one or two per language
    ("en", "Air defence downs 40 drones overnight"),
    ("en", "Kremlin rejects truce offer as shelling goes on"),
    ("ru", "Беспилотник атаковал нефтебазу под Калугой"),
    ("ru", "Губернатор объявил эвакуацию приграничных сёл"),  # ё
    ("ru", "Сирены звучат над Белгородом третий час подряд"),  # no telling letter
    ("ru", "В Туле ввели режим ЧС"),  # no telling letter, short: leans Russian
    ("uk", "Уряд продовжив воєнний стан"),  # є
    ("uk", "Дрони атакували нафтобазу поблизу Калуги"),  # no telling letter: the model
    ("de", "Drohnenangriff auf Öldepot in Kaluga"),
    ("de", "Luftabwehr schießt in der Nacht 40 Drohnen ab"),
    ("fr", "Le Kremlin rejette la proposition de cessez-le-feu"),
    ("fr", "Frappe de missiles sur Kharkiv : deux morts"),
    ("pl", "Rosyjskie drony nad Charkowem, dwie ofiary"),
    ("pl", "Kreml odrzuca zawieszenie broni"),
    ("cs", "Útok dronů na sklad ropy v Kaluze"),  # ů: Czech, not Slovak
    ("cs", "Protivzdušná obrana sestřelila čtyřicet dronů"),
    ("sk", "Protivzdušná obrana zostrelila štyridsať dronov"),
    ("sk", "Kremeľ odmietol prímerie"),  # ľ
    ("fi", "Ilmatorjunta ampui alas 40 droonia yön aikana"),
    ("fi", "Neuvottelut Istanbulissa jumissa"),
    ("es", "El Kremlin rechaza el alto el fuego"),
    ("es", "La defensa antiaérea derriba 40 drones"),
    ("nl", "Luchtafweer schiet 40 drones neer"),
    ("nl", "Gesprekken in Istanbul lopen vast"),
    ("sv", "Luftvärnet sköt ner 40 drönare under natten"),
    ("sv", "Kreml avvisar vapenvila"),
    ("it", "Il Cremlino respinge il cessate il fuoco"),
    ("it", "La contraerea abbatte 40 droni durante la notte"),
    ("da", "Luftforsvaret skyder 40 droner ned i nat"),
    ("no", "Luftvernet skjøt ned 40 droner i natt"),
]


@pytest.mark.parametrize(("expected", "text"), DETECT, ids=[f"{e}:{t[:24]}" for e, t in DETECT])
def test_detects_the_language_of_a_short_headline(expected: str, text: str) -> None:
    assert detect_language(text, cached=False) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Київ і Москва", "uk"),  # і
        ("Объявлен режим ЧС", "ru"),  # ъ ы
        ("У Києві відповіли на заяву Кремля: «Это ложь»", "uk"),  # a Russian quote: 4 to 1
        ("Песков: «Це не так» — это ложь, ответы будут", "ru"),  # a Ukrainian quote: 0 to 2
        ("Удар по Сумах", None),  # nothing decides: left to the model
    ],
)
def test_ukrainian_and_russian_letters_decide_mixed_text(text: str, expected: str | None) -> None:
    assert ru_or_uk(text) == expected


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("en", "en"),
        ("en-GB", "en"),  # region dropped
        ("EN_us", "en"),  # case and underscore
        ("uk-UA", "uk"),
        ("ua", "uk"),  # Ukraine's country code, often declared as a language
        ("ukr", "uk"),  # ISO 639-2
        ("ger", "de"),  # ISO 639-2/B
        ("nb-NO", "no"),  # Bokmål is Norwegian for our filters
        ("yue", "yue"),  # no ISO 639-1 code: kept as is
        ("und", None),  # undetermined: detect instead
        ("Russian", None),  # not a tag
        ("12", None),
        ("", None),
        (None, None),
    ],
)
def test_declared_tags_normalise_to_iso_639_1(tag: str | None, expected: str | None) -> None:
    assert normalise_language(tag) == expected


def test_text_without_letters_has_no_language() -> None:
    assert detect_language("12:30 — 14:45", cached=False) is None


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_detects_undeclared_items(kind: str) -> None:
    items = parse_bulletin(bulletin(kind, [UK_STORY, RU_STORY, EN_STORY]), source="s")
    assert [(i.language, i.language_source) for i in items] == [
        ("uk", "detected"),
        ("ru", "detected"),
        ("en", "detected"),
    ]


@pytest.mark.parametrize("kind", DECLARING_KINDS)
def test_a_declared_language_wins_over_detection(kind: str) -> None:
    """The document says de-AT for Ukrainian text: the declaration wins, normalised."""
    items = parse_bulletin(bulletin(kind, [UK_STORY], declared="de-AT"), source="s")
    assert [(i.language, i.language_source) for i in items] == [("de", "declared")]


@pytest.mark.parametrize("kind", DECLARING_KINDS)
def test_an_unreadable_declaration_falls_back_to_detection(kind: str) -> None:
    items = parse_bulletin(bulletin(kind, [UK_STORY], declared="und"), source="s")
    assert [(i.language, i.language_source) for i in items] == [("uk", "detected")]


@pytest.mark.parametrize("kind", KINDS)
def test_the_sources_configured_language_wins_over_everything(kind: str) -> None:
    data = bulletin(kind, [EN_STORY], declared=None if kind == "text" else "en")
    items = parse_bulletin(data, source="s", language="uk-UA")
    assert [(i.language, i.language_source) for i in items] == [("uk", "declared")]


def test_atom_entry_xml_lang_wins_over_the_feeds() -> None:
    data = bulletin("atom", [UK_STORY], declared="uk").replace(b"<entry>", b'<entry xml:lang="pl">')
    assert [i.language for i in parse_bulletin(data, source="s")] == ["pl"]


def test_source_settings_normalise_and_check_the_language() -> None:
    assert SourceSettings(id="s", kind="text", path="x", language="UA").language == "uk"
    with pytest.raises(ValidationError, match="not a language tag: 'Ukrainian'"):
        SourceSettings(id="s", kind="text", path="x", language="Ukrainian")


WATCH = """\
id: macron-uk
any: [Макрон]
languages: [uk]
notify: {channels: [email]}
"""


@pytest.mark.parametrize("kind", KINDS)
def test_a_languages_filter_fires_on_ukrainian_items_of_every_kind(
    kind: str, tmp_path: Path
) -> None:
    (tmp_path / "macron.yaml").write_text(WATCH, encoding="utf-8")
    matcher = Matcher(load_ruleset(tmp_path))
    items = parse_bulletin(bulletin(kind, [RU_STORY, UK_STORY]), source="s")
    fired = [i.title for i in items if matcher.match(i)]
    assert fired == [UK_STORY[0]]


def test_warm_up_loads_the_model_once_in_its_own_thread() -> None:
    """The API warms the model at start, so its first bulletin doesn't load it on the loop."""
    from alerts.ingest import language

    language._load_models.cache_clear()
    threads = [language.warm_up() for _ in range(3)]
    assert all(t.name == "language-model" for t in threads)
    for t in threads:
        t.join(timeout=60)
    assert language._load_models.cache_info().currsize == 1
    assert language._load_models.cache_info().misses == 1  # three asked, one load
    assert language.detect_language("Russian strikes hit Kharkiv overnight, officials say") == "en"


def test_ascii_letters_are_counted_as_the_regex_counts_them() -> None:
    # ``_letters`` counts an ASCII text with ``bytes.translate``; every ASCII character, and
    # texts of them, must count as the regex that defines the set counts them.
    from alerts.ingest.language import _NOT_ASCII_LETTERS, _letters

    every = "".join(map(chr, range(128)))
    for text in [every, every * 3, "", "Harbour closed at 10:00!", "_-_", "ABCxyz"]:
        assert _letters(text) == len(_NOT_ASCII_LETTERS.sub("", text)), text
    assert _letters(every) == 52


def test_an_item_with_its_language_is_the_copy_pydantic_would_make() -> None:
    """``with_language`` builds the labelled item anew (cheaper than ``model_copy``): the same
    value, hash and fields, the original untouched."""
    item = Item(id="x", source="s", title="The harbour is closed", body="Storm warning today.")
    for labelled, update in (
        (with_language(item), {"language": "en", "language_source": "detected"}),
        (with_language(item, "uk"), {"language": "uk", "language_source": "declared"}),
    ):
        copied = item.model_copy(update=update)
        assert labelled == copied
        assert hash(labelled) == hash(copied)
        assert labelled.model_dump() == copied.model_dump()
    assert item.language is None and item.language_source is None


LABELLED_FIELDS = [  # pushed items' fields, as ``make_item`` takes them
    {"title": "The harbour is closed", "body": "Storm warning for the coast today."},
    {"title": UK_STORY[0], "body": UK_STORY[1]},
    {"title": RU_STORY[0], "summary": RU_STORY[1], "body": RU_STORY[1]},  # summary == body
    {"title": "Přístav je uzavřen", "summary": "Varování před bouří.", "language": "de-AT"},
    {"title": "12:00 — 13:45", "body": "+++ 2026 +++"},  # no letters: nothing detected
    {"title": "Hafen gesperrt", "language": "xx-invalid-tag"},
    {"title": "  ", "body": "Le port est fermé ce matin."},  # untitled: the body's start
]


@pytest.mark.parametrize("configured", [None, "en-US", "uk", "no-such-tag"])
def test_an_item_built_labelled_is_the_item_assign_languages_makes(configured: str | None) -> None:
    """``make_item(labelled=True)`` (pushed JSON items) builds each item with the language
    ``assign_languages`` gives the item ``make_item`` builds: equal, same hash and fields set;
    ``assign_languages`` then keeps the very object (no second validation)."""
    from alerts.ingest.items import make_item
    from alerts.ingest.language import assign_languages

    for fields in LABELLED_FIELDS:
        (built,) = [make_item("src", **fields, labelled=True, configured=configured)]
        (reference,) = assign_languages([make_item("src", **fields)], configured)
        assert built == reference, fields
        assert hash(built) == hash(reference)
        assert built.model_fields_set == reference.model_fields_set
        assert built.model_dump() == reference.model_dump()
        assert assign_languages([built], configured)[0] is built


def test_a_pushed_bulletin_s_items_come_labelled_as_before() -> None:
    """A JSON upload's items, through ``parse_bulletin`` with and without a source language,
    are the items of the two-step labelling (built unlabelled, then ``assign_languages``)."""
    import json

    from alerts.ingest.items import make_item
    from alerts.ingest.language import assign_languages

    data = json.dumps({"items": LABELLED_FIELDS}).encode()
    for configured in (None, "pl"):
        items = parse_bulletin(data, source="src", language=configured)
        reference = assign_languages([make_item("src", **f) for f in LABELLED_FIELDS], configured)
        assert items == reference
        assert [i.language_source for i in items] == [i.language_source for i in reference]
