"""Benchmark sharded watches: 1M watches split across N shards by the workers' stable hash.

Run ``python bench/shards.py`` (1M watches, 4 shards) or ``--watches 100000 --shards 2``.
The workload is generated once and each shard's watch specs written to a file; each shard is
then built and measured in its own process from its file only, as a shard's worker holds only its
watches: build time, resident memory (the whole process, and what the build added), and the
per-item match time over the same items. An item fans out to every shard in parallel, so its
item→match latency is the slowest shard's time for it plus one broker hop; the hop (kombu put →
get through Redis, ``--redis``) is measured on its own. The watches and items are bench/match.py's.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from alerts.gcpause import give_back_freed, paused_gc
from alerts.matching import Matcher
from alerts.matching.caches import set_cache_mib
from alerts.matching.shards import shard_of
from alerts.models import Item
from bench.match import _rss_kib, ruleset, workload
from bench.shards_grow import grow, phase_peak


def split(watches: int, shards: int, n_items: int, seed: int, folder: Path) -> None:
    """Generate the workload once; write the items and each shard's watch specs as JSON."""
    batch, specs = workload(watches, n_items, seed)
    with (folder / "items.jsonl").open("w") as out:
        out.writelines(json.dumps(i.model_dump(mode="json")) + "\n" for i in batch)
    files = [(folder / f"shard-{k}.jsonl").open("w") for k in range(shards)]
    for spec in specs:
        files[shard_of(spec["id"], shards)].write(json.dumps(spec) + "\n")
    for f in files:
        f.close()


def one_shard(
    shard: int, folder: Path, grow_langs: list[str], grow_words: int, view_words: int
) -> dict[str, Any]:
    """Build one shard's matcher from its specs only, as its worker would, and time the items."""
    # The items are read from their file on each pass, one at a time, as a worker holds one
    # item at a time: the bench's 1,000 parsed items (5 MiB) are not the shard's memory.
    batch = _Items(folder / "items.jsonl")
    gc.collect()
    rss0 = _rss_kib()
    peaks = {"loading": phase_peak()}  # each phase's own peak (VmHWM) from here on
    t0 = time.perf_counter()
    # One spec at a time, as the loader compiles a file's watches and drops its YAML: the
    # shard never holds every spec as parsed values at once.
    with (folder / f"shard-{shard}.jsonl").open() as lines, paused_gc() as pause:
        matcher = Matcher(ruleset((json.loads(line) for line in lines), exact=False))
        pause.keep()  # frozen, not walked by the next collections: as the rules watcher
    build_s = time.perf_counter() - t0
    gc.collect()
    give_back_freed()  # as the rules watcher does after each build
    built = _memory()
    peaks["build"] = phase_peak()
    for item in islice(batch, 20):  # warm the word-key cache, as a running worker would be
        for match in matcher.match(item):
            matcher.ruleset.get(match.watch)  # a worker looks each match's watch up by id
    lat, cpu = _timed(matcher, batch)
    out = {
        "shard": shard,
        "watches": len(matcher.ruleset.rules),
        "build_s": build_s,
        "built": built,
        "items": _memory(),
        "index_mib": (_rss_kib() - rss0) / 1024,
        "lat_ms": lat,
        "cpu_ms": cpu,
        "matches": _matches(matcher, batch),
        "peaks": peaks,
    }
    peaks["items"] = phase_peak()
    if grow_words:
        out |= grow(matcher, grow_langs, grow_words, view_words)
        peaks |= {step: peak for step, (_, _, peak) in out["steps"].items()}
        out["grown"] = _memory()
        out["grown_lat_ms"], out["grown_cpu_ms"] = _timed(matcher, batch)
        out["grown_matches"] = _matches(matcher, batch)
        peaks["grown items"] = phase_peak()
    out["peak"] = max(peaks.values())  # VmHWM of the whole run, as if never reset
    return out


class _Items:
    """The bench's items, parsed from their file (a line each) whenever iterated."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __iter__(self) -> Iterator[Item]:
        with self.path.open() as lines:
            yield from (Item.model_validate(json.loads(line)) for line in lines)


def _timed(matcher: Matcher, batch: Iterable[Item]) -> tuple[list[float], list[float]]:
    """Each item's match wall and CPU milliseconds."""
    lat, cpu = [], []
    for item in batch:
        t, c = time.perf_counter_ns(), time.process_time_ns()
        matcher.match(item)
        lat.append((time.perf_counter_ns() - t) / 1e6)
        cpu.append((time.process_time_ns() - c) / 1e6)
    return lat, cpu


def _matches(matcher: Matcher, batch: Iterable[Item]) -> str:
    """A digest of every match of the items (the same before and after growing: same hits)."""
    digest = hashlib.sha256()
    for item in batch:  # one item at a time: the digest leaves nothing behind to measure
        found = [m.model_dump(mode="json") for m in matcher.match(item)]
        digest.update(json.dumps(found, sort_keys=True).encode())
    return digest.hexdigest()[:16]


def _memory() -> dict[str, float]:
    """This process's resident MiB now (whole, and its anonymous part).

    Peaks are each phase's VmHWM (``phase_peak``). Not ``ru_maxrss``: Linux carries that
    across exec, so a shard's process would report the parent's peak, which holds every
    shard's specs (about 750 MiB at 1M watches)."""
    return {"rss": _rss_kib() / 1024, "anon": _status_kib("RssAnon") / 1024}


def _status_kib(field: str) -> int:
    """One KiB figure of /proc/self/status."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def broker_hop(url: str, n: int = 500) -> list[float]:
    """Milliseconds from kombu put to get through the broker (one queue, one process)."""
    from kombu import Connection

    out = []
    with Connection(url) as conn, conn.SimpleQueue(f"bench-hop-{os.getpid()}") as queue:
        for _ in range(n):
            t = time.perf_counter_ns()
            queue.put({"t": t})
            queue.get(timeout=5).ack()
            out.append((time.perf_counter_ns() - t) / 1e6)
        queue.clear()
    return out


def report(r: dict[str, Any]) -> None:
    """One shard's figures: build, memory at each phase, match times."""
    print(f"shard {r['shard']}: {r['watches']} watches, build {r['build_s']:.1f} s "
          f"(index {r['index_mib']:.0f} MiB); p50 {pct(r['lat_ms'], 0.5):.2f} ms, "
          f"p99 {pct(r['lat_ms'], 0.99):.2f} ms; CPU per item p50 "
          f"{pct(r['cpu_ms'], 0.5):.2f} ms, p99 {pct(r['cpu_ms'], 0.99):.2f} ms, mean "
          f"{statistics.mean(r['cpu_ms']):.2f} ms; matches {r['matches']}")  # fmt: skip
    for phase in ("built", "items", "grown"):
        if phase in r:
            m = r[phase]
            print(f"  {phase:>6}: RSS {m['rss']:.1f} MiB (anon {m['anon']:.1f})")
    peaks = ", ".join(f"{k} {v:.1f}" for k, v in r["peaks"].items())
    print(f"  VmHWM {r['peak']:.1f} MiB; each phase's own peak: {peaks} MiB")
    if "grown" in r:
        steps = ", ".join(f"{k} {v[0]:.1f} ({v[1]:.1f})" for k, v in r["steps"].items())
        print(f"  RSS (anon) after each grow step: {steps} MiB; {r['views']} language "
              f"views, their added keys {r['view_bytes'] / 2**20:.1f} MiB")  # fmt: skip
        print(f"  grown in {r['grow_s']:.0f} s, caches {r['caches']}; then the same items: "
              f"p50 {pct(r['grown_lat_ms'], 0.5):.2f} ms, p99 {pct(r['grown_lat_ms'], 0.99):.2f}"
              f" ms; CPU p50 {pct(r['grown_cpu_ms'], 0.5):.2f} ms, p99 "
              f"{pct(r['grown_cpu_ms'], 0.99):.2f} ms; matches {r['grown_matches']}"
              f"{'' if r['grown_matches'] == r['matches'] else ' DIFFER'}", flush=True)  # fmt: skip


def pct(values: list[float], q: float) -> float:
    """The q-quantile (nearest rank)."""
    ordered = sorted(values)
    return ordered[int(q * (len(ordered) - 1))]


def main() -> int:
    """Run every shard in its own process, then combine per item across shards."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--watches", type=int, default=1_000_000)
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--redis", default=os.environ.get("ALERTS_TEST_REDIS_URL"))
    parser.add_argument("--only", type=int, nargs="*", default=None, help="these shards only")
    parser.add_argument("--grow-words", type=int, default=600_000,
                        help="distinct words per grow language (0: no grown phase)")  # fmt: skip
    parser.add_argument("--grow-languages", default="en,ru,de")
    parser.add_argument("--view-words", type=int, default=3000,
                        help="then words in every stem language: every view built")  # fmt: skip
    parser.add_argument("--cache-mib", type=float, default=16.0,
                        help="each shard's worker.word_cache_mib")  # fmt: skip
    parser.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--dir", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        set_cache_mib(args.cache_mib)  # as workers.runtime does with worker.word_cache_mib
        grow_langs = args.grow_languages.split(",")
        shard = one_shard(args.one, args.dir, grow_langs, args.grow_words, args.view_words)
        print(json.dumps(shard))
        return 0
    folder = Path(tempfile.mkdtemp(prefix="bench-shards-"))
    t0 = time.perf_counter()
    split(args.watches, args.shards, args.items, args.seed, folder)
    print(f"workload: {time.perf_counter() - t0:.0f} s", flush=True)
    results = []
    for k in range(args.shards) if args.only is None else args.only:
        cmd = [
            sys.executable,
            __file__,
            "--one",
            str(k),
            "--dir",
            str(folder),
            "--grow-words",
            str(args.grow_words),
            "--grow-languages",
            args.grow_languages,
            "--view-words",
            str(args.view_words),
            "--cache-mib",
            str(args.cache_mib),
        ]
        done = subprocess.run(cmd, check=True, capture_output=True, text=True)  # fmt: skip
        results.append(json.loads(done.stdout))
        report(results[-1])
    slowest = [max(r["lat_ms"][i] for r in results) for i in range(args.items)]
    hop = broker_hop(args.redis) if args.redis else []
    hop50 = statistics.median(hop) if hop else 0.0
    print(
        f"{args.watches} watches / {args.shards} shards, {args.items} items: item→match "
        f"(slowest shard) p50 {pct(slowest, 0.5):.2f} ms, p99 {pct(slowest, 0.99):.2f} ms"
    )
    if hop:
        print(
            f"broker hop (kombu put→get, {args.redis.rsplit('@', 1)[-1]}): "
            f"p50 {hop50:.2f} ms, p99 {pct(hop, 0.99):.2f} ms; "
            f"with the hop: p50 {pct(slowest, 0.5) + hop50:.2f} ms, "
            f"p99 {pct(slowest, 0.99) + pct(hop, 0.99):.2f} ms"
        )
    print("targets: p99 <= 5 ms, <= 500 MB per shard")
    shutil.rmtree(folder)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
