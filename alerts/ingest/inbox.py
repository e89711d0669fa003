"""An inbox folder: each file dropped in is ingested once, then moved, so nothing is lost.

A file that parses goes to ``processed/``; one that does not goes to ``failed/`` next to a
``NAME.error.txt`` holding the error. Hidden files and names ending in ``.tmp`` or ``.part`` are
left alone: producers write under such a name and rename when done.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alerts.clock import Clock
from alerts.ingest.errors import ParseError
from alerts.ingest.fetch import MAX_BYTES
from alerts.ingest.parse import parse_bulletin
from alerts.models import Item

ItemSink = Callable[[list[Item]], object]
PROCESSED = "processed"
FAILED = "failed"
_SKIP_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload")


def pending_files(folder: Path) -> list[Path]:
    """Files waiting in the inbox, oldest name first."""
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".") and not p.name.endswith(_SKIP_SUFFIXES)
    )


def _move(path: Path, folder: Path, stamp: str) -> Path:
    """Move a file into ``folder`` without overwriting an earlier one of the same name."""
    folder.mkdir(exist_ok=True)
    target = folder / path.name
    if target.exists():
        target = folder / f"{path.stem}.{stamp}{path.suffix}"
    n = 1
    while target.exists():
        target = folder / f"{path.stem}.{stamp}-{n}{path.suffix}"
        n += 1
    path.rename(target)
    return target


def _parse_file(path: Path, source: str, clock: Clock, language: str | None) -> list[Item]:
    if path.stat().st_size > MAX_BYTES:
        raise ParseError(path.name, None, f"file is over the {MAX_BYTES}-byte cap")
    return parse_bulletin(path.read_bytes(), source=source, clock=clock, language=language)


def poll_inbox(
    folder: Path,
    *,
    source: str,
    clock: Clock,
    on_items: ItemSink | None = None,
    language: str | None = None,
) -> list[Item]:
    """Ingest every pending file once: its items are returned, the file moved aside.

    ``on_items`` gets each file's items *before* the file is moved, so a crash in between
    ingests the file again (dedup drops the repeats) instead of losing it.
    """
    items: list[Item] = []
    stamp = clock().strftime("%Y%m%dT%H%M%S")
    for path in pending_files(folder):
        try:
            found = _parse_file(path, source, clock, language)
        except ParseError as exc:
            moved = _move(path, folder / FAILED, stamp)
            moved.with_name(moved.name + ".error.txt").write_text(f"{path.name}: {exc}\n")
            continue
        if on_items is not None:
            on_items(found)
        _move(path, folder / PROCESSED, stamp)
        items.extend(found)
    return items
