"""docs/settings.md is generated from the settings model; a stale page fails here."""

from __future__ import annotations

from alerts.settings import Settings
from alerts.settings_check import variable_names
from alerts.settings_doc import render
from tests.conftest import ROOT

PAGE = ROOT / "docs" / "settings.md"


def test_the_settings_page_is_up_to_date() -> None:
    assert PAGE.read_text(encoding="utf-8") == render(), "run `make docs` and commit the page"


def test_every_variable_is_on_the_page_with_a_meaning() -> None:
    page = PAGE.read_text(encoding="utf-8")
    for var in variable_names(Settings):
        rows = [line for line in page.splitlines() if f"| `{var}` |" in line]
        if var in ("ALERTS_NOTIFY", "ALERTS_DELIVERY", "ALERTS_WORKER"):
            continue  # a section of its own
        assert len(rows) == 1, var
        assert not rows[0].rstrip().endswith("|  |"), f"{var} has no description"
