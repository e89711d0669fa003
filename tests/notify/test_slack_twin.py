"""The Python twin of the shipped slack_alert.j2 writes what the template renders, byte for byte.

The template is rendered through Jinja by copying it into a ``templates_dir`` (an override
always renders through Jinja); the twin serves a renderer without one.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from alerts.models import Alert, Hit, Item
from alerts.notify.render import SHIPPED, Renderer
from alerts.notify.slack_twin import TEMPLATE
from tests.hostile.conftest import BLNS
from tests.notify.golden_corpus import CONSOLE, contents


def _pair(tmp_path: Path, **options: object) -> tuple[Renderer, Renderer]:
    shutil.copy(SHIPPED / TEMPLATE, tmp_path / TEMPLATE)
    return Renderer(**options), Renderer(tmp_path, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize("options", [{}, {"console_url": CONSOLE, "snippet_chars": 60}])
def test_the_twin_writes_what_the_template_renders(tmp_path: Path, options: dict) -> None:
    twin, jinja = _pair(tmp_path, **options)
    alerts = [c for c in contents() if isinstance(c, Alert)]
    alerts += [e.alert for c in contents() if not isinstance(c, Alert) for e in c.entries]
    for alert in alerts:
        assert twin.render("slack", alert).text == jinja.render("slack", alert).text


def test_the_twin_writes_what_the_template_renders_for_naughty_strings(tmp_path: Path) -> None:
    if not BLNS.exists():
        pytest.skip("../shared/corpora/naughty-strings/blns.json is not present")
    naughty = [s for s in json.loads(BLNS.read_text(encoding="utf-8")) if isinstance(s, str)]
    twin, jinja = _pair(tmp_path, console_url=CONSOLE)
    for number, text in enumerate(naughty):
        body = f"{text} ceasefire {text}"
        start = body.index("ceasefire")
        item = Item(id=text or "x", source=text or "s", title=text, body=body, url=text or None)
        hit = Hit(term=text or "t", field="body", start=start, end=start + 9, text="ceasefire")
        alert = Alert(watch=text or "w", watch_name=text, item=item, hits=(hit,), clause=text)
        assert twin.render("slack", alert).text == jinja.render("slack", alert).text, number
