"""Rendering per channel type: escaping of untrusted text, HTML sanitising, digests, overrides."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from alerts.notify.escape import clean_header
from alerts.notify.render import Renderer
from tests.notify.conftest import make_alert, make_digest

HOSTILE_TITLE = "Ceasefire <!channel> <@U1> & <http://evil|bbc.co.uk> <!here|here>"
HOSTILE_BODY = "The ceasefire <script>alert(1)</script> <img src=x onerror=alert(1)> <!everyone>"


@pytest.fixture
def renderer() -> Renderer:
    return Renderer()


def _hostile():
    return make_alert(title=HOSTILE_TITLE, body=HOSTILE_BODY, url="http://evil|bbc.co.uk/a>b")


def _slack_controls(text: str) -> list[str]:
    """Every Slack control sequence ``<...>`` in a mrkdwn text."""
    return re.findall(r"<[^<>]*>", text)


def test_slack_untrusted_text_never_forms_a_control_sequence(renderer: Renderer) -> None:
    text = renderer.render("slack", _hostile()).text
    # The only <...> is our own headline link, with a percent-encoded pipe in the URL.
    (link,) = _slack_controls(text)
    assert link.startswith("<http://evil%7Cbbc.co.uk/a%3Eb|")
    label = link[link.index("|") + 1 : -1]
    assert "<" not in label and ">" not in label
    assert "&lt;!channel&gt;" in text and "&lt;@U1&gt;" in text and "&lt;!everyone&gt;" in text
    assert "&amp;" in text


def test_slack_alert_shows_watch_headline_terms_snippet_source_and_why(renderer: Renderer) -> None:
    text = renderer.render("slack", make_alert()).text
    assert "*Ceasefire*" in text
    assert "<https://www.bbc.co.uk/news/world-1|Ceasefire talks resume in Geneva>" in text
    assert ">Officials said the *ceasefire* would hold" in text
    assert "Terms: *ceasefire*" in text
    assert "_Matched any: ceasefire, truce: “ceasefire” in body_" in text
    assert "bbc-world · 2026-11-25 09:30 UTC" in text


def test_slack_headline_without_a_safe_url_is_plain_text(renderer: Renderer) -> None:
    text = renderer.render("slack", make_alert(url="javascript:alert(1)")).text
    assert _slack_controls(text) == []


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def test_email_html_is_escaped_and_sanitised(renderer: Renderer) -> None:
    html = renderer.render("email", _hostile()).html
    assert html is not None
    parser = _Tags()
    parser.feed(html)
    tags = {tag for tag, _ in parser.tags}
    assert not tags & {"script", "img", "iframe", "style"}
    assert not [name for _, attrs in parser.tags for name, _ in attrs if name.startswith("on")]
    assert "&lt;script&gt;" in html
    assert "&lt;!channel&gt;" in html


def test_email_html_links_headline_and_marks_terms(renderer: Renderer) -> None:
    message = renderer.render("email", make_alert())
    assert message.html is not None
    assert '<a href="https://www.bbc.co.uk/news/world-1" rel="noopener noreferrer">' in message.html
    assert "<mark>ceasefire</mark>" in message.html
    assert "Officials said the [ceasefire] would hold" in message.text


def test_subject_is_one_line(renderer: Renderer) -> None:
    alert = make_alert(title="Ceasefire\r\nBcc: victim@example.org\u2028X-Evil: 1")
    subject = renderer.render("email", alert).subject
    assert "\r" not in subject and "\n" not in subject and "\u2028" not in subject
    assert subject == "[Ceasefire] Ceasefire Bcc: victim@example.org X-Evil: 1"


def test_clean_header_bounds_length() -> None:
    assert len(clean_header("x" * 500)) == 200


@pytest.mark.parametrize("kind", ["slack", "email", "text"])
def test_digest_lists_stories_and_says_how_many_it_holds(renderer: Renderer, kind) -> None:
    message = renderer.render(kind, make_digest())
    assert "7 alerts in 2 stories" in message.text
    assert "Held back by the throttle" in message.text
    for title in ("Ceasefire holds in the north", "Truce talks stall", "Ceasefire holds, say"):
        assert title in message.text
    north = message.text.index("Ceasefire holds in the north")
    # Both entries of the north story come before the talks story: grouped, not interleaved.
    assert north < message.text.index("Ceasefire holds, say") < message.text.index("Truce talks")
    assert message.subject == "[Ceasefire] Held back by the throttle: 7 alerts"


def test_templates_dir_overrides_by_file_name(tmp_path: Path) -> None:
    (tmp_path / "slack_alert.j2").write_text("custom {{ v.title }} {{ v.watch_name }}")
    renderer = Renderer(tmp_path)
    alert = make_alert(title="A <b> & c")
    assert renderer.render("slack", alert).text == "custom A &lt;b&gt; &amp; c Ceasefire\n"
    # Templates not overridden still come from the shipped set.
    assert "Terms:" in renderer.render("text", alert).text


@pytest.mark.parametrize(
    "template",
    [
        "{{ v.__class__.__init__.__globals__ }}",
        # Through a field's value (fields are read without a sandbox check; their values are not)
        "{{ v.title.__class__.__mro__ }}",
        "{{ v.snippet[0].__class__.__init__.__globals__ }}",
        "{{ v.snippet.__class__.__subclasses__() }}",
        "{% set d = {} %}{{ d.update(a=1) }}",  # the immutable sandbox still refuses mutation
    ],
)
def test_templates_run_sandboxed(tmp_path: Path, template: str) -> None:
    from jinja2.exceptions import SecurityError

    (tmp_path / "text_alert.j2").write_text(template)
    with pytest.raises(SecurityError):
        Renderer(tmp_path).render("text", make_alert())


def test_digest_templates_run_sandboxed(tmp_path: Path) -> None:
    from jinja2.exceptions import SecurityError

    (tmp_path / "slack_digest.j2").write_text("{{ d.stories[0].alerts[0].__class__.__dict__ }}")
    with pytest.raises(SecurityError):
        Renderer(tmp_path).render("slack", make_digest())


def test_a_storm_digest_stays_within_slack_limits_and_counts_everything(
    renderer: Renderer,
) -> None:
    from alerts.models import Digest, DigestEntry

    entries = [
        DigestEntry(story=f"s{i}", alert=make_alert(item_id=f"i{i}", title=f"Story {i}"), count=1)
        for i in range(500)
    ]
    digest = Digest(
        watch="ceasefire", watch_name="Ceasefire", channel="slack",
        entries=tuple(entries), total=500, reason="throttled",
    )  # fmt: skip
    text = renderer.render("slack", digest).text
    assert len(text) < 40_000
    assert "500 alerts in 500 stories" in text
    assert "… and 475 more stories (475 alerts)" in text
    assert "Story 24" in text and "Story 25" not in text


def test_a_story_lists_three_entries_then_says_how_many_more(renderer: Renderer) -> None:
    from alerts.models import Digest, DigestEntry

    entries = tuple(
        DigestEntry(story="one", alert=make_alert(item_id=f"i{i}", title=f"Take {i}"), count=2)
        for i in range(5)
    )
    digest = Digest(watch="w", watch_name="W", channel="email", entries=entries, total=10)
    text = renderer.render("text", digest).text
    assert "(10 alerts)" in text and "Take 2" in text and "Take 3" not in text
    assert "… and 2 more" in text


@pytest.mark.parametrize("kind", ["slack", "email", "text"])
def test_with_a_console_url_an_alert_links_to_its_console_page(kind) -> None:
    alert = make_alert()
    linked = Renderer(console_url="https://alerts.example.org").render(kind, alert)
    page = "https://alerts.example.org/console/alert?watch=ceasefire&item=item-1"
    shown = linked.text + (linked.html or "")
    assert page in shown.replace("&amp;", "&")
    assert "why this matched · mute" in shown.lower()
    plain = Renderer().render(kind, alert)
    assert "/console/" not in plain.text + (plain.html or "")


def test_each_template_is_looked_up_once_and_renders_the_same_again(monkeypatch) -> None:
    """Once per template: a Jinja template (``get_template``) or a shipped one's Python twin
    (its file read and digested) is loaded at its first use, then kept."""
    looked: list[str] = []
    load = Renderer._load

    def counting(self, style, name):
        looked.append(name)
        return load(self, style, name)

    monkeypatch.setattr(Renderer, "_load", counting)
    renderer = Renderer()
    first = [renderer.render(kind, make_alert()) for kind in ("slack", "email", "text")]
    again = [renderer.render(kind, make_alert()) for kind in ("slack", "email", "text")]
    assert again == first
    assert sorted(looked) == sorted(set(looked)), looked  # once per template, then kept
    assert "slack_alert.j2" in looked and "subject_alert.j2" in looked


def test_a_users_template_that_includes_a_shipped_one_stays_sandboxed(tmp_path: Path) -> None:
    from jinja2.exceptions import SecurityError

    (tmp_path / "slack_alert.j2").write_text('{% include "text_alert.j2" %}')
    (tmp_path / "text_alert.j2").write_text("{{ v.title.__class__.__mro__ }}")
    with pytest.raises(SecurityError):
        Renderer(tmp_path).render("slack", make_alert())
    (tmp_path / "text_alert.j2").unlink()  # the include now finds the shipped template
    assert "Terms: ceasefire" in Renderer(tmp_path).render("slack", make_alert()).text


def test_shipped_templates_run_in_a_plain_environment_and_users_in_the_sandbox(
    tmp_path: Path,
) -> None:
    from jinja2.sandbox import SandboxedEnvironment

    (tmp_path / "slack_alert.j2").write_text("custom {{ v.title }}")
    renderer = Renderer(tmp_path)
    renderer.render("slack", make_alert())
    renderer.render("email", make_alert())
    envs = {
        name: type(getattr(t, "environment", t)) for (_, name), t in renderer._templates.items()
    }
    assert issubclass(envs.pop("slack_alert.j2"), SandboxedEnvironment)
    # the shipped ones: a Python twin (``prepared``) or the plain environment, never the sandbox
    assert envs and not any(issubclass(env, SandboxedEnvironment) for env in envs.values())


def _count_renders(monkeypatch) -> list[str | None]:
    """The names of the templates rendered from now on, through Jinja or a Python twin."""
    from jinja2 import Template

    from alerts.notify.prepared import PREPARED

    rendered: list[str | None] = []
    render = Template.render

    def counting(self, *args, **kwargs):
        rendered.append(self.name)
        return render(self, *args, **kwargs)

    def twin(name, function):
        def counted(context):
            rendered.append(name)
            return function(context)

        return counted

    monkeypatch.setattr(Template, "render", counting)
    for name, (digest, function) in PREPARED.items():
        monkeypatch.setitem(PREPARED, name, (digest, twin(name, function)))
    return rendered


def test_a_slack_subject_is_rendered_only_when_read_and_reads_the_same(monkeypatch) -> None:
    rendered = _count_renders(monkeypatch)
    alert = make_alert(title="Ceasefire\r\nBcc: x@example.org")
    message = Renderer().render("slack", alert)
    assert rendered == ["slack_alert.j2"]
    assert message.subject == Renderer().render("email", alert).subject
    assert message.subject == "[Ceasefire] Ceasefire Bcc: x@example.org"
    assert message == Renderer().render("slack", alert)


def test_a_broken_subject_template_of_a_user_still_fails_a_slack_rendering(
    tmp_path: Path,
) -> None:
    from jinja2 import TemplateError

    (tmp_path / "subject_alert.j2").write_text("{{ v.no_such_field }}")
    with pytest.raises(TemplateError):
        Renderer(tmp_path).render("slack", make_alert())


def test_an_alert_rendered_for_several_kinds_is_viewed_once(monkeypatch) -> None:
    import alerts.notify.render as render

    viewed: list[str] = []
    view = render.alert_view

    def counting(alert, **kwargs):
        viewed.append(alert.item.id)
        return view(alert, **kwargs)

    monkeypatch.setattr(render, "alert_view", counting)
    renderer, first = Renderer(), make_alert()
    second = make_alert(item_id="item-2", title="Ceasefire holds")
    for kind in ("slack", "email", "text"):
        renderer.render(kind, first)
    assert renderer.render("slack", second).text != renderer.render("slack", first).text
    assert viewed == ["item-1", "item-2", "item-1"]  # a new alert, then the first again
