"""Plain-text live bulletins: an optional summary line, then headlines each with its paragraphs.

Blank lines carry no meaning (bulletins come with or without them). A headline is a short line
that does not end like a sentence: it may end in '?', '!' or a quote, but not in '.', ',', ':'
or ';', holds a single sentence and no link. The first line is a summary when it reads as the
headlines run together as sentences; it is then skipped. A line that starts in lower case
continues the line before it, and so does a line after a hard wrap (paragraphs separated by
blank lines whose lines are all short, the wrapped ones long and without final punctuation).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from alerts.ingest.clean import join_paragraphs, squash

_MAX_HEADLINE_CHARS = 160
_MAX_HEADLINE_WORDS = 28
_MAX_QUESTION_CHARS = 120
_MAX_WRAP_WIDTH = 100
_TRAILERS = "\"'”’»)]"
_ABBREVIATIONS = (
    "Mr",
    "Mrs",
    "Ms",
    "Dr",
    "St",
    "Gen",
    "Sen",
    "Rep",
    "Gov",
    "Lt",
    "Col",
    "Sgt",
    "Capt",
    "Prof",
    "Jr",
    "Sr",
    "No",
    "vs",
    "Mt",
    "Ft",
    "Inc",
    "Ltd",
    "Co",
)
# A sentence ends at . ! ? (then closing quotes), space, and a capital or digit; not after an
# initial ("U.S. Senate") or a common abbreviation ("Dr. Smith").
_SENTENCE_BREAK = re.compile(
    r"(?<!\b[A-Z])"
    + "".join(rf"(?<!\b{a})" for a in _ABBREVIATIONS)
    + r"[.!?][\"'”’»)\]]*\s+[\"'“‘«(\[]*[A-Z0-9]"
)
_WORD = re.compile(r"\w+")


@dataclass
class Block:
    """One item under construction: its headline (may be empty) and its paragraphs."""

    title: str
    paragraphs: list[str] = field(default_factory=list)


def _last_char(line: str) -> str:
    stripped = line.rstrip(_TRAILERS + " ")
    return stripped[-1] if stripped else ""


def is_headline(line: str) -> bool:
    """Whether a (stripped, non-empty) line reads as a headline rather than a paragraph."""
    if len(line) > _MAX_HEADLINE_CHARS or len(line.split()) > _MAX_HEADLINE_WORDS:
        return False
    last = _last_char(line)
    if not last or last in ".,:;…" or "://" in line or _SENTENCE_BREAK.search(line):
        return False
    if last in "?!":
        return len(line) <= _MAX_QUESTION_CHARS
    return True


def _blocks(text: str) -> list[list[str]]:
    """Runs of consecutive non-blank lines, each line squashed."""
    blocks: list[list[str]] = [[]]
    for raw in text.split("\n"):
        line = squash(raw)
        if line:
            blocks[-1].append(line)
        elif blocks[-1]:
            blocks.append([])
    return [b for b in blocks if b]


def _wrapped(line: str, block: list[str], spaced: bool) -> bool:
    """Whether ``line`` was hard-wrapped: blank-line paragraphs of short, even lines."""
    if not spaced or _last_char(line) in ".!?:":
        return False
    widest = max(len(x) for x in block)
    return widest <= _MAX_WRAP_WIDTH and len(line) >= max(40, 0.6 * widest)


def logical_lines(text: str) -> list[str]:
    """Non-blank lines, with hard-wrapped and lower-case continuation lines joined."""
    blocks = _blocks(text)
    spaced = len(blocks) > 1
    out: list[str] = []
    for block in blocks:
        joined: list[str] = []
        for line in block:
            prev = joined[-1] if joined else None
            if prev is not None and (
                _wrapped(prev, block, spaced)
                or (line[0].islower() and _last_char(prev) not in ".!?")
            ):
                joined[-1] = f"{prev} {line}"
            else:
                joined.append(line)
        out.extend(joined)
    return out


def _words(text: str) -> set[str]:
    return {w.casefold() for w in _WORD.findall(text)}


def sentences(text: str) -> list[str]:
    """Split a paragraph at sentence ends (a terminal mark, then a capital or digit)."""
    out, start = [], 0
    for m in _SENTENCE_BREAK.finditer(text):
        out.append(text[start : m.start() + 1].strip())
        start = m.end() - 1
    out.append(text[start:].strip())
    return [x for x in out if x]


def _same_story(a: str, b: str) -> bool:
    wa, wb = _words(a), _words(b)
    return bool(wa and wb) and len(wa & wb) >= 0.5 * max(len(wa), len(wb))


def summary_headlines(first: str, candidates: list[str]) -> list[str] | None:
    """When ``first`` is a summary (most of its sentences are candidate headlines), the
    candidates it names; None when it is not a summary."""
    if is_headline(first):
        return None
    parts = sentences(first)
    named = [c for c in candidates if any(_same_story(c, s) for s in parts)]
    matched = sum(1 for s in parts if any(_same_story(c, s) for c in candidates))
    return named if parts and matched >= 0.6 * len(parts) else None


def first_sentence(text: str) -> str:
    """The first sentence of a paragraph, shortened to a headline's length."""
    m = _SENTENCE_BREAK.search(text)
    sentence = text[: m.start() + 1] if m else text
    return (
        sentence if len(sentence) <= _MAX_HEADLINE_CHARS else sentence[:_MAX_HEADLINE_CHARS] + "…"
    )


def split_bulletin(text: str) -> list[Block]:
    """Split a decoded, clean bulletin into blocks of (headline, paragraphs)."""
    lines = logical_lines(text)
    if not lines:
        return []
    titles: set[str] | None = None  # None: every headline-shaped line is a headline
    named = summary_headlines(lines[0], [x for x in lines[1:] if is_headline(x)])
    if named is not None:
        if len(named) >= len(sentences(lines[0])):
            # The summary names every headline, so other short lines are paragraphs.
            titles = set(named)
        lines = lines[1:]
    blocks: list[Block] = []
    for line in lines:
        if line in titles if titles is not None else is_headline(line):
            blocks.append(Block(line))
        elif blocks:
            blocks[-1].paragraphs.append(line)
        else:
            # Paragraphs before any headline: an item titled by its first sentence.
            blocks.append(Block("", [line]))
    for block in blocks:
        if not block.title:
            block.title = first_sentence(block.paragraphs[0])
    return blocks


def block_body(block: Block) -> str:
    """The body of a block: its paragraphs joined by a blank line."""
    return join_paragraphs(block.paragraphs)
