"""How long a fresh browser takes to load plotly.js and draw a first chart: the bundle the charts load
(rnnviz/ui/plotly_bundle, scripts/build_plotly_js.py) against plotly.py's full plotly.min.js.

    python scripts/bench_plotly_js.py [--runs 8] [--client-cpu 1] [--also PATH ...]

Both files are served from a localhost HTTP server; each run opens a fresh browser context (an empty
cache, like a student opening the app), adds the script and times it from the request to its onload
(fetched and evaluated), then ``Plotly.newPlot`` of a hidden-state heatmap as the lessons draw it.
Runs alternate between the files. ``--also`` adds other builds to compare (plotly's "cartesian" dist
bundle, say: `npm pack plotly.js-cartesian-dist-min@4.1.1`). Prints medians in a markdown table;
asserts nothing.
"""
from __future__ import annotations

import argparse
import functools
import http.server
import json
import os
import statistics
import sys
import tempfile
import threading
from pathlib import Path

import numpy as np
import plotly.io as pio

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.sync_api import sync_playwright  # noqa: E402

from rnnviz.ui.plotly_component import BUNDLED_PLOTLY_JS, FULL_PLOTLY_JS, PLOTLY_JS  # noqa: E402
from rnnviz.viz.states import hidden_state_heatmap  # noqa: E402
from tests.browser.harness import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

_LOAD_AND_DRAW = """([src, figure]) => new Promise((resolve, reject) => {
  const started = performance.now();
  const script = document.createElement("script");
  script.src = src;
  script.onerror = () => reject(new Error("could not load " + src));
  script.onload = () => {
    const loaded = performance.now();
    Plotly.newPlot(document.getElementById("chart"), figure.data, figure.layout)
      .then(() => resolve([loaded - started, performance.now() - loaded]));
  };
  document.head.appendChild(script);
})"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--client-cpu", type=int, default=1, help="the CPU this script and Chromium run on")
    parser.add_argument("--also", type=Path, nargs="*", default=[], help="other plotly.js files to compare")
    args = parser.parse_args()
    if args.client_cpu in os.sched_getaffinity(0):
        os.sched_setaffinity(0, {args.client_cpu})
    rng = np.random.default_rng(0)
    figure = json.loads(pio.to_json(hidden_state_heatmap(np.tanh(rng.normal(size=(12, 64))), list("hello, world"),
                                                         title="h_t"), validate=False))
    with tempfile.TemporaryDirectory() as tmp:
        served = Path(tmp)
        bundles = {"bundled (the charts')": BUNDLED_PLOTLY_JS, "full (plotly.py's)": FULL_PLOTLY_JS}
        bundles |= {str(path): path.resolve() for path in args.also}
        files = {name: f"{i}.js" for i, name in enumerate(bundles)}
        for name, path in bundles.items():
            (served / files[name]).symlink_to(path)
        (served / "index.html").write_text("<!doctype html><html><body><div id='chart'></div></body></html>")
        handler = functools.partial(_QuietHandler, directory=str(served))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}"
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in bundles}
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            for run in range(args.runs + 1):  # the first round warms the browser up and is not counted
                for name in bundles:
                    context = browser.new_context()
                    page = context.new_page()
                    page.goto(f"{url}/index.html")
                    measured = page.evaluate(_LOAD_AND_DRAW, [f"{url}/{files[name]}", figure])
                    if run:
                        times[name].append(measured)
                    context.close()
            browser.close()
        server.shutdown()
    print(f"Medians of {args.runs} fresh browser contexts each:\n")
    print("| plotly.js | size, MB | fetched and evaluated, ms | first heatmap drawn, ms |")
    print("|---|---|---|---|")
    for name, path in bundles.items():
        served_now = " ← served" if path == PLOTLY_JS else ""
        load = statistics.median(t[0] for t in times[name])
        draw = statistics.median(t[1] for t in times[name])
        print(f"| {name}{served_now} | {path.stat().st_size / 1e6:.2f} | {load:.0f} | {draw:.0f} |")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the files without a log line per request."""

    def log_message(self, format, *args):  # the base class's signature
        pass


if __name__ == "__main__":
    main()
