"""A real browser for the admin: Debian's ``chromium`` driven by Selenium through ``chromium-driver``.

``pytest -m browser`` (its own lane in ``.ci/run``, which installs both with apt-get when missing). Outside
CI a machine without chromium, chromedriver or Selenium skips these tests; with ``CI=true`` it fails them,
and so does a browser that cannot be started. Pages come from pytest-django's ``live_server`` (a real HTTP
server on loopback, static files included) over the test database.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("DOTSYNC_ARTIFACTS_DIR") or ROOT / "var" / "artifacts")
"""Where screenshots go (``var/`` is not committed; CI keeps the folder as the lane's artefacts)."""

PASSWORD = "browser-test-password"


def need(what: str) -> None:
    """Fail under ``CI=true``, skip elsewhere: the browser lane must run in CI."""
    message = (
        f"{what}; the browser tests need chromium and chromedriver (apt-get install chromium chromium-driver)"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} and CI=true", pytrace=False)
    pytest.skip(message)


def _binary(env: str, *names: str) -> str | None:
    explicit = os.environ.get(env)
    if explicit:
        return explicit if Path(explicit).exists() else None
    for name in names:
        found = shutil.which(name) or (f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else None)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless chromium for the session (Selenium's Chrome driver over chromedriver, no download)."""
    try:
        from selenium import webdriver
        from selenium.common.exceptions import WebDriverException
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        need("Selenium is not installed (pip install -e '.[dev]')")
    chromium = _binary("DOTSYNC_CHROMIUM", "chromium", "chromium-browser")
    driver_path = _binary("DOTSYNC_CHROMEDRIVER", "chromedriver")
    if chromium is None or driver_path is None:
        need(f"chromium ({chromium or 'missing'}) or chromedriver ({driver_path or 'missing'}) not found")
    options = webdriver.ChromeOptions()
    options.binary_location = str(chromium)
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1400,1000",
    ):
        options.add_argument(arg)
    try:
        driver = webdriver.Chrome(service=Service(str(driver_path)), options=options)
    except WebDriverException as exc:
        need(f"chromium could not be started: {exc.msg}")
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def click_and_load(browser: Any, element: Any, timeout: float = 30) -> None:
    """Click ``element``, which loads a new page, and wait until the old page is gone.

    A click returns once chromium dispatched it, not once the page it submits has loaded: the next
    step could read the old page, or navigate away before the form's response arrived (a login lost).
    """
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    old = browser.find_element(By.TAG_NAME, "html")
    element.click()
    WebDriverWait(browser, timeout, poll_frequency=0.05).until(expected_conditions.staleness_of(old))


@pytest.fixture
def admin_page(browser: Any, live_server: Any, django_user_model: Any) -> Any:
    """The browser logged in to the live server's admin as a new superuser, through the login form."""
    from selenium.webdriver.common.by import By

    django_user_model.objects.create_superuser("browser-admin", "browser-admin@example.invalid", PASSWORD)
    browser.delete_all_cookies()
    browser.get(f"{live_server.url}/admin/login/")
    browser.find_element(By.NAME, "username").send_keys("browser-admin")
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    click_and_load(browser, browser.find_element(By.CSS_SELECTOR, "input[type=submit]"))
    assert browser.find_element(By.ID, "user-tools").text.upper().startswith("WELCOME")
    return browser


@pytest.fixture
def screenshot_dir() -> Path:
    """``var/artifacts`` (or ``DOTSYNC_ARTIFACTS_DIR``), created."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
