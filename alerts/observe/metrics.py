"""The service's Prometheus metrics and the helpers that record them at stage boundaries.

Every process counts in prometheus-client's multiprocess mode (see ``multiproc``); an endpoint
renders the sum over its service's processes. The counters every alerting item adds to count
through ``series`` (no child object per watch); the rest through prometheus-client's children.
Labels are bounded: source ids of the settings
(others count as ``other``), formats, watch ids of the rule set, channel names, statuses. Never
an item id. The full list, with labels, is in docs/operations.md.
"""

from __future__ import annotations

import logging
from bisect import bisect_left
from collections.abc import Collection, Hashable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from alerts.observe.multiproc import ensure_dir

if TYPE_CHECKING:
    from alerts.observe.settings import MetricsSettings

MULTIPROC_DIR = ensure_dir()  # before prometheus_client is imported: it picks its storage then

from prometheus_client import (  # noqa: E402
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
    start_http_server,
)

# Re-exported: scrape-time collectors import these from here, after ``ensure_dir``.
from prometheus_client.core import GaugeMetricFamily as GaugeMetricFamily  # noqa: E402
from prometheus_client.core import Metric as Metric  # noqa: E402
from prometheus_client.registry import Collector as Collector  # noqa: E402

log = logging.getLogger(__name__)

from alerts.observe.series import Series, SeriesFile  # noqa: E402

OTHER_SOURCE = "other"
PUSH_SOURCES = frozenset({"api", "cli"})  # the default names of pushed bulletins
MATCH_BUCKETS = (1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 1e-2, 0.1, 1.0)

ITEMS_INGESTED = Counter(
    "alerts_items_ingested", "Items parsed from bulletins and polls.", ["source", "format"]
)
ITEMS_NEW = Counter("alerts_items_new", "Items never seen before, handed to matching.", ["source"])
PARSE_ERRORS = Counter(
    "alerts_parse_errors", "Bulletins or polls that could not be parsed.", ["source"]
)
MATCH_SECONDS = Histogram(
    "alerts_match_seconds", "Time to match one item against the rule set.", buckets=MATCH_BUCKETS
)
MATCHES = Counter("alerts_matches", "Watches that fired on an item.", ["watch"])
DELIVERIES = Counter(
    "alerts_deliveries", "Delivery attempts by outcome (retry, dead...).", ["channel", "status"]
)
DIGESTS = Counter(
    "alerts_digests", "Digest flushes by outcome (sent, retry, dead).", ["channel", "status"]
)
DIGEST_ALERTS = Counter(
    "alerts_digest_alerts", "Alerts in the digests that went out (or died).", ["channel", "status"]
)
SOURCE_POLLS = Counter("alerts_source_polls", "Polls of a configured source.", ["source", "result"])
RULES_RELOADS = Counter("alerts_rules_reloads", "Rule set reloads in a process.", ["result"])
HEALTH_NOTICES = Counter(
    "alerts_source_health_notices", "Source health alerts and recoveries.", ["source", "kind"]
)

# Per item: a bulletin's items parsed and new, each watch fired, each delivery outcome.
_SERIES = SeriesFile(MULTIPROC_DIR)
_INGESTED = Series(ITEMS_INGESTED, _SERIES)
_NEW = Series(ITEMS_NEW, _SERIES)
_FIRED = Series(MATCHES, _SERIES)
_DELIVERED = Series(DELIVERIES, _SERIES)

_known_sources: frozenset[str] = frozenset()
# Label children by metric and label values: ``labels()`` validates, stringifies and locks on
# every call; a dict lookup is a fraction of that. Label sets are bounded (above), so is this.
_children: dict[tuple[int, tuple[str, ...]], Any] = {}


def child(metric: Counter | Histogram, *values: str) -> Any:
    """``metric.labels(*values)``, looked up once per label tuple and kept."""
    key = (id(metric), values)
    found = _children.get(key)
    if found is None:
        found = _children[key] = metric.labels(*values)
    return found


def configure(source_ids: Collection[str]) -> None:
    """Name the configured sources: only they (and ``api``, ``cli``) get a label of their own."""
    global _known_sources
    _known_sources = frozenset(source_ids)


def source_label(source: str) -> str:
    """A source's label: its id when configured (or a default push name), else ``other``.

    Pushed bulletins name their source freely; a label per name would grow without bound.
    """
    return source if source in _known_sources or source in PUSH_SOURCES else OTHER_SOURCE


def items_parsed(source: str, fmt: str, count: int) -> None:
    """Count items parsed from one bulletin or poll."""
    if count:
        _INGESTED.inc(source, fmt, amount=count)


def items_new(source: str, count: int) -> None:
    """Count items handed to matching after the seen-check."""
    if count:
        _NEW.inc(source, amount=count)


def parse_error(source: str) -> None:
    """Count one bulletin or poll that could not be parsed."""
    child(PARSE_ERRORS, source).inc()


def matched(seconds: Sequence[float], watches: Iterable[str]) -> None:
    """Record a batch's per-item match times and the watches that fired (after the batch)."""
    observe_many(MATCH_SECONDS, seconds)
    for watch, count in tally(watches).items():
        _FIRED.inc(watch, amount=count)


def tally(keys: Iterable[Hashable]) -> dict[Any, int]:
    """How many times each key occurs, first seen first (``collections.Counter`` checks its
    argument against ``Mapping`` first: dearer than the counting, for a batch of one)."""
    counts: dict[Any, int] = {}
    for key in keys:
        counts[key] = counts.get(key, 0) + 1
    return counts


def observe_many(histogram: Histogram, values: Sequence[float]) -> None:
    """``histogram.observe`` for each value, with one write per bucket touched and one for the
    sum instead of two per value (each write takes a lock and touches the mmap'd file).

    It uses the histogram's own bounds and cells (prometheus-client internals since 0.4);
    ``tests/observe/test_metrics.py`` holds it to ``observe``'s results.
    """
    if not values:
        return
    bounds = histogram._upper_bounds  # ascending, +Inf last: every value has a bucket
    buckets = histogram._buckets
    for index, count in tally([bisect_left(bounds, v) for v in values]).items():
        buckets[index].inc(count)  # observe's bucket: the first bound >= the value
    histogram._sum.inc(sum(values))


def delivered(channel: str, status: str) -> None:
    """Count one delivery outcome."""
    _DELIVERED.inc(channel, status)


def digest_flushed(channel: str, status: str, alerts: int) -> None:
    """Count one digest flush and the alerts it carried (``retry`` counts the attempt only)."""
    child(DIGESTS, channel, status).inc()
    if status != "retry":
        child(DIGEST_ALERTS, channel, status).inc(alerts)


def polled(source: str, result: str) -> None:
    """Count one poll: ``ok``, ``fetch_error`` or ``parse_error``."""
    child(SOURCE_POLLS, source, result).inc()


def rules_reloaded(ok: bool) -> None:
    """Count one reload of the rules directory in this process."""
    RULES_RELOADS.labels("ok" if ok else "error").inc()


def health_notice(source: str, kind: str) -> None:
    """Count one source health notice (``failing``, ``quiet`` or ``recovered``)."""
    child(HEALTH_NOTICES, source, kind).inc()


def registry(*collectors: Collector) -> CollectorRegistry:
    """A registry summing this service's processes, plus scrape-time collectors."""
    reg = CollectorRegistry()
    multiprocess.MultiProcessCollector(reg, path=str(MULTIPROC_DIR))
    for collector in collectors:
        reg.register(collector)
    return reg


def render(*collectors: Collector) -> tuple[bytes, str]:
    """The text exposition of ``registry(*collectors)`` and its content type."""
    return generate_latest(registry(*collectors)), CONTENT_TYPE_LATEST


def serve(port: int, host: str) -> Any:
    """Serve ``/metrics`` on ``host:port`` from a thread (a worker's main process)."""
    server, _thread = start_http_server(port, addr=host, registry=registry())
    return server


def serve_worker(conf: MetricsSettings) -> None:
    """A worker's ``/metrics`` where ``conf`` says (none without a port), from the process
    that starts its others (Celery's main process, or the solo workers' supervisor); another
    worker on this host holding the port is logged, not raised."""
    if conf.worker_port is None:
        return
    try:
        serve(conf.worker_port, conf.worker_host)
    except OSError as exc:
        log.warning("worker metrics not served on %s:%s: %s", conf.worker_host, conf.worker_port,
                    exc)  # fmt: skip
        return
    log.info("worker metrics on http://%s:%s/metrics", conf.worker_host, conf.worker_port)
