"""Operator commands: ``silence add|list|expire``, ``deliveries``, ``deadletter list|replay``."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass

from alerts.clock import Clock, system_clock
from alerts.delivery.ledger import STATUSES, DeliveryRow
from alerts.delivery.reconcile import dead_letters, list_deliveries, replay
from alerts.delivery.silences import Silence, add_silence, expire_silence, list_silences
from alerts.delivery.store import DeliveryStore, redis_store
from alerts.errors import ConfigError
from alerts.rules.notify import parse_duration


@dataclass(frozen=True)
class _Ctx:
    store: DeliveryStore
    clock: Clock


def open_store() -> _Ctx:
    """The Redis store named by the settings (``ALERTS_REDIS_URL`` / ``redis_url``)."""
    from alerts.settings import load_settings

    settings = load_settings(resolve_secrets=False)  # Redis only, not the channels' secrets
    if not settings.redis_url:
        raise ConfigError(["setting redis_url: needed by this command (ALERTS_REDIS_URL)"])
    client = settings.redis_client()
    return _Ctx(redis_store(client, settings.delivery), system_clock)


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the delivery commands to the root CLI."""
    _register_silence(subparsers)
    _register_ledger(subparsers)


def _register_silence(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    silence = subparsers.add_parser("silence", help="mute a watch for a while")
    sub = silence.add_subparsers(dest="silence_command", required=True)
    p = sub.add_parser("add", help="silence a watch (on one channel or all)")
    p.add_argument("--watch", required=True, metavar="ID", help="the watch to silence")
    p.add_argument("--for", dest="duration", required=True, metavar="DURATION", help="e.g. 2h")
    p.add_argument("--channel", default=None, metavar="NAME", help="only this channel")
    p.add_argument("--comment", default="", metavar="TEXT", help="why (shown in lists)")
    p.set_defaults(func=cmd_silence_add)
    p = sub.add_parser("list", help="active silences")
    p.add_argument("--all", action="store_true", help="include expired ones")
    p.set_defaults(func=cmd_silence_list)
    p = sub.add_parser("expire", help="end a silence now")
    p.add_argument("id", help="the silence's id (from silence add or list)")
    p.set_defaults(func=cmd_silence_expire)


def _register_ledger(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser("deliveries", help="the delivery ledger, newest first")
    p.add_argument("--watch", default=None, metavar="ID", help="only this watch")
    p.add_argument("--status", default=None, choices=STATUSES, help="only rows in this status")
    p.add_argument("--limit", type=int, default=100, help="at most this many rows")
    p.add_argument(
        "--format", choices=("text", "json"), default="text", help="output (default text)"
    )
    p.set_defaults(func=cmd_deliveries)
    dead = subparsers.add_parser("deadletter", help="deliveries that failed for good")
    sub = dead.add_subparsers(dest="deadletter_command", required=True)
    p = sub.add_parser("list", help="dead letters, newest first")
    p.add_argument("--limit", type=int, default=100, help="at most this many rows")
    p.add_argument(
        "--format", choices=("text", "json"), default="text", help="output (default text)"
    )
    p.set_defaults(func=cmd_deadletter_list)
    p = sub.add_parser("replay", help="put a dead letter back to pending (the reconciler resends)")
    p.add_argument("id", help="the dead letter's id (from deadletter list)")
    p.set_defaults(func=cmd_deadletter_replay)


def _silence_line(s: Silence) -> str:
    where = s.channel or "*"
    story = f"  story {s.story}" if s.story else ""
    line = f"{s.id}  {s.watch or '*'}  {where}{story}  until {s.ends_at.isoformat()}"
    return f"{line}  {s.comment}" if s.comment else line


def cmd_silence_add(args: argparse.Namespace) -> int:
    """``alerts silence add``: prints the new silence's id."""
    try:
        duration = parse_duration(args.duration)
    except ValueError as exc:
        print(f"alerts silence add: --for: {exc}", file=sys.stderr)
        return 2
    ctx = open_store()
    silence = add_silence(
        ctx.store.silences,
        args.watch,
        duration,
        ctx.clock(),
        channel=args.channel,
        comment=args.comment,
    )
    print(_silence_line(silence))
    return 0


def cmd_silence_list(args: argparse.Namespace) -> int:
    """``alerts silence list``."""
    ctx = open_store()
    for s in list_silences(ctx.store.silences, ctx.clock(), include_expired=args.all):
        print(_silence_line(s))
    return 0


def cmd_silence_expire(args: argparse.Namespace) -> int:
    """``alerts silence expire ID``: exit 1 when there is no such silence."""
    ctx = open_store()
    if expire_silence(ctx.store.silences, args.id, ctx.clock()) is None:
        print(f"alerts silence expire: no silence {args.id!r}", file=sys.stderr)
        return 1
    print(f"expired {args.id}")
    return 0


def _row_line(r: DeliveryRow) -> str:
    flag = "  possible-duplicate" if r.possible_duplicate else ""
    error = f"  {r.last_error}" if r.last_error else ""
    stamp = r.updated_at.isoformat(timespec="seconds")
    where = f"{r.watch}  {r.item_id}  {r.channel}"
    return f"{r.id}  {stamp}  {r.status:<9} {r.attempts}  {where}{flag}{error}"


def _print_rows(rows: list[DeliveryRow], fmt: str) -> None:
    for r in rows:
        if fmt == "json":
            print(json.dumps(r.model_dump(mode="json", exclude={"alert"}), ensure_ascii=False))
        else:
            print(_row_line(r))


def cmd_deliveries(args: argparse.Namespace) -> int:
    """``alerts deliveries [--watch ID] [--status S]``."""
    ctx = open_store()
    rows = list_deliveries(ctx.store, watch=args.watch, status=args.status, limit=args.limit)
    _print_rows(rows, args.format)
    return 0


def cmd_deadletter_list(args: argparse.Namespace) -> int:
    """``alerts deadletter list``."""
    ctx = open_store()
    _print_rows(dead_letters(ctx.store, limit=args.limit), args.format)
    return 0


def cmd_deadletter_replay(args: argparse.Namespace) -> int:
    """``alerts deadletter replay ID``: exit 1 unless ID is a dead letter."""
    ctx = open_store()
    if replay(ctx.store, args.id, ctx.clock()) is None:
        print(f"alerts deadletter replay: no dead letter {args.id!r}", file=sys.stderr)
        return 1
    print(f"replayed {args.id}: pending, the reconciler will send it")
    return 0
