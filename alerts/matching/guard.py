"""Watch options that filter occurrences (not_near, min_confidence): a guard and its view.

A guard wraps the positive part of a watch; its child fires on a view of the document's
occurrences from which those that do not count are left out. Other occurrences of the same
term still count, so the item can still match. Compiled with the evaluator (mypyc): the
view is an ``Occurrences``, so every node takes it as it takes the document's own.
"""

from __future__ import annotations

from alerts.matching import accents, lettercase
from alerts.matching.atoms import BY_KEY, BY_WORD, JOINED
from alerts.matching.document import Document
from alerts.matching.evaluate import Evidence, Group, Leaf, Near, Node, how_of, span
from alerts.matching.scan import Occurrence, Occurrences
from alerts.models import FIELDS
from alerts.rules import tree
from alerts.rules.confidence import KINDS, rank

WordSpan = tuple[int, int, int]  # field number, first and last position in the word list
ANY_LEVEL = len(KINDS) - 1


class Guard(Group):
    """Its one child, fired on the occurrences that pass the watch's filters.

    not_near: an occurrence of a term of the child with a not_near term at most ``within``
    words away does not count. min_confidence: nor one found less confidently than
    ``level``. Other occurrences of the same term still do, so the item can still match.
    """

    __slots__ = ("away", "level", "texts", "within")

    def __init__(self, child: Node, away: tuple[int, ...], guard: tree.Guard) -> None:
        super().__init__((child,))
        self.grouped = child.grouped
        self.away, self.within, self.level = away, guard.within, guard.level
        # The term filtered per atom: the child's positive terms (a NOT's are left alone).
        self.texts: dict[int, str] = {}
        _positive_texts(child, self.texts)

    def holds(self, occ: Occurrences) -> bool:
        """Whether the child holds on the occurrences that count."""
        return self.children[0].holds(Filtered(occ, self))

    def fire(self, occ: Occurrences, evidence: list[Evidence]) -> str | None:
        """The child's clause, fired on the occurrences that count."""
        return self.children[0].fire(Filtered(occ, self), evidence)


class Filtered(Occurrences):
    """The occurrences of a document that a guard lets count (a view, made per watch)."""

    __slots__ = ("base", "guard", "near")

    def __init__(self, base: Occurrences, guard: Guard) -> None:
        # A view: the base's atoms and document, its own found lists and evidence.
        super().__init__(base.atoms, base.doc, base.full, base.view)
        self.base, self.guard = base, guard
        self.near: list[WordSpan] | None = None

    def of(self, atom: int) -> list[Occurrence]:
        """The occurrences of an atom that count."""
        found = self.found.get(atom)
        if found is None:
            found = self.base.of(atom)
            term = self.guard.texts.get(atom)
            if term is not None and found:
                found = [o for o in found if self.counts(o, term)]
            self.found[atom] = found
        return found

    def counts(self, o: Occurrence, term: str) -> bool:
        """Whether one occurrence of a term passes the guard."""
        guard, doc = self.guard, self.doc
        if guard.level < ANY_LEVEL and rank(how_of(term, o, doc)) > guard.level:
            return False
        if not guard.away:
            return True
        if self.near is None:
            spans = [word_span(a, doc) for atom in guard.away for a in self.base.of(atom)]
            self.near = [s for s in spans if s is not None]
        here = word_span(o, doc)
        if here is None:
            return True
        within = guard.within + 1  # positions apart when ``within`` words stand between
        for number, first, last in self.near:
            if number == here[0] and max(first - here[2], here[1] - last) <= within:
                return False
        return True


# A view's rules: ("case", case rule, script, accents profile, doubles name).
ViewKey = tuple[str, int, str, str, str]
ViewKeys = tuple[ViewKey | None, ...]
_LANGUAGE = "language rules"  # evidence key: which rules the document's language takes
_KEYS: dict[tuple[int, str, str, str], ViewKeys] = {}


class CasedLeaf(Leaf):
    """A term whose occurrences count by how the item wrote them: their letter case
    (``lettercase``) and, in Czech and Slovak, their diacritics (``accents``)."""

    __slots__ = ("case", "keys", "script")

    def __init__(self, atom: int, mask: int, term: tree.Term, case: int, accented: str) -> None:
        super().__init__(atom, mask, term)
        self.case, self.script = case, lettercase.script(term.text)
        doubles = lettercase.doubles_of(term) if case == lettercase.NAME else ""
        self.keys = _view_keys(case, self.script, accented, doubles)

    def holds(self, occ: Occurrences) -> bool:
        """Whether the atom occurs, written as the rules ask, in one of the leaf's fields."""
        if not occ.of(self.atom):  # most asks: no view to make for an absent term
            return False
        return Leaf.holds(self, cased(occ, self))

    def fire(self, occ: Occurrences, evidence: list[Evidence]) -> str | None:
        """The term's clause, from the occurrences written as the rules ask."""
        if not occ.of(self.atom):
            return None
        return Leaf.fire(self, cased(occ, self), evidence)


def _view_keys(case: int, script: str, accented: str, doubles: str) -> ViewKeys:
    """The view's rules by the document language's bits (``_rules``), None for no view;
    one shared tuple for the leaves with the same rules (most: lower-case topics)."""
    at = (case, script, accented, doubles)
    keys = _KEYS.get(at)
    if keys is None:
        made: list[ViewKey | None] = []
        for bits in range(4):
            rule = case if case == lettercase.NAME or bits & 1 else lettercase.name_rule(case)
            profile = accented if bits & 2 else ""
            none = rule == lettercase.NONE and not profile
            made.append(None if none else ("case", rule, script, profile, doubles))
        keys = _KEYS[at] = tuple(made)
    return keys


def leaf(atom: int, mask: int, term: tree.Term) -> Leaf:
    """A term's leaf: cased when its occurrences may be told apart by how they are written."""
    case, accented = lettercase.mode(term), accents.profile(term)
    if case == lettercase.NONE and not accented:
        return Leaf(atom, mask, term)
    return CasedLeaf(atom, mask, term, case, accented)


class Cased(Occurrences):
    """The occurrences of a document written as a leaf's rules ask: a view made per call,
    whose filtered lists are kept with the document's evidence (shared by the leaves of
    every watch with the same rules). It holds its base, the base never holds it: no
    reference cycle, so an item's objects go with reference counting alone."""

    __slots__ = ("accents", "base", "case", "doubles", "key", "script")

    def __init__(self, base: Occurrences, key: ViewKey) -> None:
        # Not Occurrences.__init__: the view's caches are its base's, no dicts of its own.
        self.atoms, self.doc, self.full = base.atoms, base.doc, base.full
        self.view, self.changed = base.view, base.changed
        self.found, self.evidence = base.found, base.evidence
        self.index, self.field_of = base.index, base.field_of
        self.compounds, self.parts = base.compounds, base.parts
        self.base, self.key = base, key
        _, self.case, self.script, self.accents, self.doubles = key

    def of(self, atom: int) -> list[Occurrence]:
        """The occurrences of an atom that count."""
        at = (self.key, atom)
        kept = self.evidence.get(at)
        if kept is None:
            kept = self.evidence[at] = [o for o in self.base.of(atom) if self.counts(o)]
        found: list[Occurrence] = kept
        return found

    def counts(self, o: Occurrence) -> bool:
        """Whether one occurrence is written as the rules ask."""
        number, start, end = span(o, self.doc)
        text = self.doc.fields[number].text
        if self.accents and not accents.counts(self.accents, text[start:end]):
            return False
        if self.doubles and lettercase.doubled(self.doubles, text[start:end]):
            return False
        case = self.case
        return case == lettercase.NONE or lettercase.counts(
            case, FIELDS[number], text, start, end, self.script
        )


def cased(occ: Occurrences, leaf: CasedLeaf) -> Occurrences:
    """The view of ``occ`` for a leaf's rules (``occ`` itself where none can apply: a
    lower-case topic in an English or German item)."""
    key = leaf.keys[_rules(occ)]
    return occ if key is None else Cased(occ, key)


def _rules(occ: Occurrences) -> int:
    """The rules the document's language takes, worked out once per document: 1 the
    lower-case topic rule (``lettercase.applies``), 2 the diacritics (``accents``)."""
    kept = occ.evidence.get(_LANGUAGE)
    if kept is None:
        language = occ.doc.item.language
        common = 1 if lettercase.applies(lettercase.COMMON, language) else 0
        kept = occ.evidence[_LANGUAGE] = [common | (2 if accents.applies(language) else 0)]
    bits: int = kept[0]
    return bits


def _positive_texts(node: Node, out: dict[int, str]) -> None:
    """Atom -> term text of every term not under a NOT."""
    if isinstance(node, Leaf):
        out.setdefault(node.atom, node.text)
    elif isinstance(node, Near):
        for atom, text in zip(node.atoms, node.texts, strict=True):
            out.setdefault(atom, text)
    elif isinstance(node, Group):
        for child in node.children:
            _positive_texts(child, out)


def word_span(o: Occurrence, doc: Document) -> WordSpan | None:
    """The positions an occurrence covers in the word list (None for a regex match)."""
    number, a, b, kind = o
    if kind in (BY_KEY, BY_WORD):
        return (number, a, a + b - 1)
    if kind == JOINED:  # a hyphenated compound: normalised offsets
        at, ft = doc.start[number], doc.fields[number]
        return (number, at + ft.word_number(a), at + ft.word_number(b - 1))
    return None
