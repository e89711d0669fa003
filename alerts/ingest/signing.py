"""Webhook signatures: HMAC-SHA256 over ``timestamp + "." + body``, in a time window.

Headers (see docs/ingest.md): ``X-Alerts-Timestamp: <unix seconds>`` and
``X-Alerts-Signature: sha256=<hex>``. Replay inside the window is stopped by item dedup
(a repeated id is a duplicate), which the API applies after this check.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

from alerts.ingest.errors import SignatureError

TIMESTAMP_HEADER = "X-Alerts-Timestamp"
SIGNATURE_HEADER = "X-Alerts-Signature"
DEFAULT_WINDOW = timedelta(minutes=5)
_PREFIX = "sha256="


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """The signature header value for a body: ``sha256=<hex>``."""
    mac = hmac.new(secret, timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return _PREFIX + mac.hexdigest()


def _parse_timestamp(timestamp: str) -> datetime:
    if not timestamp.isascii() or not timestamp.strip().isdigit() or len(timestamp) > 12:
        raise SignatureError(f"{TIMESTAMP_HEADER} must be Unix seconds")
    return datetime.fromtimestamp(int(timestamp), UTC)


def verify_signature(
    secret: bytes,
    timestamp: str,
    body: bytes,
    signature: str,
    now: datetime,
    window: timedelta = DEFAULT_WINDOW,
) -> None:
    """Raise ``SignatureError`` unless ``signature`` signs ``timestamp.body`` within ``window``."""
    if not secret:
        raise SignatureError("no signing secret is configured")
    if not timestamp or not signature:
        raise SignatureError(f"missing {TIMESTAMP_HEADER} or {SIGNATURE_HEADER} header")
    sent = _parse_timestamp(timestamp)
    if abs(now - sent) > window:
        raise SignatureError(f"{TIMESTAMP_HEADER} is outside the {window} window")
    if not signature.startswith(_PREFIX):
        raise SignatureError(f"{SIGNATURE_HEADER} must be 'sha256=<hex>'")
    expected = sign(secret, timestamp.strip(), body)
    if not hmac.compare_digest(expected.encode("ascii"), signature.strip().encode("utf-8")):
        raise SignatureError("signature does not match")
