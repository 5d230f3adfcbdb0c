"""Start `streamlit run app.py` on a free localhost port and find Debian's Chromium.

Used by the browser tests' fixtures and by scripts/bench_responsiveness.py.
"""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
CHROMIUM = os.environ.get("RNNVIZ_CHROMIUM", "/usr/bin/chromium")
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


def data_env(cache_dir: Path) -> dict[str, str]:
    """Point the app at the shared test data and a private cache: no download needed."""
    return {
        "RNNVIZ_CACHE_DIR": str(cache_dir),
        "RNNVIZ_NAMES_DIR": str(SHARED_DATA / "names"),
        "RNNVIZ_CORPORA_DIR": str(SHARED_DATA / "corpora"),
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
    }


@contextlib.contextmanager
def streamlit_server(env: dict[str, str], log_path: Path):
    """Yield the URL of a running `streamlit run app.py`; stop it afterwards."""
    port = free_port()
    with open(log_path, "w") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1", "--server.fileWatcherType", "none"],
            cwd=REPO_ROOT, env=os.environ | env, stdout=log_file, stderr=subprocess.STDOUT,
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
