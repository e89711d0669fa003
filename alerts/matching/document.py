"""An item prepared once for matching: its fields normalised, word keys laid out for scanning."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field

from alerts.matching.text import COMPOUND, WORD, FieldText
from alerts.matching.variants import KeyCache
from alerts.models import FIELDS, Item

KEYS = KeyCache()
_FIELD_SEP = "\x1f"
_COMPOUND_SEP = "\x1e"


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

    def locate(self, index: int) -> tuple[int, int]:
        """(field number, word number in that field) of a global word index."""
        slot = bisect_right(self.starts, index) - 1
        return self.order[slot], index - self.starts[slot]


def prepare(item: Item, names: tuple[str, ...]) -> Document:
    """Normalise the named fields of an item and lay out its word keys."""
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
        exact.extend(WORD.findall(ft.norm))
        exact.append(_FIELD_SEP)
        if "-" in ft.norm:
            for m in COMPOUND.finditer(ft.norm):
                compounds.append((number, m.start(), m.end()))
                compound_keys.append(KEYS[m.group().replace("-", "")])
    keys = [KEYS[w] if w != _FIELD_SEP else w for w in exact]
    fuzzy = " " + " ".join(keys) + " "
    if compounds:
        fuzzy += _COMPOUND_SEP + " " + " ".join(compound_keys) + " "
    return Document(
        item=item,
        fields=fields,
        starts=starts,
        order=order,
        fuzzy=fuzzy,
        exact=" " + " ".join(exact) + " ",
        compounds=compounds,
        compound_base=len(keys) + 1,
    )
