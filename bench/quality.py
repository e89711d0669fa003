"""Matching quality on the labelled multilingual corpus, ours beside two baselines.

The corpus is ``tests/matching/quality/``: watches in ``rules/*.yaml`` (loaded with the real
loader, one file at a time, so a file the loader refuses is reported and the others still
run) and labelled texts in ``texts/{dev,holdout}/<lang>.yaml``. Each text becomes an Item
through ``parse_bulletin`` of our JSON bulletin format, without a language unless
``--declared``. Scored over (text, watch) pairs: recall and precision per language and per
kind, for dev, holdout and both, for our ``Matcher`` and, on the same watches in the same
run, a whole-word and a substring baseline over each watch's ``any:`` strings.

``python bench/quality.py [--declared] [--misses] [--json FILE] [--loaded-only]``; always
exits 0. ``--misses`` lists dev texts only: holdout is never tuned on. ``--loaded-only``
leaves out the watches of refused files (for all three engines).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from alerts.ingest.parse import parse_bulletin
from alerts.matching import Matcher, load_ruleset
from alerts.models import Item
from alerts.rules import RuleSetError

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "matching" / "quality"
SPLITS = ("dev", "holdout")
ENGINES = ("ours", "whole-word", "substring")
Fired = Callable[["Text"], frozenset[str]]


@dataclass(frozen=True)
class Text:
    """One labelled text: the watches in ``match`` should fire, no other."""

    id: str
    lang: str
    split: str
    kind: str
    title: str
    body: str
    match: frozenset[str]

    @property
    def content(self) -> str:
        """Title and body, as the baselines search them."""
        return f"{self.title}\n{self.body}"


@dataclass(frozen=True)
class Watch:
    """A watch as the baselines see it: its id and its ``any:`` strings."""

    id: str
    file: str
    terms: tuple[str, ...]


@dataclass
class Tally:
    """True and false hits and misses over (text, watch) pairs."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, fired: frozenset[str], expected: frozenset[str]) -> None:
        """Count one text's fired watches against its labels."""
        self.tp += len(fired & expected)
        self.fp += len(fired - expected)
        self.fn += len(expected - fired)

    def figures(self) -> dict[str, float | int | None]:
        """Counts with recall and precision (None when undefined)."""
        recall = self.tp / (self.tp + self.fn) if self.tp + self.fn else None
        precision = self.tp / (self.tp + self.fp) if self.tp + self.fp else None
        counts = {"tp": self.tp, "fp": self.fp, "fn": self.fn}
        return {**counts, "recall": recall, "precision": precision}


@dataclass
class Group:
    """The texts of one row (a language, a kind, or all) and a tally per engine."""

    texts: int = 0
    tallies: dict[str, Tally] = field(default_factory=lambda: {e: Tally() for e in ENGINES})


def load_texts(root: Path = CORPUS) -> list[Text]:
    """Every labelled text of ``texts/dev`` and ``texts/holdout``."""
    texts = []
    for split in SPLITS:
        for path in sorted((root / "texts" / split).glob("*.yaml")):
            entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
            texts += [_text(e, path.stem, split) for e in entries]
    return texts


def _text(e: dict[str, Any], lang: str, split: str) -> Text:
    body, match = e.get("body") or "", e.get("match") or ()
    return Text(e["id"], lang, split, e["kind"], e["title"], body, frozenset(match))


def load_watches(root: Path = CORPUS) -> list[Watch]:
    """The watches of every rule file, read as plain YAML (for the baselines and the labels)."""
    watches = []
    for path in sorted((root / "rules").glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for w in doc.get("watches", [doc] if "id" in doc else []):
            terms = tuple(t if isinstance(t, str) else t.get("term", "") for t in w.get("any", []))
            watches.append(Watch(w["id"], path.name, tuple(t for t in terms if t)))
    return watches


def load_matchers(root: Path = CORPUS) -> tuple[list[Matcher], dict[str, str]]:
    """A Matcher per rule file the loader accepts, and a line per file it refuses (by name)."""
    matchers, refused = [], {}
    for path in sorted((root / "rules").glob("*.yaml")):
        with tempfile.TemporaryDirectory() as tmp:
            shutil.copy(path, tmp)
            try:
                matchers.append(Matcher(load_ruleset(Path(tmp))))
            except RuleSetError as exc:
                first = str(exc.errors[0]).replace(str(Path(tmp) / path.name), path.name)
                refused[path.name] = f"{path.name}: not loaded, its watches never fire: {first}"
    return matchers, refused


def to_item(text: Text, declared: bool) -> Item:
    """The text as an Item, through the real parser of our JSON bulletin format."""
    doc = {"title": text.title, "body": text.body, "id": text.id}
    if declared:
        doc["language"] = text.lang
    (item,) = parse_bulletin(json.dumps(doc).encode(), source="quality", format="json")
    return item


def ours(matchers: list[Matcher], declared: bool) -> Fired:
    """The watches our matchers fire on a text."""

    def fired(text: Text) -> frozenset[str]:
        item = to_item(text, declared)
        return frozenset(m.watch for matcher in matchers for m in matcher.match(item))

    return fired


def whole_word(watches: list[Watch]) -> Fired:
    """Case-insensitive whole-word match of any ``any:`` string (a phrase's spaces: any space)."""
    patterns = [(w.id, re.compile("|".join(map(_whole, w.terms)))) for w in watches]
    return lambda text: frozenset(i for i, p in patterns if p.search(text.content.casefold()))


def _whole(term: str) -> str:
    words = (re.escape(w) for w in term.casefold().split())
    return r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)"


def substring(watches: list[Watch]) -> Fired:
    """Case-insensitive substring match of any ``any:`` string."""
    folded = [(w.id, [t.casefold() for t in w.terms]) for w in watches]
    return lambda text: frozenset(
        i for i, terms in folded if any(t in text.content.casefold() for t in terms)
    )


def run(texts: list[Text], engines: dict[str, Fired]) -> dict[str, dict[str, frozenset[str]]]:
    """What each engine fires on each text: engine -> text id -> watch ids."""
    return {name: {t.id: fire(t) for t in texts} for name, fire in engines.items()}


def score(
    texts: Iterable[Text], fired: dict[str, dict[str, frozenset[str]]], by: str
) -> dict[str, Group]:
    """Groups by language or kind (plus 'all'), each engine's tally over its texts."""
    groups: dict[str, Group] = {}
    for text in texts:
        for key in (getattr(text, by), "all"):
            group = groups.setdefault(key, Group())
            group.texts += 1
            for engine in ENGINES:
                group.tallies[engine].add(fired[engine][text.id], text.match)
    return dict(sorted(groups.items(), key=lambda kv: (kv[0] == "all", kv[0])))


def _fmt(value: float | int | None) -> str:
    return "    -" if value is None else f"{value:5.3f}"


def print_table(title: str, groups: dict[str, Group]) -> None:
    """One table: a row per group, recall and precision of each engine side by side."""
    print(f"\n{title}")
    print(f"{'':14}{'texts':>6}  " + "".join(f"{e:>16}" for e in ENGINES))
    print(f"{'':14}{'':>6}  " + "      R      P  " * len(ENGINES))
    for key, g in groups.items():
        cells = "".join(
            f"  {_fmt(f['recall'])}  {_fmt(f['precision'])}"
            for f in (g.tallies[e].figures() for e in ENGINES)
        )
        print(f"{key:14}{g.texts:>6}{cells}")


def print_misses(texts: list[Text], fired: dict[str, frozenset[str]]) -> None:
    """Our misses (a label that did not fire) and false hits (a fire without a label), dev only.

    Holdout misses are never listed: the engine is not tuned on them (see the corpus README).
    """
    print("\nours: misses (MISS) and false hits (FALSE), dev texts only")
    for t in (t for t in texts if t.split == "dev"):
        for w in sorted(t.match - fired[t.id]):
            print(f"MISS   {t.id:8} {t.split:8} {t.kind:15} {w:12} {t.title}")
        for w in sorted(fired[t.id] - t.match):
            print(f"FALSE  {t.id:8} {t.split:8} {t.kind:15} {w:12} {t.title}")


def report(texts: list[Text], fired: dict[str, dict[str, frozenset[str]]]) -> dict[str, object]:
    """Print the tables for dev, holdout and both; return the same figures for ``--json``."""
    figures: dict[str, object] = {}
    for split in (*SPLITS, "all"):
        part = [t for t in texts if split in ("all", t.split)]
        figures[split] = {}
        for by in ("lang", "kind"):
            groups = score(part, fired, by)
            print_table(f"== {split}: by {'language' if by == 'lang' else by} ==", groups)
            figures[split][by] = {  # type: ignore[index]
                k: {"texts": g.texts, **{e: g.tallies[e].figures() for e in ENGINES}}
                for k, g in groups.items()
            }
    return figures


def check_labels(texts: list[Text], watches: list[Watch]) -> list[str]:
    """Problems in the corpus itself: a label naming no watch, a duplicate text id."""
    known = {w.id for w in watches}
    counts = Counter(t.id for t in texts)
    problems = [f"{i}: duplicate id" for i, n in counts.items() if n > 1]
    problems += [f"{t.id}: unknown watch {w!r}" for t in texts for w in sorted(t.match - known)]
    return problems


def only(texts: list[Text], watch_ids: set[str]) -> list[Text]:
    """The texts with their labels narrowed to these watches."""
    return [replace(t, match=t.match & watch_ids) for t in texts]


def main(argv: list[str] | None = None) -> int:
    """Run the bench; the exit code is 0 whatever the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--declared", action="store_true", help="pass each file's language")
    ap.add_argument(
        "--misses", action="store_true", help="list our misses and false hits on dev texts"
    )
    ap.add_argument("--json", type=Path, help="write the figures to this file")
    ap.add_argument(
        "--loaded-only", action="store_true", help="score only the watches the loader accepts"
    )
    ap.add_argument("--corpus", type=Path, default=CORPUS, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    texts, watches = load_texts(args.corpus), load_watches(args.corpus)
    matchers, refused = load_matchers(args.corpus)
    for line in [*refused.values(), *check_labels(texts, watches)]:
        print(line)
    if args.loaded_only:
        watches = [w for w in watches if w.file not in refused]
        texts = only(texts, {w.id for w in watches})
    langs = sorted({t.lang for t in texts})
    given = "declared" if args.declared else "not given"
    print(
        f"{len(texts)} texts in {len(langs)} languages ({', '.join(langs)}), "
        f"{len(watches)} watches, language {given}"
    )
    engines = {
        "ours": ours(matchers, args.declared),
        "whole-word": whole_word(watches),
        "substring": substring(watches),
    }
    fired = run(texts, engines)
    figures = report(texts, fired)
    if args.misses:
        print_misses(texts, fired["ours"])
    if args.json:
        args.json.write_text(
            json.dumps({"refused": list(refused.values()), **figures}, indent=1) + "\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
