"""Escaping for each channel type: Slack mrkdwn, email headers, sanitised HTML."""

from __future__ import annotations

import re

import nh3
from markupsafe import Markup

_CONTROL = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]+")
_SPACE = re.compile(r"\s+")
_MSGID = re.compile(r"^<[^<>\s@]{1,200}@[^<>\s@]{1,200}>$")
_SLACK_TS = re.compile(r"^\d{1,12}\.\d{1,9}$")

HTML_TAGS = {
    "a", "b", "strong", "i", "em", "mark", "p", "br", "div", "span", "ul", "ol", "li",
    "h1", "h2", "h3", "h4", "small", "blockquote", "hr", "table", "tr", "td", "th",
}  # fmt: skip
HTML_ATTRIBUTES = {"a": {"href", "title"}}


def slack_escape(text: str) -> str:
    """Escape the three characters Slack mrkdwn treats as control: ``& < >``."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_link(url: str | None, label: str) -> Markup:
    """``<url|label>`` with both parts escaped; only the label when there is no safe URL."""
    text = slack_escape(label)
    if not url:
        return Markup(text)
    return Markup(f"<{slack_escape(url).replace('|', '%7C')}|{text}>")


def slack_finalize(value: object) -> object:
    """Jinja ``finalize`` for Slack: every expression is escaped unless it is Markup."""
    if isinstance(value, Markup):
        return value
    if value is None:
        return ""
    return slack_escape(str(value))


def clean_header(text: str, limit: int = 200) -> str:
    """One line for an email header: no CR/LF or other control characters, bounded length."""
    flat = _SPACE.sub(" ", _CONTROL.sub(" ", text)).strip()
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def sanitize_html(html: str) -> str:
    """Keep a small set of formatting tags and http(s)/mailto links (nh3)."""
    return nh3.clean(
        html,
        tags=HTML_TAGS,
        attributes=HTML_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )


def as_message_id(ref: str | None) -> str | None:
    """``ref`` when it is a well-formed ``<local@domain>`` Message-ID, else None."""
    return ref if ref and _MSGID.match(ref) else None


def as_slack_ts(ref: str | None) -> str | None:
    """``ref`` when it looks like a Slack message ``ts``, else None."""
    return ref if ref and _SLACK_TS.match(ref) else None
