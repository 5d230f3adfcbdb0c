"""A lone session in the browser against the headless Trainer: names/s and characters/s.

    RNNVIZ_NAMES_DIR=../shared/data/names RNNVIZ_CORPORA_DIR=../shared/data/corpora \\
        python scripts/bench_lone_session.py [--seconds 20] [--server-cpu 0] [--client-cpu 1]

Headless: the lesson trained in this process for ``--seconds`` in the app's slices (names/s or
characters/s as the lesson counts them). In the browser: a fresh server pinned to one core, one
student presses Train on the page and, after ``--seconds`` of wall-clock time, the page's own
throughput read-out times the share of that time spent training (per wall-clock second), and how
often its charts were redrawn. Prints the ratio; asserts nothing.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.sync_api import sync_playwright  # noqa: E402

from rnnviz.core.runtime import configure_torch  # noqa: E402
from rnnviz.data import names as names_data  # noqa: E402
from rnnviz.lessons.charlm import CharLMConfig, CharLMLesson, lyrics_corpus  # noqa: E402
from rnnviz.lessons.names import NamesConfig, NamesData, NamesLesson  # noqa: E402
from tests.browser.harness import CHROMIUM, CHROMIUM_ARGS, data_env, drawn_chart, streamlit_process  # noqa: E402

# Counts redraws of the loss/perplexity chart: a Plotly chart re-rendered by Streamlit.
COUNT_REDRAWS = """(title) => new Promise(resolve => {
  let redraws = 0, last = null;
  const started = performance.now();
  const look = () => {
    const el = Array.from(document.querySelectorAll('.js-plotly-plot')).find(
      e => e.layout && String((e.layout.title || {}).text || '').includes(title));
    const x = el && el.data && el.data[0] && el.data[0].x;
    const key = x ? x.length + ':' + x[x.length - 1] : null;
    if (key !== null && key !== last) { redraws += 1; last = key; }
    if (performance.now() - started > 10000) return resolve(redraws / 10);
    setTimeout(look, 50);
  };
  look();
})"""


def headless(lesson, seconds: float, rate) -> float:
    while lesson.trainer.train_seconds < seconds:
        lesson.run_for(0.7)
    return rate(lesson)


def browser_rate(url: str, path: str, seconds: float, pattern: str, chart_title: str) -> tuple[float, float]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        page.goto(f"{url}/{path}")
        page.get_by_role("button", name="Train").click(timeout=120_000)
        started = time.monotonic()
        drawn_chart(page, chart_title, timeout=60)  # in view, as for the student watching it
        page.wait_for_timeout(max(0.0, 2 - (time.monotonic() - started)) * 1000)
        redraws_per_second = page.evaluate(COUNT_REDRAWS, chart_title)
        page.wait_for_timeout(max(0.0, seconds - (time.monotonic() - started)) * 1000)
        text = page.locator("[data-testid=stApp]").inner_text()
        wall = time.monotonic() - started
        browser.close()
    rate, trained = re.search(pattern, text), re.search(r"([\d.]+) s of training", text)
    if not (rate and trained):
        return float("nan"), redraws_per_second
    # the page's rate is per second of training; per wall-clock second it is that times the share trained
    return float(rate.group(1).replace(",", "")) * float(trained.group(1)) / wall, redraws_per_second


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--server-cpu", default="0")
    parser.add_argument("--client-cpu", default="1")
    args = parser.parse_args()
    os.sched_setaffinity(0, {int(args.server_cpu)})  # headless runs where the server will
    configure_torch()
    names_rate = headless(NamesLesson(NamesConfig(), NamesData.from_dataset(names_data.load_names())), args.seconds,
                          lambda lesson: lesson.names_per_second)
    chars_rate = headless(CharLMLesson(CharLMConfig(corpus=lyrics_corpus())), args.seconds,
                          lambda lesson: lesson.chars_per_second)
    os.sched_setaffinity(0, {int(args.client_cpu)})
    rows = []
    with tempfile.TemporaryDirectory() as tmp, streamlit_process(
            data_env(Path(tmp) / "cache"), Path(tmp) / "server.log", prefix=["taskset", "-c", args.server_cpu]) as server:
        names_browser, names_redraws = browser_rate(server.url, "names", args.seconds,
                                                    r"Names / second\s+([\d,]+)", "Training loss")
        chars_browser, chars_redraws = browser_rate(server.url, "charlm", args.seconds,
                                                    r"([\d,]+) characters/s", "Perplexity")
    rows.append(("Names (GRU 128, batch 128)", "names/s", names_rate, names_browser, names_redraws))
    rows.append(("Character LM (lyrics, RNN 256)", "characters/s", chars_rate, chars_browser, chars_redraws))
    print("| lesson | unit | headless | lone browser session | ratio | chart redraws/s |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for title, unit, head, brow, redraws in rows:
        print(f"| {title} | {unit} | {head:,.0f} | {brow:,.0f} | {brow / head:.0%} | {redraws:.1f} |")


if __name__ == "__main__":
    main()
