"""A task's request (``celery.app.task.Context``) with its custom headers gathered once
(``workers/lean_trace.py``): the same headers as Celery's own way."""

from __future__ import annotations

from typing import Any

import pytest
from celery.app.task import Context

from workers.lean_trace import CELERY_CUSTOM_HEADERS, custom_headers, install

REQUEST: dict[str, Any] = {
    "lang": "py",
    "task": "alerts.ingest_bulletins",
    "id": "0b5e",
    "root_id": "0b5e",
    "parent_id": None,
    "group": None,
    "retries": 0,
    "timelimit": [None, None],
    "argsrepr": "(...)",
    "kwargsrepr": "{}",
    "origin": "api@host",
    "ignore_result": True,
    "properties": {"delivery_tag": "d1"},
    "reply_to": "r",
    "correlation_id": "0b5e",
    "hostname": "w1@host",
    "delivery_info": {"exchange": "", "routing_key": "alerts"},
    "is_eager": False,
    "utc": True,
}


@pytest.mark.parametrize(
    "request_",
    [
        pytest.param(REQUEST, id="Celery's fields only: no custom headers"),
        pytest.param(REQUEST | {"x-trace": "abc", "tenant": 7}, id="two custom headers"),
        pytest.param({}, id="an empty request"),
    ],
)
def test_custom_headers_are_celerys(request_: dict[str, Any]) -> None:
    extra = {"args": [1], "called_directly": False, "kwargs": {"k": 2}}
    ours = custom_headers(None, request_, **extra)
    assert ours == CELERY_CUSTOM_HEADERS(Context(), request_, **extra)
    assert ours == ({"x-trace": "abc", "tenant": 7} if "tenant" in request_ else None)


def test_installed_a_context_carries_them() -> None:
    install()
    # every task's request, in a pool child too
    assert Context._get_custom_headers is custom_headers
    context = Context(REQUEST | {"tenant": 7}, args=[1], called_directly=False, kwargs={})
    assert context.headers == {"tenant": 7}
    assert context.id == "0b5e" and context.args == [1]
    assert Context(REQUEST).headers is None
