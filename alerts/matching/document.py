"""An item prepared once for matching: its fields normalised, split into words and word keys.

Every field's words go into one list, with a separator word after each field so that no
phrase runs across a field boundary; a parallel list holds each word's key. Splitting and
keying is one pass of the key table (``keytable.scan``); the words themselves are only
made when exact or prefix terms ask for them. Positions of a word or key are looked up
only for the few that candidate watches ask about.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from alerts.matching.compounds import MIN_WORD, part_keys
from alerts.matching.keytable import SEP, key_of, scan, split
from alerts.matching.languages import COMPOUNDING, DEFAULT, stem_language
from alerts.matching.text import COMPOUND, FieldText
from alerts.models import FIELDS, Item

Compound = tuple[int, int, int]  # (field number, start, end in the normalised text)


class Positions:
    """Where each entry of a word list occurs, indexed in one C pass when first asked."""

    def __init__(self, entries: list[str]) -> None:
        self.entries = entries

    @cached_property
    def index(self) -> dict[str, list[int]]:
        """Every entry's positions, in order (do not modify them); doubles as the set of entries."""
        return _index_all(self.entries)

    def of(self, entry: str) -> list[int]:
        """Every position of ``entry``, in order (empty when absent); do not modify it."""
        return self.index.get(entry, _NOWHERE)


_NOWHERE: list[int] = []


def _every_position(entries: list[str]) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for p, entry in enumerate(entries):
        at = found.get(entry)
        if at is None:
            found[entry] = [p]
        else:
            at.append(p)
    return found


try:  # the same in one pass of C, when the extension is built
    from alerts.matching._wordkeys import index_all as _index_all  # type: ignore[import-not-found]
except ImportError:
    _index_all = _every_position


@dataclass
class Document:
    """Fields in FIELDS order as one list of words (and one of word keys) with separators."""

    item: Item
    fields: dict[int, FieldText]
    keys: Positions
    field_of: list[int]
    start: dict[int, int]
    anchored: list[str] = field(default_factory=list)  # keys present that are in `anchors`
    anchors: dict[str, Any] | None = None  # the index's anchor table they were checked against
    compounds: dict[str, list[Compound]] = field(default_factory=dict)
    language: str = DEFAULT  # the stem language its words were keyed in
    parts: dict[str, list[int]] = field(default_factory=dict)  # closed compounds' part keys

    @cached_property
    def entries(self) -> list[str]:
        """The normalised words, a separator after each field."""
        return split([ft.norm for ft in self.fields.values()])

    @cached_property
    def words(self) -> Positions:
        """The normalised words (only exact terms and prefixes ask for them)."""
        return Positions(self.entries)

    def local(self, number: int, position: int) -> int:
        """The word number within its field of a position of the word list."""
        return position - self.start[number]


def _compounds(ft: FieldText, number: int, found: dict[str, list[Compound]], language: str) -> None:
    """Hyphenated words of a field, joined ("cease-fire" -> key of "ceasefire"), and
    words split at an apostrophe (Слов'янськ)."""
    for m in COMPOUND.finditer(ft.norm):
        key = key_of(m.group().replace("-", "").replace("'", ""), language=language)
        found.setdefault(key, []).append((number, m.start(), m.end()))


def prepare(
    item: Item, names: tuple[str, ...], *, fuzzy: bool = True, anchors: dict[str, Any] | None = None
) -> Document:
    """Normalise the named fields of an item and work out its word keys (if ``fuzzy``).

    ``anchors``: the index's table of anchor keys; the document lists those it holds.
    """
    fields = {FIELDS.index(name): FieldText.of(name, item.field_text(name)) for name in names}
    language = stem_language(item.language)
    norms = [ft.norm for ft in fields.values()]
    compounds: dict[str, list[Compound]] = {}
    if fuzzy:
        keys, anchored, counts, spans = scan(
            norms, anchors if anchors is not None else {}, language=language
        )
        if spans is not None:
            for ft, packed in zip(fields.values(), spans, strict=True):
                ft.use_spans(packed)
        for number, ft in fields.items():
            if "-" in ft.norm or "'" in ft.norm:
                _compounds(ft, number, compounds, language)
        positions = Positions(keys)
        entries = split(norms) if language in COMPOUNDING else []
        parts = _parts(entries, keys, language) if entries else {}
    else:
        entries = split(norms)
        counts = _counts(entries)
        anchored, positions, parts = [], Positions([]), {}
    start: dict[int, int] = {}
    field_of: list[int] = []
    for number, count in zip(fields, counts, strict=True):
        start[number] = len(field_of)
        field_of += [number] * (count + 1)
    doc = Document(
        item=item,
        fields=fields,
        keys=positions,
        field_of=field_of,
        start=start,
        anchored=anchored,
        anchors=anchors if fuzzy else None,
        compounds=compounds,
        language=language,
        parts=parts,
    )
    if entries:  # split already (the closed compounds' parts, or no fuzzy keys)
        doc.__dict__["entries"] = entries
    return doc


def _parts(entries: list[str], keys: list[str], language: str) -> dict[str, list[int]]:
    """Where each part key of the closed compounds stands (the compound's position): each
    key's positions in order, each once (``scan._compound_keys`` relies on it).

    ``keys``: the word keys (``keytable.scan``'s, a key per entry): the words' own keys.
    """
    long = [p for p, w in enumerate(entries) if len(w) >= MIN_WORD]
    found: dict[str, list[int]] = {}
    if long:
        owns = list(map(keys.__getitem__, long)) if len(keys) == len(entries) else None
        words = list(map(entries.__getitem__, long))
        for p, part in zip(long, part_keys(words, language, owns), strict=True):
            for key in part:
                found.setdefault(key, []).append(p)
    return found


def _counts(entries: list[str]) -> list[int]:
    """Words per field of a word list with a separator after each field."""
    out, last = [], -1
    for p, entry in enumerate(entries):
        if entry == SEP:
            out.append(p - last - 1)
            last = p
    return out
