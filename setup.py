"""The one compiled part: word splitting and word keys (alerts/matching/_wordkeys.c).

It is optional: without a C compiler the build goes on and the matcher uses the
pure-Python twin in alerts/matching/keytable.py (same results, slower).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "alerts.matching._wordkeys",
            ["alerts/matching/_wordkeys.c"],
            extra_compile_args=["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
            optional=True,
        )
    ]
)
