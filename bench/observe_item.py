"""What an alerting item's metrics and log lines cost the worker, in one process.

Per item, as the ingest task's body records them: the items parsed and new (one bulletin of
one item), ``matched`` (one match time, one watch: a different one of ``--watches`` each item,
so every item's watch label is seen for the first time, as for each watch's first alert in a
running worker), the send's ``delivered``, and the two INFO lines ("delivery sent: ..." with
the delivery's ids, "bulletin from X: 1 new items" with the bulletin's) through the configured
handler (text or JSON) into a file. prometheus-client counts in multiprocess mode, as in the
service.

Prints CPU µs per item (``time.process_time``); ``--callgrind`` counts instructions per item
under valgrind instead (steady where timings are not; ``--items 2000`` takes about a minute).
``ALERTS_BENCH_ROOT=/other/tree python bench/observe_item.py`` measures another tree's code.

``python bench/observe_item.py [--items 10000] [--format text|json] [--callgrind]``
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(
    0, os.environ.get("ALERTS_BENCH_ROOT") or str(Path(__file__).resolve().parent.parent)
)

sys.path.insert(1, str(Path(__file__).resolve().parent.parent))  # bench.callgrind, here
from bench.callgrind import control, measured_instructions

CHANNEL = "slack"


def record_items(n: int, log: logging.Logger, delivery: logging.Logger) -> None:
    """The metrics and log lines of ``n`` alerting items, each firing a watch of its own."""
    from alerts.observe import metrics

    for i in range(n):
        bulletin = {"source": "api", "bulletin_id": f"b{i:08d}"}
        metrics.items_parsed("api", "json", 1)
        metrics.items_new("api", 1)
        metrics.matched([0.00031], iter([f"watch-{i:06d}"]))
        metrics.delivered(CHANNEL, "sent")
        ids = {
            "item_id": f"item-{i:08d}",
            "watch": f"watch-{i:06d}",
            "channel": CHANNEL,
            "delivery_id": f"{i:032x}",
        }
        delivery.log(
            logging.INFO, "delivery %s: %s", "sent", "sent", extra={**ids, "status": "sent"}
        )
        log.info(
            "bulletin from %s: %d new items", "api", 1,
            extra={**bulletin, "item_ids": [ids["item_id"]]},
        )  # fmt: skip


def run(n: int, fmt: str, instrumented: bool) -> None:
    """Set up logging into a scratch file, warm up, then measure ``n`` items."""
    from alerts.observe.logs import configure_logging
    from alerts.observe.settings import LogSetup

    with tempfile.TemporaryDirectory(prefix="alerts-observe-bench-") as scratch:
        out = open(Path(scratch) / "log", "w")  # noqa: SIM115 (closed below)
        configure_logging(LogSetup(format=fmt, secrets=("s3cr3t-token",)), stream=out)
        log = logging.getLogger("alerts.usecases.bulletins")
        delivery = logging.getLogger("alerts.handoff")
        record_items(50, log, delivery)  # the fixed labels' children, the first time second
        from alerts.observe import metrics

        metrics.matched([0.1], iter(["warm"]))
        if instrumented:
            control("-i", "on")
        start = time.process_time()
        record_items(n, log, delivery)
        took = time.process_time() - start
        if instrumented:
            control("-d", "measured")
            control("-i", "off")
        out.close()
        print(f"{fmt}: {took / n * 1e6:.1f} µs CPU per item ({n} items)")


def callgrind(n: int, fmt: str) -> None:
    """Instructions per item, this script run under callgrind."""
    total = measured_instructions(__file__, "--instrumented", "--items", str(n), "--format", fmt)
    print(f"{fmt}: {total / n / 1e3:.1f}k instructions per item ({n} items, {sys.path[0]})")


def main() -> None:
    """Parse the arguments; measure."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--items", type=int, default=10000)
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--callgrind", action="store_true", help="instructions per item")
    p.add_argument("--instrumented", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.callgrind:
        callgrind(args.items, args.format)
    else:
        run(args.items, args.format, args.instrumented)


if __name__ == "__main__":
    main()
