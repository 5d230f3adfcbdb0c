"""Typing in a prediction box: keystroke to updated chart, in a real browser, idle and under load.

    python scripts/bench_typing.py [--training 0 8] [--names Nakamura Kowalski Schmidt] [--class-nice 19]

On a fresh server pinned to one core (`taskset -c 0 streamlit run app.py`, as on a small Cloud
container) with this script and Chromium on another core, for each number of training sessions:

- opens that many students on the training pages in turn and presses Train on each;
- as one more student, types into the names box on Names → nationality, one character at a time,
  and times each keystroke until the chart “P(language) after each letter of “…”” shows the name
  typed so far (its title, as drawn in the page's SVG);
- the same in the Prefix box of the character language model, until “Top candidates for each
  character generated after “…”” (a table of coloured cells, drawn as HTML) shows the prefix typed
  so far.

The first character of each word only makes the charts appear and is not timed. The next key is
pressed as soon as the chart shows the last one. Each keystroke is timed twice:
- in the page: from the key's event (its ``timeStamp``, when the browser got it) to the start of the
  first animation frame whose chart shows it (its paint follows within that frame);
- by this script, from asking Playwright to press the key until Playwright reports the chart shows
  it (as this script measured before it read the page's clock). This adds Playwright's own work
  on the client core: finding the box by its accessible name, the key's round trip and its answer.
With ``--class-nice 19`` the training students get a browser of their own at that nice value, so
that the typing student's browser does not wait for theirs on the client core: what is left is
the server's part, the only part a class shares.

Prints the median, 90th percentile and worst keystroke per box, and how many keystrokes took longer
than the timeout. Needs Debian's chromium and two CPUs; asserts nothing.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.sync_api import TimeoutError as PlaywrightTimeout  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from tests.browser.harness import (  # noqa: E402
    CHART_TITLES,
    CHROMIUM,
    CHROMIUM_ARGS,
    SHARED_DATA,
    TRAINING_PAGES,
    add_cpu_options,
    data_env,
    drawn_chart,
    error_boxes,
    niced_chromium,
    open_training_pages,
    pin_to_client_cpu,
    streamlit_process,
    wait_for_steps,
)


@dataclass(frozen=True)
class Box:
    """A prediction box: its page, its label, and the chart title that names what was typed."""

    name: str
    path: str
    label: str
    title: str  # with {text} for the text typed so far


BOXES = (
    Box("names box", "names", "Type a surname: the prediction updates as you type",
        "P(language) after each letter of “{text}”"),
    Box("prefix box (lyrics)", "charlm", "Prefix", "Top candidates for each character generated after “{text}”"),
)

# True once a drawn chart's title (a Plotly chart's SVG text or a grid's title: the chart is on screen)
# names the text; defined in the page by _IN_PAGE_CLOCK.
_CHART_SHOWS = "(wanted) => window.__chartShows(wanted)"

# In the page: the first key event after ``arm(wanted)`` starts a clock, and the first animation frame
# whose chart title names ``wanted`` stops it (that frame's style, layout and paint follow its callbacks).
# The frame loop runs only while a keystroke is being timed.
_IN_PAGE_CLOCK = """(() => {
    const clock = window.__typingClock = { wanted: null, key: null, shown: null, looping: false };
    window.__chartShows = (wanted) => Array.from(document.querySelectorAll(TITLES))
        .some((title) => (title.textContent || '').includes(wanted));
    const frame = () => {
        if (clock.wanted === null || clock.shown !== null) { clock.looping = false; return; }
        if (window.__chartShows(clock.wanted)) {
            clock.looping = false;
            clock.shown = performance.now();
            return;
        }
        requestAnimationFrame(frame);
    };
    for (const type of ['keydown', 'beforeinput', 'input']) {
        document.addEventListener(type, (event) => {
            if (clock.wanted === null || clock.key !== null) return;
            clock.key = event.timeStamp;
            if (!clock.looping) { clock.looping = true; requestAnimationFrame(frame); }
        }, true);
    }
    window.__typingClockArm = (wanted) => { Object.assign(clock, { wanted, key: null, shown: null }); };
})()""".replace("TITLES", json.dumps(CHART_TITLES))


@dataclass
class Timing:
    box: str
    training: int
    seconds: list[float] = field(default_factory=list)  # by this script (Playwright)
    in_page: list[float] = field(default_factory=list)  # key event to the painted frame, in the page
    timeouts: int = 0
    errors: set[str] = field(default_factory=set)


def lyrics_words(count: int, length: int) -> list[str]:
    """Runs of ``length`` characters from the lyrics (no spaces): all in the model's vocabulary."""
    text = (SHARED_DATA / "corpora" / "jaychou_lyrics.txt").read_text(encoding="utf-8")
    words = []
    for line in text.splitlines():
        line = "".join(line.split())
        if len(line) >= length and line[:length] not in words:
            words.append(line[:length])
        if len(words) == count:
            break
    return words


def type_and_time(page, box: Box, words: list[str], timeout_s: float, timing: Timing) -> None:
    field_ = page.get_by_role("textbox", name=box.label, exact=True)
    field_.wait_for(timeout=120_000)
    for word in words:
        field_.click()
        field_.press("Control+a")
        field_.press("Backspace")
        field_.type(word[0])
        try:  # scrolled to, as the student watching it would (charts off screen are not redrawn)
            drawn_chart(page, box.title.format(text=word[0]), timeout=60)
        except AssertionError:
            timing.timeouts += 1
            continue
        for i in range(1, len(word)):
            wanted = box.title.format(text=word[: i + 1])
            page.evaluate("(wanted) => window.__typingClockArm(wanted)", wanted)
            started = time.perf_counter()
            field_.press(word[i]) if word[i].isascii() else field_.type(word[i])
            try:
                page.wait_for_function(_CHART_SHOWS, arg=wanted, timeout=timeout_s * 1000, polling="raf")
            except PlaywrightTimeout:
                timing.timeouts += 1
                page.wait_for_function(_CHART_SHOWS, arg=wanted, timeout=60_000)  # let it catch up
                continue
            timing.seconds.append(time.perf_counter() - started)
            page.wait_for_function("() => window.__typingClock.shown !== null", timeout=10_000)
            key_ms, shown_ms = page.evaluate("() => [window.__typingClock.key, window.__typingClock.shown]")
            timing.in_page.append((shown_ms - key_ms) / 1000)
    timing.errors.update(error_boxes(page))


def run(browser, class_browser, server, n_training: int, args) -> list[Timing]:
    specs = [TRAINING_PAGES[i % len(TRAINING_PAGES)] for i in range(n_training)]
    pages = open_training_pages(class_browser, server.url, specs, timeout=args.timeout) if specs else []
    for page, spec in zip(pages, specs):
        wait_for_steps(page, spec, at_least=1, timeout=args.timeout)
    print(f"[{n_training} training] typing", flush=True)
    timings = []
    for box in BOXES:
        timing = Timing(box.name, n_training)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.add_init_script(_IN_PAGE_CLOCK)
        page.goto(f"{server.url}/{box.path}")
        words = args.names if box.path == "names" else lyrics_words(len(args.names), args.prefix_length)
        type_and_time(page, box, words, args.keystroke_timeout, timing)
        context.close()
        timings.append(timing)
        if timing.seconds:
            print(f"[{n_training} training] {box.name}: median {statistics.median(timing.in_page) * 1000:.0f} ms "
                  f"in the page, {statistics.median(timing.seconds) * 1000:.0f} ms by Playwright, "
                  f"over {len(timing.seconds)} keystrokes", flush=True)
    for page in pages:
        page.context.close()
    return timings


def table(timings: list[Timing], args) -> str:
    header = ("| sessions training | box | keystroke → chart shown, in the page, ms: median | 90th percentile | "
              f"worst | by Playwright, ms: median | 90th percentile | over {args.keystroke_timeout:g} s | error boxes |")
    rows = [header, "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for t in timings:
        in_page, driver = _percentiles(t.in_page), _percentiles(t.seconds)
        rows.append(f"| {t.training} | {t.box} | {in_page[0]:.0f} | {in_page[1]:.0f} | {in_page[2]:.0f} | "
                    f"{driver[0]:.0f} | {driver[1]:.0f} | {t.timeouts} | {len(t.errors)} |")
    return "\n".join(rows)


def _percentiles(seconds: list[float]) -> tuple[float, float, float]:
    """Median, 90th percentile and worst, in ms."""
    ms = sorted(s * 1000 for s in seconds) or [float("nan")]
    return statistics.median(ms), ms[min(len(ms) - 1, round(0.9 * (len(ms) - 1)))], ms[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--training", type=int, nargs="+", default=[0, 8], help="sessions training meanwhile")
    parser.add_argument("--names", nargs="+", default=["Nakamura", "Kowalski", "Schmidt"])
    parser.add_argument("--prefix-length", type=int, default=8, help="characters per typed lyrics prefix")
    parser.add_argument("--keystroke-timeout", type=float, default=10.0)
    add_cpu_options(parser)
    parser.add_argument("--timeout", type=float, default=240.0, help="seconds any one page may take to open")
    parser.add_argument("--class-nice", type=int, default=0,
                        help="nice value of a browser of their own for the training students (0: they share "
                             "the typing student's browser); with 19 the typing is timed as if the server "
                             "were all that the class shares")
    args = parser.parse_args()

    pin_to_client_cpu(args)

    timings = []
    with sync_playwright() as p:
        for n in args.training:
            with tempfile.TemporaryDirectory() as tmp, streamlit_process(
                data_env(Path(tmp)), Path(tmp) / "log", prefix=["taskset", "-c", str(args.server_cpu)]
            ) as server:
                browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
                class_browser = (p.chromium.launch(executable_path=niced_chromium(Path(tmp), args.class_nice),
                                                   headless=True, args=CHROMIUM_ARGS)
                                 if args.class_nice else browser)
                try:
                    timings += run(browser, class_browser, server, n, args)
                finally:
                    browser.close()
                    if class_browser is not browser:
                        class_browser.close()
    print()
    print(f"Server pinned to CPU {args.server_cpu}, browsers to CPU {args.client_cpu}"
          + (f"; training students' browser at nice {args.class_nice}, the typing student's at 0." if args.class_nice
             else "; one browser for every student."))
    print(table(timings, args))


if __name__ == "__main__":
    main()
