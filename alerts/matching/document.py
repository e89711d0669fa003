"""An item prepared once for matching: its fields normalised, word keys laid out for scanning."""

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


@dataclass
class Document:
    """Fields in FIELDS order, plus the two scan strings (word keys, normalised words)."""

    item: Item
    fields: dict[int, FieldText]
    starts: list[int]
    order: list[int]
    fuzzy: str
    exact: str
    compounds: list[tuple[int, int, int]] = field(default_factory=list)
    compound_base: int = 0
    _spaces: dict[str, list[int]] = field(default_factory=dict)
    _counted: int = 0

    def word_at(self, which: str, start: int) -> int:
        """Global word index of the word after the space at ``start`` of scan string ``which``."""
        spaces = self._spaces.get(which)
        if spaces is None and self._counted < 16:
            self._counted += 1  # few hits: counting spaces beats building the table
            return getattr(self, which).count(" ", 0, start)
        if spaces is None:
            # Position of the space before each word, found once per item and scan string.
            words = getattr(self, which).split(" ")[1:-1]
            positions = itertools.accumulate(map(len, words), initial=0)
            spaces = self._spaces[which] = list(map(operator.add, positions, range(len(words) + 1)))
        return bisect_left(spaces, start)

    def locate(self, index: int) -> tuple[int, int]:
        """(field number, word number in that field) of a global word index."""
        slot = bisect_right(self.starts, index) - 1
        return self.order[slot], index - self.starts[slot]


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
            for m in COMPOUND.finditer(ft.norm):
                compounds.append((number, m.start(), m.end()))
                compound_keys.append(KEYS[m.group().replace("-", "")])
    keys = KEYS.keys_of(exact) if fuzzy else []
    text = " " + " ".join(keys) + " "
    if compounds:
        text += _COMPOUND_SEP + " " + " ".join(compound_keys) + " "
    return Document(
        item=item,
        fields=fields,
        starts=starts,
        order=order,
        fuzzy=text,
        exact=" " + " ".join(exact) + " ",
        compounds=compounds,
        compound_base=len(exact) + 1,
    )
