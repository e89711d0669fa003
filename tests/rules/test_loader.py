"""Bad rule files give exact, quotable errors, all of them in one pass; nothing half-loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from alerts.matching import load_ruleset
from alerts.rules import RuleError, RuleSetError
from alerts.rules.yamlsafe import MAX_FILE_BYTES
from tests.matching.helpers import write_rules

GOOD = """\
id: kaluga
any: [Kaluga]
notify: {channels: [email]}
"""


def errors_of(tmp_path: Path, channels: list[str] | None = None, **files: str) -> list[str]:
    """The printed errors of loading these files (relative paths)."""
    write_rules(tmp_path, **files)
    with pytest.raises(RuleSetError) as info:
        load_ruleset(tmp_path, channels=channels)
    return [str(e).replace(f"{tmp_path}/", "") for e in info.value.errors]


def test_good_file_loads_with_version_and_notify(tmp_path: Path) -> None:
    ruleset = load_ruleset(write_rules(tmp_path, kaluga__yaml=GOOD))
    (rule,) = ruleset.rules
    assert (rule.id, rule.name, rule.notify.channels) == ("kaluga", "kaluga", ("email",))
    assert len(ruleset.version) == 12
    assert load_ruleset(tmp_path).version == ruleset.version


def test_version_changes_with_content(tmp_path: Path) -> None:
    first = load_ruleset(write_rules(tmp_path, kaluga__yaml=GOOD)).version
    second = load_ruleset(write_rules(tmp_path, kaluga__yaml=GOOD + "name: Kaluga\n")).version
    assert first != second


def test_error_prints_path_line_col() -> None:
    assert str(RuleError("rules/k.yaml", 14, 7, "unknown key 'term'")) == (
        "rules/k.yaml:14:7: unknown key 'term'"
    )


# Each row: file text, the exact errors expected (file name a.yaml).
BAD = [
    # an unknown key points at the key itself
    ("id: k\nany: [x]\nterm: y\nnotify: {channels: [email]}\n", ["a.yaml:3:1: unknown key 'term'"]),
    # a wrong type names the path inside the rule
    (
        "id: k\nany: x\nnotify: {channels: [email]}\n",
        ["a.yaml:2:6: any: input should be a valid tuple"],
    ),
    # a missing notify block points at the watch
    ("id: k\nany: [x]\n", ["a.yaml:1:1: missing key 'notify'"]),
    # notify is validated by NotifySpec: its unknown keys too
    (
        "id: k\nany: [x]\nnotify: {channels: [email], colour: red}\n",
        ["a.yaml:3:29: unknown key 'colour'"],
    ),
    # a term mapping needs exactly one kind
    (
        "id: k\nany:\n  - {term: a, regex: b}\nnotify: {channels: [email]}\n",
        ["a.yaml:3:5: any[0]: a term needs exactly one of 'term', 'regex' or 'list'"],
    ),
    # YAML syntax errors carry their position, in words a rule author knows
    (
        "id: k\nany: [x\nnotify: {channels: [email]}\n",
        ["a.yaml:3:7: invalid YAML: a list opened with '[' is not closed with ']'"],
    ),
    # an indentation error says so (the library says "expected <block end>")
    (
        "id: k\nnotify:\n    channels: [email]\n  digest: daily\n",
        ["a.yaml:4:3: invalid YAML: this line is not indented like the lines above it"],
    ),
    (
        "id: k\n  any: [x]\nnotify: {channels: [email]}\n",
        [
            "a.yaml:2:6: invalid YAML: unexpected ':' (is this line indented too far, or does"
            " a value with ': ' need quotes?)"
        ],
    ),
    ("id: k\n\tany: [x]\n", ["a.yaml:2:1: invalid YAML: a tab: indent with spaces"]),
    # a misspelt key gets a "did you mean", at the top and inside notify
    (
        "id: k\nanny: [x]\nnotify: {channels: [email]}\n",
        ["a.yaml:2:1: unknown key 'anny' (did you mean 'any'?)"],
    ),
    (
        "id: k\nany: [x]\nnotify: {channels: [email], chanels: [x]}\n",
        ["a.yaml:3:29: unknown key 'chanels' (did you mean 'channels'?)"],
    ),
    (
        "watchs: []\n",
        ["a.yaml:1:1: unknown key 'watchs' (did you mean 'watches'?)"],
    ),
    # python tags are refused
    (
        "id: !!python/object/apply:os.system ['true']\nany: [x]\nnotify: {channels: [email]}\n",
        ["a.yaml:1:5: YAML tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed"],
    ),
    # aliases are refused (no alias bombs)
    (
        "id: k\nany: &a [x]\nall: *a\nnotify: {channels: [email]}\n",
        ["a.yaml:3:6: YAML aliases are not allowed"],
    ),
    # duplicate keys are an error, not a silent overwrite
    (
        "id: k\nany: [x]\nany: [y]\nnotify: {channels: [email]}\n",
        ["a.yaml:3:1: duplicate key 'any'"],
    ),
    # a watch of only exclusions can never fire
    (
        "id: k\nnone: [x]\nnotify: {channels: [email]}\n",
        ["a.yaml:1:5: a watch needs at least one term under 'any', 'all' or 'query'"],
    ),
    # a term with no words
    (
        "id: k\nany: ['!!!']\nnotify: {channels: [email]}\n",
        ["a.yaml:2:7: term '!!!' has no words to match"],
    ),
    # an unknown list
    (
        "id: k\nany: [{list: nope}]\nnotify: {channels: [email]}\n",
        ["a.yaml:2:7: unknown term list 'nope'"],
    ),
    # a bad query
    (
        "id: k\nquery: 'a AND (b'\nnotify: {channels: [email]}\n",
        [
            "a.yaml:2:8: invalid query: unexpected end of expression"
            " (maybe due to unmatched parenthesis) at the end"
        ],
    ),
    # an unknown field in a query
    (
        "id: k\nquery: 'author:x'\nnotify: {channels: [email]}\n",
        ["a.yaml:2:8: unknown field 'author' (use one of title, body, summary, url, source, list)"],
    ),
]


@pytest.mark.parametrize(("text", "expected"), BAD)
def test_bad_file_exact_errors(tmp_path: Path, text: str, expected: list[str]) -> None:
    assert errors_of(tmp_path, a__yaml=text) == expected


def test_re2_refused_pattern_exact_error_line(tmp_path: Path) -> None:
    text = (
        "id: k\nany:\n  - Kaluga\n  - regex: '(a)\\1'\n"
        "  - {regex: 'kal(?=uga)'}\nnotify: {channels: [email]}\n"
    )
    assert errors_of(tmp_path, a__yaml=text) == [
        "a.yaml:4:5: regex '(a)\\\\1' is not supported by RE2: invalid escape sequence: \\1",
        "a.yaml:5:5: regex 'kal(?=uga)' is not supported by RE2: invalid perl operator: (?=",
    ]


def test_every_error_across_files_in_one_pass(tmp_path: Path) -> None:
    errors = errors_of(
        tmp_path,
        ["email"],
        a__yaml=GOOD,
        b__yml="watches:\n  - id: kaluga\n    any: [x]\n    notify: {channels: [slack]}\n",
        c__yaml="id: c\nany: [x]\nnotify: {channels: [email]}\nbogus: 1\n",
    )
    assert errors == [
        "b.yml:2:9: duplicate watch id 'kaluga' (first in a.yaml:1)",
        "b.yml:4:25: unknown channel 'slack' (known: email)",
        "c.yaml:4:1: unknown key 'bogus'",
    ]


def test_a_misspelt_channel_gets_a_did_you_mean(tmp_path: Path) -> None:
    text = GOOD.replace("[email]", "[emial, pager]")
    assert errors_of(tmp_path, ["email", "slack"], a__yaml=text) == [
        "a.yaml:3:21: unknown channel 'emial' (did you mean 'email'?)",
        "a.yaml:3:28: unknown channel 'pager' (known: email, slack)",
    ]


def test_failing_examples_are_reported_beside_other_errors(tmp_path: Path) -> None:
    errors = errors_of(
        tmp_path,
        a__yaml=GOOD + "examples:\n  match: [Kalugin spoke]\n",
        b__yaml="id: b\nany: [x]\nnotify: {channels: [email]}\nbogus: 1\n",
    )
    assert errors == [
        "a.yaml:5:11: example 'Kalugin spoke' should match watch 'kaluga' but does not",
        "b.yaml:4:1: unknown key 'bogus'",
    ]


def test_channels_none_skips_channel_check(tmp_path: Path) -> None:
    write_rules(tmp_path, a__yaml=GOOD.replace("email", "pager"))
    assert load_ruleset(tmp_path).rules[0].notify.channels == ("pager",)


def test_huge_file_refused(tmp_path: Path) -> None:
    big = GOOD + "description: '" + "x" * MAX_FILE_BYTES + "'\n"
    assert errors_of(tmp_path, a__yaml=big) == [
        f"a.yaml:1:1: file is larger than {MAX_FILE_BYTES} bytes"
    ]


def test_failing_example_refuses_the_set(tmp_path: Path) -> None:
    text = GOOD + "examples:\n  match: [Kalugin spoke]\n  no_match: [Калуга]\n"
    assert errors_of(tmp_path, a__yaml=text) == [
        "a.yaml:5:11: example 'Kalugin spoke' should match watch 'kaluga' but does not",
        "a.yaml:6:14: example 'Калуга' should not match watch 'kaluga' (hits: 'Калуга')",
    ]


def test_lists_shared_across_files_and_duplicates(tmp_path: Path) -> None:
    write_rules(
        tmp_path,
        a__yaml="lists:\n  places: [Kaluga, Tula]\n",
        b__yaml="id: b\nany: [{list: places}]\nnotify: {channels: [email]}\n",
    )
    assert load_ruleset(tmp_path).rules[0].clause == "Kaluga OR Tula"
    write_rules(tmp_path, c__yaml="lists:\n  places: [Orel]\n")
    with pytest.raises(RuleSetError) as info:
        load_ruleset(tmp_path)
    assert [str(e).replace(f"{tmp_path}/", "") for e in info.value.errors] == [
        "c.yaml:2:3: duplicate list 'places' (first in a.yaml:2)"
    ]


def test_disabled_watch_is_validated_but_not_loaded(tmp_path: Path) -> None:
    ruleset = load_ruleset(write_rules(tmp_path, a__yaml=GOOD + "enabled: false\n"))
    assert ruleset.rules == ()


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(RuleSetError) as info:
        load_ruleset(tmp_path / "nope")
    assert str(info.value).endswith("nope:1:1: rules directory does not exist")


def _watch(wid: str, term: str) -> str:
    return f"- id: {wid}\n  any: [{term}]\n  notify: {{channels: [email]}}\n"


def test_keep_holds_only_its_watches_but_checks_them_all(tmp_path: Path) -> None:
    """A shard keeps its watches; every watch is still checked, so every host agrees."""
    write_rules(tmp_path, a__yaml="watches:\n" + _watch("w1", "Kaluga") + _watch("w2", "Tula"))
    whole = load_ruleset(tmp_path)
    mine = load_ruleset(tmp_path, keep=lambda wid: wid == "w2")
    assert [r.id for r in mine.rules] == ["w2"]
    assert mine.version == whole.version
    bad = "watches:\n" + _watch("w1", "Kaluga") + "- id: w2\n  any: [Tula]\n  notify: {}\n"
    write_rules(tmp_path, a__yaml=bad)
    with pytest.raises(RuleSetError, match=r"a\.yaml:7:11: missing key .channels."):
        load_ruleset(tmp_path, keep=lambda wid: wid == "w1")  # w2's error is w1's host's too


def test_a_list_in_a_later_file_is_found_and_file_order_kept(tmp_path: Path) -> None:
    """Files compile one by one; a watch naming a list a later file defines waits for it."""
    write_rules(
        tmp_path,
        a__yaml="watches:\n"
        + _watch("first", "Kaluga")
        + "- id: uses\n  any: [{list: cities}]\n  notify: {channels: [email]}\n"
        + _watch("third", "Tula"),
        z__yaml="lists:\n  cities: [Bryansk, Kursk]\n",
    )
    ruleset = load_ruleset(tmp_path)
    assert [r.id for r in ruleset.rules] == ["first", "uses", "third"]
    assert "Bryansk" in ruleset.get("uses").clause
    undefined = "id: lost\nany: [{list: nowhere}]\nnotify: {channels: [email]}\n"
    assert errors_of(tmp_path, b__yaml=undefined) == ["b.yaml:2:7: unknown term list 'nowhere'"]


def test_one_files_parse_at_a_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file's parsed YAML is dropped once its watches are compiled (about 10 KB a watch)."""
    import gc
    import weakref

    from alerts.rules import files

    alive: list[weakref.ref] = []
    most = [0]

    def tracked(data: bytes):  # type: ignore[no-untyped-def]
        value, marks = real(data)
        gc.collect()
        most[0] = max(most[0], sum(ref() is not None for ref in alive))
        alive.append(weakref.ref(marks))
        return value, marks

    real = files.read_yaml
    monkeypatch.setattr(files, "read_yaml", tracked)
    write_rules(
        tmp_path, **{f"f{i}__yaml": "watches:\n" + _watch(f"w{i}", "Kaluga") for i in range(5)}
    )
    assert len(load_ruleset(tmp_path).rules) == 5
    assert most[0] == 0  # no earlier file's parse alive when the next one is read


def test_another_shards_watches_are_checked_but_never_held(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the kept watches (and those with examples, to run them) become rules at all."""
    from alerts.rules import loader

    made: list[str] = []
    real = loader._rule
    monkeypatch.setattr(loader, "_rule", lambda s, t, f: made.append(s.id) or real(s, t, f))
    tested = "- id: w3\n  any: [Kyiv]\n  notify: {channels: [email]}\n  examples: {match: [X]}\n"
    text = "watches:\n" + _watch("w1", "Kaluga") + _watch("w2", "Tula") + tested
    write_rules(tmp_path, a__yaml=text)
    with pytest.raises(RuleSetError, match=r"a\.yaml:\d+:\d+: example .X. should match watch .w3."):
        load_ruleset(tmp_path, keep=lambda wid: wid == "w2")  # w3's example fails here too
    assert made == ["w2", "w3"]
    write_rules(tmp_path, a__yaml=text.replace("[X]", "[Kyiv today]"))
    assert [r.id for r in load_ruleset(tmp_path, keep=lambda wid: wid == "w2").rules] == ["w2"]
