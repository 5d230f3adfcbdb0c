"""Keystroke to updated chart, in a real browser: the names box and the character-LM prefix box.

    python scripts/bench_typing.py [--busy 0 8] [--server-cpu 0] [--client-cpu 1]

For each number of busy sessions (other students training on the lesson pages), on a fresh
server pinned to one core: opens the names page and types surnames one key at a time, timing in
the page itself from just before each key press to the moment the chart's title names the text
typed so far ("P(language) after each letter of “Nak”"); then the same for the prefix of the
character language model ("… → …: the candidates for each next character"). Prints the median
and 90th percentile per widget. Needs Debian's chromium and two CPUs; asserts nothing.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.browser.harness import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    TRAINING_PAGES,
    data_env,
    open_training_pages,
    streamlit_process,
)

NAMES = ("Nakamura", "Dostoevsky", "Papadopoulos", "Schmidhuber")
PREFIXES = ("分开", "不分开", "我想", "天空")

# Resolves with milliseconds from now until a chart whose title contains ``needle`` is drawn.
WAIT_FOR_TITLE = """(needle) => new Promise(resolve => {
  const start = performance.now();
  const look = () => {
    for (const el of document.querySelectorAll('.js-plotly-plot')) {
      const t = el.layout && el.layout.title && (el.layout.title.text || el.layout.title);
      if (typeof t === 'string' && t.includes(needle)) return resolve(performance.now() - start);
    }
    if (performance.now() - start > 20000) return resolve(null);
    requestAnimationFrame(look);
  };
  look();
})"""


def time_keystrokes(page, box, words, title_for) -> list[float]:
    """Type each word key by key; per key, ms until the chart shows the text typed so far."""
    latencies = []
    for word in words:
        box.fill("")
        page.wait_for_timeout(600)
        for i, char in enumerate(word):
            typed = word[: i + 1]
            waiter = page.evaluate_handle(f"() => ({WAIT_FOR_TITLE})({title_for(typed)!r})")
            box.press_sequentially(char)
            ms = page.evaluate("(p) => p", waiter)
            if ms is not None:
                latencies.append(ms)
            page.wait_for_timeout(150)
    return latencies


def summary(values: list[float]) -> str:
    if not values:
        return "– (no update seen)"
    values = sorted(values)
    p90 = values[min(len(values) - 1, int(0.9 * len(values)))]
    return f"{statistics.median(values):.0f} ms median, {p90:.0f} ms p90 ({len(values)} keys)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--busy", type=int, nargs="+", default=[0, 8])
    parser.add_argument("--server-cpu", default="0")
    parser.add_argument("--client-cpu", default="1")
    args = parser.parse_args()
    if args.client_cpu is not None:
        os.sched_setaffinity(0, {int(args.client_cpu)})
    rows = []
    for busy in args.busy:
        with tempfile.TemporaryDirectory() as tmp, streamlit_process(
            data_env(Path(tmp) / "cache"), Path(tmp) / "server.log",
            prefix=["taskset", "-c", args.server_cpu] if args.server_cpu else [],
        ) as server, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            specs = [TRAINING_PAGES[i % len(TRAINING_PAGES)] for i in range(busy)]
            if busy:
                open_training_pages(browser, server.url, specs)  # opens each page and presses Train
            page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            page.goto(server.url + "/names")
            box = page.get_by_label("Type a surname")
            box.wait_for(timeout=120_000)
            names = time_keystrokes(page, box, NAMES, lambda t: f"after each letter of “{t}”")
            page.goto(server.url + "/charlm")
            prefix = page.get_by_label("Prefix")
            prefix.wait_for(timeout=120_000)
            prefixes = time_keystrokes(page, prefix, PREFIXES, lambda t: f"after “{t}”")
            rows.append((busy, summary(names), summary(prefixes)))
            browser.close()
    print("| sessions training | names box: keystroke → chart | prefix box: keystroke → chart |")
    print("| ---: | --- | --- |")
    for busy, names, prefixes in rows:
        print(f"| {busy} | {names} | {prefixes} |")


if __name__ == "__main__":
    main()
