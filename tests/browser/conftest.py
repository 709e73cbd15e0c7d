"""Browser tests: real headless Chromium (Debian's ``/usr/bin/chromium``, driven by
Playwright for Python) against pytest-django's live server.

Use the ``browser`` fixture::

    def test_something(browser):
        user = make_user("dana", role="deal_team")      # the database, in the test's thread
        browser.sign_in(user)                           # a session cookie, no form
        browser.goto("/admin/")                         # relative to the live server
        browser.page.get_by_role("link", name="AIP").click()
        browser.expect(browser.page.locator("h1")).to_contain_text("AIP")
        browser.screenshot("aip-dashboard")             # var/test-output/screenshots/...
        assert browser.external_requests() == []        # also checked after every test

A second person in the same test: ``other = browser.new_session(); other.sign_in(...)``
(its own cookies, its own page). ``browser.page`` is the Playwright ``Page``, reached
through a proxy: Playwright's sync API runs an event loop in the thread that uses it, and
Django refuses database access in a thread with a running loop, so Playwright lives in a
thread of its own and every call is handed to it. Anything returned (locators, responses)
is proxied the same way; ``browser.run(fn)`` runs ``fn(page)`` there for anything else.
Never touch the database inside ``fn`` or a Playwright callback.

Without Chromium the tests skip, saying why; under CI (``CI=true``) they fail instead.
"""

import os
import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client

# Debian's Chromium (Playwright's own download does not run here). BROWSER_TEST_CHROMIUM
# points elsewhere (tests/browser/test_without_chromium.py: a path with nothing there).
CHROMIUM = Path(os.environ.get("BROWSER_TEST_CHROMIUM") or "/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
OUTPUT = Path(os.environ.get("TEST_OUTPUT_DIR") or ROOT / "var" / "test-output")
SCREENSHOTS = OUTPUT / "screenshots"
VIEWPORT = {"width": 1400, "height": 1000}
# URL schemes that never leave the browser.
LOCAL_SCHEMES = {"data", "blob", "about"}

PASSWORD = "a-browser-test-password"  # the test users' password

_saved: list[Path] = []


class PlaywrightThread:
    """The one thread Playwright and Chromium live in; ``call`` runs a function there."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="playwright")

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return self._executor.submit(fn, *args, **kwargs).result()

    def shutdown(self) -> None:
        self._executor.shutdown(wait=True)


class InThread:
    """A Playwright object used from the test's thread: each call runs in Playwright's."""

    def __init__(self, thread: PlaywrightThread, target: Any) -> None:
        object.__setattr__(self, "_thread", thread)
        object.__setattr__(self, "_target", target)

    def __getattr__(self, name: str) -> Any:
        value = self._thread.call(getattr, self._target, name)
        if callable(value):

            def method(*args: Any, **kwargs: Any) -> Any:
                args = tuple(_unwrap(arg) for arg in args)
                kwargs = {key: _unwrap(arg) for key, arg in kwargs.items()}
                return _wrap(self._thread, self._thread.call(value, *args, **kwargs))

            return method
        return _wrap(self._thread, value)

    def __setattr__(self, name: str, value: Any) -> None:
        self._thread.call(setattr, self._target, name, _unwrap(value))

    def __repr__(self) -> str:
        return f"InThread({self._target!r})"


def _wrap(thread: PlaywrightThread, value: Any) -> Any:
    if isinstance(value, list):
        return [_wrap(thread, item) for item in value]
    if type(value).__module__.startswith("playwright."):
        return InThread(thread, value)
    return value


def _unwrap(value: Any) -> Any:
    return object.__getattribute__(value, "_target") if isinstance(value, InThread) else value


class BrowserSession:
    """One person's browser (a Playwright context and its page) on the live server."""

    def __init__(self, thread: PlaywrightThread, chromium: Any, base_url: str, test: str):
        self._thread = thread
        self._chromium = chromium
        self.base_url = base_url.rstrip("/")
        self._test = test
        self._sessions: list[BrowserSession] = []
        self.requests: list[str] = []  # every URL the page asked for, in order
        self.errors: list[str] = []  # uncaught JavaScript errors
        self._context, page = thread.call(self._open)
        self.page = InThread(thread, page)

    def _open(self) -> tuple[Any, Any]:
        context = self._chromium.new_context(viewport=VIEWPORT, base_url=self.base_url)
        page = context.new_page()
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        return context, page

    def url(self, path: str) -> str:
        return self.base_url + path

    def goto(self, path: str) -> int:
        """Open ``path`` on the live server; the answer's HTTP status."""
        response = self.page.goto(self.url(path))
        return int(response.status) if response is not None else 0

    def sign_in(self, user: User) -> None:
        """Sign ``user`` in (a session made in the database, its cookie given to the
        browser): works for any user, staff or not, whatever the login page."""
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        self._thread.call(
            self._context.add_cookies,
            [{"name": cookie.key, "value": cookie.value, "url": self.base_url}],
        )

    def screenshot(self, name: str, full_page: bool = True) -> Path:
        """Save the page (the whole of it, or what the window shows) as ``<name>.png``
        under the run's screenshots folder."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        _saved.append(path)
        return path

    def external_requests(self) -> list[str]:
        """Requests, of this session and those it opened, to any host but the live server."""
        own = urlsplit(self.base_url).netloc
        mine = [
            url
            for url in self.requests
            if urlsplit(url).scheme not in LOCAL_SCHEMES and urlsplit(url).netloc != own
        ]
        return mine + [url for session in self._sessions for url in session.external_requests()]

    def new_session(self) -> "BrowserSession":
        """Another person's browser in the same test (own cookies, own page)."""
        session = BrowserSession(self._thread, self._chromium, self.base_url, self._test)
        self._sessions.append(session)
        return session

    def expect(self, target: Any, message: str | None = None) -> Any:
        """Playwright's ``expect`` (waits and retries), for a proxied locator or page."""
        from playwright.sync_api import expect

        return InThread(self._thread, self._thread.call(expect, _unwrap(target), message))

    def run(self, fn: Callable[[Any], Any]) -> Any:
        """``fn(page)`` in Playwright's thread (no database access in there)."""
        return self._thread.call(fn, _unwrap(self.page))

    def close(self) -> None:
        for session in self._sessions:
            session.close()
        self._thread.call(self._context.close)


def _chromium_or_skip() -> None:
    if CHROMIUM.exists():
        return
    reason = (
        f"browser tests need Chromium at {CHROMIUM} "
        "(Debian: apt-get install chromium; .ci/run installs it)"
    )
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true and {reason}: the browser tests cannot run", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def _chromium() -> Iterator[tuple[PlaywrightThread, Any]]:
    """Chromium, launched once per test run in Playwright's own thread."""
    _chromium_or_skip()
    thread = PlaywrightThread()

    def launch() -> tuple[Any, Any]:
        from playwright.sync_api import sync_playwright

        playwright = sync_playwright().start()
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox"], headless=True
        )
        return playwright, chromium

    playwright, chromium = thread.call(launch)
    try:
        yield thread, chromium
    finally:
        thread.call(chromium.close)
        thread.call(playwright.stop)
        thread.shutdown()


@pytest.fixture
def browser(
    request: pytest.FixtureRequest,
    _chromium: tuple[PlaywrightThread, Any],
    live_server: Any,
    transactional_db: None,
) -> Iterator[BrowserSession]:
    """A browser on the live server; after the test, no request may have left it."""
    thread, chromium = _chromium
    session = BrowserSession(thread, chromium, live_server.url, request.node.name)
    try:
        yield session
    finally:
        external = session.external_requests()
        session.close()
    assert not external, f"requests to another host than the live server: {external}"


@pytest.fixture
def make_user(transactional_db: None) -> Callable[..., User]:
    """``make_user("dana", "deal_team")``: a user with a role grant (``partner:<org>``
    for a partner, who is not staff), globally or in ``consortia``; its password is
    ``PASSWORD`` (for tests of the login form; ``browser.sign_in`` needs none)."""
    from django.contrib.auth import get_user_model

    from consortium.models import RoleGrant

    def make(
        username: str, role: str | None = None, consortia: tuple[str, ...] = ("",), **fields: Any
    ) -> User:
        name, _, organisation = (role or "").partition(":")
        fields.setdefault("is_staff", name != "partner")
        user = get_user_model().objects.create_user(username, password=PASSWORD, **fields)
        if role:
            for consortium in consortia:
                RoleGrant.objects.create(
                    user=user, role=name, organisation_id=organisation, consortium=consortium
                )
        return user

    return make


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.browser)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _saved:
        terminalreporter.write_line(
            f"browser tests: {len(_saved)} screenshot(s) saved under {SCREENSHOTS}"
        )
