"""The index build's short cuts give the atoms the plain steps give, and share nothing that a
later step changes."""

from __future__ import annotations

import copy

from hypothesis import given
from hypothesis import strategies as st

from alerts.matching.atoms import KEYS, PHRASE, Keyed
from alerts.matching.gender import both_genders
from alerts.matching.index import _joins, _words_of, build_index
from alerts.matching.languages import stem_language
from alerts.matching.langview import view
from alerts.matching.termkeys import term_keys
from alerts.matching.text import WORD, normalise, words
from alerts.rules.notify import NotifySpec
from alerts.rules.ruleset import Rule
from alerts.rules.tree import Term

NOTIFY = NotifySpec(channels=("email",))
FIELDS = frozenset({"title", "body"})
TERMS = [
    Term("kaluga"),
    Term("Kaluga"),  # the same atom as kaluga
    Term("Kharkiv"),  # a name: keys of other orthographies, some of one language only
    Term("Рига"),
    Term("Budanov", surname_gender="any"),  # both genders: an atom of its own
    Term("Budanov"),
    Term("Zelensky", surname_gender="any"),
    Term("cease-fire"),
    Term("cease fire"),
    Term("перемир’я"),  # a typographic apostrophe, normalised
    Term("Nord Stream"),
    Term("Kaluga", exact=True),
    Term("kalu", kind="prefix"),
    Term("ракет"),
    Term("Žilina"),
    Term("Ostrava"),
]


def _index(terms: list[Term]):  # type: ignore[no-untyped-def]
    rules = tuple(Rule(f"w{i}", f"w{i}", NOTIFY, t, FIELDS) for i, t in enumerate(terms))
    return build_index(rules)


def _names(terms: list[Term]) -> set[str]:
    """The words of fuzzy terms written with a capital (the builder's ``names``)."""
    return {
        w
        for t in terms
        if t.kind == "word" and not t.exact
        for cap in WORD.findall(t.text)
        if cap[:1].isupper()
        for w in words(cap)
    }


def test_a_one_word_atom_is_its_words_keys_as_the_plain_steps_give_them() -> None:
    index = _index(TERMS)
    makers: dict[int, Term] = {}  # per atom, the first term of it: the one it is made from
    for watch, term in zip(index.watches, TERMS, strict=True):
        makers.setdefault(watch.node.atom, term)  # type: ignore[attr-defined]
    names = _names(list(makers.values()))
    for atom, term in makers.items():
        pattern = index.atoms[atom]
        if pattern[0] != KEYS:
            continue
        (word,) = words(term.text)
        keys = term_keys([word], names, stems=False)[word]
        every = both_genders(keys.all()) if term.surname_gender == "any" else keys.all()
        assert pattern == Keyed(KEYS, every, keys.only or None), term


def test_language_views_leave_the_atoms_language_keys_as_built() -> None:
    index = _index(TERMS)
    before = copy.deepcopy([p[2] if p[0] == KEYS else p[3] if p[0] == PHRASE else None
                            for p in index.atoms])  # fmt: skip
    assert any(before), "no atom with keys of some languages only: the test proves nothing"
    for language in ("de", "pl", "ru", "cs", "fi", "uk"):
        view(index, stem_language(language))
    after = [p[2] if p[0] == KEYS else p[3] if p[0] == PHRASE else None for p in index.atoms]
    assert after == before


def test_hyphenated_and_spaced_terms_stay_two_atoms_and_cases_one() -> None:
    index = _index(TERMS)
    atom = {t: w.node.atom for t, w in zip(TERMS, index.watches, strict=True)}  # type: ignore[attr-defined]
    assert atom[TERMS[0]] == atom[TERMS[1]]  # kaluga, Kaluga
    assert atom[TERMS[7]] != atom[TERMS[8]]  # cease-fire, cease fire
    assert atom[TERMS[4]] != atom[TERMS[5]]  # Budanov with both genders, and without
    assert index.atoms[atom[TERMS[7]]][2]  # the hyphenated one accepts the joined form
    assert index.atoms[atom[TERMS[9]]][2]  # so does a typographic apostrophe


@given(st.text(alphabet="aZkéÉёЁжЖ -'’‐.1_", max_size=12))
def test_a_terms_words_read_once_normalised_are_its_words(text: str) -> None:
    found = _words_of(text, normalise(text)[0])
    assert found == tuple(words(text))
    if found == (text,):
        assert found[0] is text  # the rule set's own string, no copy


@given(st.text(alphabet="abyz", min_size=1) | st.text(alphabet="azAZ09_-' é", max_size=10))
def test_a_plain_ascii_word_is_its_own_one_word_unjoined(text: str) -> None:
    """The builder's short cut for a lower-case ASCII word skips normalising it."""
    if text.isascii() and text.isalpha() and text.islower():
        norm = normalise(text)[0]
        assert _words_of(text, norm) == (text,)
        assert not _joins(norm)
