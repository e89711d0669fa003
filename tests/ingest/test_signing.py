"""Webhook signatures: HMAC-SHA256 over timestamp.body, a 5-minute window."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest

from alerts.ingest import SignatureError
from alerts.ingest.signing import sign, verify_signature

SECRET = b"webhook-secret"
NOW = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)
TS = str(int(NOW.timestamp()))
BODY = b'{"items": [{"title": "Storm closes harbour"}]}'


def test_sign_is_hmac_sha256_of_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET, f"{TS}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, TS, BODY) == f"sha256={expected}"


def test_valid_signature_passes_within_window() -> None:
    verify_signature(SECRET, TS, BODY, sign(SECRET, TS, BODY), NOW + timedelta(minutes=4))
    verify_signature(SECRET, TS, BODY, sign(SECRET, TS, BODY), NOW - timedelta(minutes=4))


@pytest.mark.parametrize(
    ("timestamp", "body", "signature", "now", "message"),
    [
        # a changed body
        (TS, BODY + b" ", sign(SECRET, TS, BODY), NOW, "does not match"),
        # another secret
        (TS, BODY, sign(b"other", TS, BODY), NOW, "does not match"),
        # a timestamp moved without re-signing
        (str(int(TS) + 1), BODY, sign(SECRET, TS, BODY), NOW, "does not match"),
        # too old, and too far in the future
        (TS, BODY, sign(SECRET, TS, BODY), NOW + timedelta(minutes=6), "outside"),
        (TS, BODY, sign(SECRET, TS, BODY), NOW - timedelta(minutes=6), "outside"),
        # malformed headers
        ("", BODY, sign(SECRET, TS, BODY), NOW, "missing"),
        (TS, BODY, "", NOW, "missing"),
        ("12:00", BODY, sign(SECRET, TS, BODY), NOW, "Unix seconds"),
        (TS, BODY, sign(SECRET, TS, BODY).removeprefix("sha256="), NOW, "sha256="),
        (TS, BODY, "sha256=ü", NOW, "does not match"),
    ],
)
def test_bad_signatures_are_refused(
    timestamp: str, body: bytes, signature: str, now: datetime, message: str
) -> None:
    with pytest.raises(SignatureError, match=message):
        verify_signature(SECRET, timestamp, body, signature, now)


def test_empty_secret_is_refused() -> None:
    with pytest.raises(SignatureError, match="secret"):
        verify_signature(b"", TS, BODY, sign(b"", TS, BODY), NOW)
