"""The compiled parts of the matcher; every one is optional.

- ``alerts/matching/_wordkeys.c``: splitting an item into words and keying them.
- ``alerts/ingest/_langwalk.c``: the language model's byte walk (py3langid's twin).
- ``alerts/delivery/_minhash.c``: an item's story signature (``minhash.numpy_signature``'s twin),
  hashing with OpenSSL's libcrypto (its headers: Debian's ``libssl-dev``).
- The evaluation modules, compiled with mypyc from their (unchanged) Python source.

Without a C compiler (or if a build fails) the install goes on and the same code runs as
plain Python: ``keytable.PyWordTable`` stands in for the C table, py3langid's own walk for
the C walk, numpy for the C signature (same results, slower).
``ALERTS_PURE_PYTHON=1`` skips both on purpose.
"""

from __future__ import annotations

import os
import shutil
import sys
import sysconfig

from setuptools import Extension, setup

# The per-item evaluation path (tests/test_compiled.py checks these are the compiled ones).
MYPYC_MODULES = [
    "alerts/matching/scan.py",
    "alerts/matching/evaluate.py",
    "alerts/matching/matcher.py",
    "alerts/matching/index.py",
    "alerts/matching/anchors.py",
    "alerts/matching/guard.py",
    "alerts/matching/termkeys.py",
    "alerts/matching/made.py",
]


def _compiler() -> bool:
    cc = (sysconfig.get_config_var("CC") or "cc").split()[0]
    return shutil.which(cc) is not None


def _extensions() -> list[Extension]:
    if os.environ.get("ALERTS_PURE_PYTHON") == "1" or not _compiler():
        print("bulletin-alerts: building without compiled parts", file=sys.stderr)
        return []
    out = [
        Extension(
            "alerts.matching._wordkeys",
            ["alerts/matching/_wordkeys.c"],
            extra_compile_args=["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
            optional=True,
        ),
        Extension(
            "alerts.ingest._langwalk",
            ["alerts/ingest/_langwalk.c"],
            extra_compile_args=["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
            optional=True,
        ),
        Extension(
            "alerts.delivery._minhash",
            ["alerts/delivery/_minhash.c"],
            libraries=["crypto"],  # OpenSSL's SHA-1 (libssl-dev); without it, numpy's pass
            extra_compile_args=["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
            optional=True,
        ),
    ]
    try:
        from mypyc.build import mypycify
    except ImportError:  # mypy is a build requirement; a plain `setup.py` run may lack it
        return out
    try:
        # Its own mypy settings: the project's (pydantic plugin, strictness) are for
        # checking, and the build environment does not have the plugin's package.
        flags = ["--config-file", "", "--ignore-missing-imports", "--follow-imports", "silent"]
        compiled = mypycify([*flags, *MYPYC_MODULES], opt_level="3", group_name="alerts_matching")
    except (Exception, SystemExit) as e:  # any failure leaves the modules as Python
        print(f"bulletin-alerts: mypyc skipped: {e}", file=sys.stderr)
        return out
    return out + list(compiled)


setup(ext_modules=_extensions())
