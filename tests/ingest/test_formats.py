"""Feeds, JSON and HTML live blogs written for these tests; format detection."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from alerts.clock import FrozenClock
from alerts.ingest import ParseError, detect_format, parse_bulletin
from alerts.ingest.ids import url_id
from alerts.ingest.parse import parse_bulletin_as, sniff_format
from tests.support.bulletins import KINDS, bulletin

FIXTURES = Path(__file__).parent / "fixtures"
CLOCK = FrozenClock(datetime(2026, 3, 14, 18, 0, tzinfo=UTC))
PAGE = "https://news.example/live"


def _parse(name: str, **kwargs: object) -> list:
    return parse_bulletin((FIXTURES / name).read_bytes(), source="src", clock=CLOCK, **kwargs)  # type: ignore[arg-type]


def test_rss_html_reduced_to_text_and_windows_1252_decoded() -> None:
    storm, rail, bare = _parse("harbour.rss")
    assert storm.title == "Storm closes the northern harbour & ferry terminal"
    assert storm.body == "Gale-force winds closed the port.\n\nThree ferries wait at anchor."
    assert "alert(1)" not in storm.body and "<" not in storm.body
    assert storm.published == datetime(2026, 3, 10, 6, 30, tzinfo=UTC)
    assert (storm.language, storm.language_source) == ("en", "declared")  # en-GB, normalised
    assert rail.body == "Drivers accepted a 4% pay rise – the strike is off."
    # no GUID: the id is the normalised URL (fragment dropped)
    assert rail.id == url_id("https://harbour.example/news/rail")
    # nothing to name it by: a content hash, and a title from the body
    assert bare.id.startswith("c:") and bare.title.startswith("An item with neither")


def test_atom_typed_titles_content_and_url_guid() -> None:
    fire, plain = _parse("valdera.atom")
    assert fire.title == "Incendio controlado cerca de Valdera"
    assert fire.body.split("\n\n") == [
        "Los bomberos dijeron el domingo que el incendio está controlado.",
        "Unos 1.200 vecinos podrán volver.",
    ]
    assert fire.summary == "Los bomberos controlan el incendio."
    assert fire.language == "es"
    # a text/plain title keeps its brackets as text
    assert plain.title == "Plain <title> with brackets"
    # a GUID that is a URL is identified as that URL, tracking dropped
    assert plain.id == url_id("https://valdera.example/otra")


def test_rdf() -> None:
    (item,) = _parse("weather.rdf")
    assert (item.title, item.url) == (
        "Amber wind warning for the coast",
        "https://weather.example/w/1",
    )
    assert item.published == datetime(2026, 3, 16, 6, 0, tzinfo=UTC)


def test_json_feed() -> None:
    komarno, untitled = _parse("flood.jsonfeed")
    assert komarno.title == "Evacuations in Komárno"
    assert komarno.body == "Residents of three districts must leave.\n\nBuses are provided."
    assert komarno.published == datetime(2026, 3, 14, 10, 42, tzinfo=UTC)
    assert untitled.id.startswith("g:") and untitled.summary == "River peaks Sunday"


def test_our_json_schema_in_its_three_shapes() -> None:
    geneva, port = _parse("pushed.json")
    assert geneva.body == "Delegations met on Monday.\n\nA statement is expected."
    assert geneva.id == url_id("https://wire.example/geneva")
    assert port.id.startswith("g:")
    one = parse_bulletin(b'{"title": "Port reopens", "id": "wire-1234"}', source="src")
    listed = parse_bulletin(b'[{"title": "Port reopens", "id": "wire-1234"}]', source="src")
    assert one == listed == [port]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            b'{"items": [{"title": "x", "colour": "red"}]}',
            "src: items.0.colour: Extra inputs are not permitted",
        ),
        (b'{"items": [{"body": "no title"}]}', "src: items.0.title: Field required"),
        (
            b'{"items": [{"title": ""}]}',
            "src: items.0.title: String should have at least 1 character",
        ),
        (
            b'{\n  "items": [\n    {"title": "x",}\n  ]\n}',
            "src:3: invalid JSON: Expecting property name enclosed in double quotes",
        ),
        (
            b'{"version": "https://jsonfeed.org/version/1.1", "items": 3}',
            "src: JSON Feed: 'items' must be a list",
        ),
    ],
)
def test_bad_json_errors_name_the_place(data: bytes, message: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_bulletin(data, source="src")
    assert str(info.value) == message


def test_live_blog_with_time_stamps() -> None:
    items = _parse("liveblog-timestamps.html", base_url=PAGE)
    assert [i.title for i in items] == [
        "Evacuations ordered in low-lying districts of Komárno",
        "River expected to peak on Sunday, hydrologists say",
        "Rail line between Vienna and Budapest closed",
    ]
    assert [i.url for i in items] == [f"{PAGE}#post-3", f"{PAGE}#post-2", f"{PAGE}#post-1"]
    assert items[0].published == datetime(2026, 3, 14, 10, 42, tzinfo=UTC)
    assert items[0].language == "en"
    assert items[0].body.endswith("the mayor’s office said.")
    assert "Share this post" not in items[1].body  # asides are page furniture
    assert items[2].body.endswith("“We cannot run trains safely,” a spokesperson said.")
    assert len({i.id for i in items}) == 3


def test_live_blog_with_headings() -> None:
    items = _parse("liveblog-headings.html", base_url=PAGE)
    assert [i.title for i in items] == [
        "Turnout highest since 1998",
        "Exit poll puts Greens ahead in the north",
        "Conservative leader concedes & calls for <unity>",
    ]
    assert items[1].body.split("\n\n")[1:] == ["Social Democrats: 21%", "Liberals: 18%"]
    assert items[2].url == f"{PAGE}#concession"


def test_live_blog_with_bare_clock_times_and_declared_charset() -> None:
    goal, kickoff = _parse("liveblog-clock.html", base_url=PAGE)
    assert goal.title == "Second goal for the home side"
    assert goal.body == "Müller doubles the lead with a header from a corner."
    assert goal.published == datetime(2026, 3, 14, 16, 5, tzinfo=UTC)
    assert kickoff.url == f"{PAGE}#e1"


def test_live_blog_ids_survive_new_posts() -> None:
    page = (FIXTURES / "liveblog-timestamps.html").read_text(encoding="utf-8")
    new_posts = "".join(
        f'<li id="post-{n}"><article><time datetime="2026-03-14T12:0{n}:00Z">12:0{n}</time>'
        f"<h2>New post {n}</h2><p>Text {n}.</p></article></li>"
        for n in (4, 5)
    )
    grown = page.replace('<ol class="live-feed">', '<ol class="live-feed">' + new_posts)
    before = {i.id for i in parse_bulletin(page.encode(), source="s", base_url=PAGE)}
    after = parse_bulletin(grown.encode(), source="s", base_url=PAGE)
    assert [i.title for i in after if i.id not in before] == ["New post 4", "New post 5"]


@pytest.mark.parametrize(
    ("head", "content_type", "expected"),
    [
        ("Headline\nParagraph.", None, "text"),
        ("[Breaking] Storm hits coast\nText.", None, "text"),
        ('[{"title": "x"}]', None, "json"),
        ('  {"items": []}', "text/plain", "json"),
        ("<?xml version='1.0'?><rss version='2.0'></rss>", None, "feed"),
        ("<!-- <p>comment</p> --><feed xmlns='http://www.w3.org/2005/Atom'/>", None, "feed"),
        ("<rdf:RDF xmlns:rdf='x'></rdf:RDF>", None, "feed"),
        ("<!DOCTYPE html><html><body><p>x</p></body></html>", None, "html"),
        ("<div><p>fragment</p></div>", None, "html"),
        ("<thing/>", "text/html", "html"),
    ],
)
def test_detect_format(head: str, content_type: str | None, expected: str) -> None:
    assert detect_format(head, content_type) == expected


def test_feedparser_only_ever_gets_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    import feedparser

    seen: list[type] = []
    real = feedparser.parse

    def spy(doc: object, *args: object, **kwargs: object) -> object:
        seen.append(type(doc))
        return real(doc, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(feedparser, "parse", spy)
    _parse("harbour.rss")
    assert seen == [bytes]
    with pytest.raises(TypeError):
        parse_bulletin("/etc/passwd", source="s")  # type: ignore[arg-type]


def test_unreadable_xml_is_a_parse_error_with_a_line() -> None:
    with pytest.raises(ParseError) as info:
        parse_bulletin(b"<?xml version='1.0'?>\n<nonsense>\n<a></b>", source="bad.xml")
    assert str(info.value).startswith("bad.xml:")


def test_entity_expansion_is_bounded() -> None:
    big = "A" * 10_000
    doc = (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY big "{big}">]>'
        f"<rss version='2.0'><channel><item><title>{'&big;' * 200}</title></item></channel></rss>"
    )
    with pytest.raises(ParseError, match="expand"):
        parse_bulletin(doc.encode(), source="s")


def test_external_entities_are_not_resolved() -> None:
    doc = (
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        b"<rss version='2.0'><channel><item><title>a&xxe;b</title></item></channel></rss>"
    )
    items = parse_bulletin(doc, source="s")
    assert all("root:" not in i.title and "root:" not in i.body for i in items)


@pytest.mark.parametrize(
    "ref", [b"&#xD800;", b"&#55296;", b"&#0;", b"&#x110000;", b"&#99999999999999;"]
)
def test_bad_character_references_do_not_crash(ref: bytes) -> None:
    # found by the fuzzer: feedparser's loose parser raised UnicodeEncodeError on &#xD800;
    doc = (
        b"<feed xmlns='http://www.w3.org/2005/Atom'><id>"
        + ref
        + b"x</id><entry><title>t"
        + ref
        + b"</title></entry></feed>"
    )
    (item,) = parse_bulletin(doc, source="s")
    assert item.title in ("t\ufffd", "t")


def test_live_blog_page_dateline_is_not_a_post() -> None:
    page = b"""<html><body><article class="liveblog">
    <header><h1>Budget day live</h1><time datetime="2026-03-14T08:00:00Z">8am</time></header>
    <div class="post" id="a"><time datetime="2026-03-14T09:00:00Z">9am</time>
      <h3>Chancellor arrives</h3><p>She waved the red box.</p></div>
    <div class="post" id="b"><time datetime="2026-03-14T09:30:00Z">9:30am</time>
      <p>Speech starts at 12.30. Markets are calm.</p></div>
    </article></body></html>"""
    items = parse_bulletin(page, source="s")
    assert [i.title for i in items] == ["Chancellor arrives", "Speech starts at 12.30."]
    assert items[1].body == "Speech starts at 12.30. Markets are calm."


def test_live_blog_post_with_two_stamps_is_one_post() -> None:
    page = b"""<html><body><div class="feed">
    <div class="post" id="a"><div class="meta"><time datetime="2026-03-14T09:00:00Z">9am</time>
      updated <time datetime="2026-03-14T09:10:00Z">9:10</time></div>
      <h3>Chancellor arrives</h3><p>She waved the red box.</p></div>
    <div class="post" id="b">
      <div class="meta"><time datetime="2026-03-14T09:30:00Z">9:30</time></div>
      <p>Speech starts at 12.30.</p></div>
    </div></body></html>"""
    items = parse_bulletin(page, source="s", base_url=PAGE)
    assert [(i.title, i.url) for i in items] == [
        ("Chancellor arrives", f"{PAGE}#a"),
        ("Speech starts at 12.30.", f"{PAGE}#b"),
    ]
    assert items[0].published == datetime(2026, 3, 14, 9, 0, tzinfo=UTC)  # the first stamp


@pytest.mark.parametrize("kind", KINDS)
def test_parse_bulletin_as_gives_the_items_and_the_sniffed_format(kind: str) -> None:
    """What the API sends on: the items ``parse_bulletin`` makes and the format ``sniff_format``
    names, from one decode of the body."""
    data = bulletin(kind, [("Drones over Kaluga", "Two drones were shot down overnight.")])
    items, fmt = parse_bulletin_as(data, source="desk", language="en")
    assert items == parse_bulletin(data, source="desk", language="en")
    assert (
        fmt
        == sniff_format(data)
        == {"rss": "feed", "atom": "feed", "rdf": "feed"}.get(
            kind, "json" if kind == "jsonfeed" else kind
        )
    )
