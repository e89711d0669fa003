"""The shipped templates' fast environment sends what Jinja's own lookups send, byte for byte.

The shipped templates render in ``render._Shipped`` (Python's ``getattr`` for a field, each
template's globals a plain dict); a ``templates_dir`` holding copies of the same files renders
them in Jinja's sandbox, with its own attribute lookup. Both must give the same Message for
every alert and digest: the golden corpus and many random ones built from hostile text (Slack
control characters, HTML, emoji, RTL marks, control bytes, the naughty strings), empty fields,
long snippets, no terms or several.
"""

from __future__ import annotations

import json
import random
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from jinja2 import Template
from jinja2.sandbox import SandboxedEnvironment

from alerts.models import Alert, Digest, DigestEntry, Hit, Item
from alerts.notify.render import SHIPPED, Kind, Renderer, _Twin
from tests.hostile.conftest import BLNS
from tests.notify.golden_corpus import CONSOLE, KINDS, contents

PIECES = [
    "<!channel> & <@U123|boss> *bold* _it_ ~s~ `code` >quote",
    '<script>alert("x")</script> &amp; &lt; "quotes" \'single\'',
    "Київ: тривога — «обстріл» ✓ 🚀🇺🇦 e\u0301",
    "\u202eevil\u202c שלום עולם مرحبا",
    "line\r\nBcc: x@example.org\u2028X: 1\x00\x1b[31m\u0085",
    "=?utf-8?q?=0D=0A?= {{ 7*7 }} {% raw %} |pipe|",
    "",
    "   ",
    "ceasefire",
]
URLS = [None, "", "https://x.org/a b?q=1&r=<2>|3#f", "javascript:alert(1)", "http://e|b.co/\"'"]


def _texts(rng: random.Random, extra: list[str]) -> str:
    words = rng.choices(PIECES + extra, k=rng.randint(0, 12))
    filler = " ".join(f"w{rng.randint(0, 99)}" for _ in range(rng.choice((0, 5, 80))))
    return " ".join([*words, filler, *rng.choices(PIECES, k=2)])


def _hits(rng: random.Random, field: str, text: str) -> list[Hit]:
    hits = []
    for _ in range(rng.randint(0, 4)):
        start = rng.randint(0, len(text))
        end = min(len(text), start + rng.randint(0, 12))
        stale = rng.random() < 0.2  # offsets that no longer point at the text
        term = rng.choice([*PIECES[:4], "truce", "ceasefire", text[start:end]])
        how = tuple(rng.sample(("exact", "inflected", "other_spelling"), rng.randint(0, 2)))
        shown = "stale" if stale else text[start:end]
        hits.append(Hit(term=term, field=field, start=start, end=end, text=shown, how=how))
    return hits


def _alert(rng: random.Random, extra: list[str]) -> Alert:
    """One random alert: hostile text in every field, any field empty, 0-8 hits."""
    body = "" if rng.random() < 0.1 else _texts(rng, extra)
    summary = rng.choice(("", _texts(rng, extra)))
    title = rng.choice(("", _texts(rng, extra), rng.choice(PIECES + extra)))
    offset = timezone(timedelta(minutes=rng.randint(-720, 720)))
    item = Item(
        id=rng.choice([*PIECES[:2], "item-1"]),
        source=rng.choice([*PIECES, "api"]) or "api",
        title=title,
        body=body,
        summary=summary,
        url=rng.choice(URLS),
        published=rng.choice((None, datetime(2026, 12, 6, 9, 1, 2, tzinfo=offset))),
        language=rng.choice((None, "uk", "en")),
        language_source=rng.choice(("declared", "detected")),
    )
    hits = _hits(rng, "body", body) + _hits(rng, "title", title) + _hits(rng, "summary", summary)
    return Alert(
        watch=rng.choice([*PIECES[:3], "w1"]),
        watch_name=rng.choice([*PIECES, "Watch"]),
        item=item,
        hits=tuple(hits),
        clause=rng.choice(("", "any: ceasefire, truce", _texts(rng, extra))),
        channels=("slack",),
    )


def _digest(rng: random.Random, extra: list[str]) -> Digest:
    entries = tuple(
        DigestEntry(story=f"s{rng.randint(0, 30)}", alert=_alert(rng, extra), count=1 + i % 3)
        for i in range(rng.choice((1, 4, 40)))
    )
    return Digest(
        watch="w",
        watch_name=rng.choice([*PIECES, "Digest"]),
        channel="slack",
        entries=entries,
        total=sum(e.count for e in entries),
        reason=rng.choice(("throttled", "digest", "quiet_hours", "other")),
    )


def _naughty() -> list[str]:
    """The naughty strings when ../shared has them (the random alerts need none)."""
    if not BLNS.exists():
        return []
    return [s for s in json.loads(BLNS.read_text(encoding="utf-8")) if isinstance(s, str)]


def varied() -> list[Alert | Digest]:
    """The golden corpus, then 400 random alerts and 20 random digests (a fixed seed)."""
    rng, extra = random.Random(13), _naughty()
    randoms = [_alert(rng, extra) for _ in range(400)]
    return [*contents(), *randoms, *(_digest(rng, extra) for _ in range(20))]


def _copies(tmp_path: Path) -> Path:
    """A templates_dir of copies of every shipped template: all rendered through the sandbox."""
    for template in SHIPPED.glob("*.j2"):
        shutil.copy(template, tmp_path / template.name)
    return tmp_path


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("console", [None, CONSOLE])
def test_shipped_fast_path_renders_what_jinjas_sandbox_renders(
    kind: Kind, console: str | None, tmp_path: Path
) -> None:
    fast = Renderer(console_url=console, snippet_chars=120)
    jinja = Renderer(_copies(tmp_path), console_url=console, snippet_chars=120)
    for number, content in enumerate(varied()):
        assert fast.render(kind, content) == jinja.render(kind, content), number
    envs = [type(t.environment) for t in jinja._templates.values()]
    assert envs and all(issubclass(env, SandboxedEnvironment) for env in envs)
    # The shipped alert templates render through their Python twins (``prepared``), the
    # digests through the plain environment; the copies all through Jinja's sandbox.
    twins = [name for (_, name), t in fast._templates.items() if isinstance(t, _Twin)]
    assert twins and all(
        name.endswith(("_alert.j2", "_alert.txt.j2", "_alert.html.j2")) for name in twins
    )
    envs = [type(t.environment) for t in fast._templates.values() if isinstance(t, Template)]
    assert envs and not any(issubclass(env, SandboxedEnvironment) for env in envs)
    assert len(twins) + len(envs) == len(fast._templates)


def test_random_alerts_cover_what_they_should() -> None:
    """The random alerts hold the cases the comparison is for (not an accident of the seed)."""
    alerts = [c for c in varied() if isinstance(c, Alert)]
    assert any(not a.hits for a in alerts)
    assert any(len({h.term for h in a.hits}) > 2 for a in alerts)
    assert any(not a.item.title for a in alerts) and any(not a.item.body for a in alerts)
    assert any(len(a.item.body) > 400 for a in alerts)
    assert any("🚀" in a.item.title for a in alerts)
    assert any("\u202e" in a.item.body for a in alerts)
    assert any(a.item.published is None for a in alerts) and any(a.item.url for a in alerts)


def test_a_missing_field_still_fails_a_shipped_style_rendering() -> None:
    """Python's getattr in the shipped environment: a field no view has is still an error."""
    from jinja2 import DictLoader

    from alerts.notify.render import _environment, _Shipped
    from alerts.notify.view import alert_view
    from tests.notify.conftest import make_alert

    env = _environment(_Shipped, DictLoader({"t": "{{ v.no_such_field }}"}), "slack")
    with pytest.raises(AttributeError):
        env.get_template("t").render(v=alert_view(make_alert()))


def test_a_missing_field_in_a_shipped_template_is_a_template_error_not_a_retry() -> None:
    """Through the renderer (and a channel's send) the AttributeError of ``_Shipped``'s
    getattr is a template error, as Jinja's undefined was: the delivery is not retried."""
    from jinja2 import DictLoader, TemplateError

    from alerts.notify.render import Renderer, _environment, _Shipped
    from tests.notify.conftest import make_alert

    renderer = Renderer()
    env = _environment(_Shipped, DictLoader({"t": "{{ v.no_such_field }}"}), "slack")
    renderer._templates[("slack", "slack_alert.j2")] = env.get_template("t")
    with pytest.raises(TemplateError, match="no_such_field"):
        renderer.render("slack", make_alert())


def test_slack_alert_lines_say_what_the_loop_and_the_link_call_said() -> None:
    """The terms joined in one expression (no loop object) and the links as a filter write
    what ``{% for t in v.terms %}*{{ t }}*{% if not loop.last %}, ...`` and
    ``slack_link(url, label)`` wrote, on every random alert (the golden file holds the rest)."""
    from alerts.notify.escape import slack_escape, slack_link
    from alerts.notify.view import alert_view

    renderer = Renderer(console_url=CONSOLE)
    for content in varied():
        if not isinstance(content, Alert):
            continue
        v = alert_view(content, width=renderer.snippet_chars, console_url=CONSOLE)
        text = renderer.render("slack", content).text
        header = f":newspaper: *{slack_escape(v.watch_name)}*: {slack_link(v.url, v.title)}\n"
        assert text.startswith(header)
        assert f"\nTerms: {', '.join(f'*{slack_escape(t)}*' for t in v.terms)}\n_" in text
        assert text.endswith(f"\n{slack_link(v.link, 'why this matched · mute')}\n")


def test_slack_finalize_escapes_as_slack_escape_does() -> None:
    """Its fast path for plain text is slack_escape's; Markup passes, None is empty."""
    from markupsafe import Markup

    from alerts.notify.escape import slack_escape, slack_finalize

    for text in [*PIECES, *_naughty(), "&amp;<<>>&", "a" * 1000]:
        assert slack_finalize(text) == slack_escape(text), repr(text)
        assert slack_finalize(Markup(text)) == text
    assert slack_finalize(None) == "" and slack_finalize(12) == "12"
    assert slack_finalize(Markup("<a|b>")) == "<a|b>"
