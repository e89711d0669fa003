"""``alerts worker`` on the solo pool: N one-process Celery workers under one small parent.

Each child is a whole Celery worker (``celery worker --pool solo``): it consumes and runs its
tasks in one process, with no pipe hop to a pool child and back, and no pool parent woken
three times a task (the job, the child's start ACK, the result). Two of them hold two tasks at
once, as one prefork worker of two children does.

What the prefork parent did for its children, this parent does for these:

- **A child that dies mid-task has its message requeued at once.** Each child notes the delivery
  tags it holds in a file of its own (``workers/inflight.py``); when it dies on a signal or an
  error, its messages still recorded as unacked go back to their queues (kombu's
  ``restore_by_tag``, as a prefork ``reject(requeue=True)`` does), not after the visibility
  timeout. A message the child had acked, or restored itself on a warm shutdown, is no longer
  in the unacked set and is left alone.
- **It is started again**, at once, or after 1, 2, 4 ... 30 s when it keeps dying within
  ``QUICK_DEATH`` seconds of its start (a broken configuration does not spin).
- **Signals are passed on:** SIGTERM and SIGINT stop the children warmly (each finishes its
  task), SIGQUIT coldly; the parent exits when they are gone. SIGHUP restarts them warmly.
  A child gets SIGTERM if this parent dies (``inflight.die_with_parent``, Linux).
- **Metrics:** the children count in one multiprocess directory, and this parent serves
  ``/metrics`` (``metrics.worker_port``) for them all; a child does not (``inflight.ENV``).

Children are named after ``--name``: ``alerts@%h`` gives ``alerts-1@%h``, ``alerts-2@%h`` ...

    python -m workers.supervisor --processes 2 --name alerts@%h -- CELERY_WORKER_ARGV...
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workers import inflight

if TYPE_CHECKING:
    from alerts.settings import Settings

log = logging.getLogger("workers.supervisor")
QUICK_DEATH = 10.0  # a child that dies sooner after its start is restarted after a back-off
MAX_BACKOFF = 30.0
STOPS = {
    signal.SIGTERM: signal.SIGTERM,
    signal.SIGINT: signal.SIGTERM,
    signal.SIGQUIT: signal.SIGQUIT,
}


def child_name(name: str, index: int) -> str:
    """The node name of child ``index`` (from 1): ``alerts@%h`` -> ``alerts-1@%h``."""
    base, at, host = name.partition("@")
    return f"{base}-{index}{at}{host}"


@dataclass
class Child:
    """One solo worker: its slot, process and in-flight file."""

    name: str
    file: Path
    proc: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    backoff: float = 0.0
    due: float = 0.0  # when a dead child starts again


class Supervisor:
    """Start, watch, requeue for and restart ``processes`` solo workers (``argv`` + a name)."""

    def __init__(
        self,
        processes: int,
        name: str,
        argv: Sequence[str],
        *,
        requeue: Callable[[list[str]], int] | None = None,
        folder: Path | None = None,
    ) -> None:
        self.argv = list(argv)
        self.requeue = requeue or requeue_tags
        self.folder = folder or Path(tempfile.mkdtemp(prefix="alerts-worker-"))
        self.children = [
            Child(child_name(name, i), self.folder / f"inflight-{i}")
            for i in range(1, processes + 1)
        ]
        self.stopping: signal.Signals | None = None
        # Tags of dead children not requeued yet (Redis was unreachable): retried with a
        # back-off, kept here because a restarted child starts its file afresh.
        self.unrequeued: list[str] = []
        self._requeue_backoff = 0.0
        self._requeue_due = 0.0

    def start(self, child: Child) -> None:
        """Start ``child`` (its in-flight file fresh: the process clears it at start too)."""
        env = dict(os.environ, **{inflight.ENV: str(child.file)})
        env[inflight.PARENT_ENV] = str(os.getpid())  # it dies with this process (inflight)
        child.proc = subprocess.Popen([*self.argv, "-n", child.name], env=env)
        child.started = time.monotonic()
        log.info("worker %s started (pid %s)", child.name, child.proc.pid)
        if self.stopping is not None:  # a stop came while it was being started: pass it on
            with contextlib.suppress(ProcessLookupError):
                os.kill(child.proc.pid, STOPS[self.stopping])

    def reap(self, child: Child, code: int) -> None:
        """``child`` exited with ``code``: requeue what it held, schedule its restart. Never
        raises: a requeue that fails is tried again (``requeue_pending``)."""
        child.proc = None
        tags = inflight.held(child.file)
        if tags:
            log.warning(
                "worker %s died (%s) holding %d task message(s)", child.name, _how(code), len(tags)
            )
            self.unrequeued += [tag for tag in tags if tag not in self.unrequeued]
            self._requeue_due = 0.0
            self.requeue_pending()
        elif self.stopping is None:
            log.warning("worker %s died (%s); restarting it", child.name, _how(code))
        quick = time.monotonic() - child.started < QUICK_DEATH
        child.backoff = _longer(child.backoff) if quick else 0.0
        child.due = time.monotonic() + child.backoff

    def requeue_pending(self) -> None:
        """Requeue the dead children's messages not requeued yet, once due; on a failure
        (Redis down, a failover) keep them and try again after 1, 2, 4 ... 30 s."""
        if not self.unrequeued or time.monotonic() < self._requeue_due:
            return
        tags = list(self.unrequeued)
        try:
            restored = self.requeue(tags)
        except Exception as exc:
            self._requeue_backoff = _longer(self._requeue_backoff)
            self._requeue_due = time.monotonic() + self._requeue_backoff
            log.warning(
                "%d task message(s) of dead workers not requeued yet (%s: %s); retrying in %.0f s",
                len(tags), type(exc).__name__, exc, self._requeue_backoff,
            )  # fmt: skip
            return
        self.unrequeued = [tag for tag in self.unrequeued if tag not in tags]
        self._requeue_backoff = 0.0
        log.warning(
            "%d task message(s) of dead workers requeued (%d were acked or restored already)",
            restored, len(tags) - restored,
        )  # fmt: skip

    def run(self) -> int:
        """Start every child; supervise until a stop signal and every child has exited."""
        for sig in (*STOPS, signal.SIGHUP):
            signal.signal(sig, self._on_signal)
        try:
            while True:
                self._restart_due()  # every child at first (none started yet: all due)
                self.requeue_pending()
                alive = [c for c in self.children if c.proc is not None]
                if self.stopping is not None and not alive:
                    self._requeue_due = 0.0
                    self.requeue_pending()  # a last try; else the visibility timeout
                    if self.unrequeued:
                        log.error(
                            "%d task message(s) left to the visibility timeout",
                            len(self.unrequeued),
                        )
                    return 0
                self._wait(alive)
        finally:
            self._stop_all(signal.SIGTERM)
            shutil.rmtree(self.folder, ignore_errors=True)

    def _wait(self, alive: list[Child]) -> None:
        pending = [c.due for c in self.children if c.proc is None and self.stopping is None]
        if self.unrequeued:
            pending.append(self._requeue_due)
        timeout = max(0.0, min(pending) - time.monotonic()) if pending else None
        if not alive:  # in short slices: a stop signal ends the wait
            time.sleep(min(timeout, 0.2) if timeout is not None else 0.2)
            return
        try:
            pid, status = _wait_any(timeout)
        except ChildProcessError:
            return
        if pid == 0:
            return
        for child in alive:
            if child.proc is not None and child.proc.pid == pid:
                child.proc.returncode = os.waitstatus_to_exitcode(status)
                self.reap(child, child.proc.returncode)  # started again by _restart_due

    def _restart_due(self) -> None:
        if self.stopping is not None:
            return
        now = time.monotonic()
        for child in self.children:
            if child.proc is None and child.due <= now:
                self.start(child)

    def _on_signal(self, signum: int, _frame: Any) -> None:
        sig = signal.Signals(signum)
        if sig == signal.SIGHUP:
            self._stop_all(signal.SIGTERM)  # warm: each is started again once it is gone
            return
        self.stopping = sig
        self._stop_all(STOPS[sig])

    def _stop_all(self, sig: signal.Signals) -> None:
        for child in self.children:
            if child.proc is not None:  # os.kill: Popen's send_signal would reap it (poll)
                with contextlib.suppress(ProcessLookupError):
                    os.kill(child.proc.pid, sig)


def _longer(backoff: float) -> float:
    """The next back-off: 1 s, then doubled, at most ``MAX_BACKOFF``."""
    return min(MAX_BACKOFF, max(1.0, backoff * 2))


def _wait_any(timeout: float | None) -> tuple[int, int]:
    """``os.waitpid`` for any child: blocking, or polled until ``timeout`` (then ``(0, 0)``)."""
    if timeout is None:
        return os.waitpid(-1, 0)
    deadline = time.monotonic() + timeout
    while True:
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid or time.monotonic() >= deadline:
            return pid, status
        time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))


def _how(code: int) -> str:
    if code < 0:
        try:
            return signal.Signals(-code).name
        except ValueError:
            return f"signal {-code}"
    return f"exit {code}"


def requeue_tags(tags: list[str]) -> int:
    """Put the messages behind ``tags`` back on their queues, if they are still unacked (the
    prefork parent's ``reject(requeue=True)``: kombu's ``restore_by_tag``); how many were."""
    from workers.app import app  # Celery only when a child died holding a message

    restored = 0
    with app.connection_for_write() as conn:
        channel = conn.default_channel
        qos = getattr(channel, "qos", None)
        if qos is None or not hasattr(qos, "restore_by_tag"):
            return 0  # a broker that redelivers on its own (AMQP: the connection closed)
        client = channel.client
        for tag in tags:
            # HGET, as restore_by_tag reads it (kombu prefixes it under a global_keyprefix)
            if client.hget(qos.unacked_key, tag) is not None:
                qos.restore_by_tag(tag, leftmost=True)
                restored += 1
    return restored


def serve_metrics(settings: Settings) -> None:
    """The children's ``/metrics`` from this parent, when a port is configured. Importing the
    metrics makes the multiprocess directory first: the children, started after, count in it."""
    from alerts.observe import metrics

    metrics.serve_worker(settings.metrics)


def main(argv: Sequence[str] | None = None) -> int:
    """The program: ``--processes N --name NAME -- ARGV`` (each child runs ARGV -n NAME-i)."""
    p = argparse.ArgumentParser(prog="workers.supervisor", description=__doc__.splitlines()[0])
    p.add_argument("--processes", type=int, required=True)
    p.add_argument("--name", required=True)
    p.add_argument("argv", nargs=argparse.REMAINDER)
    args = p.parse_args(argv)
    child_argv = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
    if args.processes < 1 or not child_argv:
        p.error("--processes must be at least 1, and the worker's command follows --")
    from alerts.observe.logs import configure_logging
    from alerts.settings import load_settings

    settings = load_settings()
    configure_logging(settings.log_setup())
    serve_metrics(settings)
    return Supervisor(args.processes, args.name, child_argv).run()


if __name__ == "__main__":
    sys.exit(main())
