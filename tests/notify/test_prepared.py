"""The shipped alert templates' Python twins (``prepared``) write what Jinja writes, byte for byte.

Each twin is compared with its template rendered by Jinja (the shipped environment, raw output:
before the renderer strips it) on the golden corpus, the random hostile alerts of
``test_render_paths`` and alerts in many scripts with Slack, markdown and HTML control text,
missing URL, body and time, long bodies and several matched terms, with and without a console.
A template edited since its twin was written has another digest: this file fails until the
twin and its digest are updated, and meanwhile the renderer renders the file through Jinja.
"""

from __future__ import annotations

import hashlib
import random
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from jinja2 import Template

import alerts.notify.render as render
from alerts.models import Alert, Hit, Item
from alerts.notify.prepared import PREPARED
from alerts.notify.render import SHIPPED, Renderer, _Twin
from alerts.notify.view import alert_view
from tests.notify.conftest import make_alert
from tests.notify.golden_corpus import CONSOLE
from tests.notify.test_render_paths import varied

STYLES = {
    "slack_alert.j2": "slack",
    "text_alert.j2": "text",
    "email_alert.txt.j2": "text",
    "email_alert.html.j2": "html",
    "subject_alert.j2": "text",
}
TEXTS = [
    "Київ: тривога — «обстріл» триває",
    "東京で停戦合意が発表された 停戦",
    "وقف إطلاق النار في غزة \u200f صمد",
    "संघर्ष विराम लागू हुआ",
    "*bold* _it_ ~strike~ `code` ```block``` > quote <!here> <@U1> <#C1|c> &amp; a & b < c > d",
    '<b>html</b> <a href="javascript:x">x</a> "double" \'single\' &lt;',
    "Zürich: Waffenruhe gilt — e\u0301 ﬁ 🚀🇺🇦 \u202eevil\u202c",
    "tabs\tand  double  spaces\nand lines\r\n\u2028end",
]


def _alerts() -> list[Alert]:
    """Alerts in many scripts: each optional part set and unset, long bodies, 0-5 terms."""
    rng = random.Random(7)
    out = []
    for number in range(300):
        words = rng.choices(TEXTS, k=rng.choice((1, 3, 40)))
        body = "" if number % 7 == 0 else " ".join(words)
        title = rng.choice(["", *TEXTS])
        hits = []
        for _ in range(rng.randint(0, 5)):
            field, text = rng.choice((("body", body), ("title", title)))
            if not text:
                continue
            start = rng.randint(0, len(text) - 1)
            end = min(len(text), start + rng.randint(1, 9))
            term = rng.choice([text[start:end], "ceasefire", rng.choice(TEXTS)[:12]])
            how = tuple(rng.sample(("exact", "inflected", "other_spelling"), rng.randint(0, 2)))
            shown = text[start:end]
            hits.append(Hit(term=term, field=field, start=start, end=end, text=shown, how=how))
        offset = timezone(timedelta(hours=rng.randint(-11, 12)))
        item = Item(
            id=f"item-{number}&<x>",
            source=rng.choice(("api", "rss <feed> & co", "Укрінформ")),
            title=title,
            body=body,
            summary=rng.choice(("", rng.choice(TEXTS))),
            url=rng.choice((None, "https://x.org/a?b=1&c=<2>|3", "https://новини.укр/статья")),
            published=rng.choice((None, datetime(2026, 12, 6, 9, 1, tzinfo=offset))),
            language=rng.choice((None, "uk", "ja", "ar")),
            language_source=rng.choice(("declared", "detected")),
        )
        out.append(
            Alert(
                watch=f"w{number}",
                watch_name=rng.choice(["Watch & <co>", *TEXTS]),
                item=item,
                hits=tuple(hits),
                clause=rng.choice(("", "any: ceasefire, «перемир'я»")),
                channels=("slack",),
            )
        )
    return out


def _everything() -> list[Alert]:
    return [c for c in varied() if isinstance(c, Alert)] + _alerts()


def test_every_twin_was_written_from_the_shipped_template_as_it_is() -> None:
    """A template edited since its twin was written: update the twin, then its digest here."""
    for name, (digest, _) in PREPARED.items():
        assert hashlib.sha256((SHIPPED / name).read_bytes()).hexdigest() == digest, name
    assert set(PREPARED) == set(STYLES)


@pytest.mark.parametrize("name", sorted(STYLES))
@pytest.mark.parametrize("console", [None, CONSOLE])
def test_each_twin_writes_what_its_template_writes(name: str, console: str | None) -> None:
    renderer = Renderer(console_url=console, snippet_chars=160)
    template = renderer._envs[STYLES[name]][1].get_template(name)  # type: ignore[index]
    twin = PREPARED[name][1]
    alerts = _everything()
    for number, alert in enumerate(alerts):
        context = {"v": alert_view(alert, width=160, console_url=console)}
        assert twin(context) == template.render(context), (number, name)


def test_the_alerts_compared_hold_the_cases_they_are_for() -> None:
    alerts = _alerts()
    views = [alert_view(a, console_url=CONSOLE) for a in alerts]
    assert any(not v.url for v in views) and any(v.url for v in views)
    assert any(not a.item.body for a in alerts) and any(len(a.item.body) > 1000 for a in alerts)
    assert any(a.item.published is None for a in alerts)
    assert any(len(v.terms) >= 3 for v in views) and any(not v.terms for v in views)
    assert any(sum(s.hit for s in v.snippet) >= 2 for v in views)
    assert any(v.snippet and v.snippet[0].text == "… " for v in views)
    joined = "".join(v.title + "".join(s.text for s in v.snippet) for v in views)
    for text in ("東京", "غزة", "संघर्ष", "Київ", "<!here>", "&amp;", "*bold*", "<b>", "🇺🇦"):
        assert text in joined, text


def test_the_renderer_uses_the_twins_for_the_shipped_alert_templates() -> None:
    renderer = Renderer()
    for kind in ("slack", "email", "text"):
        renderer.render(kind, make_alert()).subject  # noqa: B018 (the subject rendered too)
    twins = {name for (_, name), t in renderer._templates.items() if isinstance(t, _Twin)}
    assert twins == set(STYLES)


def test_an_edited_shipped_template_renders_through_jinja(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The twin serves only the text it was written from: an edit shows at once."""
    for template in SHIPPED.glob("*.j2"):
        shutil.copy(template, tmp_path / template.name)
    (tmp_path / "slack_alert.j2").write_text("edited {{ v.title }}\n", encoding="utf-8")
    monkeypatch.setattr(render, "SHIPPED", tmp_path)
    renderer = Renderer()
    assert renderer.render("slack", make_alert(title="A & B")).text == "edited A &amp; B\n"
    assert isinstance(renderer._templates[("slack", "slack_alert.j2")], Template)
    renderer.render("text", make_alert())  # an unedited copy: its twin still serves
    assert isinstance(renderer._templates[("text", "text_alert.j2")], _Twin)


def test_a_templates_dir_template_is_never_replaced_by_a_twin(tmp_path: Path) -> None:
    (tmp_path / "slack_alert.j2").write_text("mine {{ v.title }}", encoding="utf-8")
    renderer = Renderer(tmp_path)
    assert renderer.render("slack", make_alert(title="T")).text == "mine T\n"
    assert not isinstance(renderer._templates[("slack", "slack_alert.j2")], _Twin)
