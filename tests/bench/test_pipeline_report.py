"""The pipeline bench's verdict on issue 13's figures: which rates meet every one."""

from __future__ import annotations

from bench.pipeline_report import RunResult, verdicts


def run(
    rate: float, *, cpu_ms: float, cmds: float, p99_ms: float, kept: float = 1.0, lost: int = 0
) -> RunResult:
    items = int(rate * 10)
    return RunResult(
        name=f"rate {rate:.0f}/s",
        items=items,
        alerts_expected=items,
        alerts_received=items - lost,
        seconds=items / (rate * kept),
        latencies=[0.010] * (items - items // 50) + [p99_ms / 1000] * (items // 50),
        cpu={"workers": cpu_ms / 1000 * items * 0.6, "api": cpu_ms / 1000 * items * 0.4},
        redis_bytes=0,
        redis_cmds={"zadd": int(cmds * items)},
        failures=0,
    )


def test_each_rate_from_100_is_judged_and_the_misses_named() -> None:
    lines = verdicts({
        5.0: run(5, cpu_ms=9.0, cmds=26, p99_ms=9),  # below 100/s: not judged
        100.0: run(100, cpu_ms=3.8, cmds=21.6, p99_ms=27),
        300.0: run(300, cpu_ms=2.2, cmds=19.0, p99_ms=29),
        600.0: run(600, cpu_ms=1.7, cmds=17.4, p99_ms=400),  # 600/s: no p99 bound
    })  # fmt: skip
    assert len(lines) == 4
    assert lines[0].startswith("issue 13 at 100/s")
    assert "CPU 3.80 ms/item <= 3: NO" in lines[0]
    assert "Redis 21.6 commands/item <= 30: yes" in lines[0]
    assert "p99 27.0 ms <= 100: yes" in lines[0]
    assert "kept 100/s, alerts 1000/1000: yes" in lines[0]
    assert "p99 29.0 ms <= 100: yes" in lines[1]  # 300/s: still bound
    assert "p99" not in lines[2]
    assert lines[3].endswith("every figure met at: 300/s, 600/s; not at: 100/s")


def test_a_rate_not_kept_or_an_alert_lost_or_a_slow_tail_fails_it() -> None:
    behind = verdicts({300.0: run(300, cpu_ms=2.0, cmds=19, p99_ms=29, kept=0.9)})
    assert "kept 270/s, alerts 3000/3000: NO" in behind[0]
    lost = verdicts({300.0: run(300, cpu_ms=2.0, cmds=19, p99_ms=29, lost=1)})
    assert "alerts 2999/3000: NO" in lost[0]
    slow = verdicts({100.0: run(100, cpu_ms=2.0, cmds=19, p99_ms=140)})
    assert "p99 140.0 ms <= 100: NO" in slow[0]
    assert slow[-1].endswith("every figure met at: none; not at: 100/s")
    chatty = verdicts({300.0: run(300, cpu_ms=2.0, cmds=31, p99_ms=29)})
    assert "Redis 31.0 commands/item <= 30: NO" in chatty[0]
    costly = verdicts({600.0: run(600, cpu_ms=3.1, cmds=17, p99_ms=40)})
    assert "CPU 3.10 ms/item <= 3: NO" in costly[0]


def test_a_rate_is_kept_from_98_percent_of_it() -> None:
    just = verdicts({600.0: run(600, cpu_ms=1.8, cmds=17, p99_ms=40, kept=0.985)})
    assert "kept 591/s, alerts 6000/6000: yes" in just[0]
    short = verdicts({600.0: run(600, cpu_ms=1.8, cmds=17, p99_ms=40, kept=0.975)})
    assert "kept 585/s, alerts 6000/6000: NO" in short[0]


def test_a_run_with_no_latencies_fails_its_tail() -> None:
    none = run(100, cpu_ms=2.0, cmds=19, p99_ms=20, lost=1000)
    none.latencies = []
    assert "p99 nan ms <= 100: NO" in verdicts({100.0: none})[0]


def test_no_fixed_rate_runs_no_verdict() -> None:
    assert verdicts({}) == []
    assert verdicts({50.0: run(50, cpu_ms=5, cmds=25, p99_ms=18)}) == []
