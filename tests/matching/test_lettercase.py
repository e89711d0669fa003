"""How the item writes a term (``letter_case: names``): its letter case, Czech diacritics.

Rows as in test_languages: a watch written as a user writes it, a short text of our own,
the item's language, and whether it fires.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from alerts.matching import load_ruleset
from alerts.matching.lettercase import COMMON, NAME, counts
from alerts.matching.matcher import Matcher
from tests.matching.helpers import fired, item, term_fires, write_rules
from tests.support.fresh import cycles_left

ROWS = [
    # a capitalised term (a name) does not count where the item writes it in lower case
    ("Riga", "Il ministro ha letto la nota riga per riga", "it", False),  # riga: a line
    ("Riga", "Vertice baltico a Riga sulla difesa aerea", "it", True),
    ("Riga", "VERTICE BALTICO A RIGA", "it", True),  # capitals throughout
    ("Ufa", "Nikt nikomu nie ufa: sondaż pokazuje kryzys", "pl", False),  # ufa: trusts
    ("Ufa", "Pożar rafinerii w Ufie po ataku dronów", "pl", True),
    # ... but a place adjective, which Slavic languages write in lower case, still counts
    ("Bryansk", "Drony nad obwodem briańskim", "pl", True),
    ("Bryansk", "Útok na brjanskou rafinerii", "cs", True),
    ("Riga", "ризький порт знову працює", "uk", True),
    # ... and so does another script: a name turned noun is written in lower case (шахеды)
    ("Shahed", "Ночью над городом сбили шахеды", "ru", True),
    # ... though not a Cyrillic adjective: навальний "sweeping" is no Navalny
    ("Navalny", "Над Львовом пронісся навальний вітер", "uk", False),
    ("Putin", "путинский режим устал", "ru", True),  # a place-like -ск- adjective counts
    # a name joined by a hyphen to a capitalised adjective is another place
    ("Belgorod", "Ракета попала в порт Белгорода-Днестровского", "ru", False),
    ("Belgorod", "Удар по Белгороду: в Белгороде-Днестровском тихо", "ru", True),
    ("Rostov", "Поезд Ростов-на-Дону отменён", "ru", True),  # lower-case: the same city
    ("Kharkiv", "Траса Харків-Чугуїв перекрита", "uk", True),  # a noun: a road between
    # a one-word lower-case term (a topic) does not count capitalised inside a sentence
    # where only names are capitalised: the deputy Дронов is no drone
    ("дрон", "Депутат Дронов предложил новый закон о связи", "ru", False),
    ("дрон", "Дроны атаковали нефтебазу", "ru", True),  # a sentence's first word
    ("дрон", "Губернатор: «Дроны сбиты над городом»", "ru", True),  # after a quote mark
    ("дрон", "ДРОНЫ АТАКОВАЛИ НЕФТЕБАЗУ", "ru", True),  # capitals throughout
    ("dron", "Senator Dron pyta o budżet", "pl", False),
    # ... left alone where nouns or headline words are capitalised
    ("drone", "Russia Launches Massive Drone Attack On Kyiv", "en", True),
    ("drone", "Pentagon studies Drone Dome defences", "en", True),
    ("Drohne", "Ukraine meldet Abschuss einer Drohne", "de", True),
    ("rakieta", "Rosyjska Rakieta Spadła Pod Lublinem Wczoraj", "pl", True),  # Title Case
    # a name Slavic spellings never look like does not count with a consonant doubled
    ("Whitaker", "Jodie Whittaker to star in a new play", "en", False),
    ("Whitaker", "Whitaker's remarks angered allies", "en", True),
    ("Waffenruhe", "Waffenruheabkommen gescheitert", "de", True),  # a compound's own doubles
    ("Zelensky", "Zelenskyy visits Washington", "en", True),  # Slavic: transliterations vary
    # Czech and Slovak diacritics read again: a soft consonant written hard is another word
    ("příměří", "Básník použil příměr k moři", "cs", False),  # příměr: a comparison
    ("příměří", "Příměří platí od půlnoci", "cs", True),
    ("příměří", "Jednání o příměřím pokračují", "cs", True),
    ("příměří", "Jednani o primeri pokracuji", "cs", True),  # written without diacritics
    ("příměří", "Prímer na tlačovej besede pobavil sál", "sk", False),
    # ... and a name's -ová is the feminine surname, its -ova the man's possessive
    ("Witkoff", "Manželka Witkoffová navštívila Prahu", "cs", False),
    ("Witkoff", "Witkoffova návštěva Moskvy skončila", "cs", True),
    ("Witkoff", "Trump poslal Witkoffa do Moskvy", "cs", True),
    ("Trump", "Melania Trumpová navštívila Bratislavu", "sk", False),
    # a town whose adjective is also another word's: its adjective counts beside a place
    # noun only (Покров, a feast: Покровский собор; славянский, Slavic; a surname)
    ("Pokrovsk", "В Покровском соборе прошла служба", "ru", False),
    ("Pokrovsk", "Реставрация Покровской церкви завершена", "ru", False),
    ("Pokrovsk", "Академик Покровский получил премию", "ru", False),
    ("Pokrovsk", "Бои идут на покровском направлении", "ru", True),
    ("Pokrovsk", "В Покровском районе обстреляли село", "ru", True),
    ("Pokrovsk", "Под Покровском идут бои", "ru", True),  # the town's instrumental
    ("Pokrovsk", "Взрывы в Покровске", "ru", True),  # its locative, not an adjective's -е
    ("Pokrovsk", "У Покровському соборі відбулася служба", "uk", False),
    ("Pokrovsk", "Бої на покровському напрямку", "uk", True),
    ("Pokrovsk", "Біля Покровська тривають бої", "uk", True),
    ("Pokrovsk", "Sobór Pokrowski w Moskwie odnowiony", "pl", False),
    ("Pokrovsk", "Walki na kierunku pokrowskim", "pl", True),  # the noun before it
    ("Sloviansk", "Фестиваль славянской культуры открылся", "ru", False),
    ("Sloviansk", "Певец Славянский дал концерт", "ru", False),
    ("Sloviansk", "Славянская ТЭС обесточена после удара", "ru", True),
    ("Sloviansk", "Жители Славянска остались без воды", "ru", True),
    ("Sloviansk", "Фестиваль слов'янської культури", "uk", False),
    ("Sloviansk", "Слов'янська мова і література", "uk", False),  # -а before a noun
    ("Sloviansk", "До Слов'янська прибула колона", "uk", True),  # -а before a verb
    ("Sloviansk", "Festiwal kultury słowiańskiej w Krakowie", "pl", False),
    ("Siversk", "Северский Донец вышел из берегов", "ru", False),
    # a -ov surname's -ова after a woman's first name is the woman (firstnames)
    ("Budanov", "Художница Анна Буданова открыла выставку", "ru", False),
    ("Budanov", "Марианна Буданова дала интервью", "ru", False),
    ("Budanov", "Волонтерка Марина Буданова зібрала кошти", "uk", False),
    ("Budanov", "По данным Кирилла Буданова, удар готовится", "ru", True),  # his name
    ("Budanov", "Жена Буданова дала интервью", "ru", True),  # his genitive: жена is no name
    # ... and they are names in English and German too: written in lower case, no match
    ("Budanov", "Brewers release a budanov lager", "en", False),
    ("Budanov", "Budanov's office denied the report", "en", True),
]


@pytest.mark.parametrize(("term", "text", "language", "expected"), ROWS)
def test_letter_case_rows(
    tmp_path: Path, term: str, text: str, language: str, expected: bool
) -> None:
    assert term_fires(tmp_path, term, text, language) is expected


@pytest.mark.parametrize(
    ("term", "text", "language"),
    [
        ("Riga", "Il ministro ha letto la nota riga per riga", "it"),
        ("дрон", "Депутат Дронов предложил новый закон о связи", "ru"),
        ("Belgorod", "Ракета попала в порт Белгорода-Днестровского", "ru"),
        ("příměří", "Básník použil příměr k moři", "cs"),
        ("Witkoff", "Manželka Witkoffová navštívila Prahu", "cs"),
    ],
)
def test_letter_case_any_turns_the_rule_off(
    tmp_path: Path, term: str, text: str, language: str
) -> None:
    rule = f"id: w\nany: ['{term}']\nletter_case: any\nnotify: {{channels: [e]}}\n"
    write_rules(tmp_path, w__yaml=rule)
    matcher = Matcher(load_ruleset(tmp_path))
    assert fired(matcher, item(text, language=language)) == ["w"]


def test_an_other_occurrence_written_as_a_name_still_fires(tmp_path: Path) -> None:
    write_rules(tmp_path, w__yaml="id: w\nany: [Riga]\nnotify: {channels: [e]}\n")
    matcher = Matcher(load_ruleset(tmp_path))
    it = item("Una riga sola", body="Il comunicato arriva da Riga.", language="it")
    [match] = matcher.match(it)
    assert [h.text for h in match.hits] == ["Riga"]  # the line is no hit


def test_urls_and_fields_without_capitals_are_case_blind() -> None:
    assert counts(NAME, "url", "https://x.it/riga-porto", 13, 17, "lat")
    assert counts(NAME, "title", "vertice a riga sulla difesa", 10, 14, "lat")
    assert not counts(NAME, "title", "Una riga sola", 4, 8, "lat")
    assert counts(COMMON, "title", "Дроны", 0, 5, "cyr")


_MATCH_THREE = """
import gc
import tempfile
from pathlib import Path

from alerts.matching import load_ruleset
from alerts.matching.matcher import Matcher
from tests.matching.helpers import fired, item, write_rules

rules = "watches:\\n" + "".join(
    f"  - id: w{i}\\n    any: ['{t}']\\n    notify: {{channels: [e]}}\\n"
    for i, t in enumerate(["дрон", "Belgorod", "příměří", "Whitaker"])
)
with tempfile.TemporaryDirectory() as tmp:
    matcher = Matcher(load_ruleset(write_rules(Path(tmp), w__yaml=rules)))
texts = [("Депутат Дронов: дроны над Белгородом", "ru"), ("Příměří a příměr", "cs")]
its = [item(text, language=language) for text, language in texts]
its.append(item("Whittaker and Whitaker", language="en"))
gc.collect()
gc.disable()
for it in its:
    assert fired(matcher, it), it
"""


def test_the_case_views_leave_no_reference_cycle() -> None:
    # An item's occurrences and views go with reference counting alone: a cycle per item
    # would leave garbage for the collector on every match. Counted in a fresh interpreter
    # (tests/support/fresh.py): no other test's threads in the count.
    assert cycles_left(_MATCH_THREE) == 0
