"""Escaping for each channel type: Slack mrkdwn, email headers, sanitised HTML."""

from __future__ import annotations

import base64
import binascii
import re

import nh3
from markupsafe import Markup

from alerts.notify.view import squash

_CONTROL = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]+")
_MSGID = re.compile(r"^<[^<>\s@]{1,200}@[^<>\s@]{1,200}>$")
_SLACK_TS = re.compile(r"^\d{1,12}\.\d{1,9}$")
# An RFC 2047 encoded word, read as leniently as any email library might (spaces inside too).
_ENCODED_WORD = re.compile(r"=\?([^?]*)\?([^?]*)\?([^?]*)\?=")
_DECODE_ROUNDS = 4

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
    return Markup(slack_link_text(url, label))


def slack_link_text(url: str | None, label: str) -> str:
    """``slack_link``'s text as a plain string (the prepared templates join plain strings)."""
    text = slack_escape(label)
    if not url:
        return text
    return f"<{slack_escape(url).replace('|', '%7C')}|{text}>"


def slack_linked(label: str, url: str | None) -> Markup:
    """``slack_link`` as a Jinja filter (``{{ title|slack_link(url) }}``): Jinja calls a filter
    directly, where a global function goes through its per-call checks (``Context.call``)."""
    return slack_link(url, label)


def slack_finalize(value: object) -> object:
    """Jinja ``finalize`` for Slack: every expression is escaped unless it is Markup."""
    if value.__class__ is str:  # a view's text, the usual: no Markup or None checks
        return slack_escape(value)
    if isinstance(value, Markup):
        return value
    if value is None:
        return ""
    return slack_escape(str(value))


def clean_header(text: str, limit: int = 200) -> str:
    """One line for an email header: no CR/LF or other control characters, bounded length.

    Encoded words (``=?utf-8?q?=0D=0A...?=``) are decoded and cleaned here: Python's email
    library before 3.11.10 (CVE-2024-6923) decodes them after us and writes a decoded CR LF
    out raw, a header injection. Whatever is left that still starts like one loses its ``=?``,
    so no library can decode anything from our headers.
    """
    flat = _flatten(text)[: limit * 8]  # bounded before the regex: titles can be huge
    for _ in range(_DECODE_ROUNDS):  # an encoded word may decode to another one
        if "=?" not in flat:  # no encoded word can start: the round would change nothing
            break
        decoded = _flatten(_ENCODED_WORD.sub(_decode_word, flat))
        if decoded == flat:
            break
        flat = decoded
    flat = flat.replace("=?", "= ?")
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _flatten(text: str) -> str:
    """Controls as spaces, whitespace runs as one space, none at the ends (``view.squash``).

    A printable text holds no control character: no regex scan for them.
    """
    if not text.isprintable():
        text = _CONTROL.sub(" ", text)
    return squash(text)


def _decode_word(word: re.Match[str]) -> str:
    """One encoded word as text (a charset Python lacks, or bad bytes, decode as UTF-8)."""
    charset, encoding, payload = word[1].partition("*")[0], word[2].lower(), word[3]
    raw = payload.encode("ascii", "replace")
    try:
        if encoding == "q":
            data = binascii.a2b_qp(raw, header=True)
        elif encoding == "b":
            data = base64.b64decode(re.sub(rb"[^A-Za-z0-9+/]", b"", raw) + b"===")
        else:
            return word[0]  # not an encoded word to any library; its "=?" is defused later
    except (binascii.Error, ValueError):
        return payload
    try:
        return data.decode(charset, "replace")
    except (LookupError, ValueError):  # unknown or non-text codec
        return data.decode("utf-8", "replace")


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
