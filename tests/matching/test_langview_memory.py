"""The lazy language views against the eager construction they replace: the same pattern
for every atom in every stem language, every added anchor found, and a few bytes a pair."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from alerts.matching import Matcher, load_ruleset
from alerts.matching.index import Index
from alerts.matching.languages import ALGORITHMS
from alerts.matching.langview import view
from alerts.matching.viewkeys import HASH_MASK, RUN, ViewAnchors, pair
from tests.matching.helpers import item, ruleset_of
from tests.matching.langview_reference import eager_view

QUALITY = Path(__file__).parent / "quality" / "rules"
# Words whose stems differ from language to language, names (a feminine surname among
# them), hyphenated and multi-word terms: the kinds of atom a view changes.
MULTILINGUAL = """
watches:
  - id: words
    any: [Raketen, gouvernement, ciudades, elezioni, verkiezingen, regeringen,
          regjeringen, hallitukset, rakiety, rakety, eleições, Kowalska, Zelenska, Tula]
    notify: {channels: [email]}
  - id: phrases
    any: ["Raketen Angriff", "nouvelles élections", "cease-fire", "Nowakowa Anna"]
    notify: {channels: [email]}
  - id: both
    all: [regeringen, hallitukset]
    any: [rakety]
    notify: {channels: [email]}
"""
TEXTS = [
    ("Neue Raketen: ein Raketenangriff", "de"),
    ("Le gouvernement annonce de nouvelles élections", "fr"),
    ("Las ciudades y el gobierno", "es"),
    ("Le elezioni regionali", "it"),
    ("De verkiezingen in Nederland", "nl"),
    ("Regeringen och hallitukset", "sv"),
    ("Regeringen siger", "da"),
    ("Regjeringen sier", "no"),
    ("Hallitukset kaatuivat", "fi"),
    ("Rakiety nad miastem, Kowalskiej", "pl"),
    ("Rakety nad Tulou a Zelenskou", "cs"),
    ("Rakety nad Tulou", "sk"),
    ("As eleições gerais", "pt"),
]
LANGUAGES = sorted({code for code in ALGORITHMS if code != "en"})


def _indexes(tmp_path: Path) -> list[Index]:
    return [
        Matcher(load_ruleset(QUALITY)).index,
        Matcher(ruleset_of(tmp_path, MULTILINGUAL)).index,
    ]


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_atom_is_the_eager_views_atom(tmp_path: Path, language: str) -> None:
    for index in _indexes(tmp_path):
        eager, _ = eager_view(index, language)
        seen = view(index, language)
        assert seen is not None
        assert [seen[a] for a in range(len(index.atoms))] == eager, language


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_added_anchor_is_found(tmp_path: Path, language: str) -> None:
    for index in _indexes(tmp_path):
        _, anchors = eager_view(index, language)
        view(index, language)
        added = index.view_anchors
        for key, owners in anchors.items():
            found = set()
            for atom in added.atoms(hash(key) & HASH_MASK):
                watches = index.anchor_watches[atom]
                found |= {~atom} if atom in index.anchored else set(watches)
            assert owners <= found, (language, key)


def test_items_of_every_language_match_as_before(tmp_path: Path) -> None:
    ruleset = ruleset_of(tmp_path, MULTILINGUAL)
    loaded = Matcher(ruleset, languages=LANGUAGES)
    for text, language in TEXTS:
        it = item(text, language=language, language_source="declared")
        assert loaded.match(it) == Matcher(ruleset).match(it), (text, language)
        assert loaded.match(it), (text, language)  # every row fires a watch


def test_pairs_are_stored_once_sorted_eight_bytes_each() -> None:
    added = ViewAnchors()
    added.add([pair("raket", 3), pair("raket", 5), pair("tul", 3)])
    added.add([pair("raket", 3), pair("tul", 9)])  # another language: one new pair
    assert list(added.pairs) == sorted(added.pairs)
    assert len(added.pairs) == 4
    assert sorted(added.atoms(hash("raket") & HASH_MASK)) == [3, 5]
    assert added.atoms(hash("unknown") & HASH_MASK) == []
    assert added.nbytes() == 4 * 8 + len(added.bitmap)


def test_pairs_added_in_runs_are_every_pair_once_sorted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("alerts.matching.viewkeys.RUN", 7)  # many runs, repeats across them
    added = ViewAnchors()
    first = [pair(f"k{n % 13}", n % 50) for n in range(100)]
    added.add(iter(first))
    later = [pair(f"k{n % 17}", n % 60) for n in range(300)]
    added.add(later)
    assert list(added.pairs) == sorted({*first, *later})
    for key in ("k3", "k16"):
        hashed = hash(key) & HASH_MASK
        want = sorted({p & ((1 << 24) - 1) for p in {*first, *later} if p >> 24 == hashed})
        assert sorted(added.atoms(hashed)) == want


def test_adding_a_language_holds_no_set_of_its_pairs() -> None:
    # A view adds its pairs from a generator: sorted a run at a time into 8-byte arrays,
    # never a set or list of them all (about 60 bytes a pair: 12 MB for these 200k).
    count = 200_000
    added = ViewAnchors()
    added.add(pair(f"key{n}", n % 1000) for n in range(0, count, 2))
    distinct = len({pair(f"key{n}", n % 1000) for n in range(count)})  # (hashes may collide)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        added.add(pair(f"key{n}", n % 1000) for n in range(count))
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    assert len(added.pairs) == distinct
    # the old and the merged arrays, the new runs, one run's set and the bitmaps
    assert peak < 3 * 8 * count + 100 * RUN + 3 * len(added.bitmap)
