"""Feminine first names in Russian and Ukrainian, from pymorphy3's dictionaries.

A -ов surname's -ова is both the woman (Анна Буданова) and the man's genitive (слова
Кирилла Буданова, жена Буданова): the word before it tells them apart when it is a woman's
first name in the nominative. pymorphy3 (OpenCorpora's Russian dictionary, and its
Ukrainian one) tags first names with their gender; a common noun (жена, служба) is no
name. The analysers load on the first question (about 0.5 s) and each word is asked once.

Their word graphs (DAWGs: 27 MiB of files, most of the 43 MiB the two analysers took read in)
are mapped from the package's files instead (``_map_dawgs``): a shard holds only the pages a
lookup touches, shared with every other process on the host and given back under pressure.
"""

from __future__ import annotations

import mmap
import struct
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from alerts.gcpause import give_back_freed

_LANGUAGES = ("ru", "uk")


@cache
def _analysers() -> tuple[Any, ...]:
    """The Russian and Ukrainian analysers, loaded once (no download: the dictionaries
    are packages)."""
    import pymorphy3  # type: ignore[import-untyped]  # heavy: only when first asked

    analysers = tuple(pymorphy3.MorphAnalyzer(lang=lang) for lang in _LANGUAGES)
    for analyser in analysers:
        _map_dawgs(analyser)
    give_back_freed()  # the copies they read, freed among what stays
    return analysers


def _map_dawgs(analyser: Any) -> None:
    """Point each of the analyser's word graphs at its file, mapped, instead of the copy it
    read: the same units (a DAWG file is a 4-byte count and the units, then the guide's)."""
    folder = Path(analyser.dictionary.path)
    graphs = {"words.dawg": analyser.dictionary.words}
    for n, graph in enumerate(analyser.dictionary.prediction_suffixes_dawgs):
        graphs[f"prediction-suffixes-{n}.dawg"] = graph
    estimator = getattr(analyser, "prob_estimator", None)
    if estimator is not None:
        graphs["p_t_given_w.intdawg"] = estimator.p_t_given_w
    for name, graph in graphs.items():
        _map_dawg(graph, folder / name)


def _map_dawg(graph: Any, path: Path) -> None:
    with path.open("rb") as f:
        mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    mapped.madvise(mmap.MADV_RANDOM)  # a lookup reads a few scattered units: no read-ahead
    pages = memoryview(mapped)
    (units,) = struct.unpack_from("=I", pages, 0)
    end = 4 + 4 * units
    graph.dct._units = pages[4:end].cast("I")
    guide = getattr(graph, "guide", None)
    if guide is not None:
        (count,) = struct.unpack_from("=I", pages, end)
        guide._units = pages[end + 4 : end + 4 + 2 * count].cast("B")


@lru_cache(maxsize=8192)
def feminine_first_name(word: str) -> bool:
    """Whether a word may be a woman's first name in the nominative (Анна, Маріанна; not
    Кирилла, a man's genitive, nor жена)."""
    low = word.lower()
    for analyser in _analysers():
        for parse in analyser.parse(low):
            tag = parse.tag
            if "Name" in tag and tag.gender == "femn" and tag.case == "nomn":
                return True
    return False
