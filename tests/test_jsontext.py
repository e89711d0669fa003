"""``json_string`` is ``json.dumps`` of a string, whatever the string holds."""

from __future__ import annotations

import base64
import json
import random

import pytest

from alerts.jsontext import json_string

EDGES = [
    "",
    "plain text",
    'a "quoted" word',
    "back\\slash",
    "tab\there",
    "line\nbreak",
    "\x7f delete",
    "\x00 nul",
    "café",
    "Калуга",
    "emoji \U0001f600",
    "\u2028 line separator",
    base64.b64encode(bytes(range(256))).decode(),
]


@pytest.mark.parametrize("text", EDGES)
def test_json_string_is_json_dumps(text: str) -> None:
    assert json_string(text) == json.dumps(text)


def test_every_code_point_below_0x800_alone_and_in_text() -> None:
    for c in map(chr, range(0x800)):
        assert json_string(c) == json.dumps(c), repr(c)
        assert json_string(f"ab{c}cd") == json.dumps(f"ab{c}cd"), repr(c)


def test_random_texts() -> None:
    rng = random.Random(7)
    alphabet = [chr(c) for c in range(0x20, 0x7F)] + ['"', "\\", "\n", "é", "\x01"]
    for _ in range(2000):
        text = "".join(rng.choices(alphabet, k=rng.randrange(0, 40)))
        assert json_string(text) == json.dumps(text), repr(text)
