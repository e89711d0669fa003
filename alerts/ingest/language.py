"""The language of an item: a declared tag normalised, else the text's language detected.

Detection is restricted to the languages our users read, which keeps short headlines robust.
The script decides first (Cyrillic or Latin). For Cyrillic, letters only Ukrainian or only
Russian has (і ї є ґ against ы э ъ ё) decide next; then py3langid's model, asked to choose only
among that script's languages (scored by ``langmodel``, its twin kept for speed); then, for
Czech against Slovak, their own letters again. The model ships inside the py3langid wheel:
nothing is downloaded. bench/langid.py has the figures.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

import langcodes

from alerts.models import Item

if TYPE_CHECKING:  # py3langid (and numpy) load with the model, on the first detection
    from alerts.ingest.langmodel import ScriptModel

LanguageSource = Literal["declared", "detected"]
CYRILLIC = frozenset({"ru", "uk"})
LATIN = frozenset({"en", "de", "fr", "pl", "cs", "sk", "fi", "es", "nl", "sv", "it", "da", "no"})
LANGUAGES = CYRILLIC | LATIN
SAMPLE_CHARS = 200  # title + the start of the text: as accurate as 400 on our texts, cheaper
_ALIASES = {"ua": "uk", "nb": "no", "nn": "no"}  # "ua" is Ukraine's country code, often misused
_NOT_A_LANGUAGE = frozenset({"und", "mul", "zxx", "mis"})
# Counted with regular expressions: a loop over the characters in Python would cost more than
# the model itself.
_UK_ONLY = re.compile("[іїєґІЇЄҐ]")
_RU_ONLY = re.compile("[ыэъёЫЭЪЁ]")
_CS_ONLY = re.compile("[řěůŘĚŮ]")
_SK_ONLY = re.compile("[äôľĺŕÄÔĽĹŔ]")
# Counted by cutting out what is not counted: C speed, where findall built a list of letters.
_NOT_CYRILLIC = re.compile("[^Ѐ-ӿ]+")
# Ukrainian text has about one і/ї/є in fifteen letters, so a Cyrillic text without one (and
# without ы э ъ ё) leans Russian the longer it is: ln(0.98/0.93) ≈ 0.05 per letter in theory,
# but the model's n-grams already see most of that absence. 0.01 is what 207 Cyrillic
# headlines (bench/langid_texts.yaml and the quality corpus) support: 0 and 0.02 err twice each.
_NO_TELLING_LETTER_LEANS_RU = 0.01
_NOT_LETTERS = re.compile(r"[\W\d_]+")
_NOT_ASCII_LETTERS = re.compile("[^A-Za-z]+")
# The same set as bytes, for ``bytes.translate`` to delete.
_NOT_ASCII_LETTER_BYTES = bytes(b for b in range(128) if _NOT_ASCII_LETTERS.match(chr(b)))
_SUBTAG = re.compile(r"[-_\s]")


@functools.lru_cache(maxsize=256)
def normalise_language(tag: str | None) -> str | None:
    """A declared tag as ISO 639-1 in lower case where one exists ('en-US' -> 'en'), else None."""
    primary = _SUBTAG.split(tag.strip(), maxsplit=1)[0].lower() if tag else ""
    primary = _ALIASES.get(primary, primary)
    if not primary.isalpha() or not langcodes.tag_is_valid(primary):
        return None
    code = langcodes.standardize_tag(primary)  # ISO 639-2/3 to 639-1: 'ukr' -> 'uk'
    code = _ALIASES.get(code, code)
    return None if code in _NOT_A_LANGUAGE else code


_LOADING = threading.Lock()


def _models() -> dict[str, ScriptModel]:
    """py3langid's model for each script's languages; loaded once even when a warm-up thread
    and the first item ask at the same time."""
    with _LOADING:
        return _load_models()


def warm_up() -> threading.Thread:
    """Load the model now in a thread of its own (the API calls this at start), so the first
    bulletin does not wait about 0.5 s for it on the event loop."""
    thread = threading.Thread(target=_models, name="language-model", daemon=True)
    thread.start()
    return thread


@functools.cache
def _load_models() -> dict[str, ScriptModel]:
    """Made on first use: numpy and the model load with it, about 70 MB of arrays."""
    from alerts.ingest.langmodel import ScriptModel, load_identifier

    ident = load_identifier()
    return {"cyrillic": ScriptModel(ident, CYRILLIC), "latin": ScriptModel(ident, LATIN)}


def _letters(text: str) -> int:
    """How many letters ``text`` has (one C pass: what is not a letter is cut out)."""
    if text.isascii():  # bytes.translate: a table lookup a byte, where the regex searched
        return len(text.encode("ascii").translate(None, _NOT_ASCII_LETTER_BYTES))
    return len(_NOT_LETTERS.sub("", text))


def _script(text: str, letters: int) -> Literal["cyrillic", "latin"] | None:
    if not letters:
        return None
    if text.isascii():
        return "latin"
    return "cyrillic" if len(_NOT_CYRILLIC.sub("", text)) * 2 >= letters else "latin"


def script_of(text: str) -> Literal["cyrillic", "latin"] | None:
    """The script of most letters: Cyrillic, else Latin; None for text without letters."""
    return _script(text, _letters(text))


def _by_letters(text: str, pair: tuple[str, str], own: tuple[re.Pattern[str], ...]) -> str | None:
    """The one of ``pair`` whose own letters outnumber the other's in ``text``; else None."""
    first, second = len(own[0].findall(text)), len(own[1].findall(text))
    return pair[0] if first > second else pair[1] if second > first else None


def ru_or_uk(text: str) -> str | None:
    """'uk' or 'ru' when letters only one of them has decide it; None when they do not."""
    return _by_letters(text, ("uk", "ru"), (_UK_ONLY, _RU_ONLY))


def _ru_or_uk_by_model(text: str, letters: int) -> str:
    """The model's odds for Ukrainian, weighed against a telling letter's absence."""
    leaning = _NO_TELLING_LETTER_LEANS_RU * letters
    return "uk" if _models()["cyrillic"].logit(text, "uk", "ru") > leaning else "ru"


def _detect(text: str) -> str | None:
    letters = _letters(text)
    script = _script(text, letters)
    if script is None:
        return None
    if script == "cyrillic":
        return ru_or_uk(text) or _ru_or_uk_by_model(text, letters)
    found = _models()["latin"].best(text)
    if found in ("cs", "sk"):  # the closest pair: their own letters decide when present
        found = _by_letters(text, ("cs", "sk"), (_CS_ONLY, _SK_ONLY)) or found
    return _ALIASES.get(found, found)


_detect_cached = functools.lru_cache(maxsize=4096)(_detect)


def detect_language(text: str, *, cached: bool = True) -> str | None:
    """The language of ``text`` among ``LANGUAGES``; None for text without letters.

    Cached by text: a story repeated by several sources (or polled again) is detected once.
    """
    sample = text[:SAMPLE_CHARS]
    return _detect_cached(sample) if cached else _detect(sample)


def item_sample(item: Item) -> str:
    """What detection reads: the title and the start of the summary or body."""
    return sample_of(item.title, item.summary, item.body)


def sample_of(title: str, summary: str, body: str) -> str:
    """``item_sample`` of an item with these fields."""
    return f"{title}\n{(summary or body)[:SAMPLE_CHARS]}"


def label_of(
    declared: str | None, configured: str | None, title: str, summary: str, body: str
) -> tuple[str | None, LanguageSource | None]:
    """The language of an item with these fields and where it came from: the source's
    configured one (normalised), the item's declared one (normalised), or detected. What
    ``with_language`` labels an item with, and ``make_item(labelled=True)`` builds one with."""
    if configured:
        return configured, "declared"
    if declared:
        return declared, "declared"
    found = detect_language(sample_of(title, summary, body))
    return (found, "detected") if found else (None, None)


def with_language(item: Item, configured: str | None = None) -> Item:
    """The item with its language: the source's configured one, its declared one, or detected.
    An item labelled already (declared, or detected: detection reads only the item's own text)
    keeps its label, but for the configured language, which wins over both."""
    if not configured and item.language_source is not None:
        return item
    language, how = label_of(None, configured, item.title, item.summary, item.body)
    if language is None or how is None or (language, how) == (item.language, item.language_source):
        return item  # nothing detected, or built so (``make_item(labelled=True)``)
    return _labelled(item, language, how)


def _labelled(item: Item, language: str, source: LanguageSource) -> Item:
    """``item`` with its language: the same as ``model_copy(update=...)`` (equal, same hash),
    validated again from its fields, which costs pydantic half what its ``model_copy`` does
    (every bulletin's items pass here). Its fields all count as set, as ``make_item``'s do."""
    return Item.model_validate({**item.__dict__, "language": language, "language_source": source})


def assign_languages(items: Sequence[Item], configured: str | None = None) -> list[Item]:
    """Every item with its language (``configured``, a tag of the source, wins when set)."""
    code = normalise_language(configured)
    return [with_language(item, code) for item in items]
