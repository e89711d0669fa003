"""pymorphy3's word graphs, mapped from their files as they load, are the units it would read,
and answer alike."""

from __future__ import annotations

from array import array

import pymorphy3  # type: ignore[import-untyped]
import pytest

from alerts.matching import firstnames


@pytest.mark.parametrize("language", ["ru", "uk"])
def test_mapped_graphs_hold_the_units_read_and_parse_alike(language: str) -> None:
    read = pymorphy3.MorphAnalyzer(lang=language)
    with firstnames._mapped_reads():
        mapped = pymorphy3.MorphAnalyzer(lang=language)
    # the reads are put back after the block: a later load reads its graphs in again
    assert isinstance(pymorphy3.MorphAnalyzer(lang=language).dictionary.words.dct._units, array)
    graphs = [(read.dictionary.words, mapped.dictionary.words)]
    graphs += zip(
        read.dictionary.prediction_suffixes_dawgs,
        mapped.dictionary.prediction_suffixes_dawgs,
        strict=True,
    )
    if read.prob_estimator is not None:
        graphs.append((read.prob_estimator.p_t_given_w, mapped.prob_estimator.p_t_given_w))
    for before, after in graphs:
        assert isinstance(before.dct._units, array)  # read in
        assert isinstance(after.dct._units, memoryview)  # mapped: never copied
        assert isinstance(after.guide._units, memoryview)
        assert after.dct._units.tolist() == before.dct._units.tolist()
        assert after.guide._units.tolist() == before.guide._units.tolist()
    # known words, an unknown one the predictor takes for a name, a common noun
    for word in ["анна", "кирилла", "марьяна", "зульфиранна", "жена", "буданова"]:
        assert [str(p.tag) for p in mapped.parse(word)] == [str(p.tag) for p in read.parse(word)]


def test_feminine_first_names() -> None:
    assert firstnames.feminine_first_name("Анна")
    assert firstnames.feminine_first_name("Маріанна")
    assert not firstnames.feminine_first_name("Кирилла")
    assert not firstnames.feminine_first_name("жена")
