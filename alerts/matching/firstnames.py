"""Feminine first names in Russian and Ukrainian, from pymorphy3's dictionaries.

A -ов surname's -ова is both the woman (Анна Буданова) and the man's genitive (слова
Кирилла Буданова, жена Буданова): the word before it tells them apart when it is a woman's
first name in the nominative. pymorphy3 (OpenCorpora's Russian dictionary, and its
Ukrainian one) tags first names with their gender; a common noun (жена, служба) is no
name. The analysers load on the first question (about 0.5 s) and each word is asked once.

Their word graphs (DAWGs: 27 MiB of files, most of the 43 MiB the two analysers took) are
mapped from the package's files as they load (``_mapped_reads``), never read in: a shard holds
only the pages a lookup touches, shared with every other process on the host and given back
under pressure. Reading them in and mapping them afterwards, as before, raised a grown shard's
peak (VmHWM) by the 37 MiB of copies alive at once.
"""

from __future__ import annotations

import mmap
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache, lru_cache
from typing import Any, BinaryIO, Literal

from alerts.gcpause import give_back_freed

_LANGUAGES = ("ru", "uk")


@cache
def _analysers() -> tuple[Any, ...]:
    """The Russian and Ukrainian analysers, loaded once (no download: the dictionaries
    are packages)."""
    import pymorphy3  # type: ignore[import-untyped]  # heavy: only when first asked

    with _mapped_reads():
        analysers = tuple(pymorphy3.MorphAnalyzer(lang=lang) for lang in _LANGUAGES)
    give_back_freed()  # what loading parsed and dropped (JSON tables), freed among what stays
    return analysers


@contextmanager
def _mapped_reads() -> Iterator[None]:
    """While pymorphy3 loads: each word graph's units (a DAWG file is a 4-byte count and
    the units, then the guide's) are a view of the file, mapped, not an array read in.

    dawg_python's ``Dictionary.read`` and ``Guide.read`` are the only places a graph is
    read; they are put back when the block ends. Not thread-safe (``_analysers`` runs once).
    """
    from dawg_python import wrapper  # type: ignore[import-untyped]  # pymorphy3's DAWGs

    reads = wrapper.Dictionary.read, wrapper.Guide.read
    wrapper.Dictionary.read = lambda graph, fp: _map_units(graph, fp, "I", 4)
    wrapper.Guide.read = lambda guide, fp: _map_units(guide, fp, "B", 2)  # 2 per count
    try:
        yield
    finally:
        wrapper.Dictionary.read, wrapper.Guide.read = reads


def _map_units(graph: Any, fp: BinaryIO, kind: Literal["I", "B"], per_count: int) -> None:
    """Point ``graph._units`` at the units that follow in ``fp``'s file, mapped, and move
    ``fp`` past them, as reading them would (``per_count`` bytes for each one counted)."""
    (count,) = struct.unpack("=I", fp.read(4))
    start = fp.tell()
    end = start + count * per_count
    mapped = mmap.mmap(fp.fileno(), 0, access=mmap.ACCESS_READ)
    mapped.madvise(mmap.MADV_RANDOM)  # a lookup reads a few scattered units: no read-ahead
    graph._units = memoryview(mapped)[start:end].cast(kind)
    fp.seek(end)


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
