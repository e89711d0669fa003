"""Matching in the item's language: inflection, orthographies, alternation, compounds, gender.

Every row is a watch written as a user writes it (a name once, in Latin script, or one
dictionary form), a short text of our own, the item's language, and whether it fires.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import Stemmer  # type: ignore[import-not-found]
from hypothesis import given, settings
from hypothesis import strategies as st

from alerts.matching import load_ruleset
from alerts.matching.gender import (
    both_genders,
    feminine,
    feminine_many,
    masculine_many,
    masculine_surname,
)
from alerts.matching.keytable import SEP, PyWordTable, new_table, scan
from alerts.matching.languages import ALGORITHMS, _finnish, snowball
from alerts.matching.matcher import Matcher
from alerts.matching.termkeys import term_keys
from alerts.matching.variants import word_key, word_keys
from tests.matching.helpers import fired, item, term_fires, write_rules

ROWS = [
    # inflection by the item's language (Snowball per language)
    ("Rakete", "Russland feuert Raketen auf Odesa", "de", True),
    ("Tula", "Drony zaútočily na rafinerii u Tuly", "cs", True),
    ("Tula", "Eksplozje w Tule po ataku dronów", "pl", True),
    ("Tula", "Räjähdyksiä Tulassa yöllä", "fi", True),
    ("dron", "Atak dronów na rafinerię", "pl", True),
    ("ohjus", "Venäjä iski yöllä ohjuksella", "fi", True),
    ("Zelensky", "Fico sa so Zelenským nedohodol", "sk", True),
    ("Zelensky", "Rozmowa z Zełenskiego doradcą", "pl", True),
    # a stem of one language does not fire in another (Finnish "tul" is no English word)
    ("Tula", "Tulle lace exhibition opens", "en", False),
    # other orthographies of a name
    ("Tula", "Des drones frappent une raffinerie près de Toula", "fr", True),
    ("Ufa", "Incendie dans une raffinerie à Oufa", "fr", True),
    ("Bryansk", "Výbuchy v Brjansku, úřady hlásí útok", "cs", True),
    ("Bryansk", "Wybuchy w Briańsku po ataku", "pl", True),
    ("Kharkiv", "Raketenangriff auf Charkiw am Morgen", "de", True),
    ("Kaluga", "Explosions à Kalouga dans la nuit", "fr", True),
    ("Zelensky", "Le président Zelenski réclame des missiles", "fr", True),  # French -ski
    # the woman's oblique -ной of a -льный surname (Юлии Навальной) is not the man
    ("Navalny", "Интервью Юлии Навальной о выборах", "ru", False),
    ("Navalny", "Суд над Навальным продолжился", "ru", True),
    ("Kaluga", "Raffinaderij in Kaloega geraakt", "nl", True),
    ("Michał", "Michal Dworczyk o sankcjach", "pl", True),
    # exonyms, each in its own language only
    ("Kyiv", "W Kijowie ogłoszono alarm", "pl", True),
    ("Kyiv", "Ohjusisku Kiovaan yöllä", "fi", True),
    ("Riga", "Naton huippukokous Riiassa", "fi", True),  # Riika, gradated
    ("Riga", "Riikka Purra puhui eduskunnassa", "fi", False),  # a first name
    # a Finnish case the stemmer cuts into the name (Khamenein -> khamen)
    ("Khamenei", "Khamenein puhe Teheranissa", "fi", True),
    ("Tula", "Tulitikut loppuivat kaupasta", "fi", False),  # tuli: fire
    ("Kyiv", "Kyjevem otřásly výbuchy", "cs", True),
    ("Kyiv", "Raketen auf Kiew", "de", True),
    ("Kharkiv", "Rosja gromadzi wojska pod Charkowem", "pl", True),
    ("Kharkiv", "Ataque con drones en Járkov", "es", True),
    ("Lviv", "Alarm we Lwowie", "pl", True),
    ("Kyiv", "The Kiowa tribe's history", "en", False),
    # consonant alternation and place adjectives
    ("Kaluga", "V Kaluze hoří sklad", "cs", True),
    ("Kaluga", "Eksplozje w Kałudze w nocy", "pl", True),
    ("Kaluga", "У Калузі вибухи", "uk", True),
    ("Kaluga", "калузький губернатор заявив", "uk", True),
    ("Riga", "Саміт у Ризі завершився", "uk", True),
    ("Riga", "ризький порт працює", "uk", True),
    ("Tula", "Тульская область: обломки упали", "ru", True),
    ("Kaluga", "Калужская область под атакой", "ru", True),
    ("Ufa", "В Уфе начался пожар", "ru", True),
    ("Budanov", "По словам Буданова, наступление готовится", "ru", True),
    ("Kaluga", "Kalugin oznámil odchod", "en", False),
    # W as У beside В; the Ukrainian apostrophe
    ("Waltz", "Уолц назвал удары неприемлемыми", "ru", True),
    ("Witkoff", "Уиткофф прилетел в Москву", "ru", True),
    ("Whitaker", "Посол Вітакер відвідав Київ", "uk", True),
    ("Sloviansk", "У Словʼянську пошкоджено школу", "uk", True),
    ("Sloviansk", "Удар по Слов'янську вночі", "uk", True),
    # closed compounds, first part or head, never a short lookalike
    ("Drohne", "Drohnenabwehr wird verstärkt", "de", True),
    ("Angriff", "Raketenangriff auf die Stadt", "de", True),
    ("ohjus", "Ohjusisku tappoi kuusi", "fi", True),
    ("sanctie", "EU akkoord over nieuw sanctiepakket", "nl", True),
    ("Drohne", "Russland droht mit Vergeltung", "de", False),
    ("dron", "Dronkenschap op straat neemt toe", "nl", False),
    # a compound's other part is a word, never a suffix (sanktionerad: sanctioned)
    ("sanktioner", "Facket godkände en sanktionerad strejk", "sv", False),
    ("sanktioner", "Nytt sanktionspaket mot Ryssland", "sv", True),
    # surname gender: the man's watch does not find his wife, nor the reverse
    ("Zelensky", "Olena Zelenska opens the summit", "en", False),
    ("Zelensky", "Олена Зеленська відвідала лікарню", "uk", False),
    ("Zelenska", "Зеленський провів розмову", "uk", False),
    ("Zelenska", "Olena Zelenská otevřela výstavu", "cs", True),
    ("Nawrocki", "Spotkanie z Martą Nawrocką w Pałacu", "pl", False),
    ("Nawrocki", "Nawrockiego wizyta w Kijowie", "pl", True),
    ("Navalny", "Юлия Навальная выступила в Страсбурге", "ru", False),
    ("Navalny", "Nawalnys Witwe spricht", "de", True),
    # Czech and Slovak: -ová of an -ov surname is his wife; -in is part of a name; plural
    # endings that lost their accent (sankcím, sankcích); Slovak -om, -och
    ("Budanov", "Budanovová poskytla rozhovor", "cs", False),
    ("Budanov", "Rozhovor s Budanovem a jeho týmem", "cs", True),
    ("Kaluga", "Kalugin odstoupil z funkce", "cs", False),
    ("sankce", "Brusel přistoupil k novým sankcím", "cs", True),
    ("sankce", "Debata o sankcích pokračuje", "cs", True),
    ("dron", "Obrana proti dronom sa zlepšuje", "sk", True),
    # a name from outside Cyrillic, respelled by each language's rules
    ("Araghchi", "Außenminister Araghtschi reist nach Genf", "de", True),
    ("Araghchi", "Arakczi spotkał się z ministrem", "pl", True),
    ("Araghchi", "Ministr Arakčí přiletěl do Vídně", "cs", True),
    ("Araghchi", "Araqchi meets the agency's chief", "en", True),
    ("Araghchi", "Аракчі прибув до Женеви", "uk", True),
    ("Khamenei", "Discurso de Jamenei en Teherán", "es", True),
    ("Khamenei", "Discorso di Jamenei a Teheran", "it", True),  # es read as it: still found
    # ... and an English name is never respelled through Cyrillic (Walz is another man)
    ("Waltz", "Der Walzer ist ein Tanz im Dreivierteltakt", "de", False),
    ("Waltz", "Gouverneur Walz spricht in Minnesota", "de", False),
    ("Engels", "Над Энгельсом сбиты дроны", "ru", True),
    # Finnish consonant gradation and partitive, Swedish definite -an
    ("tulitauko", "Neuvottelut tulitauon ehdoista jatkuvat", "fi", True),
    ("tulitauko", "Hallitus vaatii tulitaukoa heti", "fi", True),
    ("raketti", "Raketin osat löytyivät pellolta", "fi", True),
    ("vapenvila", "Parterna bröt vapenvilan i natt", "sv", True),
    # Polish ie for е (Biełgorod); a Russian name the alias table knows (Slaviansk);
    # ISO 9's â folded to a no longer makes Słowiańsk the Czech "Slavic"
    ("Belgorod", "Biełgorod znów bez prądu", "pl", True),
    ("Sloviansk", "Les frappes sur Slaviansk continuent", "fr", True),
    ("Sloviansk", "Slovanský festival začal v pátek", "cs", False),
    # -ske is a Czech feminine ending, but in English the name of another place
    ("Pokrovsk", "Pokrovske farmers count the losses", "en", False),
    ("Bryansk", "Útok na Brjanské letiště", "cs", True),
    # a name's respelling rules beyond Persian: ou and th (Ruhani, Huthi)
    ("Houthi", "Die Huthi greifen erneut Schiffe an", "de", True),
    ("Rouhani", "Były prezydent Ruhani zabrał głos", "pl", True),
    # Polish locative softening on a respelled name (Biełgorodzie); Czech války is no Waltz
    ("Belgorod", "Eksplozje w Biełgorodzie nad ranem", "pl", True),
    ("Waltz", "Pietní akt k výročí války", "cs", False),
    # a Polish name read the Polish way into Cyrillic; Ukrainian тц for tz
    ("Nawrocki", "Навроцкий встретился с Зеленским", "ru", True),
    ("Waltz", "Уолтц прибув до Варшави", "uk", True),
    # Ukrainian і of a closed final syllable is an о (Ріг is Рог, not Рига; Харків is
    # Харьков), but a Russian name's -ін stays -ин
    ("Riga", "Кривий Ріг знову під обстрілом", "uk", False),
    ("Kharkiv", "Вибухи у Харкові та Харків без світла", "uk", True),
    ("Vasylkiv", "Удар по Василькову: у Васильків їдуть рятувальники", "uk", True),
    ("Putin", "Путін прибув до Мінська", "uk", True),
    ("dron", "Збито десятки дронів", "uk", True),
    # a Spanish spelling still counts when a short Spanish headline is taken for Italian
    ("Kherson", "Bombardeos en Jersón", "it", True),
    # a place adjective is no surname: Brjanská oblast is Bryansk
    ("Bryansk", "Brjanská oblast znovu pod palbou", "cs", True),
    ("Bryansk", "Над Брянской областью сбиты дроны", "ru", True),
    # a -ov surname's -ой, -ою, -ої, -ій are the woman's only: not the man's watch
    ("Budanov", "Интервью с Марианной Будановой вышло вчера", "ru", False),
    ("Budanov", "Інтерв'ю з Маріанною Будановою вийшло вчора", "uk", False),
    ("Budanov", "Кошти передали Будановій", "uk", False),
    ("Budanov", "Уиткофф встретился с Будановым", "ru", True),  # the man's instrumental
    # ... while a noun or a place in -ов, -ин keeps those forms
    ("основа", "Новой основой соглашения стала торговля", "ru", True),
    ("Ukraina", "Переговоры с Украиной продолжатся", "ru", True),
    ("Ukraina", "Переговори з Україною тривають", "uk", True),
]


@pytest.mark.parametrize(("term", "text", "language", "expected"), ROWS)
def test_language_rows(tmp_path: Path, term: str, text: str, language: str, expected: bool) -> None:
    assert term_fires(tmp_path, term, text, language) is expected


def test_language_bound_keys_do_not_fire_other_languages() -> None:
    keys = term_keys(["tula"], names=["tula"])["tula"]
    assert word_key("tuly", "cs") in keys.only and "cs" in keys.only[word_key("tuly", "cs")]
    assert word_key("toula", "fr") in keys.only and keys.only[word_key("toula", "fr")] == {"fr"}
    assert word_key("tuly", "cs") not in keys.every


def test_both_genders_hook_adds_the_other_form() -> None:
    man = term_keys(["zelensky"], names=["zelensky"])["zelensky"].all()
    assert word_key("zelenska") not in man
    both = both_genders(man)
    assert word_key("zelenska", "cs") in both and word_key("зеленська") in both


def test_each_language_has_its_own_word_table() -> None:
    # The same word is keyed by the item's language: German and English stems differ.
    assert word_keys(["raketen"], "de") != word_keys(["raketen"], "en")
    de = scan(["raketen"], {}, language="de")[0]
    en = scan(["raketen"], {}, language="en")[0]
    assert de == [word_key("raketen", "de"), SEP] and en == [word_key("raketen"), SEP]


def test_c_table_and_python_twin_agree_in_every_language() -> None:
    text = ["raketenangriff tuly kałudze zelenská калузі словʼянську"]
    for language in ("de", "cs", "pl", "uk", "fi"):
        c_keys = scan(text, {}, new_table(), language=language)[0]
        py_keys = scan(text, {}, PyWordTable(), language=language)[0]
        assert c_keys == py_keys


def test_a_surname_in_ov_has_no_feminine_twin_a_noun_has() -> None:
    keys = term_keys(["budanov", "основа"], names=["budanov"])
    assert word_key("будановой") not in keys["budanov"].all()
    assert word_key("буданова") in keys["budanov"].all()  # his genitive: left matching
    assert word_key("основой") in keys["основа"].all()
    assert word_key("будановой") in both_genders(keys["budanov"].all())  # surname_gender: any


def test_a_name_written_in_lower_case_still_finds_its_feminine_adjective(tmp_path: Path) -> None:
    write_rules(tmp_path, w__yaml="id: w\nany: [kaluga, bryansk]\nnotify: {channels: [e]}\n")
    matcher = Matcher(load_ruleset(tmp_path))
    assert fired(matcher, item("Калужская область", language="ru")) == ["w"]
    assert fired(matcher, item("Брянская область", language="ru")) == ["w"]


def test_the_ending_filters_agree_with_the_gender_regexes() -> None:
    words = ["zelenska", "nawrocka", "navalnaya", "kaluga", "зеленської", "калужская", "ska"]
    words += ["навальной", "навальным", "будановой", "будановою", "калугиной", "основой"]
    words += ["zelensky", "nawrocki", "navalny", "зеленський", "навальний", "alaska", "tula"]
    assert feminine_many(words) == [feminine(w) for w in words]
    assert masculine_many(words) == {w for w in words if masculine_surname(w)}


# The Finnish grades as one substitution, a Python call a match (how they were first written).
_ONE_GRADE = re.compile(
    "(?<=[aeiouy])k(?=[aeiouy]{1,2}$)|(?<=[aeiouy])d(?=[aeiouy]{0,2}$)|ng(?=[aeiouy]{0,2}$)", re.M
)


@given(st.lists(st.text(alphabet=st.sampled_from(list("aeiouykdngth")), max_size=9), max_size=8))
@settings(max_examples=500, deadline=None)
def test_the_finnish_grades_one_at_a_time_are_the_one_substitution(stems: list[str]) -> None:
    strong = {"k": "", "d": "t", "ng": "nk"}
    expected = _ONE_GRADE.sub(lambda m: strong[m[0]], "\n".join(stems)).split("\n")
    assert _finnish(stems, list(stems), lambda words: words) == (expected if stems else [])
    assert _finnish(["x"] * 4, ["tauo", "soda", "helsing", "adoka"], lambda words: words) == [
        "tauo",
        "sota",
        "helsink",
        "adoa",
    ]


SNOWBALL_WORDS = ["raketenangriffe", "tulitauon", "sankcím", "dronów", "Київ", "калужской"]
SNOWBALL_WORDS += ["", "a", "straße", "łódź", "vapenvilan", "😀x", "bq00001234", "ohjusiskuja"]


def test_snowball_from_c_stems_as_pystemmer_does() -> None:
    _wordkeys = pytest.importorskip("alerts.matching._wordkeys")
    for algorithm in sorted({*ALGORITHMS.values(), "russian"}):
        fast = _wordkeys.Snowball(Stemmer.__file__, algorithm).stem_words(SNOWBALL_WORDS)
        assert fast == Stemmer.Stemmer(algorithm, 0).stemWords(SNOWBALL_WORDS)
    # PyStemmer (3.1.0) exports libstemmer's functions: the C call is the one in use. Should
    # a release stop exporting them, this fails (and the slower stemWords runs meanwhile).
    assert isinstance(getattr(snowball("german"), "__self__", None), _wordkeys.Snowball)
    with pytest.raises(KeyError):
        _wordkeys.Snowball(Stemmer.__file__, "klingon")
    with pytest.raises(TypeError):
        snowball("german")([b"bytes"])


def test_snowball_falls_back_to_pystemmer_where_its_module_has_no_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A frozen install: no path for ``_wordkeys.Snowball`` to open, PyStemmer's own call."""
    monkeypatch.setattr(Stemmer, "__file__", None)
    stem = snowball("german")
    assert isinstance(getattr(stem, "__self__", None), Stemmer.Stemmer)
    assert stem(SNOWBALL_WORDS) == Stemmer.Stemmer("german", 0).stemWords(SNOWBALL_WORDS)


def test_snowball_says_why_a_library_cannot_be_used(tmp_path: Path) -> None:
    """The loader's own reason (``dlerror``) is in the message: a missing file, no symbols."""
    _wordkeys = pytest.importorskip("alerts.matching._wordkeys")
    with pytest.raises(ImportError, match=r"cannot open .*nowhere\.so: .*No such file"):
        _wordkeys.Snowball(str(tmp_path / "nowhere.so"), "german")
    with pytest.raises(ImportError, match=r"does not export libstemmer's functions: .*sb_"):
        _wordkeys.Snowball(_wordkeys.__file__, "german")
