"""A ``console://`` Apprise service that prints each alert to stdout (the `make run` demo)."""

from __future__ import annotations

import sys
from typing import Any

from apprise.decorators import notify

RULE = "─" * 72


@notify(on="console", name="Console (stdout)")
def print_to_console(body: str, title: str, notify_type: Any, *args: Any, **kwargs: Any) -> bool:
    """Print the title and body, framed, to stdout; always succeeds."""
    sys.stdout.write(f"{RULE}\n{title}\n\n{body.rstrip()}\n{RULE}\n")
    sys.stdout.flush()
    return True
