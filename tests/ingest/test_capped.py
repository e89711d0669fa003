"""Reading bodies under a cap, raw and decompressed, chunk by chunk."""

from __future__ import annotations

import gzip
import time
import zlib
from collections.abc import Iterator

import pytest

from alerts.ingest import FetchError
from alerts.ingest.capped import BodyTooLarge, read_capped

FAR = time.monotonic() + 3600


def _chunks(data: bytes, size: int = 1024) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        ("", lambda b: b),
        ("identity", lambda b: b),
        ("gzip", gzip.compress),
        ("x-gzip", gzip.compress),
        ("deflate", zlib.compress),
    ],
)
def test_decodes_within_the_cap(encoding: str, encode) -> None:  # type: ignore[no-untyped-def]
    body = b"<rss>" + b"x" * 5000 + b"</rss>"
    assert (
        read_capped(
            "http://e.com/", _chunks(encode(body)), encoding=encoding, limit=len(body), deadline=FAR
        )
        == body
    )


def test_bomb_stops_at_the_cap_without_inflating_everything() -> None:
    bomb = gzip.compress(b"\0" * (32 * 1024 * 1024))
    pulled = []

    def source() -> Iterator[bytes]:
        for chunk in _chunks(bomb, 4096):
            pulled.append(len(chunk))
            yield chunk

    with pytest.raises(BodyTooLarge):
        read_capped("http://e.com/", source(), encoding="gzip", limit=1024 * 1024, deadline=FAR)
    assert sum(pulled) < len(bomb)  # stopped early, not after reading the whole stream


def test_raw_cap_and_errors() -> None:
    with pytest.raises(BodyTooLarge):
        read_capped("http://e.com/", _chunks(b"x" * 2049), encoding="", limit=2048, deadline=FAR)
    with pytest.raises(FetchError, match="unsupported content encoding 'br'"):
        read_capped("http://e.com/", _chunks(b"x"), encoding="br", limit=10, deadline=FAR)
    with pytest.raises(FetchError, match="corrupt"):
        read_capped("http://e.com/", _chunks(b"not gzip"), encoding="gzip", limit=10, deadline=FAR)
    with pytest.raises(FetchError, match="timed out"):
        read_capped("http://e.com/", _chunks(b"xx", 1), encoding="", limit=10, deadline=0.0)
