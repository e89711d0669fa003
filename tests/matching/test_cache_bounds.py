"""The per-process word caches stay within their byte budgets and key words as if uncached."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from alerts.matching import caches, compounds, keytable
from alerts.matching.keytable import SEP, PyWordTable, key_of, new_table, scan
from alerts.matching.variants import word_keys
from alerts.settings import Settings

BUDGET = 64 * 1024


def _words(count: int, start: int = 0) -> list[str]:
    """Distinct Latin pseudo-words (a number written in syllables), each 6+ letters."""
    syllables = [c + v for c in "bdgklmnprst" for v in "aeiou"]
    out = []
    for n in range(start + 3025, start + 3025 + count):
        word = ""
        while n:
            n, digit = divmod(n, len(syllables))
            word += syllables[digit]
        out.append(word)
    return out


@pytest.fixture
def budgets() -> Iterator[None]:
    """Put the module budgets back (and empty the caches) after a test changes them."""
    words, parts = keytable.CACHE_BYTES, compounds.CACHE_BYTES
    yield
    keytable.set_cache_bytes(words)
    compounds.set_cache_bytes(parts)


@pytest.mark.parametrize("make", [new_table, PyWordTable])
def test_a_table_never_holds_more_than_its_bytes_and_keys_as_uncached(make: type) -> None:
    table = make(max_bytes=BUDGET)
    sizes = []
    for n in range(0, 6000, 300):
        batch = _words(300, n)
        keys = scan([" ".join(batch)], {}, table)[0]
        assert keys == [*word_keys(batch), SEP]  # cached or not, the same keys
        assert table.nbytes() <= BUDGET
        sizes.append(len(table))
    assert max(sizes) > 300 and sizes != sorted(sizes)  # it filled, then started over
    assert key_of(batch[0], table) == word_keys(batch[:1])[0]


@pytest.mark.parametrize("make", [new_table, PyWordTable])
def test_a_table_too_small_for_any_word_keeps_none(make: type) -> None:
    table = make(max_bytes=1)
    assert scan(["kaluga drones"], {}, table)[0] == [*word_keys(["kaluga", "drones"]), SEP]
    assert len(table) == 0 and table.get("kaluga") is None


@pytest.mark.parametrize("make", [new_table, PyWordTable])
def test_words_beyond_the_bmp_are_keyed_but_never_kept(make: type) -> None:
    table = make()
    text = "𝔘kraine kaluga"  # a mathematical letter: the C arena holds 16-bit code points
    assert scan([text], {}, table)[0] == [*word_keys(["𝔘kraine", "kaluga"]), SEP]
    assert len(table) == 1 and table.get("𝔘kraine") is None


def test_all_languages_tables_together_stay_within_the_budget(budgets: None) -> None:
    keytable.set_cache_bytes(4 * BUDGET)
    floor = new_table().nbytes()  # what a table that started over still holds
    for n, language in enumerate(["en", "de", "fr", "es", "pl", "de", "en"] * 2):
        batch = _words(900, 900 * n)
        assert scan([" ".join(batch)], {}, language=language)[0][:3] == word_keys(
            batch[:3], language
        )
        tables = {id(t): t for t in keytable._TABLES.values()}.values()
        assert sum(t.nbytes() for t in tables) <= 4 * BUDGET + floor * (len(tables) - 1)


def test_compound_parts_stay_within_the_budget_and_are_those_uncached(budgets: None) -> None:
    batch = [w + "angriff" for w in _words(400)]
    compounds.set_cache_bytes(2**30)
    expected = compounds.part_keys(batch, "de")
    assert any(expected)
    compounds.set_cache_bytes(BUDGET)
    for n in range(0, 400, 50):
        assert compounds.part_keys(batch[n : n + 50], "de") == expected[n : n + 50]
        assert compounds.nbytes() <= BUDGET
    assert compounds.part_keys(batch[:50], "de") == expected[:50]  # after starting over
    # Half of each batch known, half new: a batch that starts the cache over still has
    # the keys of its known words (they were looked up in the cache it dropped).
    for n in range(25, 375, 25):
        assert compounds.part_keys(batch[n - 25 : n + 25], "de") == expected[n - 25 : n + 25]


def test_a_budget_must_be_positive() -> None:
    for module in (keytable, compounds):
        with pytest.raises(ValueError, match="positive"):
            module.set_cache_bytes(0)
    with pytest.raises(ValueError):
        new_table(max_bytes=0)


def test_one_figure_sizes_both_caches(budgets: None) -> None:
    caches.set_cache_mib(1)
    assert (keytable.CACHE_BYTES, compounds.CACHE_BYTES) == (3 * 2**18, 2**18)
    # The modules' own budgets are the setting's default (worker.word_cache_mib).
    assert caches.DEFAULT_MIB == Settings().worker.word_cache_mib == 128
    scan([" ".join(_words(20000))], {})
    compounds.part_keys([w + "angriff" for w in _words(3000)], "de")
    assert caches.cache_bytes() <= 2**20
    with pytest.raises(ValueError, match="positive"):
        caches.set_cache_mib(0)
