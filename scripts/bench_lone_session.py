"""A lone session in the browser against the headless Trainer: names/s and characters/s.

    RNNVIZ_NAMES_DIR=../shared/data/names RNNVIZ_CORPORA_DIR=../shared/data/corpora \\
        python scripts/bench_lone_session.py [--seconds 20] [--server-cpu 0] [--client-cpu 1]

Headless: the lesson trained in this process for ``--seconds`` in the app's slices (names/s or
characters/s as the lesson counts them). In the browser, for each lesson: a fresh server pinned to one
core, one student presses Train on the page as soon as it shows the button and, after ``--seconds`` of
wall-clock time, the page's own throughput read-out times the share of that time spent training
(per wall-clock second): counted from the click (the page's first run, still under way, included)
and from the first slice shown (training as it goes on). Also how often its chart was redrawn.
Prints the ratios; asserts nothing.
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

# Counts redraws of the loss/perplexity chart: new data drawn into it (Plotly.react, in view).
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


TRAINED = r"([\d.]+) s of training"


def trained_seconds(page) -> float | None:
    """The page's own "… s of training" read-out, or None before it shows one."""
    found = re.search(TRAINED, page.locator("[data-testid=stApp]").inner_text())
    return float(found.group(1)) if found else None


def browser_rate(url: str, path: str, seconds: float, pattern: str, chart_title: str) -> dict[str, float]:
    """The page's training rate per wall-clock second, from the moment Train is pressed on the page
    as it opens (``from_click``) and once the first slice has been shown (``sustained``), and how
    often its chart is redrawn."""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        page.goto(f"{url}/{path}")
        page.get_by_role("button", name="Train").click(timeout=120_000)
        started = time.monotonic()
        while (first := trained_seconds(page)) is None:
            if time.monotonic() - started > 120:
                sys.exit(f"{path}: no \"s of training\" read-out 120 s after pressing Train")
            page.wait_for_timeout(50)
        first_at = time.monotonic()
        drawn_chart(page, chart_title, timeout=60)  # in view, as for the student watching it
        page.wait_for_timeout(max(0.0, 2 - (time.monotonic() - started)) * 1000)
        redraws_per_second = page.evaluate(COUNT_REDRAWS, chart_title)
        page.wait_for_timeout(max(0.0, seconds - (time.monotonic() - started)) * 1000)
        text = page.locator("[data-testid=stApp]").inner_text()
        ended = time.monotonic()
        browser.close()
    rate, trained = re.search(pattern, text), re.search(TRAINED, text)
    if not (rate and trained):
        return {"from_click": float("nan"), "sustained": float("nan"), "redraws": redraws_per_second}
    # the page's rate is per second of training; per wall-clock second it is that times the share trained
    per_training_second = float(rate.group(1).replace(",", ""))
    return {
        "from_click": per_training_second * float(trained.group(1)) / (ended - started),
        "sustained": per_training_second * (float(trained.group(1)) - first) / (ended - first_at),
        "redraws": redraws_per_second,
    }


def lone_session(args, path: str, pattern: str, chart_title: str) -> dict[str, float]:
    """``browser_rate`` on a fresh server pinned to ``args.server_cpu``."""
    with tempfile.TemporaryDirectory() as tmp, streamlit_process(
            data_env(Path(tmp) / "cache"), Path(tmp) / "server.log", prefix=["taskset", "-c", args.server_cpu]) as server:
        return browser_rate(server.url, path, args.seconds, pattern, chart_title)


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
    # Each lesson on a server of its own: on a shared one, the names session (its tab closed while it
    # trained) still counts as training for DEMAND_WINDOW_SECONDS, and the character LM's first seconds
    # would run at the shared pace (0.25 s slices), not a lone session's.
    names_browser = lone_session(args, "names", r"Names / second\s+([\d,]+)", "Training loss")
    chars_browser = lone_session(args, "charlm", r"([\d,]+) characters/s", "Perplexity")
    rows.append(("Names (GRU 128, batch 128)", "names/s", names_rate, names_browser))
    rows.append(("Character LM (lyrics, RNN 256)", "characters/s", chars_rate, chars_browser))
    print("| lesson | unit | headless | lone browser session, from pressing Train as the page opens "
          "| once training | chart redraws/s |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for title, unit, head, brow in rows:
        print(f"| {title} | {unit} | {head:,.0f} | {brow['from_click']:,.0f} ({brow['from_click'] / head:.0%}) "
              f"| {brow['sustained']:,.0f} ({brow['sustained'] / head:.0%}) | {brow['redraws']:.1f} |")


if __name__ == "__main__":
    main()
