"""The API's group write: quiet calls go at once, calls under load share the next flush."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from alerts.api.batcher import AT_ONCE, Batcher


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def recording(flushes: list[list[int]], fail: BaseException | None = None):  # type: ignore[no-untyped-def]
    async def flush(values: Sequence[int]) -> list[int]:
        flushes.append(list(values))
        await asyncio.sleep(0)
        if fail is not None:
            raise fail
        return [v * 10 for v in values]

    return flush


def test_a_quiet_call_is_flushed_at_once_alone() -> None:
    """No flush for ``linger`` seconds: the call goes straight through, no timer, no task."""
    flushes: list[list[int]] = []
    clock = Clock()
    batcher = Batcher(recording(flushes), linger=0.02, most=8, clock=clock)

    async def run() -> list[int]:
        first = await batcher(1)
        clock.now += 0.05  # quiet again
        return [first, await batcher(2)]

    assert asyncio.run(run()) == [10, 20]
    assert flushes == [[1], [2]]


def test_calls_within_the_linger_share_the_next_flush_each_with_its_result() -> None:
    flushes: list[list[int]] = []
    batcher = Batcher(recording(flushes), linger=0.02, most=8)

    async def run() -> list[int]:
        first = await batcher(1)  # quiet: alone
        return [first, *await asyncio.gather(batcher(2), batcher(3), batcher(4))]

    assert asyncio.run(run()) == [10, 20, 30, 40]
    assert flushes == [[1], [2, 3, 4]]


def test_a_full_batch_goes_without_waiting_for_the_linger() -> None:
    flushes: list[list[int]] = []
    batcher = Batcher(recording(flushes), linger=60.0, most=2)  # the timer would never fire

    async def run() -> list[int]:
        first = await batcher(1)
        rest = await asyncio.wait_for(asyncio.gather(batcher(2), batcher(3)), timeout=5)
        return [first, *rest]

    assert asyncio.run(run()) == [10, 20, 30]
    assert flushes == [[1], [2, 3]]


def test_a_failed_flush_fails_every_call_it_held() -> None:
    flushes: list[list[int]] = []
    batcher = Batcher(recording(flushes, ConnectionError("down")), linger=0.02, most=8)

    async def run() -> list[object]:
        with pytest.raises(ConnectionError):
            await batcher(1)
        return await asyncio.gather(batcher(2), batcher(3), return_exceptions=True)

    results = asyncio.run(run())
    assert [type(r) for r in results] == [ConnectionError, ConnectionError]
    assert flushes == [[1], [2, 3]]


def test_a_cancelled_caller_does_not_stop_the_others() -> None:
    """A client that hangs up: its bulletin is still written with the others (as a write
    already sent would be), the others get their results."""
    flushes: list[list[int]] = []
    batcher = Batcher(recording(flushes), linger=0.02, most=8)

    async def run() -> list[int]:
        await batcher(1)
        gone = asyncio.ensure_future(batcher(2))
        staying = asyncio.ensure_future(batcher(3))
        await asyncio.sleep(0)
        gone.cancel()
        return [await staying]

    assert asyncio.run(run()) == [30]
    assert flushes == [[1], [2, 3]]


def test_a_client_calling_again_at_once_after_its_answer_is_not_held_back() -> None:
    """The same connection again right after its answer (a client that sends one at a time):
    at once, even within the linger. The same connection back only after a while, or another
    client, lingers as usual."""
    flushes: list[list[int]] = []
    clock = Clock()
    batcher = Batcher(recording(flushes), linger=60.0, most=8, clock=clock)  # never ends

    async def run() -> list[int]:
        got = [await asyncio.wait_for(batcher(n, key="conn-a"), timeout=5) for n in (1, 2, 3)]
        clock.now += 20.0  # long past AT_ONCE after its answer
        late = asyncio.ensure_future(batcher(4, key="conn-a"))
        other = asyncio.ensure_future(batcher(5, key="conn-b"))
        await asyncio.sleep(0.05)
        assert not late.done() and not other.done()  # both wait for company
        batcher.most = 3
        got += await asyncio.gather(late, other, batcher(6, key="conn-c"))
        return got

    assert asyncio.run(run()) == [10, 20, 30, 40, 50, 60]
    assert flushes == [[1], [2], [3], [4, 5, 6]]


def test_a_client_back_after_a_while_lingers_however_long_the_linger() -> None:
    """Only a client back at once (``AT_ONCE``) skips the linger: under a long linger, one
    that posts again some milliseconds after its answer (a poller posting bulletins as they
    come) shares the next flush, where a quarter of that linger would have sent it alone."""
    flushes: list[list[int]] = []
    clock = Clock()
    batcher = Batcher(recording(flushes), linger=60.0, most=2, clock=clock)  # never ends

    async def run() -> list[int]:
        first = await batcher(1, key="conn-a")
        clock.now += AT_ONCE * 4  # well within a quarter linger, past "at once"
        late = asyncio.ensure_future(batcher(2, key="conn-a"))
        await asyncio.sleep(0.05)
        assert not late.done()  # waits for company
        return [first, *await asyncio.gather(late, batcher(3, key="conn-b"))]

    assert asyncio.run(run()) == [10, 20, 30]
    assert flushes == [[1], [2, 3]]


def test_under_a_short_linger_at_once_is_a_quarter_of_it() -> None:
    """A linger shorter than four ``AT_ONCE``: a client must be back within a quarter of it to
    skip it (back 3 ms after its answer under an 8 ms linger, it lingers; 1 ms, it does not)."""
    flushes: list[list[int]] = []
    clock = Clock()
    batcher = Batcher(recording(flushes), linger=0.008, most=2, clock=clock)

    async def run() -> list[int]:
        first = await batcher(1, key="conn-a")
        clock.now += 0.003  # under AT_ONCE, over a quarter of the linger
        late = asyncio.ensure_future(batcher(2, key="conn-a"))
        await asyncio.sleep(0)
        assert not late.done()  # waits for company (or the 8 ms timer)
        got = [first, *await asyncio.gather(late, batcher(3, key="conn-b"))]
        clock.now += 0.001  # back within a quarter of the linger: at once, alone
        got.append(await batcher(4, key="conn-a"))
        return got

    assert asyncio.run(run()) == [10, 20, 30, 40]
    assert flushes == [[1], [2, 3], [4]]


def test_one_at_a_time_clients_side_by_side_are_not_held_back() -> None:
    """Two clients, each sending again at once after its own answer: after their first calls
    (the second client's first call has no history and lingers) each goes alone."""
    flushes: list[list[int]] = []
    # A clock that stands still: each client is back 0 s after its answer, however busy the
    # machine running this test (the linger's timer runs on the loop's own clock).
    batcher = Batcher(recording(flushes), linger=0.3, most=8, clock=Clock())

    async def client(key: str, first: int) -> list[int]:
        return [await batcher(first + n, key=key) for n in range(5)]

    async def run() -> list[list[int]]:
        return list(await asyncio.gather(client("a", 0), client("b", 10)))

    assert asyncio.run(run()) == [[0, 10, 20, 30, 40], [100, 110, 120, 130, 140]]
    assert max(len(f) for f in flushes[2:]) == 1  # from then on: each alone, at once
    assert sum(len(f) for f in flushes) == 10


def test_a_flush_with_a_result_missing_fails_every_caller() -> None:
    async def short(values: Sequence[int]) -> list[int]:
        return [1] * (len(values) - 1)

    batcher = Batcher(short, linger=0.02, most=8)

    async def run() -> list[object]:
        alone = await asyncio.gather(batcher(1), return_exceptions=True)
        return alone + await asyncio.gather(batcher(2), batcher(3), return_exceptions=True)

    results = asyncio.run(run())
    assert [type(r) for r in results] == [RuntimeError] * 3, results


def test_the_api_tells_the_submitter_which_connection_posted() -> None:
    """The key the batcher keys on: the POST's connection, from the ASGI scope."""
    from fastapi.testclient import TestClient

    from alerts.api.app import create_app
    from alerts.settings import load_settings

    clients: list[object] = []

    async def submit_async(**kwargs: object) -> int:
        clients.append(kwargs["client"])
        return 1

    def submit(**kwargs: object) -> None:
        raise AssertionError("a small bulletin is written from the event loop")

    settings = load_settings(api_token="t0ken")
    app = create_app(settings, submit=submit, health=dict, submit_async=submit_async)
    with TestClient(app) as http:
        for _ in range(2):
            answer = http.post(
                "/v1/bulletins?source=s", content=b"Ceasefire talks\n\nEnvoys met.",
                headers={"Authorization": "Bearer t0ken", "Content-Type": "text/plain"},
            )  # fmt: skip
            assert answer.status_code == 202, answer.text
    assert clients == [("testclient", 50000)] * 2
