"""The item signature is datasketch's MinHash (affine32, 64 permutations, seed 7), exactly."""

from __future__ import annotations

import random

import numpy as np
import pytest
from datasketch import MinHash

from alerts.delivery.minhash import NUM_PERM, shingles, signature
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
