"""A real headless Chromium for the console's tests (Selenium and Debian's chromium-driver)."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]
CHROMIUM = os.environ.get("ALERTS_CHROMIUM", "/usr/bin/chromium")
DRIVER = os.environ.get("ALERTS_CHROMEDRIVER", "/usr/bin/chromedriver")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)
LAPTOP, PHONE = (1366, 900), (390, 844)
ARTIFACTS = Path(os.environ.get("ALERTS_TEST_ARTIFACTS", ROOT / "var" / "artifacts")) / "console"


def require_chromium() -> None:
    """Skip without a browser on a developer's machine; in CI (``CI`` set) fail instead."""
    missing = [p for p in (CHROMIUM, DRIVER) if not (Path(p).exists() or shutil.which(p))]
    if not missing:
        return
    reason = f"no {' or '.join(missing)}: apt-get install chromium chromium-driver"
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


@contextmanager
def chrome() -> Iterator[Any]:
    """A headless Chromium with a fresh profile, logging the page's console."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    require_chromium()
    profile = tempfile.mkdtemp(prefix="alerts-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={profile}", f"--window-size={LAPTOP[0]},{LAPTOP[1]}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def console_errors(driver: Any) -> list[str]:
    """Messages the page logged at SEVERE since the last call (errors, CSP violations)."""
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def screenshot(driver: Any, name: str) -> list[Path]:
    """Whole-page screenshots at a laptop and at a phone width, under ``ARTIFACTS``."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver.execute_script("document.activeElement && document.activeElement.blur()")
    saved = []
    for label, (width, height) in (("laptop", LAPTOP), ("phone", PHONE)):
        driver.set_window_size(width, height)
        full = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(width, min(max(height, int(full) + 100), 6000))
        path = ARTIFACTS / f"{name}-{label}.png"
        driver.save_screenshot(str(path))
        saved.append(path)
    driver.set_window_size(*LAPTOP)
    return saved


# Every control a keyboard user must reach, and whether each has a label (run in the page).
_CONTROLS_JS = """
const sel = 'a[href], button, input:not([type=hidden]), select, textarea';
const out = [];
for (const el of document.querySelectorAll(sel)) {
  const style = getComputedStyle(el);
  if (style.display === 'none' || style.visibility === 'hidden') continue;
  let name = el.getAttribute('aria-label') || '';
  if (!name && el.labels && el.labels.length) name = el.labels[0].textContent;
  if (!name && (el.tagName === 'A' || el.tagName === 'BUTTON')) name = el.textContent;
  out.push({key: el.outerHTML.slice(0, 120), name: name.trim(), tab: el.tabIndex});
}
return out;
"""


def unlabelled_controls(driver: Any) -> list[str]:
    """Controls without an accessible name (label, aria-label or text)."""
    return [c["key"] for c in driver.execute_script(_CONTROLS_JS) if not c["name"]]


def unreachable_controls(driver: Any) -> list[str]:
    """Controls that pressing Tab from the top of the page never focuses."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    controls = driver.execute_script(_CONTROLS_JS)
    driver.execute_script(
        "document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0)"
    )
    reached = set()
    for _ in range(len(controls) + 5):
        ActionChains(driver).send_keys(Keys.TAB).perform()
        reached.add(driver.execute_script("return document.activeElement.outerHTML.slice(0, 120)"))
    return [c["key"] for c in controls if c["key"] not in reached or c["tab"] < 0]


def submit(driver: Any, by: str, value: str, timeout: float = 60) -> None:
    """Click a form's button and wait until the next page has replaced this one.

    Under load Chromium may answer a click with "node does not belong to the document"
    (seen once in a full run): the button is found again and clicked again, unless the
    first click did start the navigation.
    """
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    page = driver.find_element(By.TAG_NAME, "html")
    gone = expected_conditions.staleness_of(page)
    for attempt in range(3):
        try:
            driver.find_element(by, value).click()
            break
        except WebDriverException:
            if gone(driver) or attempt == 2:
                break
            time.sleep(0.5)
    WebDriverWait(driver, timeout).until(gone)
