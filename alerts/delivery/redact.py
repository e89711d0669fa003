"""Keep channel secrets out of anything delivery stores or returns (the rule of notify.redact)."""

from __future__ import annotations

from collections.abc import Iterable

from alerts.notify.redact import longest_first, mask, privacy_form, secret_parts


def secret_pieces(urls: Iterable[str]) -> tuple[str, ...]:
    """Every secret part of these channel URLs, longest first."""
    return longest_first(part for url in urls for part in secret_parts(url, privacy_form(url)))


def redact(text: str, pieces: Iterable[str]) -> str:
    """``text`` with every secret piece (longest first) replaced by ``****``."""
    return mask(text, pieces)
