"""Where a match's time goes: prepare / candidates / evaluation, median µs per item.

A diagnostic beside ``match.py`` (same watches and items, same seed): each size runs in
its own process; the whole ``Matcher.match`` p50 of the same items is printed next to the
phases as the reference they add up to. ``python bench/match_phases.py [--sizes 10000]``.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from match import PHRASES, VOCAB, items, ruleset, vocabulary, watch_specs

from alerts.matching import Matcher
from alerts.matching.document import prepare
from alerts.matching.scan import candidates, occurrences


def one_size(n: int, n_items: int, seed: int) -> dict[str, float]:
    rng = random.Random(seed)
    words = vocabulary(rng)
    phrases = [f"{words[rng.randrange(1000, VOCAB)]} {words[rng.randrange(1000, VOCAB)]}"
               for _ in range(PHRASES)]  # fmt: skip
    batch = items(rng, words, phrases, n_items)
    matcher = Matcher(ruleset(watch_specs(rng, words, phrases, n), exact=False))
    index = matcher.index
    for item in batch:
        matcher.match(item)  # every word's key cached, as in a running worker
    whole = []
    for item in batch:  # a pass of its own: caches as cold as in the phases' pass
        t0 = time.perf_counter_ns()
        matcher.match(item)
        whole.append((time.perf_counter_ns() - t0) / 1000)
    phases: dict[str, list[float]] = {"prepare": [], "candidates": [], "evaluation": []}
    for item in batch:
        t0 = time.perf_counter_ns()
        doc = prepare(item, index.fields, fuzzy=index.fuzzy, anchors=index.by_key)
        occ = occurrences(index, doc)
        t1 = time.perf_counter_ns()
        found = candidates(index, doc, occ)
        t2 = time.perf_counter_ns()
        for i in found:
            matcher._evaluate(i, item, occ)
        t3 = time.perf_counter_ns()
        for name, ns in zip(phases, (t1 - t0, t2 - t1, t3 - t2), strict=True):
            phases[name].append(ns / 1000)
    out = {name: statistics.median(v) for name, v in phases.items()}
    out["match"] = statistics.median(whole)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--items", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(one_size(args.one, args.items, args.seed)))
        return 0
    print(f"{'watches':>8} {'prepare':>8} {'cands':>8} {'eval':>8} {'match p50 µs':>13}")
    for n in (int(s) for s in args.sizes.split(",")):
        cmd = [sys.executable, __file__, "--one", str(n), "--items", str(args.items),
               "--seed", str(args.seed)]  # fmt: skip
        r = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
        print(f"{n:>8} {r['prepare']:>8.0f} {r['candidates']:>8.0f} {r['evaluation']:>8.0f} "
              f"{r['match']:>13.0f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
