"""Each pool process (or solo worker) keeps its rule set fresh and reported, busy or idle.

Without this a process reloads (and reports its version to ``/healthz``) only when an item
reaches it, so an idle one would show an old version long after ``alerts rules push``. A
daemon thread per process calls the runtime's ``current_rules`` every reload interval; it also
loads the rules before the first item arrives, instead of inside that item's task.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import redis
from celery.signals import worker_process_init, worker_ready

from alerts.rules import RuleSetError
from workers.hub import runs_tasks_itself
from workers.runtime import runtime

log = logging.getLogger(__name__)


def refresh_forever(stop: threading.Event) -> None:
    """Reload and report until ``stop`` is set; outages and bad rule sets only wait."""
    rt = runtime()
    if rt.settings.worker.shards > 1 and rt.shard is None:
        return  # a sharded setup's front workers never match: they hold no rules
    interval = rt.settings.rules_reload_seconds
    while not stop.is_set():
        try:
            runtime().current_rules()
        except (RuleSetError, redis.RedisError, OSError) as exc:
            log.debug("rules refresh: %s", exc)
        stop.wait(interval)


@worker_ready.connect
def _start_refresh_solo(sender: Any = None, **_: Any) -> None:
    """A worker that runs its tasks in its own process (solo: ``workers/supervisor.py``) has no
    pool processes to start the refresh in: it runs in the worker itself."""
    if runs_tasks_itself(getattr(sender, "pool", None)):
        _start_refresh()


@worker_process_init.connect
def _start_refresh(**_: Any) -> None:
    threading.Thread(
        target=refresh_forever, args=(threading.Event(),), name="rules-refresh", daemon=True
    ).start()
