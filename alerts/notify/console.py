"""A ``console://`` Apprise service that prints each alert to stdout (the `make run` demo)."""

from __future__ import annotations

import sys
from typing import Any

from apprise.decorators import notify

RULE = "─" * 72


@notify(on="console", name="Console (stdout)")
def print_to_console(body: str, title: str, notify_type: Any, *args: Any, **kwargs: Any) -> bool:
    """Print the title and body, framed, to stdout; always succeeds."""
    # The real stdout: a Celery worker swaps sys.stdout for a logger, which printed each alert
    # as a WARNING record of a pool process.
    out = sys.__stdout__ or sys.stdout
    out.write(f"{RULE}\n{title}\n\n{body.rstrip()}\n{RULE}\n")
    out.flush()
    return True
