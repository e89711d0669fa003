"""The load of ``bench/pipeline.py``: generated watches as rule files, and items that fire them."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

WATCHES_PER_FILE = 500
# Filler and watch terms come from disjoint syllables, so filler never fires a watch.
FILL = ["ka", "lu", "mo", "re", "ti", "san", "dor", "vel", "pri", "ne", "ro", "ta", "gor", "le"]
TERM = ["zu", "xo", "qy", "zef", "xib", "quv", "zyx", "qoz", "xuq", "zip", "vyx", "wuz"]


def pseudo_word(rng: random.Random, parts: Sequence[str], lo: int, hi: int) -> str:
    """A made-up word of ``lo``..``hi`` syllables."""
    return "".join(rng.choice(parts) for _ in range(rng.randint(lo, hi)))


@dataclass(frozen=True)
class Watch:
    """One generated watch and the text an item needs to fire it."""

    spec: dict[str, Any]
    trigger: str


def make_watches(n: int, rng: random.Random) -> list[Watch]:
    """``n`` watches: 50% single terms, 25% phrases, 25% booleans (all + any + none)."""
    words: set[str] = set()
    while len(words) < 4 * n:
        words.add(pseudo_word(rng, TERM, 4, 6))
    pool = sorted(words)
    rng.shuffle(pool)
    out = []
    for i in range(n):
        a, b, c, d = pool[4 * i : 4 * i + 4]
        spec: dict[str, Any] = {"id": f"w{i:05d}", "notify": {"channels": ["slack"]}}
        roll = i % 4
        if roll < 2:
            spec["any"], trigger = [a, b], a
        elif roll == 2:
            spec["any"], trigger = [f"{a} {b}"], f"{a} {b}"
        else:
            while any(d in w or w in d for w in (a, b, c)):
                # The trigger's words would contain the exclusion: the matcher reads a word
                # that ends in another watch term as a compound of it (in the languages that
                # make compounds), so the item would fire or not by its detected language.
                d = _unused_word(rng, words)
            spec.update({"all": [a, b], "any": [c, f"{c} {d}"], "none": [d]})
            trigger = f"{b} {c} {a}"
        out.append(Watch(spec, trigger))
    return out


def _unused_word(rng: random.Random, words: set[str]) -> str:
    """A term word not yet taken (added to ``words``)."""
    while (word := pseudo_word(rng, TERM, 4, 6)) in words:
        pass
    words.add(word)
    return word


def write_rules(rules_dir: Path, watches: Sequence[Watch]) -> None:
    """The watches as YAML files of ``WATCHES_PER_FILE`` watches each."""
    rules_dir.mkdir(parents=True, exist_ok=True)
    for start in range(0, len(watches), WATCHES_PER_FILE):
        chunk = [w.spec for w in watches[start : start + WATCHES_PER_FILE]]
        path = rules_dir / f"bench-{start // WATCHES_PER_FILE:03d}.yaml"
        path.write_text(yaml.safe_dump({"watches": chunk}, allow_unicode=True), encoding="utf-8")


def item_languages(watches: Sequence[Watch], sample: int = 2000) -> list[str]:
    """The languages the API detects on these items: made-up words read as Italian, Norwegian,
    Finnish... The workers are told (``worker.item_languages``) so their matcher views are
    built when the rules load, as an operator does for its sources' languages; else each
    child builds about ten views (0.5 s each at 10k watches) on its first measured items
    (a language one item in a hundred gets is missed by a sample of 500)."""
    from alerts.ingest import parse_bulletin

    factory = Items(watches, seed=11)  # its own sequence: the measured items are not used up
    body = json.dumps({"items": [factory.make(alert=True) for _ in range(sample)]}).encode()
    parsed = parse_bulletin(body, source="bench", content_type="application/json")
    return sorted({item.language for item in parsed if item.language})


class Items:
    """Item factory: unique sequence numbers, random filler, a watch trigger when asked."""

    def __init__(self, watches: Sequence[Watch], seed: int = 7) -> None:
        self.watches = watches
        self.rng = random.Random(seed)
        self.seq = 0
        self.next_watch = 0

    def make(self, *, alert: bool) -> dict[str, Any]:
        """One item of our JSON push schema (~400 bytes), firing one watch when ``alert``."""
        self.seq += 1
        filler = [pseudo_word(self.rng, FILL, 2, 4) for _ in range(60)]
        title = " ".join(filler[:8]).capitalize()
        if alert:
            watch = self.watches[self.next_watch % len(self.watches)]
            self.next_watch += 1
            filler.insert(self.rng.randrange(10, 50), watch.trigger)
        body = " ".join(filler[8:]) + "."
        return {"id": f"bq{self.seq:08d}", "title": f"bq{self.seq:08d} {title}", "body": body}
