"""Compiled watches: tree nodes that fire on an item's occurrences and collect the evidence.

Nodes are small classes rather than tuples indexed by position: one method call per node
instead of a chain of tests on its kind, and under mypyc native objects with typed fields.
A node is built once per rule set and never changed.
"""

from __future__ import annotations

from alerts.matching.atoms import BY_KEY, BY_WORD, JOINED, MATCHED
from alerts.matching.document import Document
from alerts.matching.how import EXACT, describe
from alerts.matching.made import new_hit
from alerts.matching.scan import Occurrence, Occurrences
from alerts.models import FIELDS, Hit
from alerts.rules import tree
from alerts.rules.ruleset import Rule

Span = tuple[int, int, int]  # field number, start and end in the original field text
Evidence = tuple[Span, Hit]


class Node:
    """A compiled tree node."""

    __slots__ = ("grouped",)

    def __init__(self, grouped: bool) -> None:
        self.grouped = grouped  # a conjunction or disjunction: parenthesised inside another

    def fire(self, occ: Occurrences, evidence: list[Evidence]) -> str | None:
        """The part of the tree that fired, rendered, or None when the node does not hold.

        One pass does what "holds, then collect the evidence" would: the hits behind the
        clause are appended to ``evidence`` as (span, Hit), and taken back out again when
        a conjunction fails.
        """
        raise NotImplementedError

    def holds(self, occ: Occurrences) -> bool:
        """Whether the node holds given the occurrences of the item's atoms."""
        raise NotImplementedError


class Leaf(Node):
    """A term: one atom, in the fields of a mask. Watches with the same term share one."""

    __slots__ = ("atom", "clause", "mask", "text")

    def __init__(self, atom: int, mask: int, term: tree.Term) -> None:
        super().__init__(False)
        self.atom, self.mask, self.text = atom, mask, term.text
        # Rendered now, not when first fired: a plain word's clause is its text, no copy.
        self.clause = term.render()

    def holds(self, occ: Occurrences) -> bool:
        """Whether the atom occurs in one of the leaf's fields."""
        found = occ.of(self.atom)
        if not found:
            return False
        mask = self.mask
        if mask == occ.full:
            return True
        return any(mask >> o[0] & 1 for o in found)

    def fire(self, occ: Occurrences, evidence: list[Evidence]) -> str | None:
        """The term's clause, its hits made once per document."""
        found = occ.of(self.atom)
        if not found:
            return None
        made = occ.evidence.get(self)
        if made is None:
            mask = self.mask
            if mask != occ.full:  # a field scope narrower than the item's fields
                found = [o for o in found if mask >> o[0] & 1]
            text, doc = self.text, occ.doc
            made = occ.evidence[self] = [hit(text, o, doc) for o in found]
        if not made:
            return None
        evidence += made
        return self.clause


class Near(Node):
    """Words within ``slop`` positions of each other, in one field."""

    __slots__ = ("atoms", "mask", "near", "slop", "texts")

    def __init__(
        self, atoms: tuple[int, ...], slop: int, mask: int, texts: tuple[str, ...], near: tree.Near
    ) -> None:
        super().__init__(False)
        self.atoms, self.slop, self.mask, self.texts, self.near = atoms, slop, mask, texts, near

    def holds(self, occ: Occurrences) -> bool:
        """Whether every word occurs within the slop, in one field."""
        return self.window(occ) is not None

    def fire(self, occ: Occurrences, evidence: list[Evidence]) -> str | None:
        """The clause, with the occurrences of the first window as evidence."""
        window = self.window(occ)
        if window is None:
            return None
        texts = self.texts
        terms = {o: texts[i] for i, a in enumerate(self.atoms) for o in occ.of(a)}
        evidence += [hit(terms[o], o, occ.doc) for o in window]
        return self.near.clause

    def window(self, occ: Occurrences) -> list[Occurrence] | None:
        """Occurrences of every word of the clause within its slop, in one field."""
        mask, doc = self.mask, occ.doc
        per_field: dict[int, list[tuple[int, int, Occurrence]]] = {}
        for which, atom in enumerate(self.atoms):
            for o in occ.of(atom):
                if not mask >> o[0] & 1:
                    continue
                if o[3] == BY_KEY or o[3] == BY_WORD:
                    # Positions in the document's word list: within one field, differences of
                    # positions are differences of word numbers.
                    per_field.setdefault(o[0], []).append((o[1], which, o))
                elif o[3] == JOINED:  # a hyphenated compound stands where its first word does
                    at = doc.start[o[0]] + doc.fields[o[0]].word_number(o[1])
                    per_field.setdefault(o[0], []).append((at, which, o))
        n = len(self.atoms)
        width = self.slop + n - 1
        for found in per_field.values():
            found.sort()
            for i, (pos, _, _) in enumerate(found):
                window = [f for f in found[i:] if f[0] - pos <= width]
                if len({w for _, w, _ in window}) == n:
                    return [o for _, _, o in window]
        return None


class Not(Node):
    """The child does not hold."""

    __slots__ = ("child", "negation")

    def __init__(self, child: Node, negation: tree.Not) -> None:
        super().__init__(False)
        self.child, self.negation = child, negation

    def holds(self, occ: Occurrences) -> bool:
        """Whether the child does not hold."""
        return not self.child.holds(occ)

    def fire(self, occ: Occurrences, evidence: list[Evidence]) -> str | None:
        """The negation's clause, without evidence."""
        return None if self.child.holds(occ) else self.negation.clause


class Group(Node):
    """A conjunction or disjunction of children (parenthesised inside another group)."""

    __slots__ = ("children",)

    def __init__(self, children: tuple[Node, ...]) -> None:
        super().__init__(True)
        self.children = children


class All(Group):
    """Every child holds."""

    __slots__ = ()

    def holds(self, occ: Occurrences) -> bool:
        """Whether every child holds."""
        return all(c.holds(occ) for c in self.children)

    def fire(self, occ: Occurrences, evidence: list[Evidence]) -> str | None:
        """Every child fires, else the evidence gathered so far is taken back."""
        mark, parts = len(evidence), []
        for child in self.children:
            part = child.fire(occ, evidence)
            if part is None:
                del evidence[mark:]
                return None
            parts.append(_paren(part) if child.grouped else part)
        return " AND ".join(parts)


class AnyOf(Group):
    """At least one child holds."""

    __slots__ = ()

    def holds(self, occ: Occurrences) -> bool:
        """Whether a child holds."""
        return any(c.holds(occ) for c in self.children)

    def fire(self, occ: Occurrences, evidence: list[Evidence]) -> str | None:
        """The children that fire, all with their evidence."""
        parts = []
        for child in self.children:
            part = child.fire(occ, evidence)
            if part is not None:
                parts.append(_paren(part) if child.grouped else part)
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else " OR ".join(parts)


def _paren(text: str) -> str:
    return f"({text})" if " AND " in text or " OR " in text else text


class Watch:
    """One compiled watch: its rule and tree."""

    __slots__ = ("filtered", "id", "node", "rule")

    def __init__(self, rule: Rule, node: Node) -> None:
        self.rule, self.node, self.id = rule, node, rule.id
        self.filtered = bool(rule.sources or rule.languages)  # only some items may fire it


def span(o: Occurrence, doc: Document) -> Span:
    """Where an occurrence stands in the original text of its field."""
    number, a, b, kind = o
    ft = doc.fields[number]
    if kind in (BY_KEY, BY_WORD):
        first = a - doc.start[number]
        spans = ft.spans
        if spans is not None and ft.regular:  # most hits: no call of Python methods
            return (number, spans[0][first], spans[1][first + b - 1])
        start, end = ft.token_span(first, first + b - 1)
    elif kind == JOINED:
        start, end = ft.original_span(a, b)
    else:
        start, end = a, b
    return (number, start, end)


def how_of(term: str, o: Occurrence, doc: Document) -> tuple[str, ...]:
    """How an occurrence answers its term (exact terms, prefixes and regexes: as written)."""
    if o[3] == MATCHED or o[3] == BY_WORD:
        return EXACT
    number, start, end = span(o, doc)
    text = doc.fields[number].text[start:end]
    return EXACT if _same(term, text) else describe(term, text, doc.item.language)


def hit(term: str, o: Occurrence, doc: Document) -> Evidence:
    """The Hit of one occurrence of a term, with its span and how it was found."""
    where = span(o, doc)
    number, start, end = where
    text = doc.fields[number].text[start:end]
    if o[3] == MATCHED or o[3] == BY_WORD or _same(term, text):
        how = EXACT
    else:
        how = describe(term, text, doc.item.language)
    return where, new_hit(term, FIELDS[number], start, end, text, how)


def _same(term: str, text: str) -> bool:
    """Whether the text is the term as written, or in another case (ASCII): exact without
    asking ``describe``, which would normalise both to equal words (most hits)."""
    if text == term:
        return True
    return (
        len(text) == len(term)
        and text.isascii()
        and term.isascii()
        and text.lower() == term.lower()
    )


def hits_of(evidence: list[Evidence]) -> tuple[Hit, ...]:
    """One Hit per span (the first term to claim it), in field and offset order."""
    if len(evidence) == 1:  # most matches
        return (evidence[0][1],)
    seen = dict(reversed(evidence))  # the first claim is written last
    return tuple([seen[span] for span in sorted(seen)])
