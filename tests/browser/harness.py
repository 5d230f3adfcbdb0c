"""Start `streamlit run app.py` on a free localhost port and find Debian's Chromium.

Used by the browser tests' fixtures and by the benchmarks in scripts/ (bench_classroom, bench_typing, ...).
"""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
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
    with streamlit_process(env, log_path) as server:
        yield server.url


# --- A classroom: several sessions training on one server at once ------------------------------
# Used by tests/browser/test_classroom_load.py and scripts/bench_classroom.py.

@dataclass
class Server:
    url: str
    process: subprocess.Popen

    def rss_mb(self, field: str = "VmRSS") -> float:
        """The server's resident memory (VmRSS) in MB, read from /proc; ``field="RssAnon"``: only
        its anonymous part (the heap; not the shared libraries' pages it has read)."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
        return float("nan")


@contextlib.contextmanager
def streamlit_process(env: dict[str, str], log_path: Path, options: list[str] = (), prefix: list[str] = (),
                      root: Path | None = None):
    """Like streamlit_server, but yield a Server (URL and process, for its memory).

    ``options`` go to `streamlit run` (e.g. ["--server.disconnectedSessionTTL", "20"]); ``prefix``
    goes before the command (e.g. ["taskset", "-c", "0"], which execs it: the pid stays the server's);
    ``root`` is the checkout whose app.py runs (this one by default; scripts/ab_typing.py runs two).
    """
    port = free_port()
    with open(log_path, "w") as log_file:
        process = subprocess.Popen(
            [*prefix, sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1", "--server.fileWatcherType", "none",
             *options],
            cwd=root or REPO_ROOT, env=os.environ | env, stdout=log_file, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process)
        yield Server(url, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def niced_chromium(directory: Path, niceness: int) -> str:
    """A Chromium executable (a wrapper script in ``directory``) whose processes run at ``niceness``.

    Playwright starts each browser in a session of its own, and with the kernel's autogroup scheduling
    (sched_autogroup_enabled) a session's processes share one CPU weight: nice alone ranks them only
    among themselves, the session's autogroup ranks it against others, so the wrapper sets both.
    """
    wrapper = Path(directory) / f"chromium-nice-{niceness}"
    wrapper.write_text(f"#!/bin/sh\necho {niceness} > /proc/self/autogroup 2>/dev/null\n"
                       f'exec nice -n {niceness} {CHROMIUM} "$@"\n')
    wrapper.chmod(0o755)
    return str(wrapper)


@dataclass(frozen=True)
class TrainingPage:
    """A lesson page with a Train button, and where it shows how far training has come."""

    path: str
    pattern: str = ""  # a regex whose group 1 is the step count, matched against text elements
    chart_title: str = ""  # or: a chart whose traces' x values are training steps


# The step counter each page shows while training. Inside "Gradients through time" shows none, so its
# race chart's last x value is read instead.
TRAINING_PAGES = (
    TrainingPage("sequence_basics", pattern=r"^epoch ([\d,]+) · loss"),
    TrainingPage("names", pattern=r"^Steps\s+([\d,]+)"),
    TrainingPage("charlm", pattern=r"^step ([\d,]+) · epoch"),
    TrainingPage("inside_gradients", chart_title="Accuracy at the '?'"),
    TrainingPage("inside_clipping", pattern=r"^step ([\d,]+) · loss"),
)

_READ_STEPS = r"""([pattern, chartTitle]) => {
    let best = -1;
    if (pattern) {
        const re = new RegExp(pattern);
        const nodes = document.querySelectorAll(
            "[data-testid=stMarkdownContainer] p, [data-testid=stCaptionContainer], [data-testid=stMetric]");
        for (const node of nodes) {
            const m = node.innerText.trim().match(re);
            if (m) best = Math.max(best, parseInt(m[1].replace(/,/g, ""), 10));
        }
    }
    if (chartTitle) {
        for (const gd of document.querySelectorAll(".js-plotly-plot")) {
            const title = gd.layout && gd.layout.title && (gd.layout.title.text || gd.layout.title);
            if (typeof title !== "string" || !title.includes(chartTitle)) continue;
            for (const trace of gd.data || []) {
                const xs = trace.x || [];
                if (xs.length) best = Math.max(best, Number(xs[xs.length - 1]));
            }
        }
    }
    return best;
}"""


def read_steps(page, spec: TrainingPage) -> int:
    """The largest step count the page shows now; -1 before training has drawn any."""
    return int(page.evaluate(_READ_STEPS, [spec.pattern, spec.chart_title]))


def error_boxes(page) -> list[str]:
    """The texts of the exception and error boxes on the page."""
    return page.locator("[data-testid=stException], [data-testid=stAlertContentError]").all_inner_texts()


def open_training_pages(browser, url: str, specs, timeout: float = 60) -> list:
    """One new browser context (a student) per spec, its page opened and Train pressed.

    All pages are requested before any is waited for, so the server builds them at the same time,
    as when a class opens the app together. Returns the pages, in the order of ``specs``.
    """
    pages = []
    for spec in specs:
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        page.goto(f"{url}/{spec.path}")
        pages.append(page)
    for page, spec in zip(pages, specs):
        _wait_for_button(page, spec, "Train", timeout).click()
    for page, spec in zip(pages, specs):
        _wait_for_button(page, spec, "Pause", timeout)
    return pages


def _wait_for_button(page, spec: TrainingPage, name: str, timeout: float):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    button = page.get_by_role("button", name=name)
    try:
        button.wait_for(timeout=timeout * 1000)
    except PlaywrightTimeout:
        raise AssertionError(f"{spec.path}: no {name} button after {timeout:.0f} s; "
                             f"error boxes: {error_boxes(page)}") from None
    return button


def wait_for_steps(page, spec: TrainingPage, at_least: int = 1, timeout: float = 60) -> int:
    """Poll the page's step counter until it shows ``at_least``; return what it shows."""
    deadline = time.monotonic() + timeout
    while (steps := read_steps(page, spec)) < at_least:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{spec.path} showed step {steps} after {timeout} s, not {at_least}")
        page.wait_for_timeout(250)
    return steps


_DRAW_CHARTS = r"""async ([scroll, timeoutMs]) => {
    // A chart is drawn only once it is on screen (rnnviz/ui/plotly_chart.js): wait for each chart in
    // view (scroll=false), or scroll to each chart in turn as a reader would (scroll=true).
    const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
    const pending = (graph) => {
        const queue = window.__rnnvizChartQueue;
        return !queue || !graph.firstChild || Array.from(queue.waiting).some((state) => state.graph === graph);
    };
    const deadline = performance.now() + timeoutMs;
    let drawn = 0;
    for (const graph of document.querySelectorAll(".rnnviz-chart")) {
        if (!graph.checkVisibility() || !pending(graph)) continue;  // in a closed tab, or drawn already
        if (scroll) graph.scrollIntoView({block: "center"});
        else if (graph.__rnnvizOnScreen !== true) continue;
        while (graph.isConnected && pending(graph)) {  // (a stale copy of a redrawn element goes away)
            if (performance.now() > deadline) return -1;
            await sleep(50);
            if (scroll && graph.__rnnvizOnScreen === false) graph.scrollIntoView({block: "center"});  // the page grew
        }
        drawn++;
    }
    return drawn;
}"""


def draw_charts(page, scroll: bool = True, timeout: float = 30) -> int:
    """Have the page draw its charts with their newest data, as a reader scrolling down it would
    (scroll=False: only those in view now, e.g. after making the viewport tall). Charts in closed
    tabs stay as they are. Returns how many were drawn."""
    drawn = page.evaluate(_DRAW_CHARTS, [scroll, timeout * 1000])
    if drawn < 0:
        raise AssertionError(f"charts still not drawn after {timeout} s")
    return drawn


# A drawn chart: a Plotly chart, or a grid of coloured cells (rnnviz.viz.language_model.candidates_grid).
DRAWN_CHARTS = ".js-plotly-plot, .rnnviz-grid"
CHART_TITLES = ".js-plotly-plot .main-svg .gtitle, .rnnviz-grid .rnnviz-title"


def drawn_chart(page, title: str, timeout: float = 30):
    """The drawn charts whose text includes ``title``, found as a reader finds them: scrolling down the
    page (again, while they are still being mounted) until one is there; the last is left in view."""
    charts = page.locator(DRAWN_CHARTS, has_text=title)
    deadline = time.monotonic() + timeout
    while not charts.count():
        if time.monotonic() > deadline:
            raise AssertionError(f"no chart with “{title}” drawn after {timeout} s")
        draw_charts(page, timeout=max(1.0, deadline - time.monotonic()))
        if not charts.count():
            page.wait_for_timeout(250)
    charts.last.scroll_into_view_if_needed()
    return charts


FIRST_CHART_PAGE = "sequence_basics"


def open_until_first_chart(browser, url: str, path: str = FIRST_CHART_PAGE, timeout: float = 120):
    """A new student (a fresh browser context) opens a lesson page: (the page, seconds until its
    first Plotly chart is drawn, scrolled to if it is below the fold). Close the page's context when
    done with it."""
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    started = time.perf_counter()
    page.goto(f"{url}/{path}")
    first = page.locator(".rnnviz-chart").first
    first.wait_for(state="attached", timeout=timeout * 1000)
    first.scroll_into_view_if_needed(timeout=timeout * 1000)  # a page whose first chart is below the fold
    page.locator(".js-plotly-plot .main-svg").first.wait_for(state="visible", timeout=timeout * 1000)
    return page, time.perf_counter() - started


# --- Benchmarks: the server on one CPU, the browsers on another -------------------------------------

def add_cpu_options(parser) -> None:
    """--server-cpu and --client-cpu, for scripts/bench_*.py."""
    parser.add_argument("--server-cpu", type=int, default=0, help="the CPU `streamlit run` is pinned to")
    parser.add_argument("--client-cpu", type=int, default=1, help="the CPU this script and Chromium run on")


def pin_to_client_cpu(args) -> None:
    """Run this script, Playwright's driver and Chromium (they inherit it) on ``args.client_cpu``."""
    cpus = os.sched_getaffinity(0)
    if args.server_cpu == args.client_cpu or not {args.server_cpu, args.client_cpu} <= cpus:
        sys.exit(f"need two different CPUs out of {sorted(cpus)} for --server-cpu and --client-cpu")
    os.sched_setaffinity(0, {args.client_cpu})
