"""Browser tests: `streamlit run app.py` on a free localhost port, driven by Playwright in Debian's Chromium."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser.harness import (
    CHROMIUM,
    CHROMIUM_ARGS,
    REPO_ROOT,
    data_env,
    draw_charts,
    streamlit_server,
)

SCREENSHOTS = REPO_ROOT / "tests" / "browser" / "screenshots"
# CI must run the browser tests; elsewhere a machine without Chromium skips them, saying why.
BROWSER_REQUIRED = os.environ.get("CI", "").lower() in ("1", "true") or os.environ.get("RNNVIZ_REQUIRE_BROWSER") == "1"


@pytest.fixture(scope="session")
def app_url(tmp_path_factory) -> str:
    log = tmp_path_factory.mktemp("streamlit") / "streamlit.log"
    with streamlit_server(data_env(tmp_path_factory.mktemp("cache")), log) as url:
        yield url
    if "Traceback" in log.read_text():
        pytest.fail("the streamlit server logged a traceback:\n" + log.read_text()[-3000:])


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium), as .ci/run does"
        if BROWSER_REQUIRED:
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    yield page
    context.close()


def screenshot(page, name: str, full_height: int | None = None) -> Path:
    """Save a PNG; Streamlit scrolls inside its own container, so pass full_height to see more."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    if full_height:
        page.set_viewport_size({"width": 1400, "height": full_height})
        page.wait_for_timeout(300)  # the layout settles, the charts now in view are queued
        draw_charts(page, scroll=False)
    page.screenshot(path=str(path), full_page=True)
    return path


def press_until(page, button: str, then: str, attempts: int = 4, settle_ms: int = 8_000) -> None:
    """Click the button named ``button`` until the button named ``then`` shows, at most ``attempts`` times.

    A click that lands while a live fragment is redrawing can be lost (its button is being replaced),
    so one click is not assumed to land. Between clicks it waits ``settle_ms`` for the change, long
    enough that a click which did land shows before the next one could undo it.
    """
    from playwright.sync_api import expect

    target = page.get_by_role("button", name=then)
    for _ in range(attempts):
        if target.count():
            break
        source = page.get_by_role("button", name=button)
        try:
            source.click(timeout=5_000)
        except Exception:  # the button was being replaced; look again
            pass
        try:
            expect(target).to_be_visible(timeout=settle_ms)
            break
        except AssertionError:
            continue
    expect(target).to_be_visible(timeout=1_000)
