"""A slow, direct evaluation of one watch on one item, to check the indexed matcher against.

Every term is looked for word by word in every field, from the definitions: a word matches
a fuzzy term word when its key is one of the term word's keys; exact words compare equal;
the last word of a prefix only has to start with it; a hyphenated compound counts as its
joined word, and in a proximity clause stands where its first word does. No index, no
candidates, no caches. (Phrases are assumed to have fewer than 64 key combinations, the
matcher's cap.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import re2

from alerts.matching.text import COMPOUND, WORD, FieldText, normalise, words
from alerts.matching.variants import term_key_tuples, word_key
from alerts.models import FIELDS, Item
from alerts.rules.compile import re2_options
from alerts.rules.ruleset import Rule
from alerts.rules.tree import And, Near, Node, Not, Or, Term

Span = tuple[str, int, int]  # (field, start, end) in the original text


@dataclass
class _Field:
    ft: FieldText
    words: list[str]
    keys: list[str]


def _fields(item: Item) -> dict[str, _Field]:
    out = {}
    for name in FIELDS:
        ft = FieldText.of(name, item.field_text(name))
        found = WORD.findall(ft.norm)
        out[name] = _Field(ft, found, [word_key(w) for w in found])
    return out


def term_keys(word: str) -> frozenset[str]:
    """Every key an item word may have for this term word to match it."""
    return frozenset(term_key_tuples([word])[word])


def _word_spans(term: Term, f: _Field) -> list[tuple[int, int]]:
    """(first, last) word numbers where the term's words occur in one field."""
    toks, n, out = words(term.text), len(words(term.text)), []
    for i in range(len(f.words) - n + 1):
        here = f.words[i : i + n]
        if term.kind == "prefix":
            ok = here[:-1] == toks[:-1] and here[-1].startswith(toks[-1])
        elif term.exact:
            ok = here == toks
        else:
            ok = all(k in term_keys(t) for k, t in zip(f.keys[i : i + n], toks, strict=True))
        if ok:
            out.append((i, i + n - 1))
    return out


def occurrences(term: Term, scope: frozenset[str], fields: dict[str, _Field]) -> set[Span]:
    """Original spans of a term in the fields of its scope."""
    out: set[Span] = set()
    for name in sorted(scope):
        f = fields[name]
        if term.kind == "regex":
            found = list(re2.compile(term.text, re2_options()).finditer(f.ft.text))[:50]
            out |= {(name, m.start(), m.end()) for m in found if m.end() > m.start()}
            continue
        out |= {(name, *f.ft.token_span(a, b)) for a, b in _word_spans(term, f)}
        single = _joined_keys(term)
        if len(words(term.text)) > 1:
            out |= {(name, *f.ft.token_span(i, i)) for i, k in enumerate(f.keys) if k in single}
        for m in _compounds(single, f):
            out.add((name, *f.ft.original_span(m.start(), m.end())))
    return out


def _joined_keys(term: Term) -> frozenset[str]:
    """Keys of the joined word a hyphenated compound must have to count as the term."""
    toks = words(term.text)
    if term.kind != "word" or term.exact:
        return frozenset()
    if len(toks) == 1:
        return term_keys(toks[0])
    if "-" in normalise(term.text)[0]:
        return term_keys("".join(toks))
    return frozenset()


def _compounds(keys: frozenset[str], f: _Field) -> list[re.Match[str]]:
    """Hyphenated compounds of the field whose joined word has one of the keys."""
    found = COMPOUND.finditer(f.ft.norm)
    return [m for m in found if word_key(m.group().replace("-", "")) in keys]


def _near(node: Near, scope: frozenset[str], fields: dict[str, _Field]) -> bool:
    for name in scope:
        f = fields[name]
        # A compound stands where its first word does: the number of words before it.
        at = [
            [a for a, _ in _word_spans(t, f)]
            + [len(WORD.findall(f.ft.norm[: m.start()])) for m in _compounds(_joined_keys(t), f)]
            for t in node.terms
        ]
        width = node.slop + len(node.terms) - 1
        for start in sorted(p for ps in at for p in ps):
            if all(any(start <= p <= start + width for p in ps) for ps in at):
                return True
    return False


def fire(node: Node, rule: Rule, fields: dict[str, _Field]) -> tuple[str, set[Span]] | None:
    """The rendered clause that fired and its spans, or None when the node does not hold."""
    if isinstance(node, Term):
        spans = occurrences(node, node.fields or rule.fields, fields)
        return (node.render(), spans) if spans else None
    if isinstance(node, Near):
        return (node.render(), set()) if _near(node, node.fields or rule.fields, fields) else None
    if isinstance(node, Not):
        return None if fire(node.child, rule, fields) else (node.render(), set())
    results = [(c, fire(c, rule, fields)) for c in node.children]
    if isinstance(node, And) and any(r is None for _, r in results):
        return None
    held = [(c, r) for c, r in results if r is not None]
    if not held:
        return None
    parts = [_paren(r[0], c) for c, r in held]
    spans = set().union(*(r[1] for _, r in held))
    return (" AND " if isinstance(node, And) else " OR ").join(parts), spans


def _paren(text: str, node: Node) -> str:
    if isinstance(node, And | Or) and (" AND " in text or " OR " in text):
        return f"({text})"
    return text


def reference_match(rule: Rule, item: Item) -> tuple[str, set[Span]] | None:
    """The clause and hit spans of a watch on an item, or None when it does not fire."""
    if not rule.accepts(item.source, item.language):
        return None
    return fire(rule.tree, rule, _fields(item))
