"""The shipped alert templates as plain Python: what Jinja renders, without Jinja's runtime.

A Slack alert's template cost about 90k instructions through Jinja, a quarter of it the fixed
cost of one render (the context, the generator, the join) and most of the rest a finalize and
an escape call per expression. Each function here writes what its template writes, byte for
byte (``Renderer`` then strips it, as it strips Jinja's), from the same view.

Each is tied to its template's text by SHA-256: ``Renderer`` uses a function only while the
shipped file still has that digest and ``templates_dir`` does not override it; any other
template (an edited shipped one, a user's, a digest) renders through Jinja as before.
``tests/notify/test_prepared.py`` compares both ways on the golden corpus and hundreds of
random alerts, and fails when a template's digest no longer matches (edit the function, then
its digest).

Escaping whole runs of text at once is safe: Slack's ``& < >`` and HTML's ``& < > " '`` are
each a per-character substitution, so escaping a concatenation equals concatenating the
escapes, as long as the run holds no literal markup (``>`` quoting, ``<url|label>``, tags).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from markupsafe import escape

from alerts.notify.escape import slack_escape, slack_link_text
from alerts.notify.view import AlertView, Segment

Prepared = Callable[[dict[str, Any]], str]
_MUTE = "why this matched · mute"


def _marked(snippet: tuple[Segment, ...], before: str, after: str) -> str:
    """The snippet's text, each hit between ``before`` and ``after`` (not escaped)."""
    return "".join([f"{before}{text}{after}" if hit else text for text, hit in snippet])


def slack_alert(context: dict[str, Any]) -> str:
    """``slack_alert.j2``."""
    v: AlertView = context["v"]
    head = f":newspaper: *{slack_escape(v.watch_name)}*: {slack_link_text(v.url, v.title)}\n"
    quote = f">{slack_escape(_marked(v.snippet, '*', '*'))}\n" if v.snippet else ""
    terms = f"*{'*, *'.join(v.terms)}*" if v.terms else ""
    language = f" · {v.language}" if v.language else ""
    lines = slack_escape(f"Terms: {terms}\n_{v.why}_\n{v.source}{language} · {v.published}")
    link = f"{slack_link_text(v.link, _MUTE)}\n" if v.link else ""
    return f"{head}{quote}{lines}\n{link}"


def text_alert(context: dict[str, Any]) -> str:
    """``text_alert.j2`` and ``email_alert.txt.j2`` (the same text)."""
    v: AlertView = context["v"]
    url = f"{v.url}\n" if v.url else ""
    quote = f"\n{_marked(v.snippet, '[', ']')}\n" if v.snippet else ""
    language = f" · {v.language}" if v.language else ""
    link = f"Why this matched · mute: {v.link}\n" if v.link else ""
    terms = ", ".join(v.terms)
    return (
        f"{v.watch_name}: {v.title}\n{url}{quote}\nTerms: {terms}\n{v.why}\n"
        f"{v.source}{language} · {v.published}\n{link}"
    )


def email_alert_html(context: dict[str, Any]) -> str:
    """``email_alert.html.j2`` (HTML-escaped as Jinja's autoescape does, by markupsafe)."""
    v: AlertView = context["v"]
    title = escape(v.title)
    headline = f'<a href="{escape(v.url)}">{title}</a>' if v.url else title
    quote = ""
    if v.snippet:
        parts = [f"<mark>{escape(t)}</mark>" if hit else escape(t) for t, hit in v.snippet]
        quote = f"<blockquote>{''.join(parts)}</blockquote>\n"
    terms = ", ".join([f"<mark>{escape(t)}</mark>" for t in v.terms])
    language = f" · {escape(v.language)}" if v.language else ""
    link = f'<p><small><a href="{escape(v.link)}">{_MUTE}</a></small></p>\n' if v.link else ""
    return (
        f"<h2>{escape(v.watch_name)}</h2>\n<p><strong>{headline}</strong></p>\n{quote}"
        f"<p>Terms: {terms}</p>\n<p><em>{escape(v.why)}</em></p>\n"
        f"<p><small>{escape(v.source)}{language} · {escape(v.published)}</small></p>\n{link}"
    )


def subject_alert(context: dict[str, Any]) -> str:
    """``subject_alert.j2``."""
    v: AlertView = context["v"]
    return f"[{v.watch_name}] {v.title}"


# Template name: (SHA-256 of the template's file, the function written from that text).
PREPARED: dict[str, tuple[str, Prepared]] = {
    "slack_alert.j2": (
        "460e3de00cc8d9783b5d41f5c8b748d70bdbda6726a55df7c440f365c5cd5d2f",
        slack_alert,
    ),
    "text_alert.j2": (
        "46acdb3f304b3057b6fefa49dd6379f645cc8ed9731065e4140f76e2ef200b83",
        text_alert,
    ),
    "email_alert.txt.j2": (
        "46acdb3f304b3057b6fefa49dd6379f645cc8ed9731065e4140f76e2ef200b83",
        text_alert,
    ),
    "email_alert.html.j2": (
        "a19ab32dc8ee219f794eb02dc530c3476fd49ee027f426681f95bdb4a7234502",
        email_alert_html,
    ),
    "subject_alert.j2": (
        "da01c0d8d36eb6b62163f89caff94d52112b61b508a6341fa4c774715813c2c6",
        subject_alert,
    ),
}
