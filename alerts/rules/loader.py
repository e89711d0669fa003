"""``load_rules``: every rule file read, validated and compiled in one pass, or nothing.

The engine supplies what only it can tell (``alerts.matching.load_ruleset`` passes them):
which words a term has, and whether each rule's examples behave on a real matcher.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Iterable
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from alerts.gcpause import paused_gc
from alerts.rules.compile import Words, compile_list, compile_rule
from alerts.rules.errors import RuleError, RuleSetError, quote
from alerts.rules.examples import ExampleFailure
from alerts.rules.files import (
    Errors,
    Found,
    check_channels,
    inside,
    pydantic_errors,
    read_file,
    reporter,
    rule_files,
    spec_of,
    split_file,
)
from alerts.rules.ruleset import Rule, RuleSet
from alerts.rules.spec import RULE_KEYS, RuleSpec, TermEntry, TermSpec
from alerts.rules.tree import Node, Term

_LIST = TypeAdapter(tuple[TermEntry, ...])
# Runs the examples of a loaded rule set on the engine: every one that fails.
ExampleRun = Callable[[RuleSet], Iterable[ExampleFailure]]


def load_rules(
    rules_dir: Path,
    *,
    words: Words,
    examples: ExampleRun | None,
    channels: Collection[str] | None = None,
    keep: Callable[[str], bool] | None = None,
) -> RuleSet:
    """Load every rule file of ``rules_dir``, or raise RuleSetError listing every problem.

    ``words`` splits a term as the engine does; ``examples`` runs the rules' examples
    (None skips them); ``channels=None`` skips the channel check. ``keep`` (a shard's
    test of a watch id) drops the other watches once checked: every host reports the same
    errors and version, and holds only its own watches.

    Files are parsed and compiled one at a time, so only one file's parsed YAML (about
    10 KB a watch) is alive at once, not every file's.
    """
    errors = Errors()
    if not rules_dir.is_dir():
        raise RuleSetError([RuleError(str(rules_dir), 1, 1, "rules directory does not exist")])
    digest = hashlib.sha256()
    build = _Build(words, channels, errors, keep)
    for path in rule_files(rules_dir):
        data = read_file(path, rules_dir, errors)
        digest.update(path.name.encode() + b"\0" + data + b"\0")
        rules: list[Found] = []
        lists: list[tuple[Found, str]] = []
        split_file(path, data, rules, lists, errors)
        del data
        with paused_gc():  # every watch stays alive: young collections would re-walk them
            build.lists(lists)
            build.rules(rules)
    with paused_gc():
        build.deferred()
    ruleset = RuleSet(build.kept(), digest.hexdigest()[:12])
    if examples is not None:  # run even beside other errors: one pass reports every failure
        for fail in examples(RuleSet(tuple(build.tested.values()), ruleset.version)):
            f = build.tested_at[fail.rule]
            errors.at(f.src, (*f.prefix, "examples", fail.kind, fail.index), fail.message)
    if errors:
        raise RuleSetError(errors)
    if keep is not None:
        ruleset = RuleSet(tuple(r for r in ruleset.rules if keep(r.id)), ruleset.version)
    return ruleset


class _Known(dict[str, Node]):
    """The named lists compiled so far; remembers a name asked for before its file was read."""

    def __init__(self) -> None:
        super().__init__()
        self.missed = False

    def __contains__(self, name: object) -> bool:
        found = super().__contains__(name)
        self.missed = self.missed or not found
        return found


class _Build:
    """Watches and lists compiled file by file, in file order, first of each id kept.

    A watch naming a list no file read so far has defined waits, with its file's parse, for
    the end (``deferred``), then compiles against every list, as one naming an undefined
    list always did. Only watches with examples keep where they were found (for the
    examples' error positions); the rest drop their file's parse with the file.
    """

    def __init__(
        self,
        words: Words,
        channels: Collection[str] | None,
        errors: Errors,
        keep: Callable[[str], bool] | None = None,
    ) -> None:
        self.words, self.channels, self.errors = words, channels, errors
        self.keep = keep  # another shard's watch is checked and compiled, never held
        self.named = _Known()
        self.list_seen: dict[str, str] = {}
        self.ids: dict[str, str] = {}
        self.first: dict[str, Rule | None] = {}  # id -> rule in file order; None: waiting
        self.waiting: list[tuple[RuleSpec, Found, bool]] = []
        self.tested: dict[str, Rule] = {}
        self.tested_at: dict[str, Found] = {}
        self.terms: dict[Term, Term] = {}  # one object per distinct term (tree.share_terms)

    def lists(self, found: list[tuple[Found, str]]) -> None:
        """Compile the named lists of one file."""
        for f, name in found:
            if name in self.list_seen:
                first = self.list_seen[name]
                self.errors.at(
                    f.src, f.prefix, f"duplicate list {quote(name)} (first in {first})", key=True
                )
                continue
            self.list_seen[name] = f"{f.src.shown}:{f.src.marks.at(f.prefix, key=True)[0]}"
            try:
                entries = _LIST.validate_python(f.value)
            except ValidationError as exc:
                pydantic_errors(exc, f, self.errors, TermSpec)
                continue
            node = compile_list(name, entries, reporter(self.errors, f), words=self.words)
            if node is not None:
                dict.__setitem__(self.named, name, node)

    def rules(self, found: list[Found]) -> None:
        """Check and compile the watches of one file."""
        for f in found:
            spec = spec_of(f, self.errors)
            if spec is None:
                continue
            where = f"{f.src.shown}:{f.src.marks.at((*f.prefix, 'id'))[0]}"
            first = spec.id not in self.ids
            if not first:
                self.errors.at(
                    f.src,
                    (*f.prefix, "id"),
                    f"duplicate watch id {quote(spec.id)} (first in {self.ids[spec.id]})",
                )
            self.ids.setdefault(spec.id, where)
            check_channels(spec, f, self.channels, self.errors)
            self.named.missed = False
            problems = Errors()
            tree = compile_rule(
                spec, self.named, reporter(problems, f), words=self.words, terms=self._table(spec)
            )
            if self.named.missed:  # its list may be in a later file
                self.waiting.append((spec, f, first))
                if first:
                    self.first[spec.id] = None  # its place in the file order
                continue
            self.errors.extend(problems)
            if first:
                self._keep(spec, tree, f)

    def deferred(self) -> None:
        """Compile the watches that named a list before its file was read."""
        for spec, f, first in self.waiting:
            report = reporter(self.errors, f)
            tree = compile_rule(spec, self.named, report, words=self.words, terms=self._table(spec))
            if first:
                self._keep(spec, tree, f)
        self.waiting.clear()

    def kept(self) -> tuple[Rule, ...]:
        """The enabled watches that compiled, in file order."""
        return tuple(r for r in self.first.values() if r is not None)

    def _mine(self, spec: RuleSpec) -> bool:
        return self.keep is None or self.keep(spec.id)

    def _held(self, spec: RuleSpec) -> bool:
        """Whether the watch, if it compiles (and is the first of its id), is held."""
        return spec.enabled and (self._mine(spec) or _tested(spec))

    def _table(self, spec: RuleSpec) -> dict[Term, Term] | None:
        """The shared terms (tree.share_terms) for a watch that will be held: only a held
        watch's terms enter the table, which lives as long as the rule set."""
        return self.terms if self._held(spec) else None

    def _keep(self, spec: RuleSpec, tree: Node | None, f: Found) -> None:
        if tree is None or not self._held(spec):
            # Another shard's watch is dropped as soon as it is checked: a shard's worker
            # never holds every watch at once (nor the holes they would leave behind).
            self.first.pop(spec.id, None)
            return
        mine, tested = self._mine(spec), _tested(spec)
        rule = _rule(spec, tree, f)  # its terms are the table's: compiled with _table
        if mine:
            self.first[spec.id] = rule
        else:  # its examples still run on every host
            self.first.pop(spec.id, None)
        if tested:
            self.tested[spec.id], self.tested_at[spec.id] = rule, f


def _tested(spec: RuleSpec) -> bool:
    return bool(spec.examples.match or spec.examples.no_match)


def _rule(spec: RuleSpec, tree: Node, f: Found) -> Rule:
    return Rule(
        id=spec.id,
        name=spec.name or spec.id,
        notify=spec.notify,
        tree=tree,
        fields=frozenset(spec.fields),
        sources=frozenset(spec.sources),
        languages=frozenset(lang.lower() for lang in spec.languages),
        description=spec.description,
        examples=spec.examples,
        path=f.src.shown,
        line=f.src.marks.at(f.prefix)[0],
    )


__all__ = ["RULE_KEYS", "ExampleRun", "inside", "load_rules", "rule_files"]
