"""Fault injection: SIGKILL pool children or a whole worker, restart Redis."""

from __future__ import annotations

import random
import signal
import threading
import time

import psutil

from tests.support.processes import Service, start_worker
from tests.support.redis_server import RedisServer


class Faults:
    """Kills and restarts, each logged with its time (monotonic seconds)."""

    def __init__(self, workers: dict[str, Service], redis: RedisServer, seed: int = 3) -> None:
        self.workers = workers
        self.redis = redis
        self.rng = random.Random(seed)
        self.log: list[tuple[float, str]] = []
        self.lock = threading.Lock()  # the supervisor never restarts a worker we are killing

    def supervise(self, env: dict[str, str], stop: threading.Event) -> None:
        """Restart workers that exit on their own, as compose's `restart:` policy does.

        The second line of defence: workers ride out a broker drop themselves
        (workers/redis_transport.py fixes the kombu fault that made them exit); production
        still runs them supervised.
        """
        while not stop.wait(0.5):
            with self.lock:
                for name, worker in list(self.workers.items()):
                    if worker.proc is not None and worker.proc.poll() is not None:
                        self._note(f"worker {name} exited by itself ({worker.proc.returncode})")
                        self.restart_worker(name, env)

    def _note(self, what: str) -> None:
        self.log.append((time.monotonic(), what))
        print(f"[chaos] {what}", flush=True)

    def kill_pool_child(self) -> bool:
        """SIGKILL one random pool process of a random live worker."""
        live = [w for w in self.workers.values() if w.proc and w.proc.poll() is None]
        if not live:
            return False
        worker = self.rng.choice(live)
        assert worker.proc is not None
        children = psutil.Process(worker.proc.pid).children()
        if not children:
            return False
        victim = self.rng.choice(children)
        victim.send_signal(signal.SIGKILL)
        self._note(f"SIGKILL pool child {victim.pid} of {worker.name}")
        return True

    def kill_worker(self, name: str, env: dict[str, str], down: float = 2.0) -> None:
        """SIGKILL a whole worker (main process and pool), keep it down a while, restart it."""
        with self.lock:
            worker = self.workers[name]
            worker.kill_group(signal.SIGKILL)
            if worker.proc is not None:
                worker.proc.wait(10)
            worker.proc = None
            self._note(f"SIGKILL worker {name}")
            time.sleep(down)
            self.restart_worker(name, env)

    def restart_worker(self, name: str, env: dict[str, str]) -> None:
        """Start a killed worker again under the same name."""
        self.workers[name] = start_worker(env, name=name.removeprefix("worker-"))
        self._note(f"restarted worker {name}")

    def restart_redis(self) -> None:
        """SIGKILL Redis and start it again on the same port and AOF directory."""
        self.redis.stop(kill=True)
        self._note("SIGKILL redis")
        self.redis.start()
        self._note("redis back")

    @property
    def last(self) -> float:
        """When the last fault was injected."""
        return self.log[-1][0] if self.log else time.monotonic()

    def count(self, word: str) -> int:
        """How many logged faults mention ``word``."""
        return sum(1 for _, what in self.log if word in what)
