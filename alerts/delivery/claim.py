"""The send claim on a delivery row: the one encoding both ledgers use (``token|expiry_ms``).

On Redis the claim sits in the row's value, in front of its JSON (``split_value``):
one key, read and written with the row (``ledger_lua``).

A claim is taken when absent or expired by the *injected* clock, so tests under a frozen clock
behave like production. The memory ledger applies these functions; the Redis ledger's Lua
(``ledger_lua``) is generated with ``SEP`` and is checked against the memory ledger in tests.
"""

from __future__ import annotations

from datetime import datetime

SEP = "|"


def ms(t: datetime) -> int:
    """``t`` in whole milliseconds since the epoch: the claim's time unit."""
    return int(t.timestamp() * 1000)


def lease_ms(lease_seconds: float) -> int:
    """A lease in milliseconds, at least one."""
    return max(1, int(lease_seconds * 1000))


def claim_value(token: str, now: datetime, lease_seconds: float) -> str:
    """The stored claim of ``token`` from ``now`` for ``lease_seconds``."""
    return f"{token}{SEP}{ms(now) + lease_ms(lease_seconds)}"


def holder_prefix(token: str) -> str:
    """What a claim held by ``token`` starts with."""
    return f"{token}{SEP}"


def seconds_left(value: str | bytes | None, now: datetime) -> float | None:
    """Seconds left on a stored claim, None when there is none or it expired."""
    if not value:
        return None
    text = value.decode() if isinstance(value, bytes) else value
    left = (int(text.rsplit(SEP, 1)[1]) - ms(now)) / 1000
    return left if left > 0 else None


def held_by(value: str | bytes | None, token: str) -> bool:
    """True when the stored claim is ``token``'s (expired or not)."""
    text = value.decode() if isinstance(value, bytes) else (value or "")
    return text.startswith(holder_prefix(token))


def split_value(value: str | bytes) -> tuple[str | None, str | bytes]:
    """A stored row value as (its claim or None, the row's JSON); a JSON object starts with
    ``{``, which a claim never holds."""
    brace = b"{" if isinstance(value, bytes) else "{"
    at = value.find(brace)  # type: ignore[arg-type]
    if at <= 0:
        return None, value
    head = value[:at]
    return (head.decode() if isinstance(head, bytes) else head), value[at:]
