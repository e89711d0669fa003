"""A string's JSON text (``json.dumps``'s, ASCII-only), cheap for text that needs no escape.

The API writes each POST's bulletin into the intake and its task message into the queue, both
JSON texts holding the bulletin's base64: ``json``'s C escape scan of it went character by
character (about 3% and 7% of the API's instructions per POST). Printable ASCII without a quote
or a backslash needs no escape: ``bytes.translate`` tells so in one pass, and the text is placed
between quotes as it is; any other text goes through ``json``'s own encoder.
"""

from __future__ import annotations

from json.encoder import encode_basestring_ascii

# Printable ASCII but '"' and '\\': what json's ASCII encoder writes as it is.
_PLAIN = bytes(c for c in range(0x20, 0x7F) if c not in b'"\\')


def json_string(text: str) -> str:
    """``json.dumps(text)``: the same text, without the escape scan when none can be needed."""
    if text.isascii() and not text.encode("ascii").translate(None, _PLAIN):
        return f'"{text}"'
    return encode_basestring_ascii(text)  # type: ignore[no-any-return]
