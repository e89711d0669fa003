"""Keep channel secrets out of anything delivery stores or returns."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import unquote, urlsplit

_PIECE = re.compile(r"[^/:@?&=#,;\s]{6,}")


def secret_pieces(urls: Iterable[str]) -> list[str]:
    """Whole URLs and every long piece of them except the host: tokens, passwords, paths."""
    pieces: set[str] = set()
    for url in urls:
        pieces.add(url)
        parts = urlsplit(url)
        userinfo = parts.netloc.rpartition("@")[0]
        for chunk in (userinfo, parts.path, parts.query, parts.fragment):
            for raw in (chunk, unquote(chunk)):
                pieces.update(m.group(0) for m in _PIECE.finditer(raw))
    return sorted(pieces, key=len, reverse=True)


def redact(text: str, pieces: Iterable[str]) -> str:
    """``text`` with every secret piece replaced by ``***``."""
    for piece in pieces:
        if piece:
            text = text.replace(piece, "***")
    return text
