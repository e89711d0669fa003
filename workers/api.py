"""The API process: the core's FastAPI app wired to Celery (``uvicorn workers.api:create_api``)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import logging
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any, Generic, Literal, TypeVar

import redis
import redis.asyncio
from fastapi import FastAPI
from kombu.exceptions import OperationalError

from alerts.api import accesslog
from alerts.api.app import create_app
from alerts.api.batcher import Batcher
from alerts.api.console.deps import redis_console
from alerts.api.outage import Unavailable
from alerts.api.probe import Probes
from alerts.clock import system_clock
from alerts.delivery import list_deliveries, redis_store
from alerts.ingest import language
from alerts.ingest.dedup import RedisSeenStore
from alerts.ingest.intake import INTAKE_KEY, Accepted, RedisIntake
from alerts.matching.published import WORKER_REPORT_AGE, published, worker_versions
from alerts.models import Item
from alerts.observe import metrics
from alerts.observe.logs import configure_logging
from alerts.observe.scrape import RedisGauges
from alerts.redis_conn import connect, connect_async
from alerts.settings import Settings, load_settings
from workers.app import QUEUE
from workers.app import app as celery_app
from workers.publish import RedisTaskQueue, uuid4_hex
from workers.runtime import RULES_STATUS_KEY, freeze_heap

log = logging.getLogger(__name__)
REDIS_TIMEOUT = 2.0  # seconds: every Redis call of the API, and its task publish
HEALTH_DEADLINE = 1.5  # seconds: /healthz answers within this, with what it knows
# Rides out a Redis restart of a second or two; past that the reconciler queues the bulletin.
PUBLISH_RETRY = {"max_retries": 3, "interval_start": 0.2, "interval_step": 0.5, "interval_max": 1}

INGEST_TASK = "alerts.ingest_bulletin"
V = TypeVar("V")
INGEST_MANY_TASK = "alerts.ingest_bulletins"  # several small bulletins (AsyncSubmit)

# Signed requests older than 5 minutes are refused, so remembering ids for 10 is enough.
REPLAY_WINDOW_SECONDS = 600


def create_api() -> FastAPI:
    """Factory for uvicorn: settings validated once, one Redis client for the process."""
    settings = load_settings()
    configure_logging(settings.log_setup())  # again in each worker process uvicorn spawns
    accesslog.install()
    language.warm_up()
    client = settings.redis_client(
        socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT
    )
    store = redis_store(client, settings.delivery)
    busy_client = _busy_client(settings, client)
    intake = RedisIntake(client, settings.durability())
    seen = RedisSeenStore(client, timedelta(days=settings.item_retention_days))
    grace = timedelta(seconds=settings.worker.visibility_timeout)
    # A frozen Redis must not hold a request (or the publish below) forever.
    celery_app.conf.broker_transport_options = {
        **celery_app.conf.broker_transport_options,
        "socket_timeout": REDIS_TIMEOUT,
        "socket_connect_timeout": REDIS_TIMEOUT,
    }

    # Folded into the intake's round trip when the broker is that same Redis (workers/publish.py).
    ingest_queue = RedisTaskQueue.for_settings(celery_app, settings, INGEST_TASK)

    def submit(
        *, source: str, data: bytes, content_type: str | None, items: Sequence[Item], fmt: str
    ) -> int:
        # The new items are counted in the intake's round trip, before the write.
        m = ingest_message(source, data, content_type, items, fmt)
        folded = None  # the task message queued on the intake's pipeline, when it can be
        if ingest_queue is not None:
            folded = partial(
                ingest_queue.push,
                args=m.args,
                kwargs=m.plain_kwargs,
                kwargsrepr=m.shown,
                plain=True,
            )
        with intake_outcome():
            new = intake.add_counting_new(m.bulletin, system_clock() + grace, seen, m.ids, folded)
        if folded is not None:
            return new  # the task message went with the intake write
        try:
            celery_app.send_task(
                INGEST_TASK,
                args=m.args,
                kwargs=m.kwargs,  # JSON values: kombu serializes them
                argsrepr=repr(m.args),
                kwargsrepr=m.shown,
                retry_policy=PUBLISH_RETRY,
            )
        except (redis.RedisError, OperationalError, OSError) as exc:
            # Stored all the same: the reconciler queues it after the visibility timeout.
            log.warning("bulletin %s stored, its task not queued (%s)", m.bulletin.id, exc)
        return new

    # From the event loop only where the task message rides the intake's write.
    submit_async = None
    if ingest_queue is not None:
        many = RedisTaskQueue.for_settings(celery_app, settings, INGEST_MANY_TASK)
        assert many is not None  # the same broker and routes as the one-bulletin task
        submit_async = AsyncSubmit(settings, intake, seen, (ingest_queue, many), grace)
    probes = Probes(
        {
            "redis": lambda: _redis_ok(client),
            "workers": _workers,
            "busy": lambda: _busy(busy_client),
            "rules": lambda: _rules(client),
            "rules_by_worker": lambda: _rules_by_worker(client),
        },
        deadline=HEALTH_DEADLINE,
    )

    def health() -> dict[str, Any]:
        report = probes()
        report["redis"] = bool(report["redis"])
        report["workers"] = report["workers"] or 0
        report["busy"] = report["busy"] or 0
        return report

    def deliveries(watch: str | None, status: str | None, limit: int) -> list[dict[str, Any]]:
        rows = list_deliveries(store, watch=watch, status=status, limit=limit)
        return [row.model_dump(mode="json") for row in rows]

    metrics.configure([src.id for src in settings.sources])
    gauges = RedisGauges(
        client,
        queue=QUEUE,
        ledger_prefix=settings.delivery.key_prefix,
        rules_status_key=RULES_STATUS_KEY,
        intake_key=INTAKE_KEY,
        sources=[src.id for src in settings.sources],
        clock=system_clock,
    )
    api = create_app(
        settings,
        submit=submit,
        submit_async=submit_async,
        health=health,
        deliveries=deliveries,
        replay_guard=RedisReplayGuard(client),
        console=redis_console(settings, client),
        metrics=lambda: metrics.render(gauges),
    )
    freeze_heap()  # the start-up heap lives as long as the process: no GC pauses over it
    return api


def ingest_message(
    source: str, data: bytes, content_type: str | None, items: Sequence[Item], fmt: str
) -> Message:
    """A bulletin's intake entry and its ingest task's arguments (the items as the API parsed
    them: the worker does not parse the bulletin again)."""
    bulletin = Accepted(uuid4_hex(), source, base64.b64encode(data).decode(), content_type)
    ids = list(dict.fromkeys(i.id for i in items))
    args: list[Any] = [source, "", content_type]
    shown = f"{{'bulletin_id': {bulletin.id!r}, 'items': <{len(items)}>, 'fmt': {fmt!r}}}"
    return Message(bulletin, ids, args, items, fmt, shown)


class AsyncSubmit:
    """The submit of a small bulletin from the event loop (``alerts.api.app.AsyncSubmitter``):
    the intake's write and the task message in one round trip of redis-py's asyncio client,
    with no thread hop (it cost about a third of a millisecond of CPU per POST at 100/s).

    Under load, POSTs that come within ``api_publish_linger_ms`` of the last write share the
    next one (``alerts.api.batcher``): their intake writes and one ``ingest_bulletins`` task
    message for them all, one Celery hop instead of one each. A POST is answered after the
    write that holds its bulletin, as before."""

    def __init__(
        self,
        settings: Settings,
        intake: RedisIntake,
        seen: RedisSeenStore,
        queues: tuple[RedisTaskQueue, RedisTaskQueue],
        grace: timedelta,
    ) -> None:
        self.intake, self.seen, self.grace = intake, seen, grace
        self.one, self.many = queues
        self.client = PerLoop(
            partial(
                connect_async,
                settings.redis_url or "",
                sentinel_master=settings.sentinel_master,
                socket_timeout=REDIS_TIMEOUT,
                socket_connect_timeout=REDIS_TIMEOUT,
            )
        )
        linger = settings.api_publish_linger_ms / 1000
        # One per event loop, as the client: its timer and futures belong to a loop.
        self.batcher = PerLoop(partial(Batcher, self.write, linger, settings.api_publish_batch))

    async def __call__(self, *, client: object = None, **bulletin: Any) -> int:
        """Store and queue the bulletin (``AsyncSubmitter``'s arguments); how many of its items
        are new."""
        m = ingest_message(**bulletin)
        try:  # ``intake_outcome``, without a generator context manager per POST (1-2 µs)
            return await self.batcher()(m, client)
        except redis.RedisError as exc:
            raise unavailable(exc) from None

    async def write(self, messages: Sequence[Message]) -> list[int]:
        """The bulletins' intake writes and their task message, in one round trip."""
        if len(messages) == 1:
            m = messages[0]
            folded = partial(
                self.one.push, args=m.args, kwargs=m.plain_kwargs, kwargsrepr=m.shown, plain=True
            )
        else:
            each = [
                {
                    "source": m.bulletin.source,
                    "content_type": m.bulletin.content_type,
                    **m.plain_kwargs,
                }
                for m in messages
            ]
            kwargs = {"bulletins": each}
            shown = "{'bulletins': [" + ", ".join(m.shown for m in messages) + "]}"
            folded = partial(self.many.push, args=[], kwargs=kwargs, kwargsrepr=shown, plain=True)
        wake = system_clock() + self.grace
        bulletins = [(m.bulletin, m.ids) for m in messages]
        return await self.intake.add_counting_new_async(
            self.client(), bulletins, wake, self.seen, folded
        )


class PerLoop(Generic[V]):
    """One asyncio Redis client (or batcher) per event loop (its connections, timers and futures
    belong to the loop that made them): uvicorn runs one loop per process, a test client or a
    bench may start several."""

    def __init__(self, make: Callable[[], V]) -> None:
        self.make = make
        self.clients: weakref.WeakKeyDictionary[Any, V] = weakref.WeakKeyDictionary()

    def __call__(self) -> V:
        """The running loop's own."""
        loop = asyncio.get_running_loop()
        client = self.clients.get(loop)
        if client is None:
            client = self.clients[loop] = self.make()
        return client


@dataclass(frozen=True)
class Message:
    """One bulletin's intake entry and its ingest task's arguments."""

    bulletin: Accepted
    ids: list[str]  # its items' ids, each once
    args: list[Any]
    items: Sequence[Item]
    fmt: str
    shown: str  # the kwargs as the logs show them

    @property
    def kwargs(self) -> dict[str, Any]:
        """The task's keyword arguments as JSON values (the items dumped in JSON mode): what
        ``send_task`` hands to kombu's serializer."""
        items = [i.model_dump(mode="json") for i in self.items]
        return {"bulletin_id": self.bulletin.id, "items": items, "fmt": self.fmt}

    @property
    def plain_kwargs(self) -> dict[str, Any]:
        """``kwargs`` with the ``Item``s themselves, for ``RedisTaskQueue.push(plain=True)``:
        pydantic-core writes each by its own serializer, the same text as its JSON-mode dump,
        without building that dump (a dict per item) first."""
        return {"bulletin_id": self.bulletin.id, "items": list(self.items), "fmt": self.fmt}


class RedisReplayGuard:
    """Accepted request ids, kept ``REPLAY_WINDOW_SECONDS`` (hashed: ids may be signatures)."""

    def __init__(self, client: redis.Redis) -> None:
        self.r = client

    def seen(self, request_id: str) -> bool:
        """True when the id was accepted before."""
        with intake_outcome(read_only=True):
            return bool(self.r.exists(_replay_key(request_id)))

    def remember(self, request_id: str) -> None:
        """Record the id (its bulletin is stored; a lost write only lets a retry store it again)."""
        try:
            self.r.set(_replay_key(request_id), "1", ex=REPLAY_WINDOW_SECONDS)
        except redis.RedisError as exc:
            log.warning("request id not remembered (%s); a retry is stored again", exc)


def _replay_key(request_id: str) -> str:
    return "alerts:webhook:seen:" + hashlib.sha256(request_id.encode()).hexdigest()


@contextlib.contextmanager
def intake_outcome(*, read_only: bool = False) -> Iterator[None]:
    """Redis errors as ``Unavailable``: not stored when no connection was made, else unknown."""
    try:
        yield
    except redis.RedisError as exc:
        raise unavailable(exc, read_only=read_only) from None


def unavailable(exc: redis.RedisError, *, read_only: bool = False) -> Unavailable:
    """``intake_outcome``'s answer to ``exc``."""
    never_sent = read_only or "connecting to" in str(exc)  # redis-py's connect() message
    stored: Literal[False, "unknown"] = False if never_sent else "unknown"
    return Unavailable(f"Redis unavailable ({type(exc).__name__})", stored=stored)


def _redis_ok(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


def _workers() -> int:
    try:
        return len(celery_app.control.ping(timeout=1.0) or [])
    except Exception:
        return 0


BUSY_SECONDS = 60.0
UNACKED_INDEX = "unacked_index"  # kombu's Redis transport's (its ``unacked_index_key``)


def _busy_client(settings: Settings, client: redis.Redis) -> redis.Redis | None:
    """A client on the Redis where solo workers' held messages are indexed (the broker's:
    ``client``, our stores', when it is that Redis); None where workers run prefork, whose
    consumers answer pings while tasks run."""
    url = settings.solo_broker()
    if url is None:
        return None
    if url == settings.redis_url:
        return client
    return connect(url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT)


def _busy(client: redis.Redis | None) -> int:
    """Task messages a worker took within ``BUSY_SECONDS`` and holds unacked (Redis broker): a
    solo worker answers pings only between tasks, so busy ones are alive all the same."""
    if client is None:
        return 0
    try:
        return int(client.zcount(UNACKED_INDEX, time.time() - BUSY_SECONDS, "+inf"))
    except redis.RedisError:
        return 0


def _rules_by_worker(client: redis.Redis) -> dict[str, Any] | None:
    """The published rule set (if any) and each worker's version, heard within 3 minutes."""
    try:
        workers = worker_versions(client, system_clock(), max_age=WORKER_REPORT_AGE)
        meta = published(client)
    except redis.RedisError:
        return None
    return {"published": meta["version"] if meta else None, "workers": workers}


def _rules(client: redis.Redis) -> dict[str, Any] | None:
    try:
        raw = client.get(RULES_STATUS_KEY)
    except redis.RedisError:
        return None
    return json.loads(raw) if raw else None
