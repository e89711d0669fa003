"""Redis commands per delivery, counted on a private Redis so other traffic cannot blur them.

The merged Lua paths (ledger, story index) are what keeps an alerting item cheap; these counts
make a change that brings back per-band sets, per-key expiries or index rewrites fail here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator

import pytest
import redis

from alerts.clock import FrozenClock
from alerts.delivery import deliver, record_pending, redis_store
from tests.delivery.helpers import T0, make_alert, make_deps
from tests.support.redis_server import RedisServer

# A delivery that starts a story: record pending, silences, story find + assign, begin, finish.
NEW_STORY_BUDGET = 37
# A second item of the same story on the same watch: joins it, held for the digest (a webhook
# cannot thread), no new story written.
FOLLOWUP_BUDGET = 30


@pytest.fixture(scope="module")
def private_redis() -> Iterator[redis.Redis]:
    server = RedisServer().start()
    try:
        yield redis.Redis.from_url(server.url)
    finally:
        server.stop()


def counted(client: redis.Redis, run: Callable[[], object]) -> Counter[str]:
    """Commands the server ran during ``run`` (inside Lua included), by name."""
    client.config_resetstat()
    run()
    stats = client.info("commandstats")
    names = {k.removeprefix("cmdstat_"): int(v["calls"]) for k, v in stats.items()}
    return Counter({k: v for k, v in names.items() if not k.startswith("config")})


def one_delivery(deps, alert) -> Callable[[], object]:
    def run() -> object:
        row = record_pending(alert, "ops", deps=deps)
        return deliver(alert, "ops", deps=deps, pending=row).status

    return run


def test_a_delivery_stays_within_its_redis_command_budget(private_redis):
    private_redis.flushall()
    clock = FrozenClock(T0)
    deps = make_deps(store=redis_store(private_redis), clock=clock, paced_channels=[])
    one_delivery(deps, make_alert(0))()  # loads the scripts (SCRIPT LOAD is not the hot path)
    clock.advance(seconds=5)
    fresh = counted(private_redis, one_delivery(deps, make_alert(1)))
    assert fresh["smembers"] == fresh["sadd"] == 0, fresh  # no per-band sets
    assert fresh["expire"] <= 1 and fresh["zremrangebyscore"] <= 4, fresh
    assert fresh.total() <= NEW_STORY_BUDGET, (fresh.total(), fresh)
    clock.advance(seconds=5)
    same = make_alert(1).item.model_copy(update={"id": "item-1b"})
    followup = make_alert(1).model_copy(update={"item": same})
    joined = counted(private_redis, one_delivery(deps, followup))
    assert joined.total() <= FOLLOWUP_BUDGET, (joined.total(), joined)


def test_every_story_key_expires_by_itself(private_redis):
    """Expiry from one place: no story key lives without a TTL, so nothing needs trimming."""
    private_redis.flushall()
    clock = FrozenClock(T0)
    deps = make_deps(store=redis_store(private_redis), clock=clock, paced_channels=[])
    for n in range(5):
        one_delivery(deps, make_alert(n))()
        clock.advance(minutes=1)
    keys = private_redis.keys("alerts:dlv:story:*")
    assert keys and all(private_redis.ttl(k) > 0 for k in keys)
