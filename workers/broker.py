"""Celery broker and beat settings for ours: Redis (plain, TLS, Sentinel) or RabbitMQ.

Everything here is a Celery/kombu/RedBeat setting; nothing is home-made:
- Redis: kombu's transport; a ``sentinel://`` URL takes ``master_name`` from ``sentinel_master``.
- RabbitMQ (``amqp://``): quorum queues (replicated, durable), publisher confirms
  (``confirm_publish``: a send returns once the broker has the message), and a topic exchange,
  which Celery's native delayed delivery needs for countdowns on quorum queues.
- Beat: RedBeat keeps the schedule in our Redis behind a lock, so a second beat waits as standby
  and takes over when the active one dies (its lock lapses after ``worker.beat_lock_seconds``).
"""

from __future__ import annotations

from typing import Any

from kombu import Exchange, Queue

from alerts.matching.shards import QUEUE, shard_of, shard_queue
from alerts.redis_conn import is_sentinel, parse_sentinels
from alerts.settings import BROKER_SCHEMES, Settings
from workers.redis_transport import transport_for

PRIORITY_STEPS = [0]  # kombu's Redis transport: the list suffixes of a queue, by priority


def broker_url(settings: Settings) -> str:
    """The broker: ``broker_url``, else the Redis of our stores."""
    url = settings.broker_url or settings.redis_url
    if not url:
        raise SystemExit("ALERTS_REDIS_URL is not set: workers need a Redis (see README)")
    return url


def is_amqp(settings: Settings) -> bool:
    """True when RabbitMQ is the broker."""
    return broker_url(settings).startswith(BROKER_SCHEMES)


def queues(settings: Settings) -> list[Queue]:
    """The default queue and one per watch shard, all of them quorum queues on RabbitMQ."""
    names = [QUEUE] + [shard_queue(k) for k in range(settings.worker.shards)]
    if not is_amqp(settings):
        return [Queue(name, routing_key=name) for name in names]
    exchange = Exchange(QUEUE, type="topic", durable=True)
    args = {"x-queue-type": "quorum"}
    return [Queue(n, exchange, routing_key=n, queue_arguments=args, durable=True) for n in names]


def delivery_queue(settings: Settings, watch: str) -> str:
    """Where a watch's deliveries go: its shard's queue (whose workers know its notify options)."""
    shards = settings.worker.shards
    return QUEUE if shards == 1 else shard_queue(shard_of(watch, shards))


def broker_conf(settings: Settings) -> dict[str, Any]:
    """Celery settings for the broker named by ``settings``."""
    url = broker_url(settings)
    conf: dict[str, Any] = {"broker_url": url, "task_queues": queues(settings)}
    if is_amqp(settings):
        return conf | {
            "task_default_exchange": QUEUE,
            "task_default_exchange_type": "topic",
            "task_default_routing_key": QUEUE,
            "task_default_queue_type": "quorum",
            "broker_transport_options": {"confirm_publish": True},
            "worker_detect_quorum_queues": True,
        }
    transport: dict[str, Any] = {
        "visibility_timeout": settings.worker.visibility_timeout,
        "unacked_restore_interval": settings.worker.restore_interval,
        "unacked_restore_throttle": 1,
        # No task is sent with a priority: one list per queue, not kombu's four (0, 3, 6, 9),
        # so BRPOP waits on one key and an empty pop script runs one RPOP, not four. A message
        # sent with a priority all the same lands in that list (kombu rounds down to a step).
        "priority_steps": PRIORITY_STEPS,
    }
    if is_sentinel(url):
        transport["master_name"] = settings.sentinel_master
    conf["broker_transport_options"] = transport
    if (ours := transport_for(url)) is not None:
        conf["broker_transport"] = ours  # rides out a broker restart (workers/redis_transport.py)
    return conf


def beat_conf(settings: Settings) -> dict[str, Any]:
    """RedBeat on our Redis: one active beat, others standing by on its lock."""
    url = settings.redis_url or ""
    lock = settings.worker.beat_lock_seconds
    conf: dict[str, Any] = {
        "beat_scheduler": "workers.beat_scheduler:SteadyRedBeatScheduler",
        "redbeat_key_prefix": "alerts:beat:",
        "redbeat_lock_timeout": int(max(lock, 3)),
        # The active beat renews its lock each tick, and a standby re-tries it as often.
        "beat_max_loop_interval": max(1.0, lock / 5),
        "redbeat_redis_url": url,
        # Ride out a Redis restart or failover instead of exiting (RedBeat's own retry).
        "redbeat_redis_options": {"retry_period": -1},
    }
    if is_sentinel(url):
        found = parse_sentinels(url)
        conf["redbeat_redis_url"] = "redis-sentinel://"
        conf["redbeat_redis_options"] = {
            "sentinels": list(found.hosts),
            "service_name": settings.sentinel_master,
            "db": found.db,
            "password": found.password,
            "socket_timeout": 2,
            "retry_period": -1,
        }
    return conf
