"""The hiredis packer writes every command byte for byte as redis-py's encoder would."""

from __future__ import annotations

import random
from typing import Any

import pytest
import redis
from redis._parsers.encoders import Encoder
from redis.connection import PythonRespSerializer

from alerts.redis_conn import connect
from alerts.redis_pack import HiredisPacker, float_text, packer_options

REDIS_PY = PythonRespSerializer(10**9, Encoder("utf-8", "strict", False).encode)


def wire(chunks: list[bytes]) -> bytes:
    return b"".join(bytes(c) for c in chunks)


def test_every_kind_of_argument_packs_as_redis_py_packs_it() -> None:
    rng = random.Random(7)
    floats = [rng.random() * 10 ** rng.randint(-30, 30) for _ in range(500)]
    weird = [0.1, -0.0, 1e16, 5e-324, float("inf"), float("nan"), 2**70, -3, 0]
    args: list[Any] = ["évènement", "g:85fb946c", b"\x00\xff raw", "", *floats, *weird]
    packer = HiredisPacker()
    assert wire(packer.pack("EVALSHA", "ab12", 2, *args)) == wire(
        REDIS_PY.pack("EVALSHA", "ab12", 2, *args)
    )


@pytest.mark.parametrize(
    "args",
    [
        ("CONFIG GET", "maxmemory"),  # a two-word name, split by redis-py
        ("SET", "k", bytearray(b"v")),
        ("SET", "k", memoryview(b"v")),
        (b"SET", "k", "v"),
    ],
)
def test_what_hiredis_would_not_take_as_is_goes_redis_py_s_way(args: tuple[Any, ...]) -> None:
    assert wire(HiredisPacker().pack(*args)) == wire(REDIS_PY.pack(*args))


@pytest.mark.parametrize("bad", [True, None, object()])
def test_a_bad_argument_is_redis_py_s_data_error(bad: object) -> None:
    with pytest.raises(redis.DataError, match="Invalid input of type"):
        HiredisPacker().pack("SET", "k", bad)


def test_clients_get_the_packer_unless_another_encoding_is_asked_for() -> None:
    assert isinstance(packer_options({})["command_packer"], HiredisPacker)
    assert "command_packer" not in packer_options({"encoding": "latin-1"})
    assert "command_packer" not in packer_options({"encoding_errors": "replace"})
    mine = object()
    assert packer_options({"command_packer": mine})["command_packer"] is mine


def test_a_connected_client_packs_with_it_and_runs_scripts(redis_url: str) -> None:
    client = connect(redis_url)
    try:
        conn = client.connection_pool.get_connection()
        assert isinstance(conn._command_packer, HiredisPacker)
        client.connection_pool.release(conn)
        script = client.register_script("return {KEYS[1], ARGV[1], ARGV[2], ARGV[3]}")
        assert script(keys=["k:é"], args=[1.5, 7, b"\xff"]) == [
            "k:é".encode(),
            b"1.5",
            b"7",
            b"\xff",
        ]
        with pytest.raises(redis.DataError):
            client.set("k", None)  # type: ignore[arg-type]
    finally:
        client.close()


def test_float_text_is_repr() -> None:
    """``float_text`` writes every float as ``repr`` does, kept or not: zeros of both signs,
    ints equal to a float, infinities, NaN, subnormals and times, asked twice each, past the
    number kept."""
    values: list[float] = [0.0, -0.0, 1.0, 1, -1.5, 0.1, 1e-320, 5e-324, 1.7976931348623157e308]
    values += [float("inf"), float("-inf"), float("nan"), 1765051200.123456, 0.55]
    values += [1765051200 + n / 7 for n in range(3000)]
    for value in values * 2:
        assert float_text(value) == repr(value)
