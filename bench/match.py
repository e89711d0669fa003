"""Benchmark the matcher: 2 KB news-like items against 10 .. 100k watches, vs a naive baseline.

Run ``python bench/match.py`` (full) or ``--quick`` (smoke). Each size runs in its own
process so peak memory is that of one index. Watches mix single terms, two-word phrases,
booleans (all + any) and exclusions. The baseline is one compiled ``re`` per watch on the
literal subset (here: every watch, compiled ``exact: true``); results must be identical.
Timings are per item, on one core; build time covers spec validation, compilation and
the index (YAML parsing is not included). After the build the heap is frozen out of the
cyclic GC's scans, as a worker does after each rule-set load (workers.runtime.freeze_heap).
"""

from __future__ import annotations

import argparse
import bisect
import gc
import itertools
import json
import random
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from alerts.gcpause import paused_gc
from alerts.matching import Matcher
from alerts.matching.languages import stem_language
from alerts.matching.langview import view
from alerts.matching.text import words as words_of
from alerts.models import Item
from alerts.rules import RuleSet
from alerts.rules.compile import compile_rule
from alerts.rules.ruleset import Rule
from alerts.rules.spec import RuleSpec
from alerts.rules.tree import Term

LAT = [
    "ka",
    "lu",
    "ga",
    "mo",
    "re",
    "ti",
    "san",
    "dor",
    "vel",
    "pri",
    "stan",
    "ko",
    "mir",
    "bel",
    "ne",
    "ro",
    "ta",
    "vin",
    "gor",
    "sk",
    "le",
    "na",
    "tor",
    "ben",
]
CYR = [
    "ка",
    "лу",
    "га",
    "мо",
    "ре",
    "ти",
    "сан",
    "дор",
    "вел",
    "при",
    "стан",
    "ко",
    "мир",
    "бел",
    "не",
    "ро",
    "та",
    "вин",
    "гор",
    "ск",
]
VOCAB = 1_000_000
PHRASES = 20_000


def vocabulary(rng: random.Random) -> list[str]:
    """Distinct pseudo-words, about one in ten Cyrillic; index = frequency rank."""
    seen: set[str] = set()
    words: list[str] = []
    while len(words) < VOCAB:
        parts = CYR if rng.random() < 0.1 else LAT
        word = "".join(rng.choice(parts) for _ in range(rng.randint(2, 5)))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


class Zipf:
    """Draws ranks 0..n-1 with probability proportional to 1/(rank+1)."""

    def __init__(self, n: int) -> None:
        self.cum = list(itertools.accumulate(1.0 / (r + 1) for r in range(n)))

    def draw(self, rng: random.Random) -> int:
        return bisect.bisect(self.cum, rng.random() * self.cum[-1])


def items(rng: random.Random, words: list[str], phrases: list[str], count: int) -> list[Item]:
    """News-like items of about 2 KB: sentences of Zipf words, some named phrases."""
    zw, zp = Zipf(len(words)), Zipf(len(phrases))
    out = []
    for n in range(count):
        sentences, size = [], 0
        while size < 2000:
            sentence = [words[zw.draw(rng)] for _ in range(rng.randint(8, 20))]
            if rng.random() < 0.5:
                sentence.insert(rng.randrange(len(sentence)), phrases[zp.draw(rng)])
            text = " ".join(sentence).capitalize() + "."
            sentences.append(text)
            size += len(text) + 1
        title = " ".join(words[zw.draw(rng)] for _ in range(8)).capitalize()
        out.append(Item(id=f"i{n}", source="bench", title=title, body=" ".join(sentences)))
    return out


def watch_specs(rng: random.Random, words: list[str], phrases: list[str], n: int) -> list[dict]:
    """A mix of watches: 40% terms, 25% phrases, 20% booleans, 15% exclusions."""

    def phrase() -> str:
        return phrases[rng.randrange(len(phrases))]

    def rare() -> str:
        return words[rng.randrange(3000, VOCAB)]

    specs = []
    for i in range(n):
        roll = rng.random()
        spec: dict[str, Any] = {"id": f"w{i}", "notify": {"channels": ["email"]}}
        if roll < 0.40:
            spec["any"] = [rare() for _ in range(rng.randint(1, 3))]
        elif roll < 0.65:
            spec["any"] = [phrase()]
        elif roll < 0.85:
            spec["all"] = [rare(), words[rng.randrange(200, 5000)]]
            spec["any"] = [rare(), phrase()]
        else:
            spec["any"] = [rare(), rare()]
            spec["none"] = [words[rng.randrange(50, 3000)]]
        specs.append(spec)
    return specs


def ruleset(specs: list[dict], *, exact: bool) -> RuleSet:
    """Validate and compile specs without YAML (what the loader does after parsing)."""
    rules = []
    terms: dict[Term, Term] = {}
    with paused_gc():  # as the loader does, equal terms one object
        for d in specs:
            spec = RuleSpec.model_validate({**d, "exact": exact})
            tree = compile_rule(spec, {}, lambda path, msg: None, words=words_of, terms=terms)
            assert tree is not None
            rules.append(Rule(spec.id, spec.id, spec.notify, tree, frozenset(spec.fields)))
    return RuleSet(tuple(rules), "bench")


class Baseline:
    """One compiled regex per watch: any-alternation, each all-term, a none-alternation."""

    def __init__(self, specs: list[dict]) -> None:
        self.watches = [
            (
                spec["id"],
                self._rx(spec.get("any", [])),
                [rx for t in spec.get("all", []) if (rx := self._rx([t])) is not None],
                self._rx(spec.get("none", [])),
            )
            for spec in specs
        ]

    @staticmethod
    def _rx(terms: list[str]) -> re.Pattern[str] | None:
        if not terms:
            return None
        alts = "|".join(r"\W+".join(map(re.escape, t.split())) for t in terms)
        return re.compile(rf"(?<!\w)(?:{alts})(?!\w)", re.IGNORECASE)

    def match(self, item: Item) -> list[str]:
        text = f"{item.title}\n{item.body}"
        out = []
        for wid, any_rx, all_rx, none_rx in self.watches:
            if any_rx is not None and not any_rx.search(text):
                continue
            if not all(rx.search(text) for rx in all_rx):
                continue
            if none_rx is not None and none_rx.search(text):
                continue
            out.append(wid)
        return out


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _timed(matcher: Matcher, batch: list[Item]) -> tuple[list[float], float]:
    lat = []
    start = time.perf_counter()
    for item in batch:
        t0 = time.perf_counter_ns()
        matcher.match(item)
        lat.append((time.perf_counter_ns() - t0) / 1000)
    return lat, time.perf_counter() - start


def workload(n: int, n_items: int, seed: int) -> tuple[list[Item], list[dict]]:
    """The seeded items and ``n`` watch specs every matcher bench measures."""
    rng = random.Random(seed)
    words = vocabulary(rng)
    phrases = [f"{words[rng.randrange(1000, VOCAB)]} {words[rng.randrange(1000, VOCAB)]}"
               for _ in range(PHRASES)]  # fmt: skip
    return items(rng, words, phrases, n_items), watch_specs(rng, words, phrases, n)


def one_size(
    n: int, n_items: int, n_base: int, seed: int, languages: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Measure one watch count: build, per-item latency (fuzzy and exact), baseline, and the
    same items in each of ``languages``."""
    batch, specs = workload(n, n_items, seed)
    rss0 = _rss_kib()
    t0 = time.perf_counter()
    with paused_gc() as pause:  # validate and build under one pause, frozen: as the rules watcher
        fuzzy = Matcher(ruleset(specs, exact=False))
        pause.keep()
    build_s = time.perf_counter() - t0
    peak_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1024
    for item in batch[:20]:
        fuzzy.match(item)  # warm the word-key cache, as a running worker would be
    cold, _ = _timed(fuzzy, batch)  # words unseen so far get stemmed now
    lat, total = _timed(fuzzy, batch)  # steady state: every word's key is cached
    exact = Matcher(ruleset(specs, exact=True))
    gc.freeze()
    exact_lat, _ = _timed(exact, batch)
    base = Baseline(specs)
    sample = batch[:n_base]
    t0 = time.perf_counter()
    base_out = [base.match(it) for it in sample]
    base_us = (time.perf_counter() - t0) / len(sample) * 1e6
    ours = [[m.watch for m in exact.match(it)] for it in sample]
    fires = statistics.mean(len(fuzzy.match(it)) for it in batch[:100])
    per_language = {lang: _language(fuzzy, batch, lang) for lang in languages}
    return {
        "watches": n,
        "items": len(batch),
        "p50_us": statistics.median(lat),
        "p99_us": sorted(lat)[int(0.99 * (len(lat) - 1))],
        "items_per_s": len(batch) / total,
        "cold_p50_us": statistics.median(cold),
        "exact_p50_us": statistics.median(exact_lat),
        "build_s": build_s,
        "peak_mib": peak_mib,
        "baseline_us": base_us,
        "ratio": base_us / statistics.median(exact_lat),
        "identical": ours == base_out,
        "compared_items": len(sample),
        "fires_per_item": fires,
        "languages": per_language,
    }


def _language(matcher: Matcher, batch: list[Item], language: str) -> dict[str, float]:
    """The same items declared in ``language``: the language's view of the index built
    (as ``Matcher(ruleset, languages=...)`` does at load), the first item (its words keyed
    in that language), then p50/p99 once warm."""
    mine = [item.model_copy(update={"language": language}) for item in batch]
    t0 = time.perf_counter()
    view(matcher.index, stem_language(language))
    view_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    matcher.match(mine[0])
    first_ms = (time.perf_counter() - t0) * 1000
    _timed(matcher, mine)  # the language's word table and compound parts warm
    lat, _ = _timed(matcher, mine)
    return {
        "view_s": view_s,
        "first_ms": first_ms,
        "p50_us": statistics.median(lat),
        "p99_us": sorted(lat)[int(0.99 * (len(lat) - 1))],
    }


def main() -> int:
    """Run every size in its own process and print a table against the targets."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    parser.add_argument("--sizes", default=None, help="comma-separated watch counts")
    parser.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--items", type=int, default=None)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--languages",
        default="de,pl,ru",
        help="item languages measured beside English, comma-separated ('' for none)",
    )
    args = parser.parse_args()
    languages = tuple(code for code in args.languages.split(",") if code)
    n_items = args.items or (200 if args.quick else 2000)
    if args.one is not None:
        n_base = max(3, min(n_items, 2_000_000 // max(args.one, 1)))
        print(json.dumps(one_size(args.one, n_items, min(n_base, 300), args.seed, languages)))
        return 0
    default = "10,1000,10000" if args.quick else "10,1000,10000,100000"
    sizes = [int(s) for s in (args.sizes or default).split(",")]
    print(f"{'watches':>8} {'p50 µs':>8} {'p99 µs':>8} {'items/s':>8} {'cold p50':>8} "
          f"{'exact p50':>9} {'build s':>7} {'peak MiB':>8} {'base µs':>9} {'ratio':>6} "
          f"{'fires':>5} identical")  # fmt: skip
    ok = True
    for n in sizes:
        cmd = [sys.executable, __file__, "--one", str(n), "--items", str(n_items),
               "--seed", str(args.seed), "--languages", ",".join(languages)]  # fmt: skip
        r = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
        ok &= r["identical"]
        print(f"{n:>8} {r['p50_us']:>8.0f} {r['p99_us']:>8.0f} {r['items_per_s']:>8.0f} "
              f"{r['cold_p50_us']:>8.0f} {r['exact_p50_us']:>9.0f} {r['build_s']:>7.2f} "
              f"{r['peak_mib']:>8.0f} "
              f"{r['baseline_us']:>9.0f} {r['ratio']:>6.1f} {r['fires_per_item']:>5.1f} "
              f"{r['identical']} ({r['compared_items']} items)")  # fmt: skip
        for lang, x in r["languages"].items():
            ratio = x["p50_us"] / r["p50_us"]
            print(f"{'':>8} {lang} items: p50 {x['p50_us']:.0f} µs ({ratio:.2f}x English), "
                  f"p99 {x['p99_us']:.0f} µs; view built in {x['view_s']:.2f} s, "
                  f"first item {x['first_ms']:.0f} ms")  # fmt: skip
    print("targets: 100k p50<=300µs p99<=1000µs; 10k p50<=100µs; 100k build<=5s, <=300MB")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
