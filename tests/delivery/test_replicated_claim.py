"""With ``redis_replicas``, no message leaves before its replica holds the claim (issue 16).

A failover rolls Redis back to what the promoted replica had. A message sent on a claim that
never reached the replica would be sent again after the failover, unflagged. So the claim is
confirmed with ``WAIT`` first; when the replica does not answer, nothing is sent, the row is as
it was, and the task retries (a timeout: the worker requeues it)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import redis

from alerts.clock import FrozenClock
from alerts.delivery import build_deps
from alerts.delivery.ledger import DeliveryRow
from alerts.delivery.pipeline import send_and_record
from alerts.models import Alert, Item
from alerts.notify.fake import RecordingNotifier
from alerts.redis_conn import Durability, NotReplicated
from alerts.settings import load_settings
from tests.support.replicated import frozen, master_and_replica

NOW = datetime(2026, 3, 12, 10, 0, tzinfo=UTC)


def test_no_message_leaves_on_a_claim_its_replica_lacks() -> None:
    settings = load_settings(channels={"slack": "console://"})
    item = Item(id="i1", source="s", title="Ceasefire holds", body="A ceasefire.")
    alert = Alert(watch="w", watch_name="W", item=item, hits=(), channels=("slack",))
    with master_and_replica() as (master, replica):
        client = redis.Redis(port=master.port)
        notifier = RecordingNotifier()
        durable = Durability(replicas=1, timeout_ms=200)
        deps = build_deps(settings.delivery, client, notifier, FrozenClock(NOW), durability=durable)
        row = DeliveryRow.new(alert, "slack", NOW)
        assert deps.store.ledger.save(row)
        with frozen(replica), pytest.raises(NotReplicated):
            send_and_record(deps, row, None)
        assert notifier.sent == []
        kept, claim_left = deps.store.ledger.lookup(row.id, NOW)
        assert kept is not None and kept.status == "pending" and claim_left is None
        assert not kept.possible_duplicate  # nothing was sent: the retry is not a duplicate

        assert send_and_record(deps, row, None).status == "sent"  # the replica is back
        assert len(notifier.sent) == 1
        replica_row = redis.Redis(port=replica.port).get(
            f"{settings.delivery.key_prefix}row:{row.id}"
        )
        assert replica_row is not None  # the replica holds what was promised
        other = alert.model_copy(update={"watch": "w2"})
        second = DeliveryRow.new(other, "slack", NOW)
        assert deps.store.ledger.save(second)
        client.script_flush()  # as on a newly promoted master: the script is loaded again
        assert send_and_record(deps, second, None).status == "sent"
        assert len(notifier.sent) == 2
