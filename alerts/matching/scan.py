"""One item against the index: which watches to evaluate, and where their atoms occur.

An occurrence is (field number, a, b, kind): kind 0 = b words from position a of the
document's word list (a fuzzy atom), kind 3 = the same for an exact or prefix atom,
kind 1 = normalised characters a:b (a hyphenated compound), kind 2 = original characters
a:b (a regex match). Occurrences are worked out per atom, only for atoms that are asked for.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Collection, Iterable, Sequence
from operator import itemgetter

from alerts.matching.document import Document, Positions
from alerts.matching.index import Index, Pattern, Watches

MAX_REGEX_HITS = 50
Occurrence = tuple[int, int, int, int]


class Occurrences(dict[int, list[Occurrence]]):
    """Atom occurrences in one document, found on first use."""

    def __init__(self, index: Index, doc: Document) -> None:
        super().__init__()
        self.index, self.doc = index, doc
        self.full = index.mask  # the fields the document holds

    def __missing__(self, atom: int) -> list[Occurrence]:
        pattern = self.index.atoms[atom]
        # Single words are most atoms: looked up without the dispatch of ``find``.
        found = self[atom] = (
            _keys(pattern[1], self.doc) if pattern[0] == "k" else find(pattern, self.doc)
        )
        return found


def find(pattern: Pattern, doc: Document) -> list[Occurrence]:
    """Every occurrence of one atom's pattern in the document."""
    kind = pattern[0]
    if kind == "k":
        return _keys(pattern[1], doc)
    out: list[Occurrence] = []
    if kind == "p":
        if pattern[2] is None:
            _phrase(pattern[1], doc, out)
        else:
            for combo in pattern[2]:
                _sequence(combo, doc.keys, doc.field_of, 0, out)
        out += _keys(pattern[3], doc)
    elif kind == "e":
        _sequence(pattern[1], doc.words, doc.field_of, 3, out)
    elif kind == "x":
        _prefix(pattern[1], doc, out)
    else:
        _regex(pattern[1], doc, out)
    return out


def _keys(keys: tuple[str, ...], doc: Document) -> list[Occurrence]:
    """Single words by key, and hyphenated compounds whose joined form has the key."""
    out: list[Occurrence] = []
    last = doc.keys.last
    for key in [k for k in keys if k in last]:
        out += [(doc.field_of[p], p, 1, 0) for p in doc.keys.of(key)]
    if doc.compounds:
        for key in keys:
            out += [(number, a, b, 1) for number, a, b in doc.compounds.get(key, ())]
    return out


def _phrase(options: tuple[tuple[str, ...], ...], doc: Document, out: list[Occurrence]) -> None:
    """Consecutive words, each with one of the keys of its term word."""
    n, field_of = len(options), doc.field_of
    out.extend([(field_of[p], p, n, 0) for p in _starts(options, doc.keys)])


def _sequence(
    seq: tuple[str, ...], where: Positions, field_of: list[int], kind: int, out: list[Occurrence]
) -> None:
    """Consecutive entries; the separator after each field keeps a phrase inside one field."""
    starts = _starts([(entry,) for entry in seq], where)
    out.extend([(field_of[p], p, len(seq), kind) for p in starts])


def _starts(options: Sequence[Collection[str]], where: Positions) -> list[int]:
    """Start positions of consecutive entries, the i-th one of ``options[i]``, in order.

    A phrase one of whose words is absent costs a few set lookups. Otherwise only the
    positions of its rarest word in the document are tried: thousands of phrases sharing
    a frequent word do not each walk every occurrence of it.
    """
    last, entries, n = where.last, where.entries, len(options)
    present = []
    for accepted in options:
        here = [e for e in accepted if e in last]
        if not here:
            return []
        present.append(here)
    counts = [sum(len(where.of(e)) for e in here) for here in present]
    j = counts.index(min(counts))
    others = [i for i in range(n) if i != j]
    # Words after the rarest one stop at the separator that ends every field, so no index
    # runs past the end; the start is checked not to run before the beginning.
    starts = [
        p - j
        for e in present[j]
        for p in where.of(e)
        if p >= j and all(entries[p - j + i] in options[i] for i in others)
    ]
    if len(present[j]) > 1:
        starts.sort()
    return starts


def _prefix(seq: tuple[str, ...], doc: Document, out: list[Occurrence]) -> None:
    """Exact words, the last of which only has to start with the last term word."""
    entries, field_of, n, last = doc.words.entries, doc.field_of, len(seq), seq[-1]
    if n == 1:
        matching = [w for w in doc.words.last if w.startswith(last)]
        if len(matching) == 1:
            starts = doc.words.of(matching[0])
        else:  # one pass, however many distinct words start with the prefix
            starts = [p for p, w in enumerate(entries) if w.startswith(last)] if matching else []
    elif any(w not in doc.words.last for w in seq[:-1]):
        starts = []
    else:
        middle = list(seq[1:-1])
        starts = [
            p
            for p in doc.words.of(seq[0])
            if p + n <= len(entries)
            and entries[p + 1 : p + n - 1] == middle
            and entries[p + n - 1].startswith(last)
        ]
    out.extend([(field_of[p], p, n, 3) for p in starts])


def _regex(pattern: object, doc: Document, out: list[Occurrence]) -> None:
    """Matches of a regex in the original text, searched per field, at most a few per field."""
    for number, ft in doc.fields.items():
        for i, m in enumerate(pattern.finditer(ft.text)):  # type: ignore[attr-defined]
            if i >= MAX_REGEX_HITS:
                break
            if m.end() > m.start():
                out.append((number, m.start(), m.end(), 2))


def _gather(found: set[int], table: dict[str, Watches], present: Iterable[str]) -> None:
    if table:
        found.update(*map(table.__getitem__, table.keys() & present))


def candidates(index: Index, doc: Document, occ: Occurrences) -> list[int]:
    """Watches with an anchor atom present in the document (plus those without anchors)."""
    found = set(index.always)
    _gather(found, index.by_key, doc.keys.last)
    if doc.compounds:
        _gather(found, index.by_key, doc.compounds)
    if index.by_word or index.by_prefix:
        words = doc.words.last
        _gather(found, index.by_word, words)
        for length, table in index.by_prefix.items():
            _gather(found, table, set(map(itemgetter(slice(length)), words)))
    ordered = sorted(found)
    split = bisect_left(ordered, 0)  # phrase atoms (~atom < 0) first, then watches
    if split == 0:
        return ordered
    extra = [index.anchored[~a] for a in ordered[:split] if occ[~a]]
    return sorted(set(ordered[split:]).union(*extra)) if extra else ordered[split:]
