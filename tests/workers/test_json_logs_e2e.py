"""``log_format: json``: every line a worker, the beat and the API print is one JSON object."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.workers.conftest import ROOT, running_stack
from tests.workers.test_e2e import settle, wait_until

SLACK_TOKEN = "XXXXXXXXXXXXXXXXXXXXXXXX"  # the Slack channel URL's secret part (conftest)


def test_json_logs_parse_line_by_line_and_carry_ids(
    tmp_path: Path, redis_url: str, redis_client
) -> None:
    with running_stack(
        tmp_path, redis_url, redis_client, beat=True, log_format="json",
        sources=[{"id": "desk", "kind": "webhook"}],
    ) as stack:  # fmt: skip
        data = (ROOT / "examples" / "bulletin.txt").read_bytes()
        resp = httpx.post(
            f"{stack.api}/v1/bulletins?source=desk", content=data, headers=stack.headers()
        )
        assert resp.status_code == 202, resp.text
        wait_until(lambda: len(stack.smtp.messages) + len(stack.slack.requests) >= 2)
        settle(stack)
        services = stack.services
        beat = next(s for s in services if s.name == "beat")
        beat.wait_for_output("Sending due task", timeout=90)  # slow to start on a busy machine
    lines = {s.name: s.output().splitlines() for s in services}
    assert set(lines) == {"worker-w1", "api", "beat"}
    records = []
    for name, output in lines.items():
        assert output, f"{name} printed nothing"
        for line in output:
            try:
                record = json.loads(line)  # every line, of every process
            except json.JSONDecodeError:
                raise AssertionError(f"{name} printed a line that is not JSON: {line!r}") from None
            assert {"time", "level", "logger", "message"} <= set(record), line
            assert SLACK_TOKEN not in line
            records.append(record)
    sent = [r for r in records if r["message"].startswith("delivery sent")]
    assert len(sent) == len(stack.smtp.messages) + len(stack.slack.requests)
    for record in sent:
        assert {"item_id", "watch", "channel", "delivery_id"} <= set(record)
    ingested = [r for r in records if "bulletin_id" in r]
    assert ingested and all(r["source"] == "desk" and r["item_ids"] for r in ingested)
