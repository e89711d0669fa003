"""Run parse_bulletin over the feedparser corpus; print files, items, failures and the slowest file.

A baseline is measured in the same run: feedparser.parse alone on the same bytes.
Usage: ``python bench/ingest_corpus.py [CORPUS_DIR]`` (default ../shared/corpora/feedparser).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import feedparser

from alerts.ingest import ParseError, parse_bulletin

DEFAULT = Path(__file__).resolve().parent.parent.parent / "shared" / "corpora" / "feedparser"


def _files(root: Path) -> list[Path]:
    return sorted(
        p for p in root.rglob("*") if p.is_file() and p.suffix != ".md" and p.name != "LICENSE"
    )


def _ours(data: bytes, name: str) -> tuple[int, str | None]:
    try:
        return len(parse_bulletin(data, source=name)), None
    except ParseError as exc:
        return 0, f"ParseError: {exc}"
    except Exception as exc:  # the bench reports crashes instead of stopping at the first
        return 0, f"CRASH {type(exc).__name__}: {exc}"


def main(argv: list[str]) -> int:
    """Print the corpus figures; exit 1 when any file crashed the parser."""
    root = Path(argv[0]) if argv else DEFAULT
    if not root.is_dir():
        print(f"{root}: no corpus here", file=sys.stderr)
        return 2
    files = _files(root)
    items = rejected = crashes = 0
    ours_total = base_total = slowest = 0.0
    slowest_file = ""
    for path in files:
        data = path.read_bytes()
        start = time.perf_counter()
        count, error = _ours(data, path.name)
        took = time.perf_counter() - start
        ours_total += took
        if took > slowest:
            slowest, slowest_file = took, str(path.relative_to(root))
        start = time.perf_counter()
        feedparser.parse(data)
        base_total += time.perf_counter() - start
        items += count
        rejected += error is not None and not error.startswith("CRASH")
        crashes += error is not None and error.startswith("CRASH")
        if error and error.startswith("CRASH"):
            print(f"{path}: {error}")
    print(f"files: {len(files)}  items: {items}  parse errors: {rejected}  crashes: {crashes}")
    print(f"slowest: {slowest_file} {slowest * 1000:.1f} ms")
    ratio = ours_total / base_total if base_total else float("nan")
    print(
        f"total: parse_bulletin {ours_total:.2f} s, "
        f"feedparser.parse alone {base_total:.2f} s, ratio {ratio:.2f}"
    )
    return 1 if crashes else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
