"""What delivery needs from outside (store, notifier, clock, its settings) and what it answers."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

import redis

from alerts.clock import Clock, system_clock
from alerts.delivery.settings import DeliverySettings
from alerts.delivery.store import DeliveryStore, memory_store, redis_store
from alerts.masking import mask
from alerts.models import Frozen
from alerts.notify.base import Notifier
from alerts.notify.scrub import secret_pieces
from alerts.redis_conn import Durability
from alerts.rules.notify import NotifySpec

OutcomeStatus = Literal["sent", "duplicate", "retry", "dead", "silenced", "digested", "throttled"]
PolicyLookup = Callable[[str], NotifySpec | None]


class Outcome(Frozen):
    """How one delivery attempt ended; the task retries after ``retry_after`` on ``retry``."""

    status: OutcomeStatus
    retry_after: float | None = None
    detail: str = ""


def no_policies(watch: str) -> NotifySpec | None:
    """The default lookup: no rule options known, deliver immediately to the alert's channels."""
    return None


@dataclass
class DeliveryDeps:
    """Everything the stages use; built once per process."""

    store: DeliveryStore
    notifier: Notifier
    clock: Clock
    conf: DeliverySettings = field(default_factory=DeliverySettings)
    secret_urls: tuple[str, ...] = ()  # the channel URLs, never to show in a stored error
    policies: PolicyLookup = no_policies
    rng: random.Random = field(default_factory=random.Random)

    @cached_property
    def _secrets(self) -> tuple[str, ...]:
        return secret_pieces(self.secret_urls)

    def scrub(self, text: str) -> str:
        """``text`` without any channel secret in it."""
        return mask(text, self._secrets)[:500]


def build_deps(
    conf: DeliverySettings,
    redis_client: redis.Redis | None,
    notifier: Notifier,
    clock: Clock = system_clock,
    *,
    secret_urls: tuple[str, ...] = (),
    policies: PolicyLookup = no_policies,
    durability: Durability | None = None,
) -> DeliveryDeps:
    """Deps over Redis (or memory when ``redis_client`` is None)."""
    store = redis_store(redis_client, conf, durability) if redis_client else memory_store()
    return DeliveryDeps(
        store=store,
        notifier=notifier,
        clock=clock,
        conf=conf,
        secret_urls=secret_urls,
        policies=policies,
    )
