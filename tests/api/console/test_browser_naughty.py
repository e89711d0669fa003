"""The Big List of Naughty Strings as item text, through the console's pages in a real browser.

Nothing they hold may run: no dialog opens, the page's console logs no error (a script the CSP
blocked would log one), and each string shows as the text it is.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import feedparser
import httpx
import pytest

from tests.api.console.browser import console_errors, submit
from tests.api.console.test_browser_flow import post, rows, sign_in, wait_until
from tests.workers.conftest import Stack

BLNS = Path(__file__).resolve().parents[4] / "shared" / "corpora" / "naughty-strings" / "blns.json"
SHOWN = ("<script>alert(123)</script>", '"><script>alert(123)</script>')


@pytest.fixture(scope="module")
def naughty() -> list[str]:
    """The strings (non-empty ones), or a skip when ../shared is absent."""
    if not BLNS.exists():
        pytest.skip("../shared/corpora/naughty-strings/blns.json is not present")
    return [s for s in json.loads(BLNS.read_text(encoding="utf-8")) if s.strip()]


def submit_all(stack: Stack, strings: list[str]) -> int:
    """Post each string as an item (title and body); returns how many the API accepted."""
    accepted = 0
    for start in range(0, len(strings), 50):
        batch = strings[start : start + 50]
        items = [
            {"id": f"n{start + i}", "title": f"zzqnaughty {s}", "body": f"zzqnaughty {s} {s}"}
            for i, s in enumerate(batch)
        ]
        accepted += post(stack, items, source="blns")
    return accepted


def assert_inert(driver: Any, where: str) -> None:
    """No dialog opened and no console error on the current page."""
    from selenium.common.exceptions import NoAlertPresentException

    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert.text  # noqa: B018 - reading it is the check
    assert console_errors(driver) == [], where


def test_naughty_strings_stay_text(service: Stack, driver: Any, naughty: list[str]) -> None:
    from selenium.webdriver.common.by import By

    stack = service
    if "/console/login" in (driver.current_url or "") or not driver.get_cookies():
        sign_in(driver, stack)
    accepted = submit_all(stack, naughty)
    wait_until(lambda: len(rows(stack, "naughty")) >= accepted - 5, timeout=120)

    driver.get(f"{stack.api}/console/deliveries?watch=naughty")
    assert_inert(driver, "deliveries")
    table = driver.find_element(By.TAG_NAME, "table").text
    assert any(s in table for s in SHOWN)
    links = driver.find_elements(By.CSS_SELECTOR, "table a")
    hrefs = [a.get_attribute("href") for a in links if "<" in a.text or "&" in a.text][:15]
    for href in hrefs:
        driver.get(href)
        assert_inert(driver, href)
    driver.get(f"{stack.api}/console/watches/naughty")
    assert_inert(driver, "watch page")

    # The playground, with every string pasted as a JSON bulletin.
    driver.get(f"{stack.api}/console/playground")
    bulletin = json.dumps({"items": [{"title": f"zzqnaughty {s}", "body": s} for s in naughty]})
    field = driver.find_element(By.ID, "text")
    driver.execute_script("arguments[0].value = arguments[1]", field, bulletin)
    submit(driver, By.CSS_SELECTOR, "button[value=try]")
    assert_inert(driver, "playground")
    assert SHOWN[0] in driver.find_element(By.TAG_NAME, "main").text

    feed_link = driver.get(f"{stack.api}/console/")
    href = driver.find_element(By.PARTIAL_LINK_TEXT, "Atom feed of every watch").get_attribute(
        "href"
    )
    feed = feedparser.parse(httpx.get(href, timeout=10).text)
    assert not feed.bozo, feed.bozo_exception
    assert feed_link is None
