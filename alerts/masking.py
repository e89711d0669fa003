"""Masking known secrets in a text: the one mechanism every scrubber uses.

Which pieces of a channel URL or a source are secret is decided where they are known
(``notify.scrub`` for channels, ``ingest.sources`` for sources); replacing them is here.
"""

from __future__ import annotations

from collections.abc import Iterable

MASK = "****"


def longest_first(parts: Iterable[str]) -> tuple[str, ...]:
    """Secrets in masking order: a token inside a longer secret never leaves a remainder."""
    return tuple(sorted({p for p in parts if p}, key=len, reverse=True))


def mask(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret (given longest first) replaced by ``****``."""
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text
