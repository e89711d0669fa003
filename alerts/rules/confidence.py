"""How confidently a hit was found: the kinds ``min_confidence`` names, most confident first.

The rule language names them and orders them; the engine (``alerts.matching.how``) tells which
kinds a hit is. ``min_confidence`` counts a hit whose least confident kind is at most the one
asked for.
"""

from __future__ import annotations

from typing import Literal

How = Literal["exact", "inflected", "transliterated", "other_spelling", "compound"]
KINDS: tuple[How, ...] = ("exact", "inflected", "transliterated", "other_spelling", "compound")
RANK: dict[str, int] = {kind: i for i, kind in enumerate(KINDS)}


def rank(kinds: tuple[str, ...]) -> int:
    """The rank of a hit's least confident kind (0 is exact)."""
    return max((RANK[k] for k in kinds), default=0)
