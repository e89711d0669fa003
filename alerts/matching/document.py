"""An item prepared once for matching: its fields normalised, word keys laid out for scanning.

Two scan strings hold one entry per word, space-separated, with a separator word after
each field: ``fuzzy`` holds word keys (plus hyphenated compounds at the end), ``exact``
the normalised words. An automaton hit is located by its character position; the word
number is only worked out for the few hits that need it (proximity, reported offsets).
"""

from __future__ import annotations

import itertools
import operator
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field

from alerts.matching.text import COMPOUND, FieldText, split_words
from alerts.matching.variants import KEYS
from alerts.models import FIELDS, Item

_FIELD_SEP = "\x1f"
_COMPOUND_SEP = "\x1e"
KEYS[_FIELD_SEP] = _FIELD_SEP


def _field_positions(entries: list[str], starts: list[int]) -> list[int]:
    """Character position of the space before each field's first entry."""
    bounds = [*starts, len(entries)]
    sizes = (sum(map(len, entries[a:b])) + (b - a) for a, b in itertools.pairwise(bounds))
    return list(itertools.accumulate(sizes, initial=0))[:-1]


@dataclass
class Document:
    """Fields in FIELDS order, plus the two scan strings (word keys, normalised words)."""

    item: Item
    fields: dict[int, FieldText]
    order: list[int]
    starts: list[int]
    fuzzy: str
    exact: str
    positions: dict[str, list[int]]
    compounds: list[tuple[int, int, int]] = field(default_factory=list)
    compound_at: int = 1 << 62
    _spaces: dict[str, list[int]] = field(default_factory=dict)

    def field_at(self, which: str, pos: int) -> int:
        """Field number of the entry after the space at ``pos`` of scan string ``which``."""
        return self.order[bisect_right(self.positions[which], pos) - 1]

    def compound_at_pos(self, pos: int) -> tuple[int, int, int]:
        """(field number, start, end in normalised text) of the compound after ``pos``."""
        return self.compounds[self._index("fuzzy", pos) - self._index("fuzzy", self.compound_at)]

    def word_at(self, which: str, pos: int) -> tuple[int, int]:
        """(field number, word number in the field) of the entry after the space at ``pos``."""
        index = self._index(which, pos)
        slot = bisect_right(self.starts, index) - 1
        return self.order[slot], index - self.starts[slot]

    def _index(self, which: str, pos: int) -> int:
        spaces = self._spaces.get(which)
        if spaces is None:
            # Position of the space before every entry, built once per item when needed.
            words = getattr(self, which).split(" ")[1:-1]
            lengths = itertools.accumulate(map(len, words), initial=0)
            spaces = self._spaces[which] = list(map(operator.add, lengths, range(len(words) + 1)))
        return bisect_left(spaces, pos)


def _compounds(
    ft: FieldText, number: int, found: list[tuple[int, int, int]], keys: list[str]
) -> None:
    """Hyphenated words of a field, joined ("cease-fire" -> key of "ceasefire")."""
    for m in COMPOUND.finditer(ft.norm):
        found.append((number, m.start(), m.end()))
        keys.append(KEYS[m.group().replace("-", "")])


def prepare(item: Item, names: tuple[str, ...], *, fuzzy: bool = True) -> Document:
    """Normalise the named fields of an item and lay out its word keys (if ``fuzzy``)."""
    fields: dict[int, FieldText] = {}
    starts: list[int] = []
    order: list[int] = []
    exact: list[str] = []
    compounds: list[tuple[int, int, int]] = []
    compound_keys: list[str] = []
    for name in names:
        number = FIELDS.index(name)
        ft = fields[number] = FieldText.of(name, item.field_text(name))
        starts.append(len(exact))
        order.append(number)
        exact.extend(split_words(ft.norm))
        exact.append(_FIELD_SEP)
        if fuzzy and "-" in ft.norm:
            _compounds(ft, number, compounds, compound_keys)
    keys = KEYS.keys_of(exact) if fuzzy else []
    text = " " + " ".join(keys) + " "
    compound_at = len(text) + 1
    if compounds:
        text += _COMPOUND_SEP + " " + " ".join(compound_keys) + " "
    return Document(
        item=item,
        fields=fields,
        order=order,
        starts=starts,
        fuzzy=text,
        exact=" " + " ".join(exact) + " ",
        positions={
            "exact": _field_positions(exact, starts),
            "fuzzy": _field_positions(keys, starts) if fuzzy else [],
        },
        compounds=compounds,
        compound_at=compound_at if compounds else 1 << 62,
    )
