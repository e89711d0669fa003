"""The I/O half of ``alerts backtest``: archived items from Redis, a progress bar on stderr."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import timedelta

from rich.console import Console
from rich.progress import Progress

from alerts.clock import Clock, system_clock
from alerts.matching import load_ruleset
from alerts.matching.backtest import BacktestReport, backtest
from alerts.models import Item
from alerts.rules.errors import RuleSetError
from alerts.rules.notify import parse_duration


def archived_items(since: timedelta, clock: Clock = system_clock) -> list[Item]:
    """Items the ingest archive kept over the last ``since`` (needs a Redis URL)."""

    from alerts.ingest.dedup import RedisItemArchive
    from alerts.settings import load_settings

    settings = load_settings(resolve_secrets=False)  # Redis only, not the channels' secrets
    if settings.redis_url is None:
        raise ValueError("backtest reads the item archive: set ALERTS_REDIS_URL")
    client = settings.redis_client()
    try:
        archive = RedisItemArchive(client, timedelta(days=settings.item_retention_days))
        return list(archive.iter_since(clock() - since))
    finally:
        client.close()


def render(report: BacktestReport) -> str:
    """The report as readable text."""
    lines = [f"{report.items} items replayed through rules version {report.ruleset_version}"]
    for w in sorted(report.watches, key=lambda w: (-w.alerts, w.watch)):
        lines.append(f"{w.alerts:6d}  {w.watch} ({w.name}) -> {', '.join(w.channels)}")
        lines += [f"          {s.item_id}: {s.title!r}  [{s.clause}]" for s in w.samples]
    return "\n".join(lines)


def run_backtest(args: argparse.Namespace, items: list[Item] | None = None) -> int:
    """Load the candidate rules, replay the items with a progress bar, print the report."""
    try:
        ruleset = load_ruleset(args.rules)
        window = parse_duration(args.since)
        replay = archived_items(window) if items is None else items
    except RuleSetError as exc:
        print("\n".join(str(e) for e in exc.errors), file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"alerts: {exc}", file=sys.stderr)
        return 2
    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("backtest", total=len(replay))
        report = backtest(ruleset, replay, samples=args.samples, on_item=lambda: bar.advance(task))
    if args.format == "json":
        print(json.dumps(report.to_json(), ensure_ascii=False))
    else:
        print(render(report))
    return 0
