"""Series: counted in a file of their own, read back by prometheus-client's collector."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, Counter, generate_latest, multiprocess
from prometheus_client.mmap_dict import mmap_key

from alerts.observe.series import Series, SeriesFile

# Values the key must quote as json.dumps does: quotes, backslashes, controls, non-ASCII.
ODD = ["plain", 'say "hi"', "back\\slash", "tab\tnew\nline", "café", "☃ snow", ""]


def counter(reg: CollectorRegistry, labels: list[str]) -> Counter:
    return Counter("t_fired", 'help with "quotes" and {}', labels, registry=reg)


@pytest.mark.parametrize("value", ODD)
def test_a_key_is_what_mmap_key_writes(value: str) -> None:
    metric = counter(CollectorRegistry(), ["watch", "channel"])  # sorted: channel first
    series = Series(metric, SeriesFile(Path(".")))
    want = mmap_key(
        "t_fired", "t_fired_total", ["watch", "channel"], [value, "ops"], metric._documentation
    )
    assert series.key((value, "ops")) == want


def test_a_value_not_a_string_is_keyed_as_labels_keys_it() -> None:
    metric = counter(CollectorRegistry(), ["watch"])
    series = Series(metric, SeriesFile(Path(".")))
    want = mmap_key("t_fired", "t_fired_total", ["watch"], ["7"], metric._documentation)
    assert series.key((7,)) == want  # type: ignore[arg-type]


def test_a_key_takes_one_value_a_label() -> None:
    series = Series(counter(CollectorRegistry(), ["watch"]), SeriesFile(Path(".")))
    with pytest.raises(ValueError):
        series.key(("a", "b"))


def test_the_collector_sums_the_series_with_prometheus_clients_files(tmp_path: Path) -> None:
    metric = counter(CollectorRegistry(), ["watch"])
    series = Series(metric, SeriesFile(tmp_path))
    series.inc("kaluga")
    series.inc("kaluga", amount=2)
    series.inc("☃")
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"counter_{os.getpid()}_series.db"]
    reg = CollectorRegistry()
    multiprocess.MultiProcessCollector(reg, path=str(tmp_path))
    assert reg.get_sample_value("t_fired_total", {"watch": "kaluga"}) == 3
    assert reg.get_sample_value("t_fired_total", {"watch": "☃"}) == 1


def test_a_file_of_the_same_pid_counts_on(tmp_path: Path) -> None:
    """A process reusing a pid (a directory not cleaned between runs) goes on from the file's
    value, as prometheus-client's own values do."""
    metric = counter(CollectorRegistry(), ["watch"])
    Series(metric, SeriesFile(tmp_path)).inc("a", amount=2)
    Series(metric, SeriesFile(tmp_path)).inc("a")
    reg = CollectorRegistry()
    multiprocess.MultiProcessCollector(reg, path=str(tmp_path))
    assert reg.get_sample_value("t_fired_total", {"watch": "a"}) == 3


def test_a_forked_child_counts_in_its_own_file(tmp_path: Path) -> None:
    series = Series(counter(CollectorRegistry(), ["watch"]), SeriesFile(tmp_path))
    series.inc("a", amount=5)
    pid = os.fork()
    if pid == 0:  # the child: count, then leave without running the parent's clean-ups
        series.inc("a")
        os._exit(0)
    assert os.waitpid(pid, 0)[1] == 0
    series.inc("a")
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted([f"counter_{os.getpid()}_series.db", f"counter_{pid}_series.db"])
    reg = CollectorRegistry()
    multiprocess.MultiProcessCollector(reg, path=str(tmp_path))
    assert reg.get_sample_value("t_fired_total", {"watch": "a"}) == 5 + 1 + 1


def test_a_counter_only_goes_up(tmp_path: Path) -> None:
    series = Series(counter(CollectorRegistry(), ["watch"]), SeriesFile(tmp_path))
    with pytest.raises(ValueError):
        series.inc("a", amount=-1)
    series.inc("a", amount=0)
    reg = CollectorRegistry()
    multiprocess.MultiProcessCollector(reg, path=str(tmp_path))
    assert reg.get_sample_value("t_fired_total", {"watch": "a"}) == 0


def test_a_child_forked_while_the_file_is_locked_counts(tmp_path: Path) -> None:
    file = SeriesFile(tmp_path)
    series = Series(counter(CollectorRegistry(), ["watch"]), file)
    read, write = os.pipe()
    with file.lock:  # as if another thread were counting at the fork
        pid = os.fork()
        if pid == 0:
            try:
                series.inc("a")
                os.write(write, b"1")
            finally:
                os._exit(0)
    os.close(write)
    counted = select.select([read], [], [], 10)[0]
    if not counted:
        os.kill(pid, signal.SIGKILL)  # stuck on the lock: no test run left hanging
    os.waitpid(pid, 0)
    assert counted and os.read(read, 1) == b"1"
    os.close(read)


# prometheus-client's own multiprocess counting of each (values, amount) in argv[1], in a process
# of its own: the directory is picked from the environment when prometheus_client is imported.
OWN_COUNTING = """
import json, sys
from prometheus_client import CollectorRegistry, Counter
metric = Counter("t_fired", 'help with "quotes" and {}', ["watch", "channel"],
                 registry=CollectorRegistry())
for values, amount in json.loads(sys.argv[1]):
    metric.labels(*values).inc(amount)
"""


def test_the_endpoint_reads_the_same_as_with_prometheus_client_s_own_counters(
    tmp_path: Path,
) -> None:
    """The same counts through ``Counter.labels().inc()`` and through ``Series``, each in a
    directory of its own: the collector's exposition of each is the same, byte for byte (a
    prometheus-client whose key layout or file format changed fails here)."""
    counts = [((value, "ops"), 1.0) for value in ODD]
    counts += [(("café", 'say "hi"'), 2.5), (("back\\slash", "☃"), 3.0), (("plain", "ops"), 4.0)]
    own, ours = tmp_path / "own", tmp_path / "ours"
    own.mkdir()
    ours.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(own)}
    args = [sys.executable, "-c", OWN_COUNTING, json.dumps(counts)]
    subprocess.run(args, env=env, check=True, timeout=60)
    series = Series(counter(CollectorRegistry(), ["watch", "channel"]), SeriesFile(ours))
    for values, amount in counts:
        series.inc(*values, amount=amount)
    exposed = []
    for directory in (own, ours):
        reg = CollectorRegistry()
        multiprocess.MultiProcessCollector(reg, path=str(directory))
        exposed.append(generate_latest(reg))
    assert b'watch="say \\"hi\\""' in exposed[0] and b"t_fired_total" in exposed[0]
    assert exposed[1] == exposed[0]
