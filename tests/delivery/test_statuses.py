"""The ledger statuses live once, in Python; the Redis script is generated from that list."""

from __future__ import annotations

import re
from itertools import product

from alerts.delivery import redis_store
from alerts.delivery.claim import SEP
from alerts.delivery.ledger import FINAL, STATUSES, DeliveryRow, demotes
from alerts.delivery.ledger_lua import LEDGER_SCRIPT
from tests.delivery.helpers import T0, make_alert


def test_the_script_final_table_is_the_python_one():
    [body] = re.findall(r"local FINAL = \{(.*)\}", LEDGER_SCRIPT)
    assert {part.split("=")[0].strip() for part in body.split(",")} == FINAL
    assert FINAL.issubset(STATUSES) and set(STATUSES) != FINAL
    assert f"%{SEP}(%d+)$" in LEDGER_SCRIPT  # the claim's expiry, read with claim.SEP


def test_redis_refuses_exactly_the_demotions_python_names(redis_client):
    ledger = redis_store(redis_client).ledger
    for n, (old, new) in enumerate(product(STATUSES, STATUSES)):
        row = DeliveryRow.new(make_alert(n), "ops", T0)
        assert ledger.save(row.moved(old, T0), force=True)
        assert ledger.save(row.moved(new, T0)) is not demotes(old, new), (old, new)
        kept = ledger.get(row.id)
        assert kept is not None and kept.status == (old if demotes(old, new) else new)
        assert [r.id for r in ledger.query(status=kept.status, limit=500)].count(row.id) == 1
