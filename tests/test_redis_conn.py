"""Broker and store URLs: kombu-style Sentinel URLs, amqp:// brokers, the settings' checks."""

from __future__ import annotations

import pytest

from alerts.errors import ConfigError
from alerts.redis_conn import SentinelSet, connect, parse_sentinels
from alerts.settings import load_settings

URL = "sentinel://:s3cret@10.0.0.1:26379/2;sentinel://10.0.0.2;sentinel://10.0.0.3:26380/2"


def test_a_kombu_sentinel_url_names_every_sentinel_the_db_and_password() -> None:
    assert parse_sentinels(URL) == SentinelSet(
        (("10.0.0.1", 26379), ("10.0.0.2", 26379), ("10.0.0.3", 26380)), 2, "s3cret", None
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sentinel://h:1;redis://h:2", "every part of a Sentinel URL must start with sentinel://"),
        ("sentinel://", "a Sentinel URL part has no host"),
        (";", "a Sentinel URL names no sentinel"),
    ],
)
def test_malformed_sentinel_urls_are_refused(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_sentinels(url)


def test_a_sentinel_url_needs_the_master_name() -> None:
    with pytest.raises(ConfigError) as exc:
        load_settings(redis_url=URL)
    assert exc.value.problems == [
        "setting settings: a sentinel:// URL needs sentinel_master (the service name)"
    ]
    with pytest.raises(ValueError, match="needs the sentinel_master"):
        connect(URL)


def test_rabbitmq_is_a_broker_but_never_a_store() -> None:
    settings = load_settings(redis_url="redis://h/0", broker_url="amqp://guest:guest@h:5672//")
    assert settings.broker_url == "amqp://guest:guest@h:5672//"
    with pytest.raises(ConfigError) as exc:
        load_settings(redis_url="amqp://h:5672//")
    assert exc.value.problems[0].startswith("setting redis_url: must start with redis://")
    with pytest.raises(ConfigError) as exc:
        load_settings(broker_url="sqs://")
    assert exc.value.problems[0].startswith("setting broker_url: must start with redis://")
