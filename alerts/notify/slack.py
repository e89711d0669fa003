"""A thin Slack sender for ``slack://`` destinations (incoming webhooks and bot tokens).

Apprise parses the URL (tokens, mode, channel, user) but its send returns only True/False: it drops
the HTTP status and ignores ``Retry-After``. So the request is made here (``webhook_http``: urllib3,
certificates checked, proxies from the environment) and classified:
2xx ok; 429 retry after ``Retry-After``; 5xx and timeouts retry; other 4xx (``invalid_payload``,
``channel_not_found``) are permanent. One sender serves one Slack channel, so a failure on one
channel never resends another.

Threading: an incoming webhook answers only ``ok``, never the message ``ts``, so webhook messages
cannot start threads (``thread_ref`` is None). With a bot token (``chat.postMessage``) the reply's
``ts`` is returned as ``thread_ref`` and a later ``reply_to`` posts into that thread.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring_ascii
from typing import Any

from alerts.clock import Clock
from alerts.notify.base import SendResult
from alerts.notify.escape import as_slack_ts
from alerts.notify.render import Kind, Message
from alerts.notify.transport import failure, http_retryable, parse_retry_after
from alerts.notify.webhook_http import Answer, PostError, PostTimeout, WebhookPoster

SLACK_API = "https://slack.com/api"
_RETRYABLE_API_ERRORS = {
    "ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout",
}  # fmt: skip
_SENT = SendResult(ok=True)  # a webhook's answer to every message it took (results are frozen)


def endpoint(plugin: Any, *, webhook_base: str | None, api_base: str | None) -> str:
    """The POST URL for a parsed Apprise Slack plugin, honouring the configured bases."""
    if plugin.mode == "bot":
        return f"{api_base or SLACK_API}/chat.postMessage"
    default = plugin.webhook_gov_url if plugin.mode == "gov-hook" else plugin.webhook_url
    base = webhook_base or default
    return f"{base}/{plugin.token_a}/{plugin.token_b}/{plugin.token_c}"


def _after_text(fields: dict[str, Any]) -> bytes:
    """``json.dumps`` of the payload from the text's end: ``, "mrkdwn": true, ...}``."""
    return b", " + json.dumps(fields).encode()[1:]


def channel_target(target: str | None) -> tuple[str | None, str | None]:
    """Apprise's channel syntax: ``#name``, ``name``, ``+ID``, ``@user``, each with ``:ts``."""
    if not target:
        return None, None
    name, _, ts = target.partition(":")
    if name.startswith("+"):
        name = name[1:]
    elif not name.startswith(("#", "@")):
        name = f"#{name}"
    return name, as_slack_ts(ts)


class SlackSender:
    """Posts one mrkdwn message to one Slack channel (or a webhook's own channel)."""

    kind: Kind = "slack"

    def __init__(
        self, plugin: Any, target: str | None, *, url: str, label: str, timeout: float, clock: Clock
    ) -> None:
        self.url = url
        self.label = label
        self.timeout = timeout
        self.clock = clock
        self.bot_token: str | None = plugin.access_token if plugin.mode == "bot" else None
        self.username: str | None = plugin.user
        self.channel, self.thread_ts = channel_target(target)
        self._poster = WebhookPoster(url, timeout)  # URL, proxy and timeout settled once
        self._headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "bulletin-alerts",
        }
        if self.bot_token:
            self._headers["Authorization"] = f"Bearer {self.bot_token}"
        self._rest = _after_text(self._fields(self.thread_ts))  # the usual message's, kept

    def payload(self, message: Message, *, reply_to: str | None = None) -> dict[str, Any]:
        """The JSON body: mrkdwn text, no unfurling, no name linking, optional thread."""
        return {"text": message.text, **self._fields(as_slack_ts(reply_to) or self.thread_ts)}

    def _fields(self, thread: str | None) -> dict[str, Any]:
        """The payload's fields after the text."""
        body: dict[str, Any] = {
            "mrkdwn": True,
            "unfurl_links": False,
            "unfurl_media": False,
            "link_names": False,
        }
        if self.channel:
            body["channel"] = self.channel
        if self.username:
            body["username"] = self.username
        if thread:
            body["thread_ts"] = thread
        return body

    def body(self, message: Message, *, reply_to: str | None = None) -> bytes:
        """``json.dumps(self.payload(...)).encode()``, the same bytes: the text encoded as
        ``json.dumps`` encodes a string, the fields after it encoded once per thread (a dict
        through ``json.dumps`` made an encoder and walked the fields on every send)."""
        thread = as_slack_ts(reply_to) or self.thread_ts
        rest = self._rest if thread == self.thread_ts else _after_text(self._fields(thread))
        return b'{"text": ' + encode_basestring_ascii(message.text).encode() + rest

    def send(self, message: Message, *, reply_to: str | None = None) -> SendResult:
        """POST the message and classify the answer."""
        data = self.body(message, reply_to=reply_to)
        try:
            response = self._poster.post(data, self._headers)
        except PostTimeout:
            return failure(self.label, "slack timeout", retryable=True)
        except PostError as exc:
            return failure(self.label, f"slack: {exc}", retryable=True)
        return self._classify(response)

    def _classify(self, response: Answer) -> SendResult:
        status = response.status
        if 200 <= status < 300:
            return self._api_result(response) if self.bot_token else _SENT
        wait = parse_retry_after(response.headers.get("Retry-After"), self.clock())
        if 300 <= status < 400:
            return failure(self.label, f"slack {status}: unexpected redirect", retryable=False)
        body = " ".join(response.text.split())[:200]
        return failure(
            self.label, f"slack {status} {body}", retryable=http_retryable(status), retry_after=wait
        )

    def _api_result(self, response: Answer) -> SendResult:
        try:
            data = json.loads(response.body)
        except ValueError:
            return failure(self.label, "slack api: answer is not JSON", retryable=True)
        if isinstance(data, dict) and data.get("ok"):
            ts = data.get("ts")
            return SendResult(ok=True, thread_ref=str(ts) if ts else None)
        error = str(data.get("error", "unknown_error")) if isinstance(data, dict) else "bad_answer"
        return failure(self.label, f"slack api {error}", retryable=error in _RETRYABLE_API_ERRORS)
