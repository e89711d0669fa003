"""The pages over memory stores: playground, backtest, saving, watches, sources, feeds."""

from __future__ import annotations

import base64
import re
import shutil
from datetime import timedelta
from pathlib import Path

import feedparser

from alerts.api.console.auth import Tokens
from alerts.delivery.ledger import DeliveryRow
from alerts.ingest.state import SourceState
from alerts.models import Alert, Hit, Item
from tests.api.console.conftest import FEED, NOW, ROOT, Console, make_console

DRAFT = "id: kaluga-draft\nany: [Kaluga]\nnotify:\n  channels: [email]\n"
BULLETIN = (ROOT / "examples" / "bulletin.txt").read_text(encoding="utf-8")


def play(console: Console, action: str, **fields: str):  # type: ignore[no-untyped-def]
    """Press a playground button."""
    data = {"csrf": console.csrf("/console/playground"), "action": action, **fields}
    return console.client.post("/console/playground", data=data)


def archive(console: Console, *items: tuple[int, str]) -> None:
    """Archive items ingested ``days`` ago with these titles."""
    for days, title in items:
        item = Item(id=f"{days}-{title}", source="wire", title=title)
        console.deps.archive.add([item], NOW - timedelta(days=days))


def test_a_draft_shows_its_hits_explained(console: Console) -> None:
    console.sign_in()
    html = play(console, "try", text=BULLETIN, draft=DRAFT).text
    assert "3 items parsed" in html
    assert "<mark>Kaluga</mark> region" in html
    assert (
        "<td>title</td><td><code>Kaluga</code></td><td><mark>Kaluga</mark></td><td>exact</td><td>34–40</td>"
        in html
    )


def test_draft_errors_show_as_line_and_column(console: Console) -> None:
    console.sign_in()
    html = play(console, "try", text=BULLETIN, draft=DRAFT + "colour: red\n").text
    assert "5:1: unknown field &#39;colour&#39;" in html or "5:1:" in html
    assert "items parsed" not in html
    broken = play(console, "try", text="x", draft="id: [unclosed\n").text
    assert re.search(r"<code>\d+:\d+: ", broken)


def test_picked_watches_are_tried_when_there_is_no_draft(console: Console) -> None:
    console.sign_in()
    html = play(console, "try", text=BULLETIN, watch="ceasefire").text
    assert "ceasefire</strong></a> matched" in html and "kaluga</strong></a> matched" not in html


def test_backtest_counts_the_draft_s_matches_per_day(console: Console) -> None:
    archive(
        console,
        (0, "Kaluga depot on fire"),
        (0, "Fire in Kaluga again"),
        (2, "Kaluga"),
        (1, "Oslo"),
    )
    console.sign_in()
    html = play(console, "backtest", text="", draft=DRAFT, days="3").text
    assert "kaluga-draft: 3 items over 3 days" in html
    today, two_days_ago = NOW.date().isoformat(), (NOW - timedelta(days=2)).date().isoformat()
    assert f'<td>{today}</td><td class="num">2</td>' in html
    assert f'<td>{two_days_ago}</td><td class="num">1</td>' in html


def test_a_url_goes_through_the_ssrf_guard(console: Console) -> None:
    console.sign_in()
    html = play(console, "try", url="http://127.0.0.1:9/feed.xml", draft=DRAFT).text
    assert 'class="problem"' in html and "127.0.0.1" in html and "items parsed" not in html


def test_without_allow_edit_the_yaml_is_downloaded_not_saved(console: Console) -> None:
    console.sign_in()
    assert "Save into the rules" not in console.client.get("/console/playground").text
    got = play(console, "download", draft=DRAFT)
    assert got.text == DRAFT and "attachment" in got.headers["content-disposition"]
    assert play(console, "save", draft=DRAFT).status_code == 403


def test_with_allow_edit_a_valid_draft_is_saved_into_the_rules(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    console = make_console(rules_dir=rules, allow_edit=True)
    console.sign_in()
    second = "  - id: ceasefire\n    any: [truce]\n    notify: {channels: [email]}\n"
    clash = play(
        console, "save", draft=f"watches:\n{second.replace('ceasefire', 'new-one')}{second}"
    )
    assert "not saved: with the other rule files" in clash.text and "duplicate" in clash.text
    assert not (rules / "new-one.yaml").exists()
    assert "saved" in play(console, "save", draft=DRAFT).text
    assert (rules / "kaluga-draft.yaml").read_text() == DRAFT


def test_watches_list_counts_archive_matches_and_a_watch_shows_its_forms(console: Console) -> None:
    archive(console, (0, "Kaluga depot on fire"), (3, "Калуга: пожар"), (9, "Kaluga, long ago"))
    console.sign_in()
    html = console.client.get("/console/").text
    row = html[html.index("<strong>kaluga</strong>") :].split("</tr>")[0]
    assert '<td class="num">1</td>' in row and '<td class="num">2</td>' in row
    assert "rules/kaluga.yaml:2" in row and "4 / 4" not in row  # 6 examples in the file
    page = console.client.get("/console/watches/kaluga").text
    assert "калуга" in page and "калужск" in page  # spelling and the adjective's key
    assert "<mark>Калуга</mark>" in page


def test_sources_show_state_and_scrub_secrets() -> None:
    console = make_console()
    settings = console.deps.settings.model_copy(
        update={"sources": [_source("https://user:pa55word@feeds.example.org/rss?key=abc123def")]}
    )
    object.__setattr__(console.deps, "settings", settings)
    failed = SourceState(
        consecutive_failures=3, last_error="401 for https://user:pa55word@x?key=abc123def"
    )
    console.deps.source_state.put("wire", failed)
    console.sign_in()
    html = console.client.get("/console/sources").text
    assert "failing (3 in a row)" in html
    assert "pa55word" not in html and "abc123def" not in html and "***" in html


def _source(url: str):  # type: ignore[no-untyped-def]
    from alerts.ingest.settings import SourceSettings

    return SourceSettings(id="wire", kind="rss", url=url)


def _row(title: str, watch: str = "kaluga") -> DeliveryRow:
    item = Item(id=title, source="wire", title=title, url="https://news.example.org/1")
    hit = Hit(term="kaluga", field="title", start=0, end=6, text=title[:6])
    alert = Alert(
        watch=watch, watch_name=watch.title(), item=item, hits=(hit,), channels=("email",)
    )
    return DeliveryRow.new(alert, "email", NOW)


def test_feeds_open_with_their_key_or_the_feed_token_only(console: Console) -> None:
    console.deps.store.ledger.save(_row("Kaluga depot on fire"))
    console.deps.store.ledger.save(_row("Ceasefire line", watch="ceasefire"))
    tokens = Tokens(console.deps.settings)
    key = tokens.feed_key("watch:kaluga")
    feed = feedparser.parse(console.client.get(f"/console/feeds/{key}/watch/kaluga.atom").text)
    assert not feed.bozo and [e.title for e in feed.entries] == ["Kaluga: Kaluga depot on fire"]
    assert feed.entries[0].link == "https://news.example.org/1"
    assert console.client.get(f"/console/feeds/{key}/all.atom").status_code == 401
    assert console.client.get(f"/console/feeds/{key}/watch/ceasefire.atom").status_code == 401
    basic = base64.b64encode(f"reader:{FEED}".encode()).decode()
    every = console.client.get(
        "/console/feeds/-/all.atom", headers={"Authorization": f"Basic {basic}"}
    )
    assert len(feedparser.parse(every.text).entries) == 2
    api = console.client.get(
        "/console/feeds/-/all.atom", headers={"Authorization": "Bearer " + "x"}
    )
    assert api.status_code == 401


def test_a_disabled_watch_is_listed_as_not_enabled(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    (rules / "off.yaml").write_text("# off\nid: off-watch\nname: Switched off\nenabled: false\n"
                                    "any: [x]\nnotify: {channels: [email]}\n")  # fmt: skip
    console = make_console(rules_dir=rules)
    console.sign_in()
    html = console.client.get("/console/").text
    row = html[html.index("<strong>off-watch</strong>") :].split("</tr>")[0]
    assert "off.yaml:2" in row and "<td>no</td>" in row


def test_times_say_they_are_utc_whatever_the_offset_they_were_given_in(console: Console) -> None:
    from datetime import timezone

    from alerts.api.console.web import when

    kyiv = timezone(timedelta(hours=2))
    shown = when(NOW.astimezone(kyiv))
    assert "2026-12-02 12:00 UTC" in shown and 'datetime="2026-12-02T12:00:00+00:00"' in shown
    console.sign_in()
    created = console.client.post(
        "/console/silences",
        data={"watch": "kaluga", "duration": "2h", "csrf": console.csrf()},
        follow_redirects=False,
    )
    assert created.status_code == 303
    page = console.client.get("/console/silences").text
    assert "2026-12-02 12:00 UTC" in page and "2026-12-02 14:00 UTC" in page
