"""Which parts of a channel URL count as secret, and the log filter that masks them."""

from __future__ import annotations

import logging

import apprise
import pytest

from alerts.notify.scrub import Redactor, secret_parts


def _parts(url: str) -> set[str]:
    plugin = apprise.Apprise.instantiate(url)
    assert plugin is not None
    return secret_parts(url, plugin.url(privacy=True))


@pytest.mark.parametrize(
    ("url", "secrets", "kept"),
    [
        ("mailto://bob:pw-123456@smtp.example.org?to=a@example.org", {"pw-123456"}, {"bob"}),
        ("slack://T0AAAA1/B0BBBB2/CCCCCC3/#news", {"T0AAAA1", "B0BBBB2", "CCCCCC3"}, {"#news"}),
        ("slack://xoxb-1234-abcdefgh/#news", {"xoxb-1234-abcdefgh"}, {"news"}),
        ("json://127.0.0.1:9000/hook", set(), {"hook", "127.0.0.1"}),  # nothing to hide
    ],
)
def test_secret_parts(url: str, secrets: set[str], kept: set[str]) -> None:
    parts = _parts(url)
    assert secrets <= parts
    assert not kept & parts
    assert (url in parts) == bool(secrets)


def test_filter_rewrites_formatted_records(caplog: pytest.LogCaptureFixture) -> None:
    redactor = Redactor()
    redactor.add("slack://T0AAAA1/B0BBBB2/CCCCCC3", "slack://T...1/B...2/C...3")
    logger = logging.getLogger("test.redact")
    logger.addFilter(redactor)
    try:
        with caplog.at_level(logging.DEBUG, logger="test.redact"):
            logger.info("POST %s", "https://hooks.slack.com/services/T0AAAA1/B0BBBB2/CCCCCC3")
    finally:
        logger.removeFilter(redactor)
    assert caplog.messages == ["POST https://hooks.slack.com/services/****/****/****"]


@pytest.mark.parametrize(
    "url",
    [
        "mailto://bob:pw-123456@smtp.example.org?to=a@example.org",
        "slack://T0AAAA1/B0BBBB2/CCCCCC3/#news",
        "json://127.0.0.1:9000/hooks/CANARYs3cr3t",
        "nosuchscheme://user:CANARYs3cr3t@host/x",
    ],
)
def test_logs_and_the_ledger_mask_the_same_parts(url: str) -> None:
    # One rule: the log filter and delivery's ledger scrubber hide exactly the same text.
    from alerts.masking import mask
    from alerts.notify.scrub import privacy_form, secret_pieces

    redactor = Redactor()
    redactor.add(url, privacy_form(url) or url)
    line = f"failed to send to {url} and {url.rpartition('/')[2]}"
    assert mask(line, secret_pieces([url])) == redactor.scrub(line)
    assert "CANARY" not in redactor.scrub(line)
    assert "pw-123456" not in redactor.scrub(line)


def test_a_token_in_a_webhook_path_apprise_shows_is_masked_in_logs() -> None:
    url = "json://127.0.0.1:9000/hooks/CANARYs3cr3t"
    assert "CANARYs3cr3t" in _parts(url)
