"""Properties of normalisation: words split as \\w+ does, and every word maps back to its source."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from alerts.matching.text import (
    WORD,
    FieldText,
    normalise,
    normalise_plain,
    split_words,
    word_spans,
)

TEXT = st.text(
    alphabet=st.sampled_from(list("aZé ß-–’“ﬁ\u00ad\u200bКалугаЁїй.,_9İ\u0301\t")), max_size=60
)


@given(TEXT)
@settings(max_examples=300, deadline=None)
def test_split_words_agrees_with_regex(text: str) -> None:
    norm, _ = normalise(text)
    assert split_words(norm) == WORD.findall(norm)


@given(TEXT)
@settings(max_examples=300, deadline=None)
def test_every_word_maps_back_onto_the_original(text: str) -> None:
    field = FieldText.of("body", text)
    for i, word in enumerate(WORD.findall(field.norm)):
        start, end = field.token_span(i, i)
        assert 0 <= start < end <= len(text)
        assert word in normalise(text[start:end])[0]


@given(TEXT)
@settings(max_examples=300, deadline=None)
def test_word_spans_agree_with_regex(text: str) -> None:
    norm, _ = normalise(text)
    starts, ends = word_spans(norm)
    assert list(zip(starts, ends, strict=True)) == [m.span() for m in WORD.finditer(norm)]


# Text that stays plain after normalisation: ASCII, plain Cyrillic and 1:1 punctuation.
PLAIN = st.text(alphabet=st.sampled_from(list("aZ9_ -.,'\t\x1f«»—‘КалугаЇїєЄґ")), max_size=60)


@given(st.one_of(TEXT, PLAIN))
@settings(max_examples=300, deadline=None)
def test_plain_splitting_agrees_with_regex(text: str) -> None:
    norm, _, plain = normalise_plain(text)
    assert norm == normalise(text)[0]
    if plain:
        assert split_words(norm, plain=True) == WORD.findall(norm)
        starts, ends = word_spans(norm, plain=True)
        assert list(zip(starts, ends, strict=True)) == [m.span() for m in WORD.finditer(norm)]
