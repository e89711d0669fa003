"""The Big List of Naughty Strings as titles, bodies, rule terms and queries, and in messages.

Parsing gives clean items or a ParseError; a rule file either loads or names the spot; matching
never crashes and its offsets hold; Slack text has no unescaped ``& < >``; email headers no CR/LF.
"""

from __future__ import annotations

import email.policy
import json
import re
from datetime import UTC, datetime
from email.parser import BytesParser
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
import yaml

from alerts.clock import FrozenClock
from alerts.ingest import ParseError, parse_bulletin
from alerts.matching import Matcher, load_ruleset
from alerts.models import Alert, Hit, Item
from alerts.notify.destinations import make_senders
from alerts.notify.render import Renderer
from alerts.notify.settings import NotifySettings
from alerts.notify.smtp import SmtpSender
from alerts.rules import RuleSetError
from tests.hostile.conftest import RULE_ERROR

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
# After escaping, '&' may only start one of Slack's three entities.
BARE_AMP = re.compile(r"&(?!amp;|lt;|gt;)")
MAILTO = "mailto://user:pw@127.0.0.1:2525?from=alerts@example.org&to=desk@example.org"


def assert_clean(item: Item) -> None:
    """Valid Unicode without NUL, and JSON the workers can send on."""
    for text in (item.title, item.body, item.summary):
        text.encode("utf-8")
        assert "\x00" not in text
    assert Item.model_validate_json(item.model_dump_json()) == item


def bulletins(i: int, s: str) -> dict[str, tuple[bytes, str]]:
    """The string as title and body of a text, a JSON and an RSS bulletin."""
    rss = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
        f"<item><guid>n{i}</guid><title>{escape(s)}</title>"
        f"<description>{escape(s)} and more</description></item></channel></rss>"
    )
    return {
        "text": (f"{s}\n{s} said officials on Tuesday.\n".encode(), "text/plain"),
        "json": (json.dumps({"items": [{"title": s, "body": s}]}).encode(), "application/json"),
        "rss": (rss.encode("utf-8", "surrogatepass"), "application/rss+xml"),
    }


def test_parsing_gives_clean_items_or_a_parse_error(naughty: list[str]) -> None:
    outcomes = {"items": 0, "refused": 0}
    for i, s in enumerate(naughty):
        for kind, (data, ctype) in bulletins(i, s).items():
            try:
                items = parse_bulletin(data, source="blns", content_type=ctype)
            except ParseError as exc:
                assert str(exc), (kind, s)
                outcomes["refused"] += 1
                continue
            outcomes["items"] += 1
            for item in items:
                assert_clean(item)
    assert outcomes["items"] > outcomes["refused"]


def _term_file(i: int, s: str, how: str) -> str:
    spec: dict[str, object] = {"id": f"n{i}", "notify": {"channels": ["slack"]}}
    if how == "query":
        spec["query"] = s
    else:
        spec["any"] = [s]
    return yaml.safe_dump(spec, allow_unicode=True)


@pytest.mark.parametrize("how", ["term", "query"])
def test_each_string_as_a_rule_loads_or_gets_a_located_error(
    naughty: list[str], tmp_path: Path, how: str
) -> None:
    rules = tmp_path / how
    rules.mkdir()
    for i, s in enumerate(naughty):  # one file per string: the loader reports all in one pass
        (rules / f"n{i:04d}.yaml").write_text(_term_file(i, s, how), encoding="utf-8")
    with pytest.raises(RuleSetError) as info:
        load_ruleset(rules, channels=["slack"])
    refused = set()
    for error in info.value.errors:
        m = RULE_ERROR.match(str(error))
        assert m, str(error)
        refused.add(Path(m["path"]).name)
    accepted = [(i, s) for i, s in enumerate(naughty) if f"n{i:04d}.yaml" not in refused]
    assert accepted
    together = tmp_path / f"{how}-accepted"
    together.mkdir()
    for i, s in accepted:
        (together / f"n{i:04d}.yaml").write_text(_term_file(i, s, how), encoding="utf-8")
    matcher = Matcher(load_ruleset(together, channels=["slack"]))
    for j, s in enumerate(naughty):
        item = Item(id=f"i{j}", source="blns", title=s or "-", body=f"{s} and {s}", summary=s)
        for match in matcher.match(item):
            for h in match.hits:
                assert item.field_text(h.field)[h.start : h.end] == h.text


def naughty_alert(s: str) -> Alert:
    """An alert whose title, body, watch name and term are all the naughty string."""
    body = f"{s} ceasefire {s}"
    start = len(s) + 1
    item = Item(id="i1", source="blns", title=s or "-", body=body, url=None, published=NOW)
    hits = (Hit(term="ceasefire", field="body", start=start, end=start + 9, text="ceasefire"),)
    return Alert(watch="w", watch_name=s or "w", item=item, hits=hits, clause=f"any: {s}")


def test_slack_text_has_no_unescaped_control_characters(naughty: list[str]) -> None:
    renderer = Renderer()
    plain = renderer.render("slack", naughty_alert("plain")).text  # the template's own '>' quote
    for s in naughty:
        text = renderer.render("slack", naughty_alert(s)).text
        assert (text.count("<"), text.count(">")) == (plain.count("<"), plain.count(">")), s
        assert not BARE_AMP.search(text), (s, text)


def test_slack_link_keeps_one_url_whatever_the_url_and_title(naughty: list[str]) -> None:
    renderer = Renderer()
    for s in naughty:
        alert = naughty_alert(s)
        item = alert.item.model_copy(update={"url": f"https://example.org/?q={s}"})
        text = renderer.render("slack", alert.model_copy(update={"item": item})).text
        links = re.findall(r"<([^<>|]*)\|[^<>]*>", text)
        assert len(links) == 1 and links[0].startswith("https://example.org/?q="), (s, text)
        assert text.count("<") == 1 and text.count(">") == 2, (s, text)  # the link, the quote
        assert not BARE_AMP.search(text), (s, text)


def test_email_headers_stay_one_line(naughty: list[str]) -> None:
    renderer = Renderer()
    (sender,) = make_senders(MAILTO, NotifySettings(), FrozenClock(NOW))
    assert isinstance(sender, SmtpSender)
    for s in naughty:
        message = renderer.render("email", naughty_alert(s))
        assert "\r" not in message.subject and "\n" not in message.subject, s
        raw = sender.build(message).as_bytes()
        head = raw.split(b"\r\n\r\n", 1)[0]
        for line in head.split(b"\r\n"):
            assert b"\r" not in line and b"\n" not in line, (s, line)
            assert line[:1] in (b" ", b"\t") or b":" in line, (s, line)
        parsed = BytesParser(policy=email.policy.default).parsebytes(head + b"\r\n\r\n")
        assert _squash(str(parsed["Subject"])) == _squash(message.subject)  # see the xfail below
        assert message.html is not None and "<script" not in message.html.lower()


def _squash(text: str) -> str:
    return "".join(text.split())


@pytest.mark.xfail(
    strict=True,
    reason="alerts/notify/smtp.py SmtpSender.build sets Subject under email.policy.SMTP, whose "
    "RFC 2047 folding (CPython) puts a space at an encoded-word boundary, where readers drop "
    "it: a long emoji subject arrives with words run together",
)
def test_email_subject_arrives_exactly_as_rendered() -> None:
    hearts = "❤️ 💔 💌 💕 💞 💓 💗 💖 💘 💝 💟 💜 💛 💚 💙"  # a line of the naughty strings
    message = Renderer().render("email", naughty_alert(hearts))
    (sender,) = make_senders(MAILTO, NotifySettings(), FrozenClock(NOW))
    assert isinstance(sender, SmtpSender)
    parsed = BytesParser(policy=email.policy.default).parsebytes(sender.build(message).as_bytes())
    assert str(parsed["Subject"]) == message.subject
