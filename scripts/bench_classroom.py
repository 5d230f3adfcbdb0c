"""A class on one small server: how do 1, 4, 8 students training at once fare? Measured in a real browser.

    python scripts/bench_classroom.py [--sessions 1 4 8] [--ttl 120] [--after-wait 180] [--waves 1]

For each number of sessions, on a fresh server pinned to one core (`taskset -c 0 streamlit run
app.py`, like a Community Cloud container: the app then allows one training slot) while this script
and its Chromium run on another core (`--server-cpu`, `--client-cpu`):

- opens the sessions, one browser context (student) each, on the training pages in turn
  (sequence_basics, names, charlm, inside_gradients, inside_clipping, sequence_basics, ...) and
  presses Train on each;
- reads every page's step counter at the edges of `--windows` windows of `--window-seconds`:
  steps/s per session, and whether every session moved in every window;
- opens a lesson page in a fresh context `--loads` times meanwhile: seconds to its first chart (median),
  in the class's own browser and in a browser of its own (`--fresh-in`: a new student brings their
  own browser; in the class's, the fresh page also queues behind the browser and GPU processes the
  eight pages share), alternately; and as many times before anyone trains, on the same server, so
  that the machine's own speed on the day reads beside them;
- counts error boxes on every page it looked at, and tracebacks in the server's log;
- reads the server's resident memory (VmRSS): idle (after one visit to each training page, so the
  shared read-only data every lesson loads once is in), peak while the sessions train, and
  `--after-wait` seconds after they all closed. Streamlit drops a closed session's state
  after `server.disconnectedSessionTTL` (default 120 s; `--ttl` sets it);
- with `--waves 3`, does it all again twice on the same server (a class after a class): the memory
  after each wave shows whether departed classes leave anything behind.

With ``--class-nice 19`` the training students' browser runs at the lowest CPU priority and the fresh
student's browser in a process of its own at normal priority: closer to a class, where every student's
laptop draws only its own charts, while the server is still one core shared by all of them.

Needs Debian's chromium and two CPUs. Prints a markdown table; asserts nothing. Numbers from a
machine shared with other work are noisy.
"""
from __future__ import annotations

import argparse
import itertools
import re
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.browser.harness import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    TRAINING_PAGES,
    add_cpu_options,
    data_env,
    error_boxes,
    niced_chromium,
    open_training_pages,
    open_until_first_chart,
    pin_to_client_cpu,
    read_steps,
    streamlit_process,
    wait_for_steps,
)


class MemorySampler:
    """Samples the server's RSS twice a second in a thread (it never touches Playwright)."""

    def __init__(self, server):
        self.server, self.phase, self.samples = server, "idle", []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            try:
                self.samples.append((self.phase, self.server.rss_mb()))
            except OSError:  # the server has gone
                return

    def peak(self, phase: str) -> float:
        return max((mb for p, mb in self.samples if p == phase), default=float("nan"))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class Result:
    sessions: int
    first_chart: dict[str, list[float]] = field(default_factory=dict)  # "idle", "class", "own": seconds
    steps_per_second: list[tuple[str, float]] = field(default_factory=list)
    windows_all_progressed: list[bool] = field(default_factory=list)
    stalled: list[str] = field(default_factory=list)
    errors: set[str] = field(default_factory=set)
    tracebacks: int = 0
    rss_idle: float = float("nan")
    rss_peak: float = 0.0
    rss_closed: list[float] = field(default_factory=list)  # one per wave
    rss_after: list[float] = field(default_factory=list)
    anon_idle: float = float("nan")  # RssAnon: the heap, without the pages of torch's libraries read so far
    anon_after: list[float] = field(default_factory=list)


def steps_now(page, spec, tries: int = 8) -> int:
    """The page's step counter; re-read briefly if it is being redrawn (absent for a moment)."""
    for _ in range(tries):
        steps = read_steps(page, spec)
        if steps >= 0:
            return steps
        page.wait_for_timeout(250)
    return -1


def time_fresh_pages(browsers: dict, server, loads: int, args, result: Result, label: str) -> None:
    """``loads`` fresh pages in each browser of ``browsers`` (a name for each), taking turns."""
    for i in range(loads):
        for where, browser in browsers.items():
            page, seconds = open_until_first_chart(browser, server.url, timeout=args.timeout)
            result.first_chart.setdefault(where, []).append(seconds)
            result.errors.update(error_boxes(page))
            page.context.close()
            print(f"{label} fresh page {i + 1} ({where}): first chart after {seconds:.1f} s", flush=True)


def class_wave(browser, fresh_browsers: dict, server, memory, n: int, args, result: Result, loads: int,
               label: str) -> None:
    """n students open training pages and train; `loads` fresh pages are timed meanwhile; they all
    leave, and the server's memory is read `args.after_wait` seconds later."""
    memory.phase = "during"
    specs = list(itertools.islice(itertools.cycle(TRAINING_PAGES), n))
    started = time.perf_counter()
    pages = open_training_pages(browser, server.url, specs, timeout=args.timeout)
    for page, spec in zip(pages, specs):
        wait_for_steps(page, spec, at_least=1, timeout=args.timeout)
    print(f"{label} all training after {time.perf_counter() - started:.1f} s", flush=True)

    first = [steps_now(page, spec) for page, spec in zip(pages, specs)]
    window_start = first_time = time.perf_counter()
    before = first
    for _ in range(args.windows):
        time.sleep(max(0.0, args.window_seconds - (time.perf_counter() - window_start)))
        after = [steps_now(page, spec) for page, spec in zip(pages, specs)]
        window_start = time.perf_counter()
        moved = [a > b for a, b in zip(after, before)]
        result.windows_all_progressed.append(all(moved))
        result.stalled += [spec.path for spec, m in zip(specs, moved) if not m]
        before = after
    elapsed = time.perf_counter() - first_time
    if not result.steps_per_second:  # the first wave's
        result.steps_per_second = [(spec.path, (a - f) / elapsed) for spec, f, a in zip(specs, first, before)]
    for page in pages:
        result.errors.update(error_boxes(page))

    time_fresh_pages(fresh_browsers, server, loads, args, result, label)
    for page in pages:
        result.errors.update(error_boxes(page))
        page.context.close()
    result.rss_peak = max(result.rss_peak, memory.peak("during"))

    memory.phase = "after"
    time.sleep(2)
    result.rss_closed.append(server.rss_mb())
    print(f"{label} sessions closed; waiting {args.after_wait:.0f} s", flush=True)
    time.sleep(args.after_wait)
    result.rss_after.append(server.rss_mb())
    result.anon_after.append(server.rss_mb("RssAnon"))


def run(browser, n: int, args, fresh_browsers: dict) -> Result:
    result = Result(n)
    options = ["--server.disconnectedSessionTTL", str(args.ttl)] if args.ttl is not None else []
    with tempfile.TemporaryDirectory() as tmp, streamlit_process(
        data_env(Path(tmp)), Path(tmp) / "log", options=options, prefix=["taskset", "-c", str(args.server_cpu)]
    ) as server:
        memory = MemorySampler(server)
        page, cold = open_until_first_chart(browser, server.url, timeout=args.timeout)  # imports, first run
        page.context.close()
        print(f"[{n} sessions] cold server: first chart after {cold:.1f} s", flush=True)
        for spec in TRAINING_PAGES:  # each lesson's shared data (names, corpora, checkpoints) loaded once
            page, _seconds = open_until_first_chart(browser, server.url, spec.path, timeout=args.timeout)
            page.context.close()
        # The same fresh page with nobody training: this machine's own speed, today.
        time_fresh_pages({"idle": browser}, server, args.loads, args, result, f"[{n} sessions, idle]")
        time.sleep(3)
        result.rss_idle = server.rss_mb()
        result.anon_idle = server.rss_mb("RssAnon")

        for wave in range(args.waves):
            # Later waves repeat the class on the same server: does memory come back each time?
            class_wave(browser, fresh_browsers, server, memory, n, args, result,
                       loads=args.loads if wave == 0 else 0, label=f"[{n} sessions, wave {wave + 1}]")
        memory.stop()
        result.tracebacks = (Path(tmp) / "log").read_text().count("Traceback")
    return result


def fresh_pages(r: Result) -> str:
    return "; ".join(
        f"{where} {statistics.median(r.first_chart[where]):.1f} ({max(r.first_chart[where]):.1f})"
        if where in r.first_chart else f"{where} –" for where in ("idle", "class", "own"))


def table(results: list[Result], args) -> str:
    rows = [
        (f"| sessions | fresh page → first chart, s (median of {args.loads}, max): idle; in the class's browser; "
         f"in one of its own | steps/s per session | "
         f"every session progressed in each {args.window_seconds:g} s window | error boxes (tracebacks in log) | "
         f"server RSS MB: idle → peak → closed → {args.after_wait:.0f} s later |"),
        "| ---: | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        rates = ", ".join(f"{path} {rate:.1f}" for path, rate in r.steps_per_second)
        progressed = "yes" if all(r.windows_all_progressed) else (
            f"no: {sum(not w for w in r.windows_all_progressed)} of {len(r.windows_all_progressed)} windows "
            f"({', '.join(sorted(set(r.stalled)))})")
        errors = f"{len(r.errors)} ({r.tracebacks})"
        rows.append(
            f"| {r.sessions} | {fresh_pages(r)} | {rates} | "
            f"{progressed} | {errors} | {r.rss_idle:.0f} → {r.rss_peak:.0f} → {r.rss_closed[0]:.0f} → {r.rss_after[0]:.0f}"
            + "".join(f"; wave {w + 2}: {closed:.0f} → {after:.0f}"
                      for w, (closed, after) in enumerate(zip(r.rss_closed[1:], r.rss_after[1:])))
            + f" (anonymous: {r.anon_idle:.0f} → " + " / ".join(f"{a:.0f}" for a in r.anon_after) + ") |"
        )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=[1, 4, 8], help="class sizes to measure")
    parser.add_argument("--windows", type=int, default=3, help="progress windows per class size")
    parser.add_argument("--window-seconds", type=float, default=10.0)
    parser.add_argument("--loads", type=int, default=5, help="fresh page loads timed per class size")
    parser.add_argument("--ttl", type=int, default=None,
                        help="server.disconnectedSessionTTL in seconds (Streamlit's default: 120)")
    parser.add_argument("--waves", type=int, default=1,
                        help="classes that come and go one after another on the same server, per class size "
                             "(fresh pages are timed in the first)")
    parser.add_argument("--after-wait", type=float, default=180.0,
                        help="seconds to wait after the sessions close before reading the memory again")
    add_cpu_options(parser)
    parser.add_argument("--timeout", type=float, default=240.0, help="seconds any one page may take")
    parser.add_argument("--class-nice", type=int, default=0,
                        help="niceness of the training students' browser (the fresh student's, of its own, stays at 0)")
    parser.add_argument("--fresh-in", choices=["class", "own", "both"], default="both",
                        help="the browser the fresh pages open in: the class's, one of its own, or both in turn "
                             "(with --class-nice: its own)")
    args = parser.parse_args()

    pin_to_client_cpu(args)

    results = []
    with sync_playwright() as p, tempfile.TemporaryDirectory() as tmp:
        class_chromium = niced_chromium(Path(tmp), args.class_nice) if args.class_nice else CHROMIUM
        for n in args.sessions:
            browser = p.chromium.launch(executable_path=class_chromium, headless=True, args=CHROMIUM_ARGS)
            fresh_in = "own" if args.class_nice else args.fresh_in
            fresh = (p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
                     if fresh_in != "class" else None)
            fresh_browsers = {where: b for where, b in (("class", browser), ("own", fresh)) if fresh_in in (where, "both")}
            try:
                results.append(run(browser, n, args, fresh_browsers))
            finally:
                browser.close()
                if fresh:
                    fresh.close()
            for error in sorted(results[-1].errors):
                text = re.sub(r"\s+", " ", error)[:300]
                print(f"[{n} sessions] error box: {text}")
    print()
    print(f"Server pinned to CPU {args.server_cpu}, browsers to CPU {args.client_cpu}; "
          f"disconnectedSessionTTL {args.ttl if args.ttl is not None else '120 (default)'} s"
          + (f"; training students' browser at nice {args.class_nice}, the fresh student's at 0." if args.class_nice
             else "; every browser at the same priority."))
    print(table(results, args))


if __name__ == "__main__":
    main()
