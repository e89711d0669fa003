"""Health probes answer within their deadline; a hung check is "no answer", started once."""

from __future__ import annotations

import threading

from alerts.api.probe import Probes


def test_a_hung_check_is_none_and_never_started_twice() -> None:
    release = threading.Event()
    calls: list[int] = []

    def hung() -> bool:
        calls.append(1)
        release.wait(30)
        return True

    def broken() -> bool:
        raise OSError("down")

    probes = Probes({"ok": lambda: 1, "hung": hung, "broken": broken}, deadline=0.2)
    try:
        assert probes() == {"ok": 1, "hung": None, "broken": None}
        assert probes() == {"ok": 1, "hung": None, "broken": None}
        assert len(calls) == 1
    finally:
        release.set()
