"""Unknown ``ALERTS_*`` variables: nothing reads them, so a typo would pass unnoticed."""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterator, Mapping
from typing import Any

from pydantic import BaseModel

from alerts.hints import did_you_mean

log = logging.getLogger("alerts.settings")
PREFIX = "ALERTS_"


def variable_names(model: type[BaseModel], prefix: str = PREFIX) -> Iterator[str]:
    """Every environment variable the model reads: ``ALERTS_KEY`` and ``ALERTS_A__B`` for nested."""
    for name, field in model.model_fields.items():
        var = f"{prefix}{name.upper()}"
        yield var
        nested = field.annotation
        if isinstance(nested, type) and issubclass(nested, BaseModel):
            yield from variable_names(nested, f"{var}__")


def unknown_variables(
    environ: Mapping[str, str], model: type[BaseModel], others: Collection[str] = ()
) -> list[tuple[str, str]]:
    """(variable, hint) for each ``ALERTS_*`` variable that nothing reads."""
    known = set(variable_names(model)) | set(others)
    out = []
    for var in sorted(environ):
        name = var.upper()
        # ALERTS_CHANNELS__OPS fills one key of a mapping: its head is what must be known.
        head = name.split("__")[0]
        if not name.startswith(PREFIX) or name in known or _is_mapping(model, head):
            continue
        out.append((var, did_you_mean(name, known)))
    return out


def _is_mapping(model: type[BaseModel], var: str) -> bool:
    field = model.model_fields.get(var.removeprefix(PREFIX).lower())
    return field is not None and getattr(field.annotation, "__origin__", None) is dict


def warn_unknown_variables(
    environ: Mapping[str, str], model: Any, others: Collection[str] = ()
) -> None:
    """Log a warning for each unknown ``ALERTS_*`` variable (a typo is otherwise ignored)."""
    for var, hint in unknown_variables(environ, model, others):
        log.warning("unknown environment variable %s is ignored%s", var, hint)
