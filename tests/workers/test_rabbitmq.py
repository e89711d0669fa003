"""RabbitMQ as the broker (quorum queues, publisher confirms) while Redis keeps our stores."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest
import redis

from tests.support.ha import ha_run
from tests.support.rabbitmq import amqp_vhost, queue_types

pytestmark = pytest.mark.timeout(400)


def test_rabbitmq_broker_delivers_everything_through_a_worker_kill(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis
) -> None:
    with amqp_vhost() as amqp:
        workers = {"w1": (), "w2": ()}
        with ha_run(tmp_path, redis_url, 200, workers, broker_url=amqp) as run:
            feeding = run.feed(rate=4.0)
            time.sleep(3)
            run.workers["w1"].kill_group(signal.SIGKILL)  # its unacked messages come back
            feeding.join()
            run.wait_delivered(timeout=180)
            time.sleep(2)
            counts = run.counts(redis_client)
        assert counts["lost"] == 0, counts
        assert counts["duplicates"] <= counts["flagged"], counts
        assert queue_types(amqp)["alerts"] == "quorum"
        assert not redis_client.exists("alerts"), "the broker's queue must not be in Redis"
