"""Chaos harness: generated items, an oracle from the in-process rules engine, faulty sinks."""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from pathlib import Path

from alerts.ingest import parse_bulletin
from alerts.matching import Matcher, build_alerts, load_ruleset
from alerts.models import Item
from tests.support.slack import SlackReply, SlackRequest, SlackTestServer
from tests.support.smtp import SmtpTestServer

RULES = {
    "chaos-kaluga.yaml": "id: chaos-kaluga\nname: Kaluga\nany: [Kaluga]\n"
    "notify:\n  channels: [email]\n",
    "chaos-ceasefire.yaml": "id: chaos-ceasefire\nname: Ceasefire\nany: [ceasefire]\n"
    "notify:\n  channels: [slack]\n",
}
CHANNEL_OF = {"chaos-kaluga": "email", "chaos-ceasefire": "slack"}
TOKEN = re.compile(r"\[(c\d{6})\]")
_WORDS = [
    "harbour",
    "council",
    "grain",
    "shipment",
    "ministry",
    "convoy",
    "bridge",
    "election",
    "parliament",
    "border",
    "winter",
    "energy",
    "grid",
    "pipeline",
    "refinery",
    "river",
    "frontline",
    "village",
    "brigade",
    "governor",
    "airport",
    "railway",
    "factory",
    "mayor",
    "court",
    "budget",
    "treaty",
    "summit",
    "envoy",
    "minister",
    "delegation",
    "hospital",
    "school",
    "port",
    "drone",
    "missile",
    "shelter",
    "evacuation",
    "supply",
    "tanker",
    "vessel",
    "monitor",
    "observer",
    "mission",
    "report",
    "market",
    "currency",
    "inflation",
    "harvest",
    "export",
    "import",
    "satellite",
    "radar",
    "signal",
    "outage",
    "repair",
    "festival",
    "museum",
    "archive",
    "library",
    "stadium",
    "cathedral",
    "square",
    "avenue",
    "district",
    "province",
    "coast",
]


def write_rules(folder: Path) -> Path:
    """The two chaos watches: Kaluga -> email, ceasefire -> slack."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in RULES.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def make_items(n: int, seed: int = 7) -> list[dict[str, str]]:
    """``n`` push-schema items with unique tokens; a seeded mix of Kaluga, ceasefire, both, none."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        kind = rng.choice(["kaluga", "ceasefire", "both", "none"])
        words = rng.sample(_WORDS, 14)
        title = f"[c{i:06d}] " + " ".join(words[:6])
        body = " ".join(words[6:]) + f" story {i} {rng.random():.9f}"
        if kind in ("kaluga", "both"):
            body += " near Kaluga"
        if kind in ("ceasefire", "both"):
            body += " during the ceasefire"
        out.append({"id": f"chaos-{i}", "title": title, "body": body})
    return out


def bulletins(items: list[dict[str, str]], size: int) -> list[bytes]:
    """JSON bulletins of ``size`` items each."""
    return [json.dumps({"items": items[i : i + size]}).encode() for i in range(0, len(items), size)]


def expected(rules_dir: Path, data: list[bytes]) -> Counter[tuple[str, str]]:
    """The oracle: (channel, token) pairs that must arrive, from the engine run in-process."""
    ruleset = load_ruleset(rules_dir)
    matcher = Matcher(ruleset)
    want: Counter[tuple[str, str]] = Counter()
    for raw in data:
        for item in parse_bulletin(raw, source="chaos"):
            for alert in build_alerts(ruleset, item, matcher.match(item)):
                want[(CHANNEL_OF[alert.watch], token_of(item))] += 1
    return want


def token_of(item: Item | str) -> str:
    """The unique token of a generated item (from an item or any rendered text)."""
    text = item.title if isinstance(item, Item) else item
    found = TOKEN.search(text)
    assert found, text[:200]
    return found.group(1)


def received(smtp: SmtpTestServer, slack: SlackTestServer) -> Counter[tuple[str, str]]:
    """Count deliveries per (channel, token) at the sinks."""
    got: Counter[tuple[str, str]] = Counter()
    for mail in smtp.messages:
        got[("email", token_of(str(mail.message["Subject"])))] += 1
    for req in slack.requests:  # 429s are answered by the wrapper below and never recorded
        if req.payload is None:  # cut off by a kill mid-request: nothing was posted
            continue
        got[("slack", token_of(json.dumps(req.payload, ensure_ascii=False)))] += 1
    return got


def flaky_sinks(smtp: SmtpTestServer, slack: SlackTestServer, seed: int = 11) -> dict[str, int]:
    """Make 5% of SMTP DATA answer 451 and 10% of Slack posts answer 429 Retry-After: 1."""
    rng = random.Random(seed)
    injected = {"smtp_451": 0, "slack_429": 0}
    smtp_reply, slack_take = smtp._next_reply, slack._take

    def next_reply(stage: str) -> str | None:
        if stage == "data" and rng.random() < 0.05:
            injected["smtp_451"] += 1
            return "451 4.3.0 try again later"
        return smtp_reply(stage)  # type: ignore[arg-type]

    def take(request: SlackRequest) -> SlackReply:
        if rng.random() < 0.10:
            injected["slack_429"] += 1
            return SlackReply.rate_limited(retry_after=1)
        return slack_take(request)

    smtp._next_reply = next_reply  # type: ignore[method-assign]
    slack._take = take  # type: ignore[method-assign]
    return injected
