"""py3langid's naive Bayes model, scored for a few languages with tables made once.

``LanguageIdentifier.classify`` restricted to our languages cost the API about 50 µs of a
200-character sample beyond the byte walk: a gather from a half-precision, non-contiguous
table, a float16-to-float32 matmul, then a softmax only to pick the largest score. Here each
script's columns are one contiguous float32 table, rows are gathered with ``take``, and the
best language is the largest raw score (the softmax keeps the order). The ru/uk odds are the
softmax's own: the difference of the two scores over the square root of the byte count.

The twin of ``LanguageIdentifier.classify``: ``tests/ingest/test_langmodel.py`` holds them to
the same answers. The model ships inside the py3langid wheel: nothing is downloaded.
"""

from __future__ import annotations

import math
import unicodedata
from array import array
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
from py3langid.langid import MODEL_FILE, LanguageIdentifier, visit_counts

MAX_LOGIT = math.log((1 - 1e-6) / 1e-6)  # probabilities are held within [1e-6, 1 - 1e-6]


def _native() -> Callable[..., list[float] | None] | None:
    """The scores in C (``_langwalk.c``: the byte walk alone cost 0.1 ms of CPU per sample in
    Python); None when built without a C compiler (then ``ScriptModel.scores_py``)."""
    try:
        from alerts.ingest._langwalk import scores  # type: ignore[import-not-found]
    except ImportError:
        return None
    return scores  # type: ignore[no-any-return]


def load_identifier() -> LanguageIdentifier:
    """py3langid's whole model (about 70 MB of arrays)."""
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def model_bytes(text: str) -> bytes:
    """The bytes py3langid scores for ``text``: lower case when all upper, NFC, UTF-8."""
    if text.isupper():
        text = text.lower()
    return unicodedata.normalize("NFC", text).encode("utf8", errors="surrogatepass")


def _uint32(table: Any) -> array[int]:
    """``table`` as an array of uint32, itself when it is one (the model's 9.8M transitions:
    not copied)."""
    if isinstance(table, array) and table.typecode == "I" and table.itemsize == 4:
        return table
    return array("I", table)


class ScriptModel:
    """The model's scores for ``langs`` only, in the model's own column order (its ties)."""

    def __init__(self, ident: LanguageIdentifier, langs: Iterable[str]) -> None:
        wanted = set(langs)
        classes = list(ident.nb_classes)
        cols = [i for i, code in enumerate(classes) if code in wanted]
        self.langs: tuple[str, ...] = tuple(classes[i] for i in cols)
        if sorted(self.langs) != sorted(wanted):  # a missing or twice-listed language
            raise ValueError(f"the model's languages {sorted(self.langs)} are not {sorted(wanted)}")
        self.table = np.ascontiguousarray(np.asarray(ident.nb_ptc)[:, cols], dtype=np.float32)
        self.prior = np.asarray(ident.nb_pc)[cols].astype(np.float32)
        rowbase = [row << 8 for row in ident.tk_row]
        self.walk: tuple[Any, list[int], Any] = (ident.tk_nextmove, rowbase, ident.tk_output)
        self.native = _native()
        if self.native is not None:  # its tables as arrays of 4-byte items
            walk = (_uint32(ident.tk_nextmove), array("I", rowbase), array("i", ident.tk_output))
            self.tables = (*walk, self.table, self.prior)

    def scores(self, data: bytes) -> Any:
        """The languages' log scores of ``data`` (``model_bytes``); None when no feature. In C
        when built (summed in double: for ``best``, which only compares them)."""
        if self.native is not None:
            return self.native(*self.tables, data)
        return self.scores_py(data)

    def scores_py(self, data: bytes) -> Any:
        """``scores`` in Python: py3langid's walk, then numpy, in float32 as py3langid sums
        (``logit``'s odds are py3langid's own to 1e-5 this way)."""
        visits = visit_counts(*self.walk, data)
        if not visits:
            return None
        n = len(visits)
        rows = np.fromiter(visits.keys(), dtype=np.intp, count=n)
        counts = np.fromiter(visits.values(), dtype=np.float32, count=n)
        found = np.log1p(counts) @ self.table.take(rows, axis=0)
        found += self.prior
        return found

    def best(self, text: str) -> str:
        """The most likely of the languages (the first one when nothing tells them apart)."""
        found = self.scores(model_bytes(text))
        if found is None:
            return self.langs[0]
        return self.langs[max(range(len(found)), key=found.__getitem__)]  # the first of ties

    def logit(self, text: str, lang: str, other: str) -> float:
        """ln(p / (1 - p)) of ``lang`` against ``other`` by the model's calibrated softmax
        (temperature: the square root of the byte count), held within ±``MAX_LOGIT``."""
        data = model_bytes(text)
        found = self.scores_py(data)
        if found is None:
            return 0.0
        i, j = self.langs.index(lang), self.langs.index(other)
        odds = float(found[i] - found[j]) / math.sqrt(len(data))
        return min(max(odds, -MAX_LOGIT), MAX_LOGIT)
