"""Secrets in the settings that may hold ``${ENV_VAR}`` references, expanded as they are read.

Every package's settings use ``EnvSecret``; ``resolving(False)`` keeps the references as they
are while a command that needs only names (``alerts rules check``) reads the settings.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Annotated, Any

from pydantic import BeforeValidator, SecretStr

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_RESOLVE: ContextVar[bool] = ContextVar("resolve_secrets", default=True)


def expand_env(text: str, env: Mapping[str, str]) -> str:
    """Replace each ``${NAME}`` with its value; missing variables are one error naming them all."""
    missing = list(dict.fromkeys(n for n in _ENV_REF.findall(text) if n not in env))
    if len(missing) == 1:
        raise ValueError(f"environment variable ${{{missing[0]}}} is not set")
    if missing:
        names = ", ".join(f"${{{name}}}" for name in missing)
        raise ValueError(f"environment variables {names} are not set")
    return _ENV_REF.sub(lambda m: env[m.group(1)], text)


def expand(value: Any) -> Any:
    """``value`` with its ``${ENV}`` references expanded, unless secrets are not resolved now."""
    if isinstance(value, str) and _RESOLVE.get():
        return expand_env(value, os.environ)
    return value


@contextmanager
def resolving(resolve: bool) -> Iterator[None]:
    """Within this block, expand ``${ENV}`` references (True) or keep them as written."""
    token = _RESOLVE.set(resolve)
    try:
        yield
    finally:
        _RESOLVE.reset(token)


# A secret that may hold ${ENV} references, each replaced by the variable's value.
EnvSecret = Annotated[SecretStr, BeforeValidator(expand)]
