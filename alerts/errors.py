"""The root of the core's exception tree. Each layer subclasses it and carries a location."""

from __future__ import annotations


class AlertsError(Exception):
    """Base for every error the core raises on purpose."""


class ConfigError(AlertsError):
    """Invalid settings; ``problems`` holds one readable line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems
