"""A leaner way to put our commands on the wire: hiredis packs the arguments as they are.

redis-py's hiredis serializer first passes every argument through ``Encoder.encode`` in a
generator, then hands the bytes to ``hiredis.pack_command``. Our scripts take ~27 arguments a
call, so that walk was most of a call's client CPU. ``hiredis.pack_command`` already writes
``str`` (UTF-8), ``bytes``, ``int`` and ``float`` exactly as the encoder would (floats by their
``repr``), and refuses anything else with ``TypeError``: those commands (a ``bool``, ``None``, a
``memoryview``), and the command names redis-py splits (``"CONFIG GET"``), go the encoder's way,
so the same ``DataError`` is raised for the same bad argument.

Only the packing changes: connections, retries, Sentinel and TLS are redis-py's as before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from redis._parsers.encoders import Encoder
from redis.connection import PythonRespSerializer

pack_command: Callable[[tuple[Any, ...]], bytes] | None
try:
    from hiredis import pack_command
except ImportError:  # redis-py without its hiredis extra: keep its own packer
    pack_command = None

# redis-py's own threshold for chunking a large value out of the packed buffer.
BUFFER_CUTOFF = 6000
UTF8 = ("utf-8", "utf8")


class HiredisPacker:
    """A redis-py ``command_packer``: hiredis on the arguments as given, else redis-py's way."""

    __slots__ = ("_fallback",)

    def __init__(self, encoding: str = "utf-8", errors: str = "strict") -> None:
        encoder = Encoder(encoding, errors, False)
        self._fallback = PythonRespSerializer(BUFFER_CUTOFF, encoder.encode).pack

    def pack(self, *args: Any) -> list[bytes]:
        """The command's RESP bytes, in one chunk."""
        name = args[0]
        if type(name) is str and " " not in name and pack_command is not None:
            try:
                return [pack_command(args)]
            except TypeError:  # a bool, None, memoryview...: the encoder's error or bytes
                pass
        return self._fallback(*args)  # type: ignore[no-any-return]


def packer_options(options: dict[str, Any]) -> dict[str, Any]:
    """``options`` for a redis-py client, with our packer unless they ask for an encoding that
    hiredis would not write the same way (or hiredis is missing, or a packer is already set)."""
    encoding = str(options.get("encoding", "utf-8")).lower()
    errors = options.get("encoding_errors", "strict")
    if pack_command is None or "command_packer" in options:
        return options
    if encoding not in UTF8 or errors != "strict":
        return options
    return {**options, "command_packer": HiredisPacker(encoding, errors)}


_FLOATS: dict[float, str] = {}  # a float -> its repr, for the last floats asked
_FLOATS_KEPT = 1024


def float_text(x: float) -> str:
    """``repr(x)``, what Redis is sent for a float, kept for the last floats asked: a hand-on
    writes a row's times twice (recorded, finished) and the story threshold for every alert,
    and a float's shortest repr costs thousands of instructions. Only positive floats are
    kept (one bit pattern each); others (0.0 and -0.0, or an int, are equal keys of another
    text) are written by ``repr`` each time."""
    if type(x) is not float or not x > 0:
        return repr(x)
    text = _FLOATS.get(x)
    if text is None:
        if len(_FLOATS) >= _FLOATS_KEPT:
            _FLOATS.clear()
        text = _FLOATS[x] = repr(x)
    return text
