"""Rendering with Jinja2: one template set per channel type, overridable by file name.

Each channel type has its own escaping, applied to every ``{{ expression }}``:
Slack escapes ``& < >`` (mrkdwn), email HTML uses HTML autoescape and is then sanitised with
nh3, plain text is left as is. Templates run in Jinja's sandbox.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Literal

from jinja2 import BaseLoader, ChoiceLoader, FileSystemLoader, StrictUndefined, Template
from jinja2.sandbox import ImmutableSandboxedEnvironment

from alerts.models import Alert, Digest
from alerts.notify.escape import clean_header, sanitize_html, slack_finalize, slack_link
from alerts.notify.view import AlertView, DigestView, Segment, StoryView, alert_view, digest_view

Kind = Literal["slack", "email", "text"]
SHIPPED = Path(__file__).resolve().parent / "templates"
_HTML_PAGE = (
    '<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head>\n<body>\n{body}\n</body></html>\n'
)


@dataclass(frozen=True)
class Message:
    """A rendered message: a one-line subject, a text body and, for email, an HTML body."""

    subject: str
    text: str
    html: str | None = None


class Renderer:
    """Renders alerts and digests for each channel type."""

    def __init__(
        self,
        templates_dir: Path | None = None,
        *,
        snippet_chars: int = 280,
        console_url: str | None = None,
    ) -> None:
        loaders: list[BaseLoader] = [FileSystemLoader(str(SHIPPED))]
        if templates_dir is not None:
            loaders.insert(0, FileSystemLoader(str(templates_dir)))
        loader = ChoiceLoader(loaders)
        self.snippet_chars = snippet_chars
        self.console_url = console_url
        self._text = _environment(loader, autoescape=False)
        self._html = _environment(loader, autoescape=True)
        self._slack = _environment(loader, autoescape=False, finalize=slack_finalize)
        self._slack.globals["slack_link"] = slack_link
        # Templates by environment and name: Jinja's own cache (auto_reload off: never
        # reloaded either) is an LRU behind a lock, looked up twice per rendered alert.
        self._templates: dict[tuple[int, str], Template] = {}

    def render(self, kind: Kind, content: Alert | Digest) -> Message:
        """Render ``content`` for a channel type."""
        what, context = self._context(content)
        subject = clean_header(self._template(self._text, f"subject_{what}.j2").render(context))
        if kind == "slack":
            text = self._template(self._slack, f"slack_{what}.j2").render(context)
            return Message(subject, text.strip() + "\n")
        if kind == "email":
            text = self._template(self._text, f"email_{what}.txt.j2").render(context)
            body = self._template(self._html, f"email_{what}.html.j2").render(context)
            html = _HTML_PAGE.format(body=sanitize_html(body))
            return Message(subject, text.strip() + "\n", html)
        text = self._template(self._text, f"text_{what}.j2").render(context)
        return Message(subject, text.strip() + "\n")

    def _context(self, content: Alert | Digest) -> tuple[str, dict[str, Any]]:
        if isinstance(content, Digest):
            return "digest", {"d": digest_view(content, width=self.snippet_chars // 2)}
        view = alert_view(content, width=self.snippet_chars, console_url=self.console_url)
        return "alert", {"v": view}

    def _template(self, env: ImmutableSandboxedEnvironment, name: str) -> Template:
        key = (id(env), name)
        found = self._templates.get(key)
        if found is None:
            found = self._templates[key] = env.get_template(name)
        return found


# The fields of our own view values: plain data (text, numbers, tuples of views), read with no
# sandbox check (which costs more than the rest of a Slack rendering's lookups together). Any
# other attribute, and everything done with a field's value, is checked as usual.
_VIEW_FIELDS = {
    cls: frozenset(f.name for f in fields(cls))
    for cls in (AlertView, Segment, StoryView, DigestView)
}


class _Sandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, with a fast path for our view values' fields."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        """A view field directly; anything else through the sandbox."""
        names = _VIEW_FIELDS.get(type(obj))
        if names is not None and attribute in names:
            return getattr(obj, attribute)
        return super().getattr(obj, attribute)


def _environment(loader: BaseLoader, **options: Any) -> ImmutableSandboxedEnvironment:
    return _Sandbox(
        loader=loader,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
        **options,
    )
