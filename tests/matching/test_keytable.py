"""The C key table and its pure-Python twin agree: same words, keys, spans and anchors."""

from __future__ import annotations

import os
from array import array
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alerts.matching import Matcher, keytable
from alerts.matching.keytable import SEP, PyWordTable, key_of, new_table, scan
from alerts.matching.text import _PUNCT, WORD, normalise, plainness_re
from alerts.matching.variants import word_keys
from tests.matching.helpers import item, ruleset_of

try:
    from alerts.matching._wordkeys import WordTable as CWordTable
except ImportError:  # built without a C compiler: the twin is what runs, and is tested
    CWordTable = None

needs_c = pytest.mark.skipif(CWordTable is None, reason="the C extension is not built")

# Every kind of str storage (Latin-1, UCS-2, UCS-4), word and non-word characters of
# several scripts, combining marks, digits of other scripts, and the separator itself.
TEXT = st.text(
    alphabet=st.sampled_from(list("ab kZ9_-.,\t\x1fКалугаЇїёéß’«»ΑβγӂҾ\u0301\u0483٣二𝔘😀")),
    max_size=80,
)
FIELDS = st.lists(TEXT, min_size=1, max_size=3)


def test_the_extension_is_built_where_ci_requires_it() -> None:
    if os.environ.get("ALERTS_REQUIRE_EXTENSION") == "1":
        assert CWordTable is not None
        assert type(keytable.TABLE).__module__ == "alerts.matching._wordkeys"


def _scan(table: keytable.Table, norms: list[str], anchors: dict[str, int]) -> keytable.Scanned:
    return scan(norms, anchors, table)


@needs_c
@given(FIELDS, st.sets(st.sampled_from(["калуг", "ab", "kz9_", "βγ", "\x1f"])))
@settings(max_examples=300, deadline=None)
def test_c_table_agrees_with_twin(texts: list[str], anchors: set[str]) -> None:
    norms = [normalise(t)[0] for t in texts]
    table = dict.fromkeys(anchors, 1)
    ours, twin = CWordTable(8, 6), PyWordTable(8, 6)  # small: start-overs and long words
    for _ in range(2):  # the second scan finds the words the first one added
        found = _scan(ours, norms, table)
        assert found[:3] == _scan(twin, norms, table)[:3]
        assert found[3] is not None and [len(s) // 8 for s in found[3]] == found[2]
    assert ours.split(norms, SEP) == twin.split(norms, SEP)


@given(FIELDS)
@settings(max_examples=200, deadline=None)
def test_words_and_spans_are_those_of_the_regex(texts: list[str]) -> None:
    norms = [normalise(t)[0] for t in texts]
    for table in (new_table(), PyWordTable()):
        keys, _, counts, spans = _scan(table, norms, {})
        words = [w for n in norms for w in [*WORD.findall(n), SEP]]
        assert keys == [w if w == SEP else word_keys([w])[0] for w in words]
        assert counts == [len(WORD.findall(n)) for n in norms]
        assert (spans is None) == isinstance(table, PyWordTable)  # the twin leaves spans out
        for norm, packed in zip(norms, spans or [], strict=spans is not None):
            pairs = array("i", packed).tolist()
            assert list(zip(pairs[0::2], pairs[1::2], strict=True)) == [
                m.span() for m in WORD.finditer(norm)
            ]
        assert table.split(norms, SEP) == words


@pytest.mark.parametrize("make", [new_table, PyWordTable])
def test_anchored_keys_are_listed_once_in_first_seen_order(make: type) -> None:
    table = make()
    anchors = {"drone": 1, "kaluga": 2}
    anchored = _scan(table, ["drones hit Kaluga", "kaluga drone talks"], anchors)[1]
    assert anchored == ["drone", "kaluga"]
    # Another index: the remembered flags are not reused.
    assert _scan(table, ["drones hit Kaluga"], {"hit": 1})[1] == ["hit"]


@pytest.mark.parametrize("make", [new_table, PyWordTable])
def test_a_full_table_starts_over_and_long_words_are_never_kept(make: type) -> None:
    table = make(limit=3, max_word=5)
    keys = _scan(table, ["one two three four five sixsixsix"], {})[0]
    assert keys == [*word_keys(["one", "two", "three", "four", "five", "sixsixsix"]), SEP]
    assert len(table) <= 3 and table.get("sixsixsix") is None
    assert key_of("sixsixsix", table) == word_keys(["sixsixsix"])[0]


@pytest.mark.parametrize("make", [new_table, PyWordTable])
def test_bad_arguments_are_refused(make: type) -> None:
    with pytest.raises(ValueError):
        make(limit=0)
    with pytest.raises(ValueError):
        make().add(["a"], [])
    with pytest.raises(TypeError):
        make().scan([b"bytes"], SEP, {}, None)


RULES = """
watches:
  - {id: kaluga, any: [Kaluga, Київ], none: [Kalugin], notify: {channels: [email]}}
  - {id: truce, all: [cease-fire, talks], fields: [title, body], notify: {channels: [email]}}
  - {id: phrase, any: ["coalition of the willing"], notify: {channels: [email]}}
  - id: exact
    any: [{term: drones, exact: true}, "negotiat*"]
    notify: {channels: [email]}
"""
TEXTS = [
    ("Drones over Калуге", "Ceasefire talks: the cease-fire holds; negotiators met in Киеве."),
    ("Kalugin speaks", "The coalition of the willing met Kaluga officials " + "x" * 90),
    ("Ceasefire", "Talks on a ceasefire; drones, renegotiation, κόσμος 二 😀"),
]


def test_the_matcher_gives_the_same_matches_on_the_twin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rules = ruleset_of(tmp_path, RULES)
    items = [item(t, b, id=f"i{n}") for n, (t, b) in enumerate(TEXTS)]

    def run() -> list[list[dict[str, object]]]:
        matcher = Matcher(rules)
        return [[m.model_dump() for m in matcher.match(it)] for it in items]

    ours = run()
    monkeypatch.setattr(keytable, "TABLE", PyWordTable())
    assert run() == ours
    assert [[m["watch"] for m in found] for found in ours] == [
        ["kaluga", "truce", "exact"],
        ["phrase"],
        ["truce", "exact"],
    ]


@needs_c
@given(st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x2300), max_size=40))
@settings(max_examples=500, deadline=None)
def test_c_plainness_agrees_with_the_regexes(text: str) -> None:
    from alerts.matching._wordkeys import plainness

    low = text.lower()
    assert plainness(low) == plainness_re(low)
    for ch in _PUNCT:  # every 1:1 punctuation mark, and ё (not plain: it folds to е)
        assert plainness(low + ch) == plainness_re(low + ch)
    assert plainness("ё") == 2


@needs_c
@given(st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x2300), max_size=40))
@settings(max_examples=500, deadline=None)
def test_c_lower_plain_agrees_with_lower(text: str) -> None:
    from alerts.matching._wordkeys import lower_plain

    for t in (text, text + "КАЛУГА ЄІЇҐ «—»", "Ёлка", "İstanbul"):
        fast = lower_plain(t)
        if fast is not None:  # else the general path runs: lower(), then the regexes
            assert fast == (t.lower(), plainness_re(t.lower()))
            assert fast[1] in (0, 1)
    assert lower_plain("Калуга, «Kaluga» — ЄІЇҐ") == ("калуга, «kaluga» — єіїґ", 1)
    assert lower_plain("Ёлка") is None  # ё folds to е: not plain


@needs_c
def test_a_call_from_inside_a_call_is_refused() -> None:
    # A key's __eq__ runs Python code in the middle of a scan (as a finaliser or another
    # thread could): a second call must not touch the table's shared buffers.
    table = CWordTable()
    scan(["kaluga"], {}, table)
    refused: list[str] = []

    class Reentrant(str):
        __hash__ = str.__hash__

        def __eq__(self, other: object) -> bool:
            try:
                table.add(["x"], ["x"])
            except RuntimeError as e:
                refused.append(str(e))
            return str.__eq__(self, other)

    assert table.scan(["kaluga"], SEP, {Reentrant("kaluga"): 1}, None)[1] == ["kaluga"]
    assert refused == ["WordTable is in use: one call at a time"]
    assert scan(["kaluga x"], {}, table)[0] == ["kaluga", "x", SEP]  # usable again


@needs_c
@given(st.lists(st.sampled_from(["a", "b", "ab", "калуг", SEP]), max_size=300))
@settings(max_examples=200, deadline=None)
def test_c_index_all_agrees_with_python(entries: list[str]) -> None:
    from alerts.matching._wordkeys import index_all
    from alerts.matching.document import _every_position

    copies = ["".join(list(e)) for e in entries]  # equal, mostly not the same objects
    assert index_all(entries) == index_all(copies) == _every_position(copies)


@needs_c
@given(st.text(alphabet=st.sampled_from(list("akhyjzwłlbb\nКкЇ𝔘é ")), max_size=60))
@settings(max_examples=500, deadline=None)
def test_c_skeleton_agrees_with_the_python_steps(text: str) -> None:
    from alerts.matching._wordkeys import skeleton
    from alerts.matching.variants import _skeleton_py

    assert skeleton(text) == _skeleton_py(text)
    assert skeleton("zelenskyy\nkkhh\nłłl\nwwzz") == "selenski\nkh\nl\nvs"


@needs_c
def test_variants_skeletons_are_the_c_ones_where_built() -> None:
    """An import of the C skeleton that fell back would go unseen: the same keys, slower."""
    from alerts.matching import _wordkeys, variants

    assert variants._skeleton is _wordkeys.skeleton
