"""Language views of an index: built at load for the languages expected, shared by
languages with one stemmer, and giving the same matches as a view built on first use."""

from __future__ import annotations

from pathlib import Path

from alerts.matching import Matcher
from alerts.matching.atoms import BY_KEY, KEYS, Keyed
from alerts.matching.keytable import table_for
from tests.matching.helpers import item, ruleset_of

RULES = """
watches:
  - id: rockets
    any: [Rakete, raketa, rakieta]
    notify: {channels: [email]}
  - id: tula
    any: [Tula]
    notify: {channels: [email]}
"""
TEXTS = [
    ("Neue Raketen über der Stadt", "de"),
    ("Útok raket na Tulu", "cs"),
    ("Útok raket na Tulu", "sk"),
    ("Atak rakiet na Tułę", "pl"),
    ("Rockets over Tula", "en"),
]


def test_views_built_at_load_match_as_views_built_on_first_use(tmp_path: Path) -> None:
    ruleset = ruleset_of(tmp_path, RULES)
    loaded = Matcher(ruleset, languages=["de", "cs", "pl"])
    assert set(loaded.index.views) == {"de", "cs", "pl"}  # built before any item
    lazy = Matcher(ruleset)
    for text, language in TEXTS:
        it = item(text, language=language, language_source="declared")
        assert loaded.match(it) == lazy.match(it), (text, language)
        assert loaded.match(it), (text, language)  # every row fires a watch


def test_languages_with_one_stemmer_share_a_view_and_a_word_table(tmp_path: Path) -> None:
    matcher = Matcher(ruleset_of(tmp_path, RULES), languages=["cs", "sk", "de"])
    views = matcher.index.views
    assert views["cs"] is views["sk"]
    assert views["de"] is not views["cs"]
    assert table_for("sk") is table_for("cs")
    assert table_for("de") is not table_for("cs")


def test_a_view_shares_the_atoms_whose_keys_do_not_change(tmp_path: Path) -> None:
    matcher = Matcher(ruleset_of(tmp_path, RULES), languages=["de"])
    atoms, seen = matcher.index.atoms, matcher.index.views["de"]
    assert len(seen) == len(atoms)
    assert any(atoms[a] is seen[a] for a in range(len(atoms)))
    assert any(atoms[a] != seen[a] for a in range(len(atoms)))  # Rakete: raket added
    assert all(isinstance(a, Keyed) and a.kind == KEYS for a in atoms)


def test_a_hit_written_as_its_term_is_exact_in_any_case(tmp_path: Path) -> None:
    matcher = Matcher(ruleset_of(tmp_path, RULES))
    for text in ("Tula today", "TULA today", "tula today"):
        (found,) = matcher.match(item(text))
        assert found.hits[0].how == ("exact",), text
    assert BY_KEY == 0  # the occurrence kinds are the ints the compiled code compares
