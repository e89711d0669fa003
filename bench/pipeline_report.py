"""What one run of ``bench/pipeline.py`` measured, and how it is printed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import psutil


def pct(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values`` by nearest rank; NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


@dataclass
class RunResult:
    """What one run measured."""

    name: str
    items: int
    alerts_expected: int
    alerts_received: int
    seconds: float
    latencies: list[float]
    cpu: dict[str, float]
    redis_bytes: int
    redis_cmds: dict[str, int]
    failures: int
    bench_cpu: float = 0.0  # this process: the load generator and the sink (not the service)
    offsets: list[float] = field(default_factory=list)  # POST start of each latency, run time
    idle: dict[str, float] = field(default_factory=dict)  # the service's CPU s/s with no load

    def tail(self, over: float = 0.1) -> str:
        """How many items took longer than ``over`` seconds, and in which seconds of the run."""
        pairs = zip(self.offsets, self.latencies, strict=True)
        slow = sorted({int(t) for t, lat in pairs if lat > over})
        count = sum(lat > over for lat in self.latencies)
        return f"items over {1000 * over:.0f} ms: {count}, posted in second(s) {slow[:20]}"

    @property
    def rate(self) -> float:
        """Items per second from the first POST until the last task finished."""
        return self.items / self.seconds if self.seconds else float("nan")

    def top_commands(self, n: int = 40) -> str:
        """The busiest Redis commands, per item (those of 0.05 or more per item)."""
        least = 0.05 * max(self.items, 1)
        top = sorted(self.redis_cmds.items(), key=lambda kv: -kv[1])[:n]
        top = [(k, v) for k, v in top if v >= least]
        return ", ".join(f"{k} {v / max(self.items, 1):.1f}" for k, v in top)

    def cpu_per_item(self) -> float:
        """The service's CPU seconds per item (workers, API and Redis)."""
        return sum(self.cpu.values()) / max(self.items, 1)

    def commands_per_item(self) -> float:
        """Redis commands served per item."""
        return sum(self.redis_cmds.values()) / max(self.items, 1)

    def capacity(self, cores: int) -> str:
        """Items/s that ``cores`` could carry at this run's CPU per item (an upper bound)."""
        total = self.cpu_per_item()
        busy = sum(self.cpu.values()) / self.seconds if self.seconds else float("nan")
        text = (
            f"service CPU {1000 * total:.2f} ms/item (workers+api+redis), {busy:.2f} cores busy "
            f"on average; CPU-bound ceiling on {cores} cores ~ {cores / total:.0f} items/s"
        )
        if not self.idle or not self.seconds:
            return text
        # What the service spends with no load at all (timers, polls, heartbeats) over this run,
        # shared out per item; the rest is what each item costs.
        idle = sum(self.idle.values()) * self.seconds / max(self.items, 1)
        return (
            text + f"; of it {1000 * idle:.2f} ms/item idle, {1000 * (total - idle):.2f} per item"
        )

    def line(self) -> str:
        """One report line."""
        lat = self.latencies
        per = {k: 1000 * v / max(self.items, 1) for k, v in self.cpu.items()}
        per["bench"] = 1000 * self.bench_cpu / max(self.items, 1)
        cmds = self.commands_per_item()
        return (
            f"{self.name:<26} items={self.items:>6} {self.rate:>7.0f} items/s  "
            f"alerts {self.alerts_received}/{self.alerts_expected}  "
            f"p50={1000 * pct(lat, 0.5):6.1f} ms p99={1000 * pct(lat, 0.99):6.1f} ms "
            f"max={1000 * (max(lat) if lat else float('nan')):6.1f} ms  "
            f"cpu ms/item: workers={per['workers']:.2f} api={per['api']:.2f} "
            f"redis={per['redis']:.2f} (bench: load+sink={per['bench']:.2f})  "
            f"redis cmds/item={cmds:.1f} "
            f"used_memory={self.redis_bytes / 2**20:.1f} MiB"
            + (f"  POST failures={self.failures}" if self.failures else "")
        )


def own_cpu() -> float:
    """CPU seconds of this process (load generator and sink) so far."""
    t = psutil.Process().cpu_times()
    return t.user + t.system


# Issue 13's figures: service CPU and Redis commands per alerting item, and the rate kept with
# every alert (p99 ingest->send too, up to 300 items/s; 600/s need only be carried).
CPU_MS, COMMANDS, P99_MS, P99_UP_TO, KEPT = 3.0, 30.0, 100.0, 300.0, 0.98


def verdicts(results: Mapping[float, RunResult]) -> list[str]:
    """For each fixed rate from 100 items/s up, whether issue 13's figures hold, then one line
    naming the rates where all of them do and the rates where some do not."""
    lines, met, missed = [], [], []
    for rate in sorted(r for r in results if r >= 100):
        res = results[rate]
        cpu = 1000 * res.cpu_per_item()
        cmds = res.commands_per_item()
        kept = res.rate >= KEPT * rate and res.alerts_received == res.alerts_expected
        checks = [
            (f"CPU {cpu:.2f} ms/item <= {CPU_MS:g}", cpu <= CPU_MS),
            (f"Redis {cmds:.1f} commands/item <= {COMMANDS:g}", cmds <= COMMANDS),
            (f"kept {res.rate:.0f}/s, alerts {res.alerts_received}/{res.alerts_expected}", kept),
        ]
        if rate <= P99_UP_TO:
            p99 = 1000 * pct(res.latencies, 0.99)
            checks.append((f"p99 {p99:.1f} ms <= {P99_MS:g}", p99 <= P99_MS))
        said = "; ".join(f"{text}: {'yes' if ok else 'NO'}" for text, ok in checks)
        lines.append(f"{'issue 13 at ' + format(rate, '.0f') + '/s':<26} {said}")
        (met if all(ok for _, ok in checks) else missed).append(f"{rate:.0f}/s")
    if lines:
        lines.append(
            f"{'issue 13':<26} every figure met at: {', '.join(met) or 'none'}; "
            f"not at: {', '.join(missed) or 'none'}"
        )
    return lines
