"""The command line explains itself: help on every option, clean top-level help."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from alerts.commands.main import ROOT_COMMANDS, build_parser
from tests.conftest import ROOT


def _parsers(parser: argparse.ArgumentParser, path: str = "alerts"):  # type: ignore[no-untyped-def]
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers(sub, f"{path} {name}")


def test_every_command_and_option_has_help() -> None:
    missing = []
    for path, parser in _parsers(build_parser()):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                missing += [f"{path} {c.dest}" for c in action._choices_actions if not c.help]
            elif not action.help:
                missing.append(f"{path} {'/'.join(action.option_strings) or action.dest}")
    assert missing == []


def test_top_level_help_has_no_markup() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "alerts", "--help"], capture_output=True, text=True, cwd=ROOT
    ).stdout
    assert "``" not in out
    assert "The alerts command" in out


@pytest.mark.parametrize("command", ROOT_COMMANDS)
def test_the_service_commands_parse_without_the_package_tools(command: str) -> None:
    # `alerts ingest` skips importing every package's tools; the tree must still know it.
    parser = build_parser(packages=False)
    assert command in parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
