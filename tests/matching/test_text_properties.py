"""Properties of normalisation: words split as \\w+ does, and every word maps back to its source."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from alerts.matching.text import WORD, FieldText, normalise, split_words, word_spans

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
