"""Text hygiene, applied once at ingest: decode bytes, drop characters nothing downstream wants.

No case folding or NFKC here: matching normalises for itself and its offsets point into the
text stored on the item.
"""

from __future__ import annotations

import codecs
import re

import charset_normalizer
from selectolax.lexbor import LexborHTMLParser

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_BOM_FIRST = frozenset(bom[:1] for bom, _ in _BOMS)  # a BOM's first byte: most texts have none
_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]{1,40})["']""")
_HTML_META = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9._:-]{1,40})""", re.I)
_CT_CHARSET = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9._:-]{1,40})""", re.I)
# Lone surrogates, NUL and C0 controls but \t and \n, DEL and C1 controls, bidi controls.
_UNWANTED = re.compile(
    "[\ud800-\udfff\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]"
)
_PRINTABLE_ASCII = bytes(range(0x20, 0x7F))  # what ``str.isprintable`` passes of ASCII
_BLOCK_END = re.compile(
    r"(?i)(<br\b[^>]*>|</(?:p|div|li|h[1-6]|tr|blockquote|section|article|pre|dd|dt)\s*>)"
)
_DROP_TAGS = ["script", "style", "noscript", "template", "head", "iframe", "object"]


def charset_from_content_type(content_type: str | None) -> str | None:
    """The ``charset=`` parameter of a Content-Type header, if it names a known codec."""
    if not content_type:
        return None
    m = _CT_CHARSET.search(content_type)
    return _known(m.group(1)) if m else None


def _known(name: str | bytes) -> str | None:
    text = name.decode("ascii", "replace") if isinstance(name, bytes) else name
    try:
        return codecs.lookup(text).name
    except LookupError:
        return None


def sniff_encoding(data: bytes, declared: str | None = None) -> tuple[str, int]:
    """Pick the encoding of ``data`` and the length of its BOM: BOM, declaration, UTF-8, guess."""
    encoding, skip, _ = _sniffed(data, declared)
    return encoding, skip


def _sniffed(data: bytes, declared: str | None) -> tuple[str, int, str | None]:
    """``sniff_encoding``, and the text when its UTF-8 check decoded all of it (no second
    decode of the same bytes in ``decode_bytes``)."""
    if data[:1] in _BOM_FIRST:
        for bom, name in _BOMS:
            if data.startswith(bom):
                return name, len(bom), None
    head = data[:4096]
    for candidate in (declared, _declared_in(head)):
        known = _known(candidate) if candidate else None
        # A declaration readable as ASCII cannot be in UTF-16/32 without a BOM.
        if known and not known.startswith(("utf-16", "utf-32")):
            return known, 0, None
    try:
        return "utf-8", 0, data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    return _guess(data[:65536]), 0, None


def _guess(data: bytes) -> str:
    """charset-normalizer's choice; among the least chaotic, windows-1252 (the web's) wins."""
    results = list(charset_normalizer.from_bytes(data))
    if not results:
        return "cp1252"
    calm = min(r.chaos for r in results)
    tied = sorted((r for r in results if r.chaos <= calm + 0.01), key=lambda r: -r.coherence)
    names = [r.encoding for r in tied]
    return "cp1252" if "cp1252" in names else names[0]


def _declared_in(head: bytes) -> str | None:
    if b"<" not in head:  # both start with '<': a JSON upload has none (a case-blind search
        return None  # tried the pattern at each of its bytes)
    m = _XML_DECL.match(head) or _HTML_META.search(head)
    return m.group(1).decode("ascii") if m else None


def decode_bytes(data: bytes, declared: str | None = None) -> str:
    """Decode bytes to clean text; invalid bytes become U+FFFD."""
    encoding, skip, text = _sniffed(data, declared)
    if text is not None:  # UTF-8 throughout: decoded as below would decode it
        return clean_text(text)
    try:
        text = data[skip:].decode(encoding, errors="replace")
    except LookupError:
        text = data[skip:].decode("utf-8", errors="replace")
    return clean_text(text)


def clean_text(text: str) -> str:
    """Normalise newlines and remove surrogates, NUL, other controls and bidi controls."""
    if text.isascii():
        # ASCII's printable characters are space to '~': deleting them by ``bytes.translate``
        # leaves nothing in a clean text, at a table lookup a byte (``isprintable`` looks each
        # character up in Unicode's tables: 12k instructions for an upload's 450).
        if not text.encode("ascii").translate(None, _PRINTABLE_ASCII):
            return text
    elif text.isprintable():
        # Every character ``_UNWANTED`` names is a control, format or surrogate (Cc, Cf, Cs),
        # none of them printable, nor is a CR: a text of one line, as most titles and pushed
        # bodies are, is clean as it is. One C pass, where the regex search tests each
        # character against its ranges (about a tenth of the API's instructions per POST).
        return text
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _UNWANTED.sub("", text)


def squash(text: str) -> str:
    """Collapse every run of whitespace to one space and strip the ends."""
    return " ".join(text.split())


def html_to_text(html: str, *, paragraphs: bool = True) -> str:
    """Reduce HTML to safe plain text: no tags, entities decoded, blocks as paragraphs."""
    if "<" not in html and "&" not in html:
        text = clean_text(html)
    else:
        tree = LexborHTMLParser(_BLOCK_END.sub(lambda m: m.group(0) + "\n\n", html))
        tree.strip_tags(_DROP_TAGS)
        root = tree.body or tree.root
        text = clean_text(root.text(separator="") if root is not None else "")
    if not paragraphs:
        return squash(text)
    return join_paragraphs(text.split("\n\n"))


def join_paragraphs(parts: list[str]) -> str:
    """Squash each paragraph, drop the empty ones and join them with a blank line."""
    return "\n\n".join(p for p in (squash(x) for x in parts) if p)
