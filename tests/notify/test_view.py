"""The channel-independent view: highlights, snippets, the 'why' line, safe links, Retry-After."""

from __future__ import annotations

import random
import re
import sys
from datetime import UTC, datetime

import pytest

from alerts.models import Hit
from alerts.notify.transport import parse_retry_after
from alerts.notify.view import (
    Segment,
    alert_view,
    collapse,
    digest_view,
    highlight,
    safe_url,
    snippet,
    squash,
    why,
)
from tests.notify.conftest import NOW, hit, make_alert, make_digest


def test_highlight_merges_overlapping_spans() -> None:
    assert highlight("abcdef", [(1, 3), (2, 4)]) == [
        Segment("a"),
        Segment("bcd", hit=True),
        Segment("ef"),
    ]


def test_snippet_windows_around_the_first_hit_and_marks_cuts() -> None:
    text = "lead " * 100 + "the ceasefire held " + "tail " * 100
    segments = snippet(text, (hit(text, "body", "ceasefire"),), width=60)
    assert segments[0] == Segment("… ")
    assert segments[-1] == Segment(" …")
    assert Segment("ceasefire", hit=True) in segments
    assert sum(len(s.text) for s in segments) <= 60 + 4


def test_snippet_cuts_between_words_at_both_ends() -> None:
    text = "alpha bravo charlie delta echo foxtrot " * 6 + "the ceasefire held " + "golf " * 40
    segments = snippet(text, (hit(text, "body", "ceasefire"),), width=70)
    inner = "".join(s.text for s in segments[1:-1])
    words = set(text.split())
    assert inner.split()[0] in words and inner.split()[-1] in words, inner
    assert not inner.startswith(" ") and not inner.endswith(" ")


def test_snippet_cut_never_drops_the_hit() -> None:
    text = "x" * 50 + " ceasefire" + "y" * 80  # no space to cut at after the hit
    segments = snippet(text, (hit(text, "body", "ceasefire"),), width=40)
    assert Segment("ceasefire", hit=True) in segments


def test_terms_keep_the_case_the_watch_was_written_in() -> None:
    alert = make_alert(body="Drones hit the Kaluga region.", terms=())
    text = alert.item.body
    start = text.index("Kaluga")
    found = Hit(term="Kaluga", field="body", start=start, end=start + 6, text="Kaluga")
    assert alert_view(alert.model_copy(update={"hits": (found,)})).terms == ("Kaluga",)


def test_snippet_ignores_hits_whose_offsets_do_not_match_the_text() -> None:
    # A stale offset must never highlight the wrong characters.
    segments = snippet("a truce now", (hit("xx truce", "body", "truce"),), width=80)
    assert all(not s.hit for s in segments)


def test_why_names_clause_and_each_place_once() -> None:
    alert = make_alert(terms=("ceasefire", "ceasefire"))
    assert why(alert) == "Matched any: ceasefire, truce: “ceasefire” in body"


def test_alert_view_collects_terms_source_and_time() -> None:
    view = alert_view(make_alert(terms=("ceasefire", "weekend")))
    assert view.terms == ("ceasefire", "weekend")
    assert (view.source, view.published) == ("bbc-world", "2026-11-25 09:30 UTC")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://bbc.co.uk/a b", "https://bbc.co.uk/a%20b"),
        ("http://evil|bbc.co.uk", "http://evil%7Cbbc.co.uk"),  # a pipe would split a Slack link
        ("https://x.org/<b>", "https://x.org/%3Cb%3E"),
        ("javascript:alert(1)", None),  # only http(s) becomes a link
        ("/relative/path", None),
        (None, None),
    ],
)
def test_safe_url(url: str | None, expected: str | None) -> None:
    assert safe_url(url) == expected


def test_digest_view_groups_entries_by_story_and_sums_counts() -> None:
    view = digest_view(make_digest())
    assert [(s.story, s.count, len(s.alerts)) for s in view.stories] == [
        ("s-north", 5, 2),
        ("s-talks", 2, 1),
    ]
    assert view.total == 7


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("2", 2.0),
        ("0.5", 0.5),
        ("-3", 0.0),
        ("Wed, 25 Nov 2026 09:30:30 GMT", 30.0),  # HTTP-date, against the injected clock
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after(header: str | None, expected: float | None) -> None:
    assert parse_retry_after(header, NOW) == expected


def test_parse_retry_after_past_date_is_zero() -> None:
    assert (
        parse_retry_after("Wed, 25 Nov 2026 09:00:00 GMT", datetime(2026, 11, 26, tzinfo=UTC)) == 0
    )


def test_why_says_how_each_hit_was_found() -> None:
    alert = make_alert(body="Пожар в Калуге.", terms=())
    start = alert.item.body.index("Калуге")
    found = Hit(
        term="Kaluga",
        field="body",
        start=start,
        end=start + 6,
        text="Калуге",
        how=("transliterated", "inflected"),
    )
    line = why(alert.model_copy(update={"hits": (found,)}))
    assert line.endswith(": Kaluga → «Калуге» (transliterated, inflected) in body")


SPACE = re.compile(r"\s+")  # what squash and collapse stand in for


def test_str_split_and_the_regex_agree_on_whitespace_at_every_code_point() -> None:
    regex = re.compile(r"\s")
    differ = [
        hex(c) for c in range(sys.maxunicode + 1) if bool(regex.match(chr(c))) != chr(c).isspace()
    ]
    assert differ == []


def test_squash_and_collapse_are_the_regex_substitution() -> None:
    spaces = [c for c in map(chr, range(0x3001)) if c.isspace()]
    pieces = [*spaces, "a", "bc", "«ї»", "\x00", "\u200b", "\ufeff", "  ", "\r\n"]
    rng = random.Random(13)
    texts = ["", " ", "a", " a ", "\t\n", *spaces]
    texts += ["".join(rng.choice(pieces) for _ in range(rng.randrange(12))) for _ in range(5000)]
    plain = ["a", " ", "bc", "ї", "\xa0"]  # mostly single-spaced, printable text
    texts += ["".join(rng.choice(plain) for _ in range(rng.randrange(12))) for _ in range(5000)]
    for text in texts:
        assert squash(text) == SPACE.sub(" ", text).strip(), repr(text)
        assert collapse(text) == SPACE.sub(" ", text), repr(text)


def test_every_piece_of_a_single_spaced_text_collapses_to_itself() -> None:
    """Why snippet collapses no piece of a single-spaced window."""
    from alerts.notify.view import _single_spaced

    rng = random.Random(5)
    pieces = ["a", " ", "bc", "ї", "\xa0", "🚀", "\u202e", "\t", "  ", "\n", "\x85"]
    texts = ["".join(rng.choice(pieces) for _ in range(rng.randrange(16))) for _ in range(5000)]
    checked = 0
    for text in filter(_single_spaced, texts):
        for _ in range(5):
            i, j = sorted(rng.randrange(len(text) + 1) for _ in range(2))
            assert collapse(text[i:j]) == text[i:j], repr(text[i:j])
            checked += 1
    assert checked > 1000


@pytest.mark.parametrize(
    ("watch", "item"), [("w", "i-1"), ("a b&c=d", "https://x.org/?q=1&r=ä/ü#f+g")]
)
def test_the_console_link_is_what_urlencode_gives(watch: str, item: str) -> None:
    from urllib.parse import urlencode

    from alerts.notify.view import console_link

    alert = make_alert(item_id=item).model_copy(update={"watch": watch})
    query = urlencode({"watch": watch, "item": item})
    assert console_link("https://c.example", alert) == f"https://c.example/console/alert?{query}"


def test_a_header_is_flattened_as_by_the_two_regexes() -> None:
    from alerts.notify.escape import _CONTROL, _flatten

    pieces = ["a", " ", "\t", "\r\n", "\x00", "\x1b", "\x1f", "\x7f", "\x85", "\u2028", "\u2029"]
    pieces += ["\xa0", "\u3000", "\u202e", "ї", "=?", "?="]
    rng = random.Random(7)
    texts = ["".join(rng.choice(pieces) for _ in range(rng.randrange(10))) for _ in range(5000)]
    for text in texts:
        assert _flatten(text) == SPACE.sub(" ", _CONTROL.sub(" ", text)).strip(), repr(text)


def test_format_time_writes_what_strftime_writes() -> None:
    from datetime import timedelta, timezone

    from alerts.notify.view import format_time

    rng = random.Random(3)
    moments = [datetime(y, 1, 2, 3, 4, 5, tzinfo=UTC) for y in (1, 999, 1000, 2026, 9999)]
    moments += [
        datetime.fromtimestamp(rng.uniform(-6e10, 2.5e11), UTC).astimezone(
            timezone(timedelta(minutes=rng.randrange(-900, 900)))
        )
        for _ in range(2000)
    ]
    moments += [when.astimezone(UTC) for when in moments[5:1000]]  # UTC itself: no conversion
    moments.append(datetime(2026, 11, 25, 9, 30, 7))  # naive: taken as UTC
    for when in moments:
        utc = when.astimezone(UTC) if when.tzinfo else when
        assert format_time(when) == utc.strftime("%Y-%m-%d %H:%M UTC"), when
        assert format_time(when, seconds=True) == utc.strftime("%Y-%m-%d %H:%M:%S UTC"), when


def test_an_alerts_view_and_its_segments_cannot_change() -> None:
    view = alert_view(make_alert())
    with pytest.raises(AttributeError):
        view.title = "changed"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        view.snippet[0].text = "changed"  # type: ignore[misc]
    assert view == alert_view(make_alert()) and hash(view) == hash(alert_view(make_alert()))


def test_highlight_cuts_a_text_into_non_empty_segments() -> None:
    """Snippet relies on it: no segment to drop, before or after collapsing."""
    rng = random.Random(9)
    for _ in range(3000):
        text = "".join(rng.choice(["a", " ", "bc", "\t\n", "ї"]) for _ in range(rng.randrange(20)))
        spans = [(rng.randrange(-2, 22), rng.randrange(-2, 22)) for _ in range(rng.randrange(4))]
        segments = highlight(text, spans)
        assert "".join(s.text for s in segments) == text
        assert all(s.text and collapse(s.text) for s in segments)


def test_highlight_makes_segments_as_segment_itself_makes_them() -> None:
    """Its segments are built by the tuple's constructor: the same type, fields and values."""
    segments = highlight("one two three", [(4, 7)])
    assert segments == [Segment("one "), Segment("two", True), Segment(" three")]
    assert all(type(s) is Segment for s in segments)
    fields = [(s.text, s.hit) for s in segments]
    assert fields == [("one ", False), ("two", True), (" three", False)]
