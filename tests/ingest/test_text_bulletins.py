"""Golden tests for plain-text live bulletins: the real sample and our own variations."""

from __future__ import annotations

from pathlib import Path

import pytest

from alerts.ingest import ParseError, parse_bulletin
from alerts.ingest.plaintext import is_headline

FIXTURES = Path(__file__).parent / "fixtures"

SAMPLE_TITLES = [
    "Ukraine drones hit hidden drone manufacturing site inside Russia",
    "Thirty-seven countries could join “coalition of the willing” to secure peace in Ukraine, "
    "Bloomberg says",
    "Trump’s special envoy arrives in Moscow for talks",
]


def _parse(data: bytes, source: str = "test") -> list:
    return parse_bulletin(data, source=source)


def test_sample_gives_its_three_items(sample_bulletin: Path) -> None:
    items = _parse(sample_bulletin.read_bytes())
    assert [i.title for i in items] == SAMPLE_TITLES
    raw = sample_bulletin.read_text(encoding="utf-8").split("\n")
    bounds = [raw.index(t) for t in SAMPLE_TITLES] + [len(raw)]
    for item, start, end in zip(items, bounds, bounds[1:], strict=False):
        expected = "\n\n".join(line.strip() for line in raw[start + 1 : end] if line.strip())
        assert item.body == expected
    assert "Kaluga airport" in items[0].body
    assert "ceasefire period" in items[1].body
    assert "30-day ceasefire" in items[2].body


def test_sample_variations_give_the_same_items(sample_bulletin: Path) -> None:
    data = sample_bulletin.read_bytes()
    expected = [(i.title, i.body) for i in _parse(data)]
    no_summary = data.split(b"\n", 1)[1]
    variants = {
        "crlf": data.replace(b"\n", b"\r\n"),
        "blank lines": data.replace(b"\n", b"\n\n"),
        "no summary": no_summary,
        "no summary, crlf, blanks": no_summary.replace(b"\n", b"\r\n\r\n"),
        "bom": b"\xef\xbb\xbf" + data,
    }
    for name, variant in variants.items():
        assert [(i.title, i.body) for i in _parse(variant)] == expected, name


@pytest.mark.parametrize(
    ("name", "titles", "paragraphs"),
    [
        # summary line, three items, typographic quotes inside paragraphs
        (
            "harbour-bulletin.txt",
            [
                "Storm closes the northern harbour",
                "Rail strike called off after late-night deal",
                "City council approves new cycle lanes",
            ],
            [3, 2, 2],
        ),
        # CRLF, blank lines, no summary, headlines ending in '?' and '!' with straight quotes
        (
            "questions-crlf.txt",
            [
                "Will the bridge reopen before winter?",
                'Mayor says "no new taxes" this year!',
                "Museum reopens after two-year renovation",
            ],
            [2, 1, 1],
        ),
        # no blank lines, no summary, a headline in typographic single quotes
        (
            "no-blank-lines.txt",
            [
                "Wildfire near Valdera contained, firefighters say",
                "‘We were lucky with the wind,’ says fire chief",
            ],
            [2, 2],
        ),
        # hard-wrapped paragraphs separated by blank lines
        ("wrapped.txt", ["Central bank holds rates", "Drought hits wheat harvest"], [2, 1]),
    ],
)
def test_fixture_bulletins(name: str, titles: list[str], paragraphs: list[int]) -> None:
    items = _parse((FIXTURES / name).read_bytes(), source=name)
    assert [i.title for i in items] == titles
    assert [len(i.body.split("\n\n")) for i in items] == paragraphs
    assert all(i.source == name and i.url is None for i in items)


def test_wrapped_lines_are_joined() -> None:
    items = _parse((FIXTURES / "wrapped.txt").read_bytes())
    assert items[0].body.startswith(
        "The central bank kept its main interest rate unchanged at 3.25% on Thursday,"
    )


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Storm closes the northern harbour", True),
        ("Will the bridge reopen before winter?", True),
        ("Peace talks “stall”", True),
        ("The council voted 31 to 12.", False),
        ("He said it. Then he left", False),  # two sentences
        ("U.S. Senate passes border bill", True),  # initials are not sentence ends
        ("Dr. Okafor named health minister", True),  # nor are common abbreviations
        ("Officials said:", False),
        ("Read more at https://news.example/storm", False),  # a link line is not a headline
        ("word " * 40, False),  # too long for a headline
    ],
)
def test_headline_heuristic(line: str, expected: bool) -> None:
    assert is_headline(line.strip()) is expected


def test_paragraphs_without_headline_become_one_item() -> None:
    items = _parse(b"The river rose two metres overnight. Roads were closed.\nMore rain is due.\n")
    assert [i.title for i in items] == ["The river rose two metres overnight."]
    assert items[0].body.endswith("More rain is due.")


@pytest.mark.parametrize("data", [b"", b"   \n\r\n\t ", b"\xef\xbb\xbf \n"])
def test_empty_input_is_a_parse_error(data: bytes) -> None:
    with pytest.raises(ParseError) as info:
        _parse(data, source="empty.txt")
    assert str(info.value) == "empty.txt: empty bulletin"


def test_ids_are_stable_and_content_based(sample_bulletin: Path) -> None:
    first = _parse(sample_bulletin.read_bytes(), source="a")
    again = _parse(sample_bulletin.read_bytes().replace(b"\n", b"\r\n"), source="b")
    assert [i.id for i in first] == [i.id for i in again]
    assert len({i.id for i in first}) == 3


def test_summary_tells_headlines_from_short_paragraphs(sample_bulletin: Path) -> None:
    # a paragraph without a final full stop looks like a headline; the summary says it is not
    text = sample_bulletin.read_text(encoding="utf-8")
    odd = "Officials declined to comment on the strike"
    data = text.replace("Russia said it had shot down", odd + "\nRussia said it had shot down")
    items = _parse(data.encode())
    assert [i.title for i in items] == SAMPLE_TITLES
    assert odd in items[0].body.split("\n\n")


def test_a_lead_paragraph_is_not_taken_for_a_summary() -> None:
    data = (
        b"Heavy snow fell across the north overnight. Schools are closed.\n"
        b"Airport reopens after snow\n"
        b"The airport reopened at noon after crews cleared the runway.\n"
    )
    items = _parse(data)
    assert [i.title for i in items] == [
        "Heavy snow fell across the north overnight.",
        "Airport reopens after snow",
    ]
