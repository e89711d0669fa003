"""Silences, like Alertmanager's: a span of time in which a watch, a channel or a story is muted."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, Protocol

import redis

from alerts.models import Frozen

KEEP_ENDED = timedelta(days=7)


class Silence(Frozen):
    """Mutes ``watch`` (every watch when None) on ``channel`` (every channel when None), or
    only the alerts of one ``story``, from start to end."""

    id: str
    watch: str | None = None
    channel: str | None = None
    story: str | None = None
    starts_at: datetime
    ends_at: datetime
    comment: str = ""

    @classmethod
    def new(
        cls,
        watch: str | None,
        duration: timedelta,
        now: datetime,
        *,
        channel: str | None = None,
        comment: str = "",
        story: str | None = None,
    ) -> Silence:
        """A silence starting ``now`` for ``duration``."""
        if watch is None and channel is None and story is None:
            raise ValueError("a silence needs a watch, a channel or a story")
        return cls(
            id=uuid.uuid4().hex[:12],
            watch=watch,
            channel=channel,
            story=story,
            starts_at=now,
            ends_at=now + duration,
            comment=comment,
        )

    def active(self, now: datetime) -> bool:
        """True while ``now`` is inside the span."""
        return self.starts_at <= now < self.ends_at

    def mutes(self, watch: str, channel: str, now: datetime, story: str | None = None) -> bool:
        """True when this silence mutes ``watch`` on ``channel`` (in ``story``) at ``now``.

        A story silence mutes nothing until the alert's story is known (``story`` given).
        """
        return (
            self.active(now)
            and self.watch in (None, watch)
            and self.channel in (None, channel)
            and self.story in (None, story)
        )


class SilenceStore(Protocol):
    """Where silences live."""

    def add(self, silence: Silence) -> None:
        """Store a silence."""
        ...

    def all(self) -> list[Silence]:
        """Every stored silence, expired ones included."""
        ...

    def get(self, sid: str) -> Silence | None:
        """One silence by id."""
        ...

    def remove(self, sid: str) -> None:
        """Forget a silence."""
        ...


class MemorySilences:
    """Silences in a dict."""

    def __init__(self) -> None:
        self.items: dict[str, Silence] = {}

    def add(self, silence: Silence) -> None:
        """Store a silence."""
        self.items[silence.id] = silence

    def all(self) -> list[Silence]:
        """Every stored silence."""
        return list(self.items.values())

    def get(self, sid: str) -> Silence | None:
        """One silence by id."""
        return self.items.get(sid)

    def remove(self, sid: str) -> None:
        """Forget a silence."""
        self.items.pop(sid, None)


class RedisSilences:
    """Silences in one Redis hash, id -> JSON."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.r = client
        self.key = f"{prefix}silences"

    def add(self, silence: Silence) -> None:
        """Store a silence."""
        self.r.hset(self.key, silence.id, silence.model_dump_json())

    def all(self) -> list[Silence]:
        """Every stored silence."""
        return from_hash(self.r.hgetall(self.key))

    def queue_all(self, pipe: Any) -> None:
        """``all``'s read queued on ``pipe`` (with other writes: one round trip); ``from_hash``
        reads its reply."""
        pipe.hgetall(self.key)

    def get(self, sid: str) -> Silence | None:
        """One silence by id."""
        raw = self.r.hget(self.key, sid)
        return Silence.model_validate_json(raw) if raw else None  # type: ignore[arg-type]

    def remove(self, sid: str) -> None:
        """Forget a silence."""
        self.r.hdel(self.key, sid)


def from_hash(raw: Any) -> list[Silence]:
    """The silences of a ``HGETALL`` reply (id -> JSON)."""
    return [Silence.model_validate_json(v) for v in (raw or {}).values()]


def add_silence(
    store: SilenceStore,
    watch: str | None,
    duration: timedelta,
    now: datetime,
    *,
    channel: str | None = None,
    comment: str = "",
    story: str | None = None,
) -> Silence:
    """Create and store a silence; returns it (its id is what ``expire`` takes).

    Silences that ended more than ``KEEP_ENDED`` ago are forgotten here, so the set every
    delivery reads stays small.
    """
    for old in store.all():
        if old.ends_at < now - KEEP_ENDED:
            store.remove(old.id)
    silence = Silence.new(watch, duration, now, channel=channel, comment=comment, story=story)
    store.add(silence)
    return silence


def list_silences(
    store: SilenceStore, now: datetime, *, include_expired: bool = False
) -> list[Silence]:
    """Silences ordered by end time; active ones only unless ``include_expired``."""
    found = [s for s in store.all() if include_expired or s.ends_at > now]
    return sorted(found, key=lambda s: s.ends_at)


def expire_silence(store: SilenceStore, sid: str, now: datetime) -> Silence | None:
    """End a silence now; None when there is no such silence."""
    silence = store.get(sid)
    if silence is None:
        return None
    ended = silence.model_copy(update={"ends_at": min(silence.ends_at, now)})
    store.add(ended)
    return ended


def silenced_by(
    store: SilenceStore, watch: str, channel: str, now: datetime, story: str | None = None
) -> Silence | None:
    """The first active silence that mutes ``watch`` on ``channel`` (in ``story``)."""
    return first_silence(store.all(), watch, channel, now, story)


def first_silence(
    silences: Iterable[Silence], watch: str, channel: str, now: datetime, story: str | None = None
) -> Silence | None:
    """The first of ``silences`` that mutes ``watch`` on ``channel`` (in ``story``) at ``now``."""
    return next((s for s in silences if s.mutes(watch, channel, now, story)), None)
