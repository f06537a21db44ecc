"""Helpers for the tests that drive headless Chromium (``tests/hub/web/*_browser.py``).

The fixtures built on them (``chromium``, ``open_page`` and the demo ``hub``) are in ``conftest.py``,
which imports this module, and Playwright, only when a browser test asks for them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import ConsoleMessage, Page, Request, Response
from testbed import OUTPUT

from hub.web.i18n import text_of as catalogue_text

CHROMIUM = Path("/usr/bin/chromium")
# A name that is not loopback but resolves to it, so /docs can be seen as it is under a public host name
# (Swagger UI treats spec URLs on localhost and 127.0.0.1 specially).
PUBLIC_NAME = "hub.test"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    f"--host-resolver-rules=MAP {PUBLIC_NAME} 127.0.0.1",
]
LOOPBACK = "127.0.0.1"
PHONE = {"width": 390, "height": 844}


def t(key: str, lang: str, **values: object) -> str:
    """The text of ``key`` in ``lang`` from the page catalogues, not a copy of it."""
    return catalogue_text(key, lang).format(**values)


def shoot(page: Page, name: str) -> None:
    """A full-page screenshot, ``test-output/<name>.png``."""
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=OUTPUT / f"{name}.png", full_page=True)


def no_horizontal_scroll(page: Page) -> None:
    """The page fits the width of the ``PHONE`` viewport it was opened in."""
    widths = page.evaluate(
        "() => ({inner: window.innerWidth, scroll: document.documentElement.scrollWidth,"
        " body: document.body.scrollWidth})"
    )
    # innerWidth stays the device width: the page is not zoomed out to fit something too wide
    assert widths["inner"] == PHONE["width"]
    assert widths["scroll"] <= PHONE["width"], widths
    assert widths["body"] <= PHONE["width"], widths


@dataclass
class Watch:
    """What the pages of one browser context asked for and complained about."""

    host: str
    outside: list[str] = field(default_factory=list)  # requests to any other host (blocked)
    failed: list[str] = field(default_factory=list)
    loaded: list[str] = field(default_factory=list)  # URLs answered 2xx
    bad_status: list[tuple[int, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # console errors and uncaught exceptions

    def is_outside(self, url: str) -> bool:
        host = urlsplit(url).hostname
        return host is not None and host != self.host

    def on_request(self, request: Request) -> None:
        if self.is_outside(request.url) and request.url not in self.outside:
            self.outside.append(request.url)

    def on_failed(self, request: Request) -> None:
        if not self.is_outside(request.url):
            self.failed.append(f"{request.url}: {request.failure}")

    def on_response(self, response: Response) -> None:
        if response.status >= 400:
            self.bad_status.append((response.status, response.url))
        elif response.status < 300:
            self.loaded.append(response.url)

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    def assert_clean(self, expected_status: int | None = None) -> None:
        """Nothing outside was asked for, nothing failed, no console errors, except ``expected_status``."""
        assert self.outside == [], "the page tried to reach other hosts"
        assert self.failed == []
        assert [(status, url) for status, url in self.bad_status if status != expected_status] == []
        expected_error = f"the server responded with a status of {expected_status}"
        assert [e for e in self.errors if not (expected_status and expected_error in e)] == []


# ``open_page(locale=..., host=..., **context_options)``, the fixture in conftest.py
OpenPage = Callable[..., tuple[Page, Watch]]
