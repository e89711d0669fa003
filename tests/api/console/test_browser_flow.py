"""Issue 14's flow in a real browser against the real service (API, Celery worker, beat, Redis).

Sign in, try a Kaluga draft on the sample bulletin in the playground, backtest it, mute the
watch from an alert's page and see the next Kaluga alert recorded as silenced, replay a dead
letter until it is sent, open the Atom feed. Every page is screenshotted at a laptop and a phone
width (``var/artifacts/console``), reached by keyboard, its controls labelled, its console clean.
"""

from __future__ import annotations

import json
import time
from typing import Any

import feedparser
import httpx

from alerts.delivery import redis_store
from tests.api.console.browser import (
    console_errors,
    screenshot,
    submit,
    unlabelled_controls,
    unreachable_controls,
)
from tests.api.console.conftest import ROOT
from tests.support.slack import SlackReply
from tests.workers.conftest import TOKEN, Stack

KALUGA_DRAFT = """\
id: kaluga-draft
name: Kaluga (draft)
any: [Kaluga]
notify:
  channels: [slack]
examples:
  match: [Drones struck a depot in the Kaluga region]
"""


def wait_until(predicate: Any, timeout: float = 60.0) -> None:
    """Poll ``predicate`` until it is true (AssertionError after ``timeout``)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def post(stack: Stack, items: list[dict[str, str]], source: str = "wire") -> int:
    """Submit items through the real API (our JSON push schema); how many it accepted."""
    resp = httpx.post(
        f"{stack.api}/v1/bulletins?source={source}",
        content=json.dumps({"items": items}),
        headers={**stack.headers(), "Content-Type": "application/json"},
        timeout=30,
    )
    assert resp.status_code == 202, resp.text
    return int(resp.json()["accepted"])


def rows(stack: Stack, watch: str) -> list[Any]:
    """The watch's ledger rows, read from Redis."""
    return redis_store(stack.redis).ledger.query(watch=watch, limit=10_000)


def check_page(driver: Any, name: str) -> None:
    """Screenshots, keyboard reach, labels and a clean console on the current page."""
    assert console_errors(driver) == [], name
    assert unlabelled_controls(driver) == [], name
    assert unreachable_controls(driver) == [], name
    screenshot(driver, name)


def sign_in(driver: Any, stack: Stack) -> None:
    """Open the console, land on the sign-in page, sign in with the API token."""
    from selenium.webdriver.common.by import By

    driver.get(f"{stack.api}/console/")
    assert "/console/login" in driver.current_url
    check_page(driver, "login")
    driver.find_element(By.ID, "token").send_keys(TOKEN)
    submit(driver, By.CSS_SELECTOR, "form button[type=submit]")
    assert driver.current_url.endswith("/console/")
    assert "kaluga" in driver.find_element(By.TAG_NAME, "table").text


def test_console_flow(service: Stack, driver: Any) -> None:
    from selenium.webdriver.common.by import By

    stack = service
    sign_in(driver, stack)

    # An alert first, so the archive has items and the alert page has something to mute.
    post(stack, [{"id": "k1", "title": "Drones hit a depot in the Kaluga region", "body": "Fire."}])
    wait_until(lambda: [r.status for r in rows(stack, "kaluga")] == ["sent"])
    slack_text = json.dumps(stack.slack.wait_for(1)[0].payload)
    assert "/console/alert?watch=kaluga" in slack_text and "why this matched" in slack_text
    driver.get(f"{stack.api}/console/")
    check_page(driver, "watches")

    # Playground: the sample bulletin and a Kaluga draft; the hit and its explanation.
    driver.get(f"{stack.api}/console/playground")
    driver.find_element(By.ID, "text").send_keys((ROOT / "examples/bulletin.txt").read_text())
    driver.find_element(By.ID, "draft").send_keys(KALUGA_DRAFT)
    submit(driver, By.CSS_SELECTOR, "button[value=try]")
    marks = [m.text for m in driver.find_elements(By.CSS_SELECTOR, ".match mark")]
    assert "Kaluga" in marks
    hits = driver.find_element(By.CSS_SELECTOR, "table.hits").text
    assert "kaluga" in hits.lower() and "title" in hits
    check_page(driver, "playground")

    # Backtest of the draft over the archive: today's item counted, with its sample.
    submit(driver, By.CSS_SELECTOR, "button[value=backtest]")
    backtest = driver.find_element(By.CSS_SELECTOR, "table.backtest").text
    assert "Drones hit a depot in the Kaluga region" in backtest
    check_page(driver, "backtest")

    # Mute the watch from the alert's page; the next Kaluga item is recorded as silenced.
    driver.get(f"{stack.api}/console/deliveries?watch=kaluga")
    submit(driver, By.LINK_TEXT, "Drones hit a depot in the Kaluga region")
    check_page(driver, "alert")
    driver.find_element(By.ID, "dur-watch").clear()
    driver.find_element(By.ID, "dur-watch").send_keys("1h")
    driver.find_element(By.ID, "comment-watch").send_keys("a browser test")
    submit(driver, By.XPATH, "//button[text()='Mute this watch']")
    driver.get(f"{stack.api}/console/silences")
    assert "a browser test" in driver.find_element(By.TAG_NAME, "table").text
    check_page(driver, "silences")
    post(stack, [{"id": "k2", "title": "Kaluga governor reports a second fire", "body": "Smoke."}])
    wait_until(lambda: "silenced" in [r.status for r in rows(stack, "kaluga")])
    driver.get(f"{stack.api}/console/deliveries?status=silenced")
    assert "Kaluga governor reports a second fire" in driver.find_element(By.TAG_NAME, "table").text

    # A dead letter (Slack refuses the payload for good), replayed: the reconciler sends it.
    stack.slack.script(SlackReply.invalid_payload())
    post(stack, [{"id": "o1", "title": "Oryol airport closed", "body": "Fog."}])
    wait_until(lambda: [r.status for r in rows(stack, "oryol")] == ["dead"])
    driver.get(f"{stack.api}/console/deliveries?status=dead")
    check_page(driver, "deliveries")
    submit(driver, By.XPATH, "//button[text()='Replay']")
    wait_until(lambda: [r.status for r in rows(stack, "oryol")] == ["sent"])
    driver.get(f"{stack.api}/console/deliveries?watch=oryol")
    assert "sent" in driver.find_element(By.TAG_NAME, "table").text

    driver.get(f"{stack.api}/console/sources")
    check_page(driver, "sources")

    # The Atom feed, by the link on the watches page: readable by a feed parser.
    driver.get(f"{stack.api}/console/")
    href = driver.find_element(By.PARTIAL_LINK_TEXT, "Atom feed of every watch").get_attribute(
        "href"
    )
    driver.get(href)
    assert "Drones hit a depot in the Kaluga region" in driver.page_source
    feed = feedparser.parse(httpx.get(href, timeout=10).text)
    assert not feed.bozo, feed.bozo_exception
    titles = [e.title for e in feed.entries]
    assert "Kaluga region: Drones hit a depot in the Kaluga region" in titles
    assert "Oryol: Oryol airport closed" in titles
    # An XML document has no <link rel=icon>: the browser's own favicon request is no page error.
    assert [e for e in console_errors(driver) if "/favicon.ico" not in e] == []
