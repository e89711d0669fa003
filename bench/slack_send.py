"""What sending one Slack alert costs the worker, in one process: the body, the POST, the answer.

The Slack messages of ``bench/render_alert.py``'s alerts (rendered before the measured span) are
sent one after the other by the ``SlackSender`` the worker makes for the benchmark's webhook URL
(``make_senders``), to the Slack-like sink of ``bench/pipeline.py`` in a process of its own, over
one kept-alive connection: the JSON body, the request, the staleness check, the exchange on the
wire, the answer's parsing and classification.

Prints CPU µs per send (``time.process_time``: this process only, the sink's excluded) beside
a baseline measured in the same run: the same bodies POSTed by a bare ``http.client``
connection to the same sink, and the ratio between them. ``--callgrind`` counts instructions
per send under valgrind instead, without the baseline (steady where timings are not; the
kernel's work for the socket calls is not counted by either).
``ALERTS_BENCH_ROOT=/other/tree python bench/slack_send.py`` measures another tree's code.

``python bench/slack_send.py [--sends 2000] [--callgrind]``
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(
    0, os.environ.get("ALERTS_BENCH_ROOT") or str(Path(__file__).resolve().parent.parent)
)

sys.path.insert(1, str(Path(__file__).resolve().parent.parent))  # bench.*, here
from bench.callgrind import instrumented, measured_instructions
from bench.pipeline_sink import SinkProcess
from bench.pipeline_stack import SLACK_URL
from bench.render_alert import make_alerts


def bare_posts(webhook_base: str, bodies: list[bytes]) -> float:
    """The baseline: CPU seconds to POST ``bodies`` over one kept-alive ``http.client``
    connection to the sink's webhook path, each answer read (no classification, no retry)."""
    url = urlsplit(f"{webhook_base}/T0/B0/X0")
    conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port)
    headers = {"Content-Type": "application/json"}
    try:
        for body in bodies[:50]:  # warm-up, as the sender's
            conn.request("POST", url.path, body, headers)
            conn.getresponse().read()
        start = time.process_time()
        for body in bodies[50:]:
            conn.request("POST", url.path, body, headers)
            conn.getresponse().read()
        return time.process_time() - start
    finally:
        conn.close()


def run(n: int, under_callgrind: bool) -> None:
    """Warm the connection up, then send ``n`` rendered alerts once each."""
    from alerts.clock import system_clock
    from alerts.notify.destinations import make_senders
    from alerts.notify.render import Renderer
    from alerts.notify.settings import NotifySettings

    sink = SinkProcess().start()
    try:
        settings = NotifySettings(slack_webhook_base=sink.webhook_base)
        (sender,) = make_senders(SLACK_URL, settings, system_clock)
        renderer = Renderer()
        messages = [renderer.render("slack", alert) for alert in make_alerts(n + 50)]
        for message in messages[:50]:
            assert sender.send(message).ok
        start = time.process_time()
        with instrumented(under_callgrind):
            for message in messages[50:]:
                sender.send(message)
        took = time.process_time() - start
        bodies = [json.dumps({"text": message.text}).encode() for message in messages]
        bare = None if under_callgrind else bare_posts(sink.webhook_base, bodies)
    finally:
        sink.stop()
    print(f"slack send: {took / n * 1e6:.1f} µs CPU per send ({n} sends)")
    if bare is not None:
        print(
            f"baseline, a bare http.client POST of each text: {bare / n * 1e6:.1f} µs CPU per "
            f"send; ratio {took / bare:.2f}x"
        )


def main() -> None:
    """Parse the arguments; measure (instructions: this script again, under callgrind)."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sends", type=int, default=2000)
    p.add_argument("--callgrind", action="store_true", help="instructions per send")
    p.add_argument("--instrumented", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if not args.callgrind:
        run(args.sends, args.instrumented)
        return
    per_send = measured_instructions(__file__, "--instrumented", "--sends", str(args.sends))
    print(f"slack send: {per_send / args.sends / 1e3:.1f}k instructions per send "
          f"({args.sends} sends, {sys.path[0]})")  # fmt: skip


if __name__ == "__main__":
    main()
