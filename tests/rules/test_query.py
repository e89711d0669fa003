"""The query syntax and any/all/none compile to the same tree; odd syntax is refused."""

from __future__ import annotations

import pytest

from alerts.rules.query import QueryProblem, parse_query
from alerts.rules.tree import And, Near, Not, Or, Term


def lists(name: str) -> Or:
    return Or((Term("Riga"), Term("Tallinn")))


def q(text: str) -> object:
    return parse_query(text, exact=False, lists=lists)


# Each row: query, the tree it compiles to.
TREES = [
    # a word and a phrase
    ("Kaluga", Term("Kaluga")),
    ('"coalition of the willing"', Term("coalition of the willing")),
    # implicit operator is AND; -term is NOT
    ("Kaluga drone -exercise", And((Term("Kaluga"), Term("drone"), Not(Term("exercise"))))),
    # grouping and OR
    ("a AND (b OR c)", And((Term("a"), Or((Term("b"), Term("c")))))),
    # field scope
    ("title:Kaluga", Term("Kaluga", fields=frozenset({"title"}))),
    # prefix, exact, regex
    ("negotiat*", Term("negotiat", "prefix")),
    ("=Kaluga", Term("Kaluga", exact=True)),
    ("/kal.ga/", Term("kal.ga", "regex")),
    # proximity
    ('"ceasefire Ukraine"~10', Near((Term("ceasefire"), Term("Ukraine")), 10)),
    # named list
    ("list:baltic", Or((Term("Riga"), Term("Tallinn")))),
]


@pytest.mark.parametrize(("text", "tree"), TREES)
def test_query_trees(text: str, tree: object) -> None:
    assert q(text) == tree


def test_query_renders_back() -> None:
    assert q('title:Kaluga AND ("a b"~3 OR x*) -y').render() == (  # type: ignore[attr-defined]
        'title:Kaluga AND ("a b"~3 OR x*) AND NOT y'
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("kal?ga", "wildcards are only allowed at the end of a term: 'kal?ga'"),
        ("a~2", "unsupported query syntax: 'a~2'"),
        ("[a TO b]", "unsupported query syntax: '[a TO b]'"),
        ("author:x", "unknown field 'author' (use one of title, body, summary, url, source, list)"),
    ],
)
def test_refused_syntax(text: str, message: str) -> None:
    with pytest.raises(QueryProblem) as info:
        q(text)
    assert str(info.value) == message
