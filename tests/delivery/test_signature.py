"""The item signature is datasketch's MinHash (affine32, 64 permutations, seed 7), exactly."""

from __future__ import annotations

import hashlib
import itertools
import random
import re
from typing import Any

import numpy as np
import pytest
from datasketch import MinHash

from alerts.delivery import minhash
from alerts.delivery.minhash import NUM_PERM, numpy_signature, shingles, signature
from alerts.delivery.stories import BANDS, ROWS, bands
from alerts.models import Item

WORDS = [
    "Kremlin",
    "minister",
    "said",
    "on",
    "Tuesday",
    "Київ",
    "Zürich",
    "東京",
    "flood",
    "warning",
    "über",
    "naïve",
    "42",
    "x",
]


def datasketch_signature(item: Item) -> bytes:
    """What the signature was before its one-pass twin: a MinHash per item."""
    mh = MinHash(num_perm=NUM_PERM, seed=7)
    mh.update_batch([s.encode("utf-8") for s in sorted(shingles(item))])
    return bytes(np.asarray(mh.hashvalues, dtype=np.uint64).tobytes())


def items() -> list[Item]:
    rnd = random.Random(13)
    made = [
        Item(id="empty", source="s", title=""),  # no shingle at all
        Item(id="one", source="s", title="Flood"),  # one word, no pair
        Item(id="punct", source="s", title="!!! ... ???"),  # words of nothing
        Item(id="sum", source="s", title="A title", summary="the summary", body="not read"),
    ]
    for n in range(200):
        title = " ".join(rnd.choices(WORDS, k=rnd.randint(1, 12)))
        body = " ".join(rnd.choices(WORDS, k=rnd.randint(0, 120)))
        made.append(Item(id=str(n), source="s", title=title, body=body))
    return made


@pytest.mark.parametrize("item", items(), ids=lambda i: i.id)
def test_signature_is_datasketchs(item: Item) -> None:
    assert signature(item) == datasketch_signature(item)


def test_signature_is_repeatable_and_sized() -> None:
    item = Item(id="a", source="s", title="Flood warning on the Danube", body="Water rises.")
    first = signature(item)
    assert len(first) == NUM_PERM * 8
    assert signature(item) == first
    assert signature(item.model_copy(update={"title": "Drought"})) != first


def _c_pass() -> object:
    if minhash._c_minhash is None:
        pytest.skip("alerts.delivery._minhash is not built")
    return minhash._c_minhash


def shingle_sets() -> list[set[str]]:
    """Shingles of every UTF-8 length around SHA-1's block and padding bounds (55, 56, 64,
    119, 120), and random ones of 1 to 4 byte characters."""
    rnd = random.Random(7)
    alphabet = "abz09_ Київ Zürich 東京 ñ 😀"
    made = [{"a" * n} for n in range(0, 200)]
    made += [{"é" * n} for n in (27, 28, 32, 60)]  # 2-byte characters: 54..120 bytes
    for _ in range(300):
        k = rnd.randint(1, 40)
        made.append({"".join(rnd.choices(alphabet, k=rnd.randint(1, 90))) for _ in range(k)})
    return made


def test_the_c_pass_is_the_numpy_twin() -> None:
    c_pass: Any = _c_pass()
    for found in shingle_sets():
        assert c_pass(found, minhash._A_LE, minhash._B_LE) == numpy_signature(found), found


def test_the_c_pass_refuses_what_is_not_shingles() -> None:
    c_pass: Any = _c_pass()
    with pytest.raises(TypeError, match="a shingle is a str"):
        c_pass([b"bytes"], minhash._A_LE, minhash._B_LE)
    with pytest.raises(ValueError, match="no shingle"):
        c_pass(set(), minhash._A_LE, minhash._B_LE)
    with pytest.raises(ValueError, match="differ"):
        c_pass({"a"}, minhash._A_LE, minhash._B_LE[:-4])
    with pytest.raises(ValueError, match="uint32"):
        c_pass({"a"}, b"abc", b"abc")


def test_signature_without_the_c_pass_is_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    # The numpy twin stands in when the extension is not built: the same values.
    found = [signature(item) for item in items()]
    monkeypatch.setattr(minhash, "_c_minhash", None)
    assert [signature(item) for item in items()] == found


def test_shingles_are_the_lowered_lead_words_and_their_pairs() -> None:
    # Lowering only the words kept (not the whole text first) keeps the words as found:
    # 'İ' lowers to two code points, a final 'Σ' to 'ς', both inside their word.
    word = re.compile(r"\w+", re.UNICODE)
    texts = [("ΟΔΟΣ İstanbul ΚΑΙ ΣΟΦΙΑ", ""), (" ".join(WORDS * 9), "")]
    made = [Item(id=str(n), source="s", title=t, body=b) for n, (t, b) in enumerate(texts)]
    for item in [*made, *items()]:
        text = f"{item.title} {item.summary or item.body}"
        words = [w.lower() for w in word.findall(text)][:60]
        pairs = {f"{a} {b}" for a, b in itertools.pairwise(words)}
        assert shingles(item) == set(words) | pairs


def test_lead_is_the_whole_texts_first_words() -> None:
    """``lead`` reads a prefix of a long text: the words it gives are always the first
    ``count`` of the whole text's (words cut by the prefix, short texts, long words, none)."""
    rng = random.Random(13)
    word = re.compile(r"\w+", re.UNICODE)
    for _ in range(3000):
        parts = [rng.choice(WORDS) * rng.choice((1, 1, 2, 9)) for _ in range(rng.randint(0, 90))]
        seps = [rng.choice((" ", " ", ", ", "—", "\n", "  ...  ")) for _ in parts]
        text = "".join(p + s for p, s in zip(parts, seps, strict=True))
        for count in (1, 5, 60):
            assert minhash.lead(text, count) == word.findall(text)[:count], (text, count)


def test_lead_of_ascii_text_is_the_regex_words() -> None:
    """On ASCII text (split without the regex) ``lead`` gives ``\\w+``'s words, lowered when
    asked: every ASCII character, control characters and ``_`` included, as a word's part or
    a separator, and the same for text with a character past ASCII (the regex's path)."""
    rng = random.Random(17)
    word = re.compile(r"\w+", re.UNICODE)
    chars = [chr(c) for c in range(128)] + list("abcXYZ09_") * 8
    for n in range(3000):
        text = "".join(rng.choice(chars) for _ in range(rng.randint(0, 900)))
        if n % 3 == 0:
            text += rng.choice(("Über", "ß", "İstanbul", "Київ"))
        for count in (1, 5, 60):
            whole = word.findall(text)[:count]
            assert minhash.lead(text, count) == whole, (text, count)
            lowered = [w.lower() for w in whole]
            assert minhash.lead(text, count, lowered=True) == lowered, (text, count)


def test_bands_are_each_rows_short_blake2b() -> None:
    """A signature's band keys: the band's number and the 8-byte BLAKE2b of its rows, as
    stored in Redis (the copies of one prepared hash give each band's own digest)."""
    rng = random.Random(5)
    for _ in range(200):
        sig = rng.randbytes(NUM_PERM * 8)
        width = ROWS * 8
        assert bands(sig) == [
            f"{i}:{hashlib.blake2b(sig[i * width : (i + 1) * width], digest_size=8).hexdigest()}"
            for i in range(BANDS)
        ]
    assert bands(signature(Item(id="1", source="s", title="Flood warning"))) == bands(
        signature(Item(id="2", source="s", title="Flood warning"))
    )
