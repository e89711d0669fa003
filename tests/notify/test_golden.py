"""What is sent, byte for byte: every channel type's rendering of a hostile corpus is unchanged.

The renderer's fast paths (the shipped templates' plain environment with Python's getattr, the
Slack links as a filter and the terms joined without a loop, the Slack subject rendered only
when read, the view kept for the next kind, the view's tuples, str-method whitespace and time
formatting) must not change a byte of it.
"""

from __future__ import annotations

import json

import pytest

from tests.notify.golden_corpus import GOLDEN, renderers, renderings


@pytest.mark.parametrize("name", ["plain", "console"])
def test_renderings_match_the_golden_file(name: str) -> None:
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))[name]
    got = renderings(renderers()[name])
    assert len(got) == len(expected)
    for number, (have, want) in enumerate(zip(got, expected, strict=True)):
        assert have == want, f"rendering #{number}"
