"""The rule commands: ``match``, ``rules check|test|schema|push|versions`` and ``backtest``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from alerts.matching import load_ruleset
from alerts.matching.explain import explain_text, match_json, match_text
from alerts.matching.matcher import Matcher
from alerts.rules.errors import RuleSetError
from alerts.rules.examples import check_examples
from alerts.rules.ruleset import RuleSet
from alerts.rules.schema import rules_schema


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the rule commands to the root CLI."""
    p = subparsers.add_parser("match", help="match bulletin FILEs (or -) against rules")
    p.add_argument("--rules", required=True, type=Path, help="rules directory")
    p.add_argument("files", nargs="+", metavar="FILE", help="bulletin files, or - for stdin")
    p.add_argument(
        "--format", choices=("json", "text"), default="text", help="output (default text)"
    )
    p.add_argument("--explain", action="store_true", help="clause, hits and marked snippets")
    p.set_defaults(func=cmd_match)
    rules = subparsers.add_parser("rules", help="check, test and describe watch rules")
    sub = rules.add_subparsers(dest="rules_command", required=True)
    for name, func, helptext in (
        ("check", cmd_rules_check, "validate rules (exit 1 listing every error)"),
        ("test", cmd_rules_test, "run the examples inside the rules"),
    ):
        q = sub.add_parser(name, help=helptext)
        q.add_argument(
            "dir", nargs="?", type=Path, default=None, help="rules directory (default rules_dir)"
        )
        q.set_defaults(func=func)
    sub.add_parser("schema", help="print the JSON Schema of rule files").set_defaults(
        func=cmd_rules_schema
    )
    q = sub.add_parser("push", help="validate DIR and publish it to every host's workers")
    q.add_argument("dir", type=Path, help="the rules directory to publish")
    q.set_defaults(func=cmd_rules_push)
    q = sub.add_parser("versions", help="the published rule set and each worker's version")
    q.set_defaults(func=cmd_rules_versions)
    p = subparsers.add_parser("backtest", help="replay archived items through candidate rules")
    p.add_argument("--rules", required=True, type=Path, help="candidate rules directory")
    p.add_argument("--since", default="7d", help="how far back, e.g. 7d, 12h (default 7d)")
    p.add_argument("--samples", type=int, default=3, help="example items shown per watch")
    p.add_argument(
        "--format", choices=("json", "text"), default="text", help="output (default text)"
    )
    p.set_defaults(func=cmd_backtest)


def _load(directory: Path, **kwargs: Any) -> RuleSet | None:
    try:
        return load_ruleset(directory, **kwargs)
    except RuleSetError as exc:
        for error in exc.errors:
            print(error, file=sys.stderr)
        return None


def _read(name: str) -> bytes:
    return sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()


def cmd_match(args: argparse.Namespace) -> int:
    """``alerts match``: one line (JSON or text) per (item, watch) match."""
    from alerts.ingest import IngestError, parse_bulletin

    ruleset = _load(args.rules)
    if ruleset is None:
        return 1
    matcher = Matcher(ruleset)
    for name in args.files:
        try:
            items = parse_bulletin(_read(name), source="stdin" if name == "-" else Path(name).name)
        except (OSError, IngestError) as exc:
            print(f"alerts: {name}: {exc}", file=sys.stderr)
            return 1
        for item in items:
            for match in matcher.match(item):
                print(_render(args, match, item, matcher))
    return 0


def _render(args: argparse.Namespace, match: Any, item: Any, matcher: Matcher) -> str:
    if args.format == "json":
        return json.dumps(match_json(match, item, explain=args.explain), ensure_ascii=False)
    if args.explain:
        rule = matcher.rule(match.watch)
        return explain_text(match, item, rule, color=sys.stdout.isatty()) + "\n"
    return match_text(match, item)


def _rules_dir(args: argparse.Namespace) -> tuple[Path, list[str] | None]:
    from alerts.settings import load_settings

    settings = load_settings(resolve_secrets=False)  # channel names, not their secrets
    channels = sorted(settings.channels) or None
    return (args.dir or settings.rules_dir), channels


SKIPPED_CHANNELS = (
    "note: no channels are configured (ALERTS_CONFIG, ./alerts.yaml or ALERTS_CHANNELS), "
    "so the watches' channel names were not checked"
)


def cmd_rules_check(args: argparse.Namespace) -> int:
    """``alerts rules check``: exit 0 when valid, else 1 with every error on stderr."""
    directory, channels = _rules_dir(args)
    if channels is None:
        print(SKIPPED_CHANNELS, file=sys.stderr)
    ruleset = _load(directory, channels=channels)
    if ruleset is None:
        return 1
    print(f"{directory}: {len(ruleset.rules)} watches OK (version {ruleset.version})")
    return 0


def cmd_rules_test(args: argparse.Namespace) -> int:
    """``alerts rules test``: run every example, report each failure, exit 1 if any."""
    directory, _ = _rules_dir(args)
    ruleset = _load(directory, examples=False)
    if ruleset is None:
        return 1
    matcher = Matcher(ruleset)
    total = sum(len(r.examples.match) + len(r.examples.no_match) for r in ruleset.rules)
    failed = 0
    if any(check_examples(matcher, rule) for rule in ruleset.rules):
        # The loader knows where each example stands: its errors carry path:line:col.
        try:
            load_ruleset(directory)
        except RuleSetError as exc:
            failed = len(exc.errors)
            for error in exc.errors:
                print(error)
    print(f"{total - failed} of {total} examples passed in {len(ruleset.rules)} watches")
    return 1 if failed else 0


def cmd_rules_schema(args: argparse.Namespace) -> int:
    """``alerts rules schema``: the JSON Schema on stdout."""
    print(json.dumps(rules_schema(), indent=2, ensure_ascii=False))
    return 0


def cmd_rules_push(args: argparse.Namespace) -> int:
    """``alerts rules push DIR``: publish a valid directory, versioned, into Redis."""
    from alerts.clock import system_clock
    from alerts.matching.published import publish
    from alerts.settings import load_settings

    settings = load_settings()
    client = settings.redis_client()
    try:
        ruleset = publish(
            client, args.dir, channels=sorted(settings.channels) or None, clock=system_clock
        )
    except RuleSetError as exc:
        for error in exc.errors:
            print(error, file=sys.stderr)
        return 1
    print(f"{args.dir}: {len(ruleset.rules)} watches published (version {ruleset.version})")
    return 0


def cmd_rules_versions(args: argparse.Namespace) -> int:
    """``alerts rules versions``: exit 1 when a live worker runs another version."""
    from alerts.clock import system_clock
    from alerts.matching.published import WORKER_REPORT_AGE, published, worker_versions
    from alerts.settings import load_settings

    client = load_settings().redis_client()
    meta = published(client)
    want = meta["version"] if meta else None
    print(f"published: {want or '(none: workers read their rules_dir)'}")
    workers = worker_versions(client, system_clock(), max_age=WORKER_REPORT_AGE)
    for name, status in workers.items():
        print(f"{name}: {status['version']} ({status['watches']} watches)")
    return 1 if want and any(s["version"] != want for s in workers.values()) else 0


def cmd_backtest(args: argparse.Namespace) -> int:
    """``alerts backtest``: per watch, the alerts it would have sent over ``--since``."""
    from alerts.commands.backtest import run_backtest

    return run_backtest(args)
