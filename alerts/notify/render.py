"""Rendering with Jinja2: one template set per channel type, overridable by file name.

Each channel type has its own escaping, applied to every ``{{ expression }}``:
Slack escapes ``& < >`` (mrkdwn), email HTML uses HTML autoescape and is then sanitised with
nh3, plain text is left as is. A user's templates (``templates_dir``) run in Jinja's sandbox;
the shipped ones are our code, so they run in a plain environment (same escaping): the
sandbox's checks on every attribute and call were a fifth of a template's rendering. The
shipped alert templates render through their Python twins (``prepared``) while the files are
the ones the twins were written from.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any, Literal, Protocol

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateNotFound,
    UndefinedError,
)
from jinja2.sandbox import ImmutableSandboxedEnvironment

from alerts.models import Alert, Digest
from alerts.notify.escape import (
    clean_header,
    sanitize_html,
    slack_finalize,
    slack_link,
    slack_linked,
)
from alerts.notify.prepared import PREPARED, Prepared
from alerts.notify.view import AlertView, DigestView, Segment, StoryView, alert_view, digest_view

Kind = Literal["slack", "email", "text"]
SHIPPED = Path(__file__).resolve().parent / "templates"
_HTML_PAGE = (
    '<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head>\n<body>\n{body}\n</body></html>\n'
)


class Message:
    """A rendered message: a one-line subject, a text body and, for email, an HTML body.

    The subject may come unrendered (a function, called when it is first read): Slack never
    reads it, and rendering it was nearly a quarter of a Slack alert's rendering.
    """

    __slots__ = ("_subject", "html", "text")

    def __init__(
        self, subject: str | Callable[[], str], text: str, html: str | None = None
    ) -> None:
        self._subject, self.text, self.html = subject, text, html

    @property
    def subject(self) -> str:
        """The one-line subject (rendered now if it was not yet)."""
        if not isinstance(self._subject, str):
            self._subject = self._subject()
        return self._subject

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Message):
            return NotImplemented
        return (self.subject, self.text, self.html) == (other.subject, other.text, other.html)

    def __hash__(self) -> int:
        return hash((self.subject, self.text, self.html))

    def __repr__(self) -> str:
        return f"Message(subject={self.subject!r}, text={self.text!r}, html={self.html!r})"


Style = Literal["text", "html", "slack"]  # the escaping of one environment


class Renders(Protocol):
    """A Jinja template, or a shipped template's Python twin: renders a context to text."""

    def render(self, context: dict[str, Any]) -> str:
        """The rendered text (not stripped)."""
        ...


class _Twin:
    """A shipped template's Python twin (``prepared``), called as a template's ``render``."""

    __slots__ = ("render",)

    def __init__(self, render: Prepared) -> None:
        self.render = render


class Renderer:
    """Renders alerts and digests for each channel type."""

    def __init__(
        self,
        templates_dir: Path | None = None,
        *,
        snippet_chars: int = 280,
        console_url: str | None = None,
    ) -> None:
        shipped = FileSystemLoader(str(SHIPPED))
        self._overrides = FileSystemLoader(str(templates_dir)) if templates_dir else None
        # A user's template may include or extend a shipped one: its sandbox reads both.
        user = ChoiceLoader([self._overrides, shipped]) if self._overrides else shipped
        self.snippet_chars = snippet_chars
        self.console_url = console_url
        self._envs: dict[Style, tuple[Environment, Environment]] = {
            style: (_environment(_Sandbox, user, style), _environment(_Shipped, shipped, style))
            for style in ("text", "html", "slack")
        }
        # Templates by style and name: Jinja's own cache (auto_reload off: never reloaded
        # either) is an LRU behind a lock, looked up twice per rendered alert.
        self._templates: dict[tuple[Style, str], Renders] = {}
        self._shipped: dict[str, bool] = {}
        # The last content's view: an alert sent to several channels (or to a channel of
        # several kinds) is rendered from one view. Held by the content itself, so no other
        # content can ever pass for it.
        self._last: tuple[Alert | Digest, tuple[str, dict[str, Any]]] | None = None

    def render(self, kind: Kind, content: Alert | Digest) -> Message:
        """Render ``content`` for a channel type. A shipped template reading a field its view
        lacks fails as a user's template would, with a ``TemplateError`` (``_Shipped`` reads
        fields with Python's ``getattr``): a template error, not a retryable one."""
        try:
            return self._render(kind, content)
        except AttributeError as exc:
            raise UndefinedError(str(exc)) from exc

    def _render(self, kind: Kind, content: Alert | Digest) -> Message:
        what, context = self._context(content)
        if kind == "slack":
            text = self._template("slack", f"slack_{what}.j2").render(context)
            return Message(self._subject(what, context, lazy=True), text.strip() + "\n")
        subject = self._subject(what, context)
        if kind == "email":
            text = self._template("text", f"email_{what}.txt.j2").render(context)
            body = self._template("html", f"email_{what}.html.j2").render(context)
            html = _HTML_PAGE.format(body=sanitize_html(body))
            return Message(subject, text.strip() + "\n", html)
        text = self._template("text", f"text_{what}.j2").render(context)
        return Message(subject, text.strip() + "\n")

    def _subject(
        self, what: str, context: dict[str, Any], *, lazy: bool = False
    ) -> str | Callable[[], str]:
        """The subject, or when ``lazy`` and the template is the shipped one (which cannot
        fail), a function that renders it: a user's template still fails the send now."""
        name = f"subject_{what}.j2"
        template = self._template("text", name)
        if lazy and self._is_shipped(name):
            return lambda: clean_header(template.render(context))
        return clean_header(template.render(context))

    def _context(self, content: Alert | Digest) -> tuple[str, dict[str, Any]]:
        last = self._last  # one read: another thread may replace it meanwhile
        if last is not None and last[0] is content:
            return last[1]
        made: tuple[str, dict[str, Any]]
        if isinstance(content, Digest):
            made = "digest", {"d": digest_view(content, width=self.snippet_chars // 2)}
        else:
            view = alert_view(content, width=self.snippet_chars, console_url=self.console_url)
            made = "alert", {"v": view}
        self._last = (content, made)
        return made

    def _template(self, style: Style, name: str) -> Renders:
        key = (style, name)
        found = self._templates.get(key)
        if found is None:
            found = self._templates[key] = self._load(style, name)
        return found

    def _load(self, style: Style, name: str) -> Renders:
        shipped = self._is_shipped(name)
        twin = _twin(name) if shipped else None
        if twin is not None:
            return twin
        sandboxed, trusted = self._envs[style]
        template = (trusted if shipped else sandboxed).get_template(name)
        # Jinja keeps a template's globals as a ChainMap over the environment's (so later
        # changes show), walked key by key into every render's context; ours never change
        # once made, so a plain dict, copied in C, serves the same names.
        template.globals = dict(template.globals)
        return template

    def _is_shipped(self, name: str) -> bool:
        """True when ``templates_dir`` has no template of that name (the shipped one serves)."""
        found = self._shipped.get(name)
        if found is None:
            found = self._shipped[name] = not self._overrides or not _has(self._overrides, name)
        return found


def _twin(name: str) -> _Twin | None:
    """The shipped template's Python twin, while the file is the text it was written from."""
    prepared = PREPARED.get(name)
    if prepared is None:
        return None
    digest, render = prepared
    if hashlib.sha256((SHIPPED / name).read_bytes()).hexdigest() != digest:
        return None  # the template was edited since: Jinja renders it (a test says so)
    return _Twin(render)


def _has(loader: FileSystemLoader, name: str) -> bool:
    try:
        loader.get_source(Environment(), name)
    except TemplateNotFound:
        return False
    return True


# The fields of our own view values: plain data (text, numbers, tuples of views), read with no
# sandbox check (which costs more than the rest of a Slack rendering's lookups together). Any
# other attribute, and everything done with a field's value, is checked as usual.
_VIEW_FIELDS: dict[type, frozenset[str]] = {
    **{cls: frozenset(cls._fields) for cls in (AlertView, Segment)},
    **{cls: frozenset(f.name for f in fields(cls)) for cls in (StoryView, DigestView)},
}


class _Shipped(Environment):
    """The shipped templates' environment: our code, reading our view values' fields.

    Jinja's ``getattr`` (an attribute, else an item, else undefined) is a Python call per
    field read; Python's own serves, since every field a shipped template reads exists (a
    missing one still fails the rendering: ``Renderer.render`` makes its AttributeError an
    ``UndefinedError``, a template error).
    """

    getattr = staticmethod(getattr)  # type: ignore[assignment]


class _Sandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, with a fast path for our view values' fields."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        """A view field directly; anything else through the sandbox."""
        names = _VIEW_FIELDS.get(type(obj))
        if names is not None and attribute in names:
            return getattr(obj, attribute)
        return super().getattr(obj, attribute)


def _environment(cls: type[Environment], loader: BaseLoader, style: Style) -> Environment:
    env = cls(
        loader=loader,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
        autoescape=style == "html",
        finalize=slack_finalize if style == "slack" else None,
    )
    if style == "slack":
        env.globals["slack_link"] = slack_link
        env.filters["slack_link"] = slack_linked
    return env
