"""End to end: a ``languages: [uk]`` watch fires on the Ukrainian item of every kind of
bulletin pushed to the API, never on its Russian twin, and the email says the language."""

from __future__ import annotations

from pathlib import Path

import httpx
import redis

from tests.support.bulletins import KINDS, bulletin
from tests.workers.conftest import running_stack
from tests.workers.test_e2e import settle

WATCH = """\
id: macron-uk
name: Macron (Ukrainian press)
any: [Макрон]
languages: [uk]
notify: {channels: [email]}
"""


# (Russian, Ukrainian) reports naming Macron, one pair per kind: distinct enough that the
# delivery stage does not thread them as one story.
PAIRS = {
    "text": ("Макрон прибыл в Киев на переговоры", "Макрон прибув до Києва на переговори"),
    "rss": ("Макрон позвонил Путину", "Макрон зателефонував Путіну"),
    "atom": ("Макрон обещает новые ракеты", "Макрон обіцяє нові ракети"),
    "rdf": ("Макрон выступил в Брюсселе", "Макрон виступив у Брюсселі"),
    "html": ("Сенат одобрил план Макрона", "Сенат схвалив план Макрона щодо України"),
    "json": ("Макрон встретился с Туском в Варшаве", "Макрон зустрівся з Туском у Варшаві"),
    "jsonfeed": ("Макрон ответил критикам", "Макрон відповів критикам"),
}


def _stories(kind: str) -> list[tuple[str, str]]:
    return [(title, "") for title in PAIRS[kind]]


def test_a_ukrainian_watch_fires_on_ukrainian_items_of_every_kind(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis
) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "macron.yaml").write_text(WATCH, encoding="utf-8")
    with running_stack(tmp_path, redis_url, redis_client, rules_dir=str(rules)) as stack:
        for kind in KINDS:
            resp = httpx.post(
                f"{stack.api}/v1/bulletins?source=lang-{kind}",
                content=bulletin(kind, _stories(kind)),
                headers=stack.headers(),
                timeout=10,
            )
            assert resp.status_code == 202, (kind, resp.text)
            assert resp.json()["accepted"] == 2, kind
        stack.smtp.wait_for(len(KINDS), timeout=90)
        settle(stack)
        mails = stack.smtp.messages
    subjects = sorted(str(m.message["Subject"]) for m in mails)
    assert subjects == sorted(
        f"[Macron (Ukrainian press)] {_stories(kind)[1][0]}" for kind in KINDS
    )
    for mail in mails:
        plain = mail.message.get_body(("plain",))
        assert plain is not None
        assert " · uk (detected) · " in plain.get_content()
