"""The delivery commands, through argparse as the root CLI wires them, on a real Redis."""

from __future__ import annotations

import argparse
import json

import pytest

from alerts.clock import system_clock
from alerts.commands.delivery import register
from alerts.delivery import DeliveryDeps, deliver, redis_store
from alerts.delivery.settings import DeliverySettings
from alerts.notify.base import SendResult
from alerts.notify.fake import RecordingNotifier
from tests.delivery.helpers import make_alert, make_settings


@pytest.fixture
def run(redis_url, redis_client, monkeypatch, tmp_path, capsys):
    """Run ``alerts <argv>`` with ALERTS_REDIS_URL set; returns (exit code, stdout, stderr)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ALERTS_REDIS_URL", redis_url)
    parser = argparse.ArgumentParser(prog="alerts")
    register(parser.add_subparsers(dest="command", required=True))

    def call(*argv: str):
        args = parser.parse_args(argv)
        code = args.func(args)
        out = capsys.readouterr()
        return code, out.out, out.err

    return call


def deps_on(redis_client, notifier=None) -> DeliveryDeps:
    return DeliveryDeps(
        store=redis_store(redis_client),
        notifier=notifier or RecordingNotifier(),
        clock=system_clock,
        conf=DeliverySettings(pace_rate=1000.0, pace_burst=1000),
        secret_urls=make_settings().all_channel_urls(),
    )


def test_silence_add_list_expire_and_it_really_mutes(run, redis_client):
    code, out, _ = run("silence", "add", "--watch", "kaluga", "--for", "2h", "--comment", "drill")
    assert code == 0 and " kaluga  *  until " in out and out.rstrip().endswith("drill")
    sid = out.split()[0]
    deps = deps_on(redis_client)
    assert deliver(make_alert(1), "ops", deps=deps).status == "silenced"
    assert run("silence", "list")[1].split()[0] == sid
    assert run("silence", "expire", sid)[0] == 0
    assert run("silence", "list")[1] == ""
    assert sid in run("silence", "list", "--all")[1]
    assert deliver(make_alert(2), "ops", deps=deps).status == "sent"
    code, _, err = run("silence", "expire", "nope")
    assert code == 1 and "no silence 'nope'" in err


def test_silence_add_rejects_a_bad_duration(run):
    code, _, err = run("silence", "add", "--watch", "kaluga", "--for", "2 hours")
    assert code == 2 and "invalid duration '2 hours'" in err


def test_deliveries_filters_and_json(run, redis_client):
    deps = deps_on(redis_client, RecordingNotifier({"ops": [SendResult(ok=False, error="554")]}))
    deliver(make_alert(1), "ops", deps=deps)
    deliver(make_alert(2), "ops", deps=deps)
    deliver(make_alert(3, watch="ceasefire"), "ops", deps=deps)
    assert len(run("deliveries")[1].splitlines()) == 3
    assert len(run("deliveries", "--watch", "kaluga")[1].splitlines()) == 2
    [dead] = run("deliveries", "--status", "dead")[1].splitlines()
    assert "item-1" in dead and "554" in dead
    rows = [json.loads(line) for line in run("deliveries", "--format", "json")[1].splitlines()]
    assert {r["status"] for r in rows} == {"sent", "dead"} and "alert" not in rows[0]


def test_deadletter_list_and_replay(run, redis_client):
    deps = deps_on(redis_client, RecordingNotifier({"ops": [SendResult(ok=False, error="554")]}))
    deliver(make_alert(1), "ops", deps=deps)
    [line] = run("deadletter", "list")[1].splitlines()
    rid = line.split()[0]
    code, out, _ = run("deadletter", "replay", rid)
    assert code == 0 and "pending" in out
    assert run("deadletter", "list")[1] == ""
    assert deliver(make_alert(1), "ops", deps=deps).status == "sent"
    code, _, err = run("deadletter", "replay", rid)
    assert code == 1 and "no dead letter" in err


def test_without_a_redis_url_the_command_says_so(monkeypatch, tmp_path):
    from alerts.errors import ConfigError

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ALERTS_REDIS_URL", raising=False)
    parser = argparse.ArgumentParser(prog="alerts")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["deliveries"])
    with pytest.raises(ConfigError, match="redis_url"):
        args.func(args)
