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
from collections.abc import Iterable
from typing import Any

import numpy as np
from py3langid.langid import MODEL_FILE, LanguageIdentifier, visit_counts

MAX_LOGIT = math.log((1 - 1e-6) / 1e-6)  # probabilities are held within [1e-6, 1 - 1e-6]


def load_identifier() -> LanguageIdentifier:
    """py3langid's whole model (about 70 MB of arrays)."""
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def model_bytes(text: str) -> bytes:
    """The bytes py3langid scores for ``text``: lower case when all upper, NFC, UTF-8."""
    if text.isupper():
        text = text.lower()
    return unicodedata.normalize("NFC", text).encode("utf8", errors="surrogatepass")


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
        self.walk: tuple[Any, list[int], Any] = (
            ident.tk_nextmove,
            [row << 8 for row in ident.tk_row],
            ident.tk_output,
        )

    def scores(self, data: bytes) -> Any:
        """The languages' log scores of ``data`` (``model_bytes``); None when no feature."""
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
        return self.langs[0] if found is None else self.langs[int(found.argmax())]

    def logit(self, text: str, lang: str, other: str) -> float:
        """ln(p / (1 - p)) of ``lang`` against ``other`` by the model's calibrated softmax
        (temperature: the square root of the byte count), held within ±``MAX_LOGIT``."""
        data = model_bytes(text)
        found = self.scores(data)
        if found is None:
            return 0.0
        i, j = self.langs.index(lang), self.langs.index(other)
        odds = float(found[i] - found[j]) / math.sqrt(len(data))
        return min(max(odds, -MAX_LOGIT), MAX_LOGIT)
