"""Ingestion: bytes from a source become clean, identified items (``parse_bulletin``)."""

from __future__ import annotations

from alerts.ingest.errors import (
    BlockedAddressError,
    FetchError,
    IngestError,
    ParseError,
    SignatureError,
)
from alerts.ingest.ids import item_id, normalise_url
from alerts.ingest.parse import detect_format, parse_bulletin

__all__ = [
    "BlockedAddressError",
    "FetchError",
    "IngestError",
    "ParseError",
    "SignatureError",
    "detect_format",
    "item_id",
    "normalise_url",
    "parse_bulletin",
]
