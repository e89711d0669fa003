"""Evaluating a compiled watch on an item's occurrences, and collecting the evidence."""

from __future__ import annotations

from collections.abc import Iterable

from alerts.matching.index import Compiled
from alerts.matching.scan import Occurrence, Occurrences


def _in(mask: int, occs: Iterable[Occurrence]) -> list[Occurrence]:
    return [o for o in occs if mask >> o[0] & 1]


def holds(node: Compiled, occ: Occurrences) -> bool:
    """Whether the node holds given the occurrences of the item's atoms."""
    op = node[0]
    if op == "t":
        found, mask = occ[node[1]], node[2]
        return bool(found) and (mask == occ.full or any(mask >> o[0] & 1 for o in found))
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
            elif o[3] == 1:  # a hyphenated compound stands where its first word does
                at = occ.doc.start[o[0]] + occ.doc.fields[o[0]].word_number(o[1])
                per_field.setdefault(o[0], []).append((at, which, o))
    width = slop + len(ids) - 1
    for found in per_field.values():
        found.sort()
        for i, (pos, _, _) in enumerate(found):
            window = [f for f in found[i:] if f[0] - pos <= width]
            if len({w for _, w, _ in window}) == len(ids):
                return [o for _, _, o in window]
    return None


def fire(node: Compiled, occ: Occurrences, hits: list[tuple[str, Occurrence]]) -> str | None:
    """The part of the tree that fired, rendered, or None when the node does not hold.

    One pass does what "holds, then collect the evidence" would: the occurrences behind
    the clause are appended to ``hits`` as (term, occurrence), and taken back out again
    when a conjunction fails.
    """
    op = node[0]
    if op == "t":
        found = occ[node[1]]
        if found and node[2] != occ.full:  # a field scope narrower than the item's fields
            found = _in(node[2], found)
        if not found:
            return None
        text = node[3].text
        hits.extend([(text, o) for o in found])
        return node[3].clause
    if op == "&":
        return _fire_all(node[1], occ, hits)
    if op == "|":
        return _fire_any(node[1], occ, hits)
    if op == "!":
        return None if holds(node[1], occ) else node[2].clause
    window = near_window(node, occ)
    if window is None:
        return None
    terms = {o: node[4].terms[i].text for i, a in enumerate(node[1]) for o in occ[a]}
    hits.extend((terms[o], o) for o in window)
    return node[4].clause


def _fire_all(
    children: tuple[Compiled, ...], occ: Occurrences, hits: list[tuple[str, Occurrence]]
) -> str | None:
    """A conjunction: every child fires, else the evidence gathered so far is taken back."""
    mark, parts = len(hits), []
    for child in children:
        part = fire(child, occ, hits)
        if part is None:
            del hits[mark:]
            return None
        parts.append(_paren(part, child) if child[0] in "&|" else part)
    return " AND ".join(parts)


def _fire_any(
    children: tuple[Compiled, ...], occ: Occurrences, hits: list[tuple[str, Occurrence]]
) -> str | None:
    """A disjunction: the children that fire, all with their evidence."""
    parts = [
        _paren(part, c) if c[0] in "&|" else part
        for c in children
        if (part := fire(c, occ, hits)) is not None
    ]
    return " OR ".join(parts) if parts else None


def _paren(text: str, node: Compiled) -> str:
    return f"({text})" if node[0] in "&|" and (" AND " in text or " OR " in text) else text
