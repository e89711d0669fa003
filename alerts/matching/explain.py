"""Readable explanations of matches: the clause, the hits, and snippets with hits marked."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from alerts.models import Hit, Item, Match
from alerts.rules.ruleset import Rule

MARK_OPEN, MARK_CLOSE = "[[", "]]"


def snippet(text: str, hits: Sequence[Hit], *, width: int = 100) -> str:
    """A window of ``text`` around the first hit, hits inside it marked [[like this]]."""
    if not hits:
        return text[:width]
    first = min(h.start for h in hits)
    lo = max(0, first - width // 3)
    hi = min(len(text), max(first + width, lo + width))
    out, at = [], lo
    for hit in sorted(hits, key=lambda h: h.start):
        if hit.start < at or hit.end > hi:
            continue
        out += [text[at : hit.start], MARK_OPEN, text[hit.start : hit.end], MARK_CLOSE]
        at = hit.end
    out.append(text[at:hi])
    body = " ".join("".join(out).split())
    return ("…" if lo > 0 else "") + body + ("…" if hi < len(text) else "")


def snippets(item: Item, hits: Sequence[Hit]) -> dict[str, str]:
    """One snippet per field that has hits."""
    fields = dict.fromkeys(h.field for h in hits)
    return {f: snippet(item.field_text(f), [h for h in hits if h.field == f]) for f in fields}


def match_json(match: Match, item: Item, *, explain: bool = False) -> dict[str, Any]:
    """The stable JSON line of one (item, watch) match, plus explanation keys."""
    out: dict[str, Any] = {
        "watch": match.watch,
        "item": {"id": item.id, "title": item.title},
        "hits": [h.model_dump(mode="json") for h in match.hits],
        "clause": match.clause,
        "ruleset_version": match.ruleset_version,
    }
    if explain:
        out["snippets"] = snippets(item, match.hits)
    return out


def match_text(match: Match, item: Item) -> str:
    """A one-line readable report of a match."""
    terms = ", ".join(f"{h.found_as()} ({h.field} {h.start}-{h.end})" for h in match.hits[:5])
    more = f" +{len(match.hits) - 5} more" if len(match.hits) > 5 else ""
    return f"{match.watch}: {item.title!r} [{item.id}]: {terms}{more}"


def highlight(text: str) -> str:
    """Hit marks turned into bold yellow for a terminal."""
    return text.replace(MARK_OPEN, "\x1b[1;33m").replace(MARK_CLOSE, "\x1b[0m")


def explain_text(match: Match, item: Item, rule: Rule, *, color: bool = False) -> str:
    """A multi-line explanation: watch, rule set version, clause, hits, snippets."""
    lines = [
        f"watch    {rule.id} ({rule.name}) defined at {rule.path}:{rule.line}",
        f"item     {item.id} {item.title!r} (source {item.source})",
        f"rules    version {match.ruleset_version}",
        f"clause   {match.clause}",
    ]
    lines += [f"hit      {h.field}[{h.start}:{h.end}] {h.found_as()}" for h in match.hits]
    lines += [f"snippet  {field}: {text}" for field, text in snippets(item, match.hits).items()]
    text = "\n".join(lines)
    return highlight(text) if color else text
