"""The anchor tables of an index: from an item's keys, words or prefixes to the watches to
evaluate (and, as ``~atom``, the phrase atoms to check first).

An anchor atom is registered under every key it accepts (a single word), under one word's
keys (a phrase: its least used word, so that thousands of phrases sharing a frequent word
are not all checked), or under its word (exact terms and prefixes). Part of the build,
compiled with it by mypyc.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from alerts.matching.atoms import KEYS, PHRASE, PREFIX, WORDS, Pattern

if TYPE_CHECKING:  # the index imports this module
    from alerts.matching.index import Index

Watches = tuple[int, ...]


class Tables:
    """Adds watches to table entries; entries shared by several atoms are merged once at the end.

    Merging into a sorted tuple per atom would copy and re-sort it every time: quadratic when
    thousands of phrases share a word.
    """

    def __init__(self) -> None:
        self.shared: dict[tuple[int, str], tuple[dict[str, Watches], set[int]]] = {}
        self.langs: dict[str, dict[frozenset[str], list[int]]] = {}

    def add_lang(self, index: Index, key: str, langs: frozenset[str], watches: Watches) -> None:
        """Make ``watches`` findable under ``key`` in items of ``langs`` only."""
        self.langs.setdefault(key, {}).setdefault(langs, []).extend(watches)

    def add(self, table: dict[str, Watches], entry: str, watches: Watches) -> None:
        """Make ``watches`` findable under ``entry``."""
        old = table.get(entry)
        if old is None:
            table[entry] = watches  # most entries belong to one atom: its tuple is shared
            return
        slot = self.shared.get((id(table), entry))
        if slot is None:
            self.shared[id(table), entry] = (table, {*old, *watches})
        else:
            slot[1].update(watches)

    def freeze(self, index: Index) -> None:
        """Store every merged entry as one sorted tuple."""
        for (_, entry), (table, merged) in self.shared.items():
            table[entry] = tuple(sorted(merged))
        self.shared.clear()
        for key, by_langs in self.langs.items():
            index.by_lang[key] = tuple((langs, tuple(ws)) for langs, ws in by_langs.items())
            index.by_key.setdefault(key, ())  # so that the key table reports the key
        self.langs.clear()


def usage(atoms: list[Pattern]) -> Counter[str]:
    """How many phrase atoms use each key or word (a phrase is looked up by its least used)."""
    used: Counter[str] = Counter()
    for pattern in atoms:
        if pattern[0] == PHRASE:
            for keys in pattern[1]:
                used.update(keys)
        elif pattern[0] in (WORDS, PREFIX) and len(pattern[1]) > 1:
            used.update(pattern[1])
    return used


def _rarest(options: list[tuple[str, ...]], used: Counter[str]) -> int:
    costs = [sum(map(used.__getitem__, keys)) for keys in options]
    return costs.index(min(costs))


def register(index: Index, tables: Tables, atom: int, watches: Watches, used: Counter[str]) -> None:
    """Make the anchor atom findable from the item's keys or words."""
    pattern = index.atoms[atom]
    kind = pattern[0]
    if kind == KEYS:
        only = pattern[2] or {}
        for key in pattern[1]:
            if key in only:
                tables.add_lang(index, key, only[key], watches)
            else:
                tables.add(index.by_key, key, watches)
    elif kind in (WORDS, PREFIX) and len(pattern[1]) == 1:
        word = pattern[1][0]
        table = index.by_word if kind == WORDS else index.by_prefix.setdefault(len(word), {})
        tables.add(table, word, watches)
    elif kind == PHRASE:
        index.anchored[atom] = watches
        j = _rarest(list(pattern[1]), used)
        for key in {*pattern[1][j], *pattern[2]}:
            tables.add(index.by_key, key, (~atom,))
    else:
        index.anchored[atom] = watches
        whole = pattern[1] if kind == WORDS else pattern[1][:-1]  # a prefix is no table entry
        j = _rarest([(w,) for w in whole], used)
        tables.add(index.by_word, whole[j], (~atom,))
