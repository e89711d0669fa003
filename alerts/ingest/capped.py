"""Reading a response body under a size cap, before and after decompression.

Decompression is done here, chunk by chunk with ``max_length``, so a gzip bomb stops at the
cap instead of inflating a whole chunk in memory first.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Iterable

from alerts.ingest.errors import FetchError

_DECODERS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


class BodyTooLarge(FetchError):
    """The body (raw or decompressed) is over the cap."""

    def __init__(self, url: str, limit: int) -> None:
        super().__init__(url, f"response body is over the {limit}-byte cap", retryable=False)


def _decoder(url: str, encoding: str) -> zlib._Decompress | None:
    name = encoding.strip().lower()
    if name in ("", "identity"):
        return None
    if name not in _DECODERS:
        raise FetchError(url, f"unsupported content encoding {name!r}", retryable=False)
    return zlib.decompressobj(_DECODERS[name])


def read_capped(
    url: str, chunks: Iterable[bytes], *, encoding: str, limit: int, deadline: float
) -> bytes:
    """Join raw chunks, decompressing ``encoding``; raise when over ``limit`` or the deadline."""
    decoder = _decoder(url, encoding)
    body = bytearray()
    raw_total = 0
    try:
        for chunk in chunks:
            raw_total += len(chunk)
            if raw_total > limit:
                raise BodyTooLarge(url, limit)
            # At most one byte more than the room left: enough to prove the overflow.
            body += chunk if decoder is None else decoder.decompress(chunk, limit - len(body) + 1)
            if decoder is not None and decoder.unconsumed_tail:
                raise BodyTooLarge(url, limit)
            if len(body) > limit:
                raise BodyTooLarge(url, limit)
            if time.monotonic() > deadline:
                raise FetchError(url, "timed out reading the response")
        if decoder is not None:
            body += decoder.flush()
    except zlib.error as exc:
        raise FetchError(url, f"corrupt compressed body: {exc}", retryable=False) from None
    if len(body) > limit:
        raise BodyTooLarge(url, limit)
    return bytes(body)
