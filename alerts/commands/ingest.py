"""``alerts parse FILE...``: show the items a bulletin gives, as text or JSON lines."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from alerts.ingest.errors import ParseError
from alerts.ingest.parse import parse_bulletin
from alerts.models import Item

JSON_KEYS = ("id", "source", "title", "body", "url", "published", "language", "language_source")


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``parse`` command to the root CLI."""
    p = subparsers.add_parser("parse", help="parse bulletin FILEs (- for stdin) into items")
    p.add_argument("files", nargs="+", metavar="FILE", help="bulletin files, or - for stdin")
    p.add_argument(
        "--format", choices=("text", "json"), default="text", help="output (default text)"
    )
    p.add_argument("--source", default=None, help="source name (default: the file name)")
    p.add_argument(
        "--language", default=None, help="the source's language (BCP 47); else declared or detected"
    )
    p.set_defaults(func=run_parse)


def item_json(item: Item) -> dict[str, Any]:
    """The stable JSON shape of an item for ``parse --format json``."""
    published = item.published.isoformat() if item.published else None
    values = {**item.model_dump(include=set(JSON_KEYS)), "published": published}
    return {key: values[key] for key in JSON_KEYS}


def _read(name: str) -> bytes:
    if name == "-":
        return sys.stdin.buffer.read()
    return Path(name).read_bytes()


def _print_text(item: Item, out: Any) -> None:
    out.write(f"[{item.id}] {item.title}\n")
    if item.url:
        out.write(f"  url: {item.url}\n")
    if item.published:
        out.write(f"  published: {item.published.isoformat()}\n")
    if item.language:
        out.write(f"  language: {item.language} ({item.language_source})\n")
    for paragraph in item.body.split("\n\n") if item.body else []:
        out.write(f"  {paragraph}\n")
    out.write("\n")


def run_parse(args: argparse.Namespace) -> int:
    """Parse each FILE; exit 1 (after the others) when any cannot be read."""
    status = 0
    for name in args.files:
        source = args.source or ("stdin" if name == "-" else Path(name).name)
        try:
            items = parse_bulletin(_read(name), source=source, language=args.language)
        except ParseError as exc:
            where = f"{name}:{exc.line}" if exc.line else name
            print(f"{where}: {exc.message}", file=sys.stderr)
            status = 1
            continue
        except OSError as exc:
            print(f"{name}: {exc.strerror}", file=sys.stderr)
            status = 1
            continue
        for item in items:
            if args.format == "json":
                sys.stdout.write(json.dumps(item_json(item), ensure_ascii=False) + "\n")
            else:
                _print_text(item, sys.stdout)
    return status
