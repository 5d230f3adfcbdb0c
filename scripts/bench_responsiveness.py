"""Does one session's training slow down another student's page? Measure it in a real browser.

    python scripts/bench_responsiveness.py [--trainers N]

Starts `streamlit run app.py`, measures how long a fresh session takes to show the Sequence basics
page and to answer a Step click, first on an idle server, then while N other sessions train at full
speed. Needs Debian's chromium. Prints numbers; asserts nothing.
"""
from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.browser.harness import CHROMIUM, CHROMIUM_ARGS, data_env, streamlit_server  # noqa: E402


def wait_until(condition, timeout: float = 60.0) -> None:
    """Poll every 20 ms (Playwright's expect backs off to 1 s between checks, too coarse to time with)."""
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError("the page did not update in time")
        time.sleep(0.02)


def open_lesson(browser, url: str):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    started = time.perf_counter()
    page.goto(url + "/sequence_basics")
    heading = page.get_by_role("heading", name="Predicted:")
    wait_until(lambda: heading.count() > 0 and heading.first.is_visible())
    return page, time.perf_counter() - started


STATUS = re.compile(r"^epoch \d+")  # the line under "Predicted: ..." once training has begun


def step_latency(page) -> float:
    """Click Step; seconds until the page shows the next epoch number."""
    status = page.get_by_text(STATUS)
    target = 1 if status.count() == 0 else int(status.first.inner_text().split()[1]) + 1
    started = time.perf_counter()
    page.get_by_role("button", name="Step").click()
    wait_until(lambda: any(t.startswith(f"epoch {target} ") for t in status.all_inner_texts()))
    return time.perf_counter() - started


def measure(browser, url: str, rounds: int) -> tuple[list[float], list[float]]:
    loads, steps = [], []
    for _ in range(rounds):
        page, load = open_lesson(browser, url)
        loads.append(load)
        steps.append(step_latency(page))
        page.close()
    return loads, steps


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trainers", type=int, default=2, help="sessions training at full speed meanwhile")
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, streamlit_server(data_env(Path(tmp)), Path(tmp) / "log") as url:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            open_lesson(browser, url)[0].close()  # warm-up: imports, first run
            idle = measure(browser, url, args.rounds)
            trainers = []
            for _ in range(args.trainers):
                page, _ = open_lesson(browser, url)
                page.get_by_text("Alphabet: next letter").click()
                page.get_by_role("button", name="Train").click()
                trainers.append(page)
            time.sleep(3)
            busy = measure(browser, url, args.rounds)
            epochs = [t.get_by_text(STATUS).first.inner_text() for t in trainers]
            browser.close()
    for label, (loads, steps) in (("idle server", idle), (f"{args.trainers} sessions training", busy)):
        print(f"{label:24} page shown in {statistics.median(loads):.2f} s (median of {len(loads)}, max "
              f"{max(loads):.2f}); Step answered in {statistics.median(steps):.2f} s (max {max(steps):.2f})")
    print("trainers reached:", "; ".join(e.split("·")[0].strip() for e in epochs))


if __name__ == "__main__":
    main()
