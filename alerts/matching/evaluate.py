"""Evaluating a compiled watch on an item's occurrences, and collecting the evidence."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from alerts.matching.index import Compiled
from alerts.matching.scan import Occurrence

Occurrences = Any  # a mapping atom id -> list[Occurrence] (see ``scan``)


def _in(mask: int, occs: Iterable[Occurrence]) -> list[Occurrence]:
    return [o for o in occs if mask >> o[0] & 1]


def holds(node: Compiled, occ: Occurrences) -> bool:
    """Whether the node holds given the occurrences of the item's atoms."""
    op = node[0]
    if op == "t":
        mask = node[2]
        return any(mask >> o[0] & 1 for o in occ[node[1]])
    if op == "&":
        return all(holds(c, occ) for c in node[1])
    if op == "|":
        return any(holds(c, occ) for c in node[1])
    if op == "!":
        return not holds(node[1], occ)
    return near_window(node, occ) is not None


def near_window(node: Compiled, occ: Occurrences) -> list[Occurrence] | None:
    """Occurrences of every word of a proximity clause within its slop, in one field."""
    ids, slop, mask = node[1], node[2], node[3]
    per_field: dict[int, list[tuple[int, int, Occurrence]]] = {}
    for which, atom in enumerate(ids):
        for o in _in(mask, occ[atom]):
            if o[3] == 0 or o[3] == 3:
                # Positions in the document's word list: within one field, differences of
                # positions are differences of word numbers.
                per_field.setdefault(o[0], []).append((o[1], which, o))
    width = slop + len(ids) - 1
    for found in per_field.values():
        found.sort()
        for i, (pos, _, _) in enumerate(found):
            window = [f for f in found[i:] if f[0] - pos <= width]
            if len({w for _, w, _ in window}) == len(ids):
                return [o for _, _, o in window]
    return None


def collect(node: Compiled, occ: Occurrences, hits: list[tuple[str, Occurrence]]) -> str:
    """Render the part of the tree that fired and gather its occurrences as (term, occurrence)."""
    op = node[0]
    if op == "t":
        hits.extend((node[3].text, o) for o in _in(node[2], occ[node[1]]))
        return str(node[3].render())
    if op == "n":
        window = near_window(node, occ) or []
        terms = {o: node[4].terms[i].text for i, a in enumerate(node[1]) for o in occ[a]}
        hits.extend((terms[o], o) for o in window)
        return str(node[4].render())
    if op == "!":
        return str(node[2].render())
    children = node[1] if op == "&" else [c for c in node[1] if holds(c, occ)]
    parts = [_paren(collect(c, occ, hits), c) for c in children]
    return (" AND " if op == "&" else " OR ").join(parts)


def _paren(text: str, node: Compiled) -> str:
    return f"({text})" if node[0] in "&|" and (" AND " in text or " OR " in text) else text
