"""One item against the index: which watches to evaluate, and where their atoms occur.

An occurrence is (field number, a, b, kind), its kind named in ``atoms`` (``BY_KEY``,
``JOINED``, ``MATCHED``, ``BY_WORD``). Occurrences are worked out per atom, only for atoms
that are asked for.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Collection, Iterable, Sequence
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from alerts.matching.atoms import (
    BY_KEY,
    BY_WORD,
    JOINED,
    KEYS,
    MATCHED,
    PHRASE,
    PREFIX,
    WORDS,
    Occurrence,
    Pattern,
)
from alerts.matching.document import Document, Positions
from alerts.matching.langview import view
from alerts.matching.viewkeys import ATOM_BITS, ATOM_MASK, HASH_MASK

if TYPE_CHECKING:  # the index imports the evaluator, which imports this module
    from alerts.matching.index import Index

MAX_REGEX_HITS = 50
Watches = tuple[int, ...]
__all__ = ["Occurrence", "Occurrences", "Pattern", "Watches", "candidates", "find", "occurrences"]


class Occurrences:
    """Atom occurrences in one document, found on first use, and the evidence made of them."""

    __slots__ = (
        "atoms",
        "changed",
        "compounds",
        "doc",
        "evidence",
        "field_of",
        "found",
        "full",
        "index",
        "parts",
        "view",
    )

    def __init__(self, atoms: list[Pattern], doc: Document, full: int, view: Any = None) -> None:
        self.atoms = atoms  # the index's
        # The document language's view (None for English): a bit per atom it changes.
        self.view = view
        self.changed: bytes = b"" if view is None else view.changed
        self.doc = doc
        self.full = full  # the fields the document holds, as a mask
        self.found: dict[int, list[Occurrence]] = {}
        # Per compiled term (shared by every watch with the same term and scope): its hits.
        self.evidence: dict[object, list[Any]] = {}
        # What every single word's lookup reads, held here rather than asked of the document
        # (a Python object: an attribute lookup each) thousands of times per item.
        self.index: dict[str, list[int]] | None = None  # the key positions, once asked
        self.field_of = doc.field_of
        self.compounds, self.parts = doc.compounds, doc.parts  # to look the keys up in too

    def of(self, atom: int) -> list[Occurrence]:
        """Every occurrence of an atom (do not modify the list)."""
        found = self.found.get(atom)
        if found is None:
            pattern = self.atoms[atom]
            if self.view is not None and self.changed[atom >> 3] >> (atom & 7) & 1:
                pattern = self.view.pattern(atom)  # an atom the language adds keys to
            # Single words are most atoms: looked up without the dispatch of ``find``.
            found = (
                _keys(pattern[1], self, pattern[2]) if pattern[0] == KEYS else find(pattern, self)
            )
            self.found[atom] = found
        return found

    def positions(self) -> dict[str, list[int]]:
        """Every key's positions in the document (``Positions.index``, indexed when first asked)."""
        index = self.index
        if index is None:
            index = self.index = self.doc.keys.index
        return index


def occurrences(index: Index, doc: Document) -> Occurrences:
    """The occurrences of a document, with the keys of its language's stemmer."""
    seen = view(index, doc.language)
    return Occurrences(index.atoms, doc, index.mask, seen)


def find(pattern: Pattern, occ: Occurrences) -> list[Occurrence]:
    """Every occurrence of one atom's pattern in the document."""
    kind, doc = pattern[0], occ.doc
    if kind == KEYS:
        return _keys(pattern[1], occ, pattern[2])
    out: list[Occurrence] = []
    if kind == PHRASE:
        options, only = pattern[1], pattern[3]
        if only is not None:  # keys of other languages than the document's do not count
            lang = doc.language
            options = tuple(
                tuple(k for k in o if k not in only or lang in only[k]) for o in options
            )
        _phrase(options, doc, out)
        if pattern[2]:
            out += _keys(pattern[2], occ)
    elif kind == WORDS:
        _sequence(pattern[1], doc.words, doc.field_of, BY_WORD, out)
    elif kind == PREFIX:
        _prefix(pattern[1], doc, out)
    else:
        _regex(pattern[1], doc, out)
    return out


def _keys(
    keys: tuple[str, ...], occ: Occurrences, only: dict[str, frozenset[str]] | None = None
) -> list[Occurrence]:
    """Single words by key, and hyphenated compounds whose joined form has the key.

    ``only``: keys that count in documents of some languages only, with those languages.
    """
    out: list[Occurrence] = []
    index, field_of = occ.positions(), occ.field_of
    for key in keys:
        found = index.get(key)
        if found:
            if only is not None and key in only and occ.doc.language not in only[key]:
                continue
            out += [(field_of[p], p, 1, BY_KEY) for p in found]
    if occ.compounds or occ.parts:
        _compound_keys(keys, occ, only, out)
    return out


def _compound_keys(
    keys: tuple[str, ...],
    occ: Occurrences,
    only: dict[str, frozenset[str]] | None,
    out: list[Occurrence],
) -> None:
    """Hyphenated and closed compounds with one of the keys."""
    if only is not None:
        lang = occ.doc.language
        keys = tuple(k for k in keys if k not in only or lang in only[k])
    compounds, parts = occ.compounds, occ.parts
    if compounds:
        for key in keys:
            out += [(number, a, b, JOINED) for number, a, b in compounds.get(key, ())]
    if parts:  # closed compounds: the whole word stands for its part
        # Most keys are no part of the item's compounds: a lookup each, no set or sort.
        found: list[list[int]] = []
        for key in keys:  # a plain loop: one C call a key under mypyc (map() is generic)
            at = parts.get(key)
            if at is not None:
                found.append(at)
        if found:
            # One key's positions are in order, each once (``document._parts``).
            at = found[0] if len(found) == 1 else sorted({p for ps in found for p in ps})
            field_of = occ.field_of
            out += [(field_of[p], p, 1, BY_KEY) for p in at]


def _phrase(options: tuple[tuple[str, ...], ...], doc: Document, out: list[Occurrence]) -> None:
    """Consecutive words, each with one of the keys of its term word."""
    n, field_of = len(options), doc.field_of
    out.extend([(field_of[p], p, n, BY_KEY) for p in _starts(options, doc.keys)])


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
    index = where.index
    present = []
    for accepted in options:
        here = [e for e in accepted if e in index]
        if not here:
            return []
        present.append(here)
    best, j = -1, 0
    for i, here in enumerate(present):
        count = len(index[here[0]]) if len(here) == 1 else sum([len(index[e]) for e in here])
        if best < 0 or count < best:
            best, j = count, i
    entries = where.entries
    # Words after the rarest one stop at the separator that ends every field, so no index
    # runs past the end; the start is checked not to run before the beginning.
    if len(options) == 2:  # most phrases: one neighbour to check
        other, step = (options[1], 1) if j == 0 else (options[0], -1)
        starts = [
            p - j for e in present[j] for p in index[e] if p >= j and entries[p + step] in other
        ]
    else:
        others = [(i - j, options[i]) for i in range(len(options)) if i != j]
        starts = [
            p - j
            for e in present[j]
            for p in index[e]
            if p >= j and all(entries[p + d] in accepted for d, accepted in others)
        ]
    if len(present[j]) > 1:
        starts.sort()
    return starts


def _prefix(seq: tuple[str, ...], doc: Document, out: list[Occurrence]) -> None:
    """Exact words, the last of which only has to start with the last term word."""
    entries, field_of, n, last = doc.words.entries, doc.field_of, len(seq), seq[-1]
    if n == 1:
        matching = [w for w in doc.words.index if w.startswith(last)]
        if len(matching) == 1:
            starts = doc.words.of(matching[0])
        else:  # one pass, however many distinct words start with the prefix
            starts = [p for p, w in enumerate(entries) if w.startswith(last)] if matching else []
    elif any(w not in doc.words.index for w in seq[:-1]):
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
    out.extend([(field_of[p], p, n, BY_WORD) for p in starts])


def _regex(pattern: object, doc: Document, out: list[Occurrence]) -> None:
    """Matches of a regex in the original text, searched per field, at most a few per field."""
    for number, ft in doc.fields.items():
        for i, m in enumerate(pattern.finditer(ft.text)):  # type: ignore[attr-defined]
            if i >= MAX_REGEX_HITS:
                break
            if m.end() > m.start():
                out.append((number, m.start(), m.end(), MATCHED))


def _gather(found: set[int], table: dict[str, Watches], present: Iterable[str]) -> None:
    if table:
        found.update(*map(table.__getitem__, table.keys() & present))


def _gather_added(found: set[int], index: Index, doc: Document) -> None:
    """Watches (and phrase atoms, as ``~atom``) anchored by keys that the views add.

    The pairs are every built language's: a superset of the document language's, which
    evaluating the candidates with the view's own patterns makes exact.
    """
    added = index.view_anchors
    bitmap: bytes = added.bitmap
    mask: int = added.mask
    hashes: list[int] = []
    _flag(doc.keys.index, bitmap, mask, HASH_MASK, hashes)
    _flag(doc.compounds, bitmap, mask, HASH_MASK, hashes)
    _flag(doc.parts, bitmap, mask, HASH_MASK, hashes)
    if not hashes:
        return
    pairs, owners, atoms = added.pairs, index.anchor_watches, index.atoms
    for hashed in hashes:
        at = bisect_left(pairs, hashed << ATOM_BITS)
        while at < len(pairs) and pairs[at] >> ATOM_BITS == hashed:
            atom = pairs[at] & ATOM_MASK
            if atoms[atom][0] == KEYS:
                found.update(owners[atom])
            else:
                found.add(~atom)
            at += 1


def _flagged(
    keys: dict[str, Any], bitmap: bytes, mask: int, hash_mask: int, out: list[int]
) -> None:
    """The masked hashes of the keys whose bit the views' bitmap holds (most keys have none).

    Typed locals: compiled, the bitmap test is a few machine instructions a key.
    """
    for key in keys:
        hashed = hash(key) & hash_mask
        slot = hashed & mask
        if bitmap[slot >> 3] >> (slot & 7) & 1:
            out.append(hashed)


try:  # the same in C (no hash() call a key), when the extension is built
    from alerts.matching._wordkeys import flagged as _flag  # type: ignore[import-not-found]
except ImportError:
    _flag = _flagged


def _by_language(found: set[int], index: Index, doc: Document) -> None:
    """Watches whose anchor key holds in the document's language only."""
    present = index.by_lang.keys() & (
        doc.anchored if doc.anchors is index.by_key else doc.keys.index
    )
    if doc.compounds:
        present |= index.by_lang.keys() & doc.compounds
    if doc.parts:
        present |= index.by_lang.keys() & doc.parts
    lang = doc.language
    for key in present:
        for langs, watches in index.by_lang[key]:
            if lang in langs:
                found.update(watches)


def candidates(index: Index, doc: Document, occ: Occurrences) -> list[int]:
    """Watches with an anchor atom present in the document (plus those without anchors)."""
    found = set(index.always)
    if doc.anchors is index.by_key:  # the key table listed the anchor keys present
        found.update(*map(index.by_key.__getitem__, doc.anchored))
    else:
        _gather(found, index.by_key, doc.keys.index)
    if doc.compounds:
        _gather(found, index.by_key, doc.compounds)
    if doc.parts:
        _gather(found, index.by_key, doc.parts)
    if index.by_lang:
        _by_language(found, index, doc)
    seen = view(index, doc.language)
    if seen is not None and index.view_anchors.mask:
        _gather_added(found, index, doc)
    if index.by_word or index.by_prefix:
        words = doc.words.index
        _gather(found, index.by_word, words)
        for length, table in index.by_prefix.items():
            _gather(found, table, set(map(itemgetter(slice(length)), words)))
    ordered = sorted(found)
    split = bisect_left(ordered, 0)  # phrase atoms (~atom < 0) first, then watches
    if split == 0:
        return ordered
    extra = [index.anchored[~a] for a in ordered[:split] if occ.of(~a)]
    return sorted(set(ordered[split:]).union(*extra)) if extra else ordered[split:]
