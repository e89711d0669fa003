"""Text hygiene at ingest: charsets, invalid bytes, controls, bidi, surrogates."""

from __future__ import annotations

import codecs

import pytest

from alerts.ingest import parse_bulletin
from alerts.ingest.clean import clean_text, decode_bytes, html_to_text, sniff_encoding

BULLETIN = (
    "Grève générale à Montréal\nLes syndicats appellent à une grève « illimitée » dès lundi.\n"
)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (codecs.BOM_UTF8 + BULLETIN.encode(), BULLETIN),
        (codecs.BOM_UTF16_LE + BULLETIN.encode("utf-16-le"), BULLETIN),
        (codecs.BOM_UTF16_BE + BULLETIN.encode("utf-16-be"), BULLETIN),
        (BULLETIN.encode("cp1252"), BULLETIN),  # no declaration: guessed
        (
            "Привет, мир: новости дня и погода на завтра.".encode("cp1251"),
            "Привет, мир: новости дня и погода на завтра.",
        ),
    ],
)
def test_decoding(data: bytes, expected: str) -> None:
    assert decode_bytes(data) == expected


def test_declared_encodings_are_honoured() -> None:
    xml = '<?xml version="1.0" encoding="ISO-8859-15"?><a>€</a>'.encode("iso-8859-15")
    assert sniff_encoding(xml) == ("iso8859-15", 0)
    html = '<html><head><meta charset="koi8-r"></head><p>Привет</p></html>'.encode("koi8-r")
    assert "Привет" in decode_bytes(html)
    assert decode_bytes("café".encode("latin-1"), "latin-1") == "café"
    # a declaration of UTF-16 readable as ASCII is a lie; ignore it
    assert sniff_encoding(b'<?xml version="1.0" encoding="utf-16"?><a/>')[0] == "utf-8"


def test_invalid_bytes_become_replacement_characters() -> None:
    assert (
        decode_bytes(b"ok \xff\xfe\xfd then utf-8 \xc3\xa9", "utf-8")
        == "ok \ufffd\ufffd\ufffd then utf-8 é"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a\x00b", "ab"),  # NUL
        ("a\x07\x1b[31mb", "a[31mb"),  # bell, escape
        ("keep\ttab\nand newline", "keep\ttab\nand newline"),
        ("crlf\r\nand cr\r", "crlf\nand cr\n"),
        ("evil\u202egnp.exe", "evilgnp.exe"),  # right-to-left override
        ("\u2066isolate\u2069 \u200emark\u200f \u061cletter", "isolate mark letter"),
        ("lone \ud800 surrogate \udfff", "lone  surrogate "),
        ("c1 \x85\x9b controls", "c1  controls"),
        # not touched: case, compatibility forms, zero-width joiners in scripts that need them
        ("ＡＢＣ Straße ﬁ", "ＡＢＣ Straße ﬁ"),
        ("क्‍ष", "क्‍ष"),
    ],
)
def test_clean_text(text: str, expected: str) -> None:
    assert clean_text(text) == expected


def test_html_to_text() -> None:
    html = "<p>Fire &amp; rescue</p><script>alert('x')</script><p>Second<br>line &lt;b&gt;</p>"
    assert html_to_text(html) == "Fire & rescue\n\nSecond\n\nline <b>"
    assert html_to_text("<b>Bold</b> &#8220;quoted&#8221;", paragraphs=False) == "Bold “quoted”"


def test_bulletin_with_controls_and_bidi_is_cleaned_once_at_ingest() -> None:
    data = "Storm\u202e hits\x00 coast\r\nThe storm hit the coast at dawn.\x1b\r\n".encode("utf-8")
    (item,) = parse_bulletin(data, source="s")
    assert (item.title, item.body) == ("Storm hits coast", "The storm hit the coast at dawn.")


def test_surrogates_from_utf16_bytes_are_dropped() -> None:
    data = (
        codecs.BOM_UTF16_LE + "Title\nBody text.".encode("utf-16-le") + b"\x00\xd8"
    )  # lone high surrogate
    items = parse_bulletin(data, source="s")
    assert items[0].title == "Title"
    assert not any("\ud800" in i.title + i.body for i in items)


def _clean_by_regex(text: str) -> str:
    """``clean_text`` without its printable-text shortcut: what it must always equal."""
    from alerts.ingest.clean import _UNWANTED

    return _UNWANTED.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def test_the_printable_shortcut_never_keeps_an_unwanted_character() -> None:
    # ``clean_text`` returns a printable text as it is: no printable code point may be one
    # the regex removes (a control, bidi mark or surrogate), nor a CR.
    from alerts.ingest.clean import _UNWANTED

    printable = "".join(c for c in map(chr, range(0x110000)) if c.isprintable())
    assert _UNWANTED.search(printable) is None
    assert "\r" not in printable
    assert clean_text(printable) is printable


@pytest.mark.parametrize(
    "text",
    ["plain title", "", "two\nlines", "crlf\r\nline", "bidi\u202eevil", "tab\there", "é ü ж"],
)
def test_clean_text_equals_the_regex_alone(text: str) -> None:
    assert clean_text(text) == _clean_by_regex(text)


def test_the_ascii_shortcut_passes_what_isprintable_passes() -> None:
    """Each of the 128 ASCII characters, alone and inside a line: a printable text is kept as
    it is, any text cleaned as the regex alone cleans it."""
    for code in range(128):
        for text in (chr(code), f"a line {chr(code)} of text"):
            assert clean_text(text) == _clean_by_regex(text), code
            if text.isprintable():
                assert clean_text(text) is text, code


DECODED = [
    b'{"items": [{"title": "Port reopens"}]}',
    '{"items": [{"title": "Київ"}]}'.encode(),
    b"caf\xe9 au lait",  # no UTF-8: guessed
    codecs.BOM_UTF8 + "ünïcode".encode(),
    codecs.BOM_UTF16_LE + "ünïcode".encode("utf-16-le"),
    b'<?xml version="1.0" encoding="ISO-8859-2"?><rss>\xa3\xf3d\xbc</rss>',
    b'<html><head><META charset="windows-1251"></head><body>\xcf\xf0\xe8</body></html>',
    b'{"items": [{"title": "<meta charset=koi8-r> inside a value"}]}',
    b"",
    b"a\r\nb\x00c\xe2\x80\xaed",
]


@pytest.mark.parametrize("data", DECODED)
@pytest.mark.parametrize("declared", [None, "latin-1", "utf-16"])
def test_decode_bytes_decodes_as_its_sniffed_encoding(data: bytes, declared: str | None) -> None:
    """``decode_bytes`` keeps the text its UTF-8 check decoded: the text of the encoding and
    BOM ``sniff_encoding`` picks, decoded as they say."""
    encoding, skip = sniff_encoding(data, declared)
    assert decode_bytes(data, declared) == clean_text(data[skip:].decode(encoding, "replace"))
