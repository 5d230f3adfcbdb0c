"""Browser tests: `streamlit run app.py` on a free localhost port, driven by Playwright in Debian's Chromium."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, SHARED_DATA

CHROMIUM = os.environ.get("RNNVIZ_CHROMIUM", "/usr/bin/chromium")
# CI must run the browser tests; elsewhere a machine without Chromium skips them, saying why.
BROWSER_REQUIRED = os.environ.get("CI", "").lower() in ("1", "true") or os.environ.get("RNNVIZ_REQUIRE_BROWSER") == "1"
SCREENSHOTS = REPO_ROOT / "tests" / "browser" / "screenshots"
# Flags that keep Chromium from reaching for the network at start (there is none here).
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("streamlit did not become healthy in time")


@pytest.fixture(scope="session")
def app_url(tmp_path_factory) -> str:
    port = free_port()
    env = os.environ | {
        "RNNVIZ_CACHE_DIR": str(tmp_path_factory.mktemp("cache")),
        "RNNVIZ_NAMES_DIR": str(SHARED_DATA / "names"),
        "RNNVIZ_CORPORA_DIR": str(SHARED_DATA / "corpora"),
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
    }
    log = tmp_path_factory.mktemp("streamlit") / "streamlit.log"
    with open(log, "w") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1", "--server.fileWatcherType", "none"],
            cwd=REPO_ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
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


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
