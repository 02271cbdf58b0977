"""A recording stand-in for dotdigital's scripts in the browser tests (tracking and email capture).

The real ``ddgtag.js`` and ``_dmmpt.js`` come from ``<region>.ddlnk.net``, which a test cannot reach: requests
to it (and to Oscar's jQuery CDN) are blocked so pages load at once, and a script evaluated before each page's
own scripts defines ``window.ddg``, ``_dmTrack`` and ``_dmCallHandler`` that record their calls in
``window.__dotsyncCalls``. The page's tags find them there as they would find the real ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

RECORDER = """
window.__dotsyncCalls = [];
window.ddg = new Proxy({}, {get: function (target, name) {
  return function () { window.__dotsyncCalls.push([name].concat(Array.prototype.slice.call(arguments))); };
}});
window._dmTrack = function () {
  window.__dotsyncCalls.push(["_dmTrack"].concat(Array.prototype.slice.call(arguments)));
};
window._dmCallHandler = function () { window.__dotsyncCalls.push(["_dmCallHandler"]); };
"""
BLOCKED = ["*ddlnk.net*", "*googleapis.com*"]


@contextmanager
def offline(browser: Any) -> Iterator[None]:
    """Block ``ddlnk.net`` and Oscar's CDN for the pages loaded inside the block (undone after)."""
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": BLOCKED})
    try:
        yield
    finally:
        browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})


@contextmanager
def recording(browser: Any) -> Iterator[None]:
    """Record dotdigital calls on every page loaded inside the block (the browser is shared: undone after)."""
    added = browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORDER})
    try:
        with offline(browser):
            yield
    finally:
        browser.execute_cdp_cmd(
            "Page.removeScriptToEvaluateOnNewDocument", {"identifier": added["identifier"]}
        )


def calls(browser: Any) -> list[list[Any]]:
    """The calls recorded on the current page: ``[name, *arguments]`` each."""
    return list(browser.execute_script("return window.__dotsyncCalls || [];"))


def script_sources(browser: Any) -> list[str]:
    """The ``src`` of every script element on the current page."""
    return list(
        browser.execute_script("return Array.from(document.scripts).map(s => s.src).filter(Boolean);")
    )
