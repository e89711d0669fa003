"""What delivery needs from outside (store, notifier, clock, settings) and what it answers."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Literal

import redis

from alerts.clock import Clock, system_clock
from alerts.delivery.policy import NotifySpec
from alerts.delivery.settings import DeliverySettings
from alerts.delivery.store import DeliveryStore, memory_store, redis_store
from alerts.models import Frozen
from alerts.notify.base import Notifier
from alerts.notify.scrub import mask, secret_pieces

if TYPE_CHECKING:  # alerts.settings imports this package's settings: no cycle at run time
    from alerts.settings import Settings

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
    settings: Settings
    policies: PolicyLookup = no_policies
    rng: random.Random = field(default_factory=random.Random)

    @property
    def conf(self) -> DeliverySettings:
        """The delivery section of the settings."""
        return self.settings.delivery

    @cached_property
    def _secrets(self) -> tuple[str, ...]:
        return secret_pieces(
            u for name in self.settings.channels for u in self.settings.channel_urls(name)
        )

    def scrub(self, text: str) -> str:
        """``text`` without any channel secret in it."""
        return mask(text, self._secrets)[:500]


def build_deps(
    settings: Settings,
    redis_client: redis.Redis | None,
    notifier: Notifier,
    clock: Clock = system_clock,
    *,
    policies: PolicyLookup = no_policies,
) -> DeliveryDeps:
    """Deps over Redis (or memory when ``redis_client`` is None)."""
    store = redis_store(redis_client, settings.delivery) if redis_client else memory_store()
    return DeliveryDeps(
        store=store, notifier=notifier, clock=clock, settings=settings, policies=policies
    )
