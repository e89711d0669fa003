"""What rendering one alert costs the worker, in one process.

Each alert is built as the worker's benchmark items make them (``bench/pipeline_load.Items``:
a headline of eight made-up words, a body of about fifty with one watch's trigger in it, a
detected language, the API as source, no URL), firing one watch of its own, and rendered once for
``--kind`` by one ``Renderer`` (a new alert each time: no view is reused). The view is built
inside the measured span, as the worker's ``Renderer.render`` builds it.

Prints CPU µs per render (``time.process_time``); ``--callgrind`` counts instructions per
render under valgrind instead (steady where timings are not).
``ALERTS_BENCH_ROOT=/other/tree python bench/render_alert.py`` measures another tree's code.

``python bench/render_alert.py [--alerts 5000] [--kind slack|email|text] [--callgrind]``
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(
    0, os.environ.get("ALERTS_BENCH_ROOT") or str(Path(__file__).resolve().parent.parent)
)

sys.path.insert(1, str(Path(__file__).resolve().parent.parent))  # bench.callgrind, here
from bench.callgrind import instrumented, measured_instructions
from bench.pipeline_load import Items, make_watches

if TYPE_CHECKING:
    from alerts.notify.render import Kind


def make_alerts(n: int) -> list[Any]:
    """``n`` alerts, each of a new item firing a watch of its own (one hit in the body)."""
    from alerts.models import Alert, Hit, Item

    watches = make_watches(max(n, 1), random.Random(3))
    items = Items(watches)
    when = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
    out = []
    for i in range(n):
        raw, watch = items.make(alert=True), watches[i]
        start = raw["body"].index(watch.trigger)
        hit = Hit(
            term=watch.trigger, field="body", start=start, end=start + len(watch.trigger),
            text=watch.trigger, how=("exact",),
        )  # fmt: skip
        item = Item(
            **raw, source="api", published=when + timedelta(seconds=i),
            language="it", language_source="detected",
        )  # fmt: skip
        spec = watch.spec
        alert = Alert(
            watch=spec["id"], watch_name=spec["id"], item=item, hits=(hit,),
            clause=f"any: {watch.trigger}", channels=("slack",),
        )  # fmt: skip
        out.append(alert)
    return out


def run(n: int, kind: Kind, under_callgrind: bool) -> None:
    """Warm up on alerts of their own, then render ``n`` alerts once each."""
    from alerts.notify.render import Renderer

    renderer = Renderer()  # no console URL, as in bench/pipeline_item.py
    for alert in make_alerts(50):
        renderer.render(kind, alert).subject  # noqa: B018 (templates compiled, subject too)
    alerts = make_alerts(n)
    start = time.process_time()
    with instrumented(under_callgrind):
        for alert in alerts:
            renderer.render(kind, alert)
    took = time.process_time() - start
    print(f"{kind}: {took / n * 1e6:.1f} µs CPU per render ({n} alerts)")


def main() -> None:
    """Parse the arguments; measure (instructions: this script again, under callgrind)."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--alerts", type=int, default=5000)
    p.add_argument("--kind", choices=("slack", "email", "text"), default="slack")
    p.add_argument("--callgrind", action="store_true", help="instructions per render")
    p.add_argument("--instrumented", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if not args.callgrind:
        run(args.alerts, args.kind, args.instrumented)
        return
    options = ("--instrumented", "--alerts", str(args.alerts), "--kind", args.kind)
    per_render = measured_instructions(__file__, *options) / args.alerts
    print(f"{args.kind}: {per_render / 1e3:.1f}k instructions per render "
          f"({args.alerts} alerts, {sys.path[0]})")  # fmt: skip


if __name__ == "__main__":
    main()
