"""The "grown" phase of bench/shards.py: what a shard holds after days of varied news.

A long-running shard meets far more distinct words than 1,000 items hold. This feeds it
items of generated words, distinct within each language (``words`` numbers them, so no two
repeat), until every per-process cache has reached its limit and started over at least
once: the word-key tables (English's, which also keys Cyrillic words, and each stem
language's), the compound parts of a compounding language, and pymorphy3's analysers (loaded
by asking about a first name, as the first -ова surname after one would).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any

from alerts.matching import Matcher, caches, compounds, keytable
from alerts.matching.languages import COMPOUNDING
from alerts.models import Item

# Syllables per script: every word is a distinct number written in them (2-7 syllables).
_SYLLABLES = {
    "lat": [c + v for c in "bcdfghklmnprstvz" for v in "aeiou"],
    "cyr": [c + v for c in "бвгдклмнпрстхчш" for v in "аеиоуя"],
}
_SCRIPT = {"ru": "cyr", "uk": "cyr"}
WORDS_PER_ITEM = 300
# A language of each stemmer but English's and Russian's (cs stands for sk, no for nb/nn).
VIEW_LANGUAGES = ("de", "fr", "es", "it", "nl", "sv", "da", "no", "fi", "pl", "cs", "pt")


def words(language: str, count: int, start: int = 0) -> Iterator[str]:
    """``count`` distinct pseudo-words of a language's script, word number ``start`` on
    (in a compounding language every third is a long one, a compound's length)."""
    syllables = _SYLLABLES[_SCRIPT.get(language, "lat")]
    base = len(syllables)
    long_every = 3 if language in COMPOUNDING else 0
    for n in range(start, start + count):
        # at least three syllables (no stop-word lookalikes), five for a long word
        n += base**4 if long_every and n % long_every == 0 else base**2
        out = []
        while n:
            n, digit = divmod(n, base)
            out.append(syllables[digit])
        yield "".join(out)


def items(language: str, count: int) -> Iterator[Item]:
    """Items of ``WORDS_PER_ITEM`` distinct words each, ``count`` words in all."""
    stream = words(language, count)
    for n in range(0, count, WORDS_PER_ITEM):
        body = " ".join(next(stream) for _ in range(min(WORDS_PER_ITEM, count - n)))
        yield Item(id=f"g{language}{n}", source="bench", title="", body=body, language=language)


def cache_sizes() -> dict[str, int]:
    """Words in each word-key table (by stem language) and compound entries."""
    out = {lang: len(table) for lang, table in keytable._TABLES.items()}
    out["compounds"] = len(compounds._CACHE)
    return out


def grow(
    matcher: Matcher, languages: list[str], per_language: int, view_words: int = 0
) -> dict[str, Any]:
    """Feed ``per_language`` distinct words in each language, then ``view_words`` in every
    view language (all of them viewed); load pymorphy3; say how long."""
    from alerts.matching.firstnames import feminine_first_name

    t0 = time.perf_counter()
    feminine_first_name("Анна")  # as a -ова surname after a first name would, once
    steps = {"pymorphy3": _mib()}
    for language in languages:
        for item in items(language, per_language):
            matcher.match(item)
        steps[language] = _mib()
    if view_words:
        for language in VIEW_LANGUAGES:
            for item in items(language, view_words):
                matcher.match(item)
        steps["all views"] = _mib()
    added = matcher.index.view_anchors
    return {"grow_s": time.perf_counter() - t0, "caches": cache_sizes() | cache_bytes(),
            "steps": steps, "views": len(matcher.index.views),
            "view_bytes": added.nbytes() if added is not None else 0}  # fmt: skip


def _mib() -> tuple[float, float, float]:
    """This process's resident MiB now: all of it (VmRSS) and the anonymous part (RssAnon);
    and its peak since the last phase ended (``phase_peak``)."""
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    rss, anon = (int(status[k].split()[0]) / 1024 for k in ("VmRSS", "RssAnon"))
    return rss, anon, phase_peak()


def phase_peak() -> float:
    """The peak resident MiB (VmHWM) since the last call, which starts the next phase:
    Linux resets VmHWM to the current resident size on a write of 5 to
    /proc/self/clear_refs. Without that right (some containers), the peak so far."""
    status = Path("/proc/self/status").read_text()
    peak = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:"))
    with suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")
    return peak / 1024


def cache_bytes() -> dict[str, int]:
    """Bytes the caches count against their budgets (all, and the compounds' part)."""
    return {"bytes": caches.cache_bytes(), "compound_bytes": compounds.nbytes()}
