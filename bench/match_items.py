"""A pool child's matching of ``bench/pipeline.py``'s items: CPU per item, and every result.

``bench/pipeline.py`` generates 10k watches and items in ten languages that each fire one of
them (``bench/pipeline_load.py``). This matches such items as a worker's task does, one item
per call of ``item_steps.timed_alerts``, after ``--warm`` items that fill the word caches as
a child's earlier tasks would. It prints CPU per measured item (``time.process_time``) and a
digest of every measured alert (watch, item), so a change to the matcher can be checked to
leave the results as they were. ``--profile`` prints cProfile's top functions instead.

For instruction counts of the measured items only: ``valgrind --tool=callgrind
--instr-atstart=no python bench/match_items.py --callgrind`` (it turns the instrumentation
on and off around them with ``callgrind_control``).

``python bench/match_items.py [--items 500] [--warm 1000] [--watches 10000] [--profile]``
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import json
import os
import pstats
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(
    0, os.environ.get("ALERTS_BENCH_ROOT") or str(Path(__file__).resolve().parent.parent)
)

from alerts.ingest import parse_bulletin
from alerts.item_steps import timed_alerts
from alerts.matching import Matcher, load_ruleset
from alerts.models import Item
from bench.pipeline_load import Items, item_languages, make_watches, write_rules


def items_of(factory: Items, n: int) -> list[Item]:
    """``n`` alerting items, parsed (and their languages detected) as the API does."""
    if n == 0:
        return []
    body = json.dumps({"items": [factory.make(alert=True) for _ in range(n)]}).encode()
    return parse_bulletin(body, source="bench", content_type="application/json")


def run(items: Sequence[Item], matcher: Matcher) -> list[str]:
    """Match each item on its own, as one task per item does; each alert as watch:item."""
    ruleset, out = matcher.ruleset, []
    for item in items:
        alerts, _ = timed_alerts([item], ruleset, matcher)
        out += [f"{alert.watch}:{alert.item.id}" for alert in alerts]
    return out


def _callgrind(wanted: bool, state: str) -> None:
    """Turn callgrind's instrumentation of this process on or off (when ``wanted``)."""
    if wanted:  # kept busy meanwhile: valgrind answers its control between instructions
        command = ["callgrind_control", "-i", state, str(os.getpid())]
        control = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        while control.poll() is None:
            pass


def main(argv: Sequence[str] | None = None) -> int:
    """Build the matcher, warm its caches, match and report."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--items", type=int, default=500)
    p.add_argument("--warm", type=int, default=1000)
    p.add_argument("--watches", type=int, default=10_000)
    p.add_argument("--profile", action="store_true")
    p.add_argument("--callgrind", action="store_true", help="instrument the measured items only")
    args = p.parse_args(argv)
    watches = make_watches(args.watches, random.Random(42))
    with tempfile.TemporaryDirectory(prefix="alerts-match-") as name:
        write_rules(Path(name), watches)
        ruleset = load_ruleset(Path(name))
    matcher = Matcher(ruleset, item_languages(watches))
    factory = Items(watches)
    run(items_of(factory, args.warm), matcher)
    items = items_of(factory, args.items)
    profile = cProfile.Profile(time.process_time) if args.profile else None
    t0 = time.process_time()
    if profile is not None:
        profile.enable()
    _callgrind(args.callgrind, "on")
    found = run(items, matcher)
    _callgrind(args.callgrind, "off")
    took = time.process_time() - t0
    if profile is not None:
        profile.disable()
        pstats.Stats(profile).sort_stats("tottime").print_stats(25)
    digest = hashlib.sha256("\n".join(found).encode()).hexdigest()[:16]
    per = 1000 * took / max(1, len(items))
    print(f"{len(items)} items, {len(found)} alerts (digest {digest}), {per:.3f} ms CPU/item")
    return 0


if __name__ == "__main__":
    sys.exit(main())
