"""Typing in a prediction box, two versions of the app side by side: keystroke to updated chart.

    python scripts/ab_typing.py A B [--box prefix|names] [--pause 250] [--rounds 2]

A and B are git revisions of this repository (``HEAD~1``, a branch, a commit), or ``.`` for the
working tree. Each is checked out in a temporary worktree and served by its own `streamlit run`, both
pinned to one core, with this script and one Chromium on another. Word by word, the same word is
typed into A's box and then into B's (one character at a time, as ``bench_typing`` types), so the
two share whatever the machine is doing at the time; a keystroke is timed until the chart's title
names the text typed so far. ``--pause`` is the time between keystrokes (0: the next key as soon as
the chart shows the last, as ``bench_typing`` does). Prints the median, 10th and 90th percentile per
version. Asserts nothing.
"""
from __future__ import annotations

import argparse
import contextlib
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.sync_api import sync_playwright  # noqa: E402

from scripts.bench_typing import _CHART_SHOWS, _IN_PAGE_CLOCK, BOXES, lyrics_words  # noqa: E402
from tests.browser.harness import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    REPO_ROOT,
    add_cpu_options,
    data_env,
    drawn_chart,
    pin_to_client_cpu,
    streamlit_process,
)

NAMES = ["Nakamura", "Kowalski", "Schmidt", "Dostoevsky", "Okafor", "Gonzalez", "Papadopoulos", "Yamamoto"]


@contextlib.contextmanager
def checkout(revision: str, folder: Path):
    """The working tree for ".", else ``revision`` in a temporary git worktree under ``folder``."""
    if revision == ".":
        yield REPO_ROOT
        return
    path = folder / revision.replace("/", "_").replace("~", "-")
    subprocess.run(["git", "-C", str(REPO_ROOT), "worktree", "add", "--detach", "-q", str(path), revision], check=True)
    try:
        yield path
    finally:
        subprocess.run(["git", "-C", str(REPO_ROOT), "worktree", "remove", "--force", str(path)], check=False)


@contextlib.contextmanager
def serve_revisions(revisions: tuple[str, ...], folder: Path, server_cpu: int):
    """One `streamlit run` per revision (see ``checkout``), each pinned to ``server_cpu``: their Servers."""
    with contextlib.ExitStack() as stack:
        servers = []
        for i, revision in enumerate(revisions):
            root = stack.enter_context(checkout(revision, folder))
            servers.append(stack.enter_context(streamlit_process(
                data_env(folder / f"cache{i}"), folder / f"log{i}", prefix=["taskset", "-c", str(server_cpu)],
                root=root)))
        yield servers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("a")
    parser.add_argument("b")
    parser.add_argument("--box", choices=["prefix", "names"], default="prefix")
    parser.add_argument("--pause", type=int, default=250, help="ms between keystrokes")
    parser.add_argument("--rounds", type=int, default=2, help="times each of the 8 words is typed")
    add_cpu_options(parser)
    args = parser.parse_args()
    pin_to_client_cpu(args)
    box = BOXES[0] if args.box == "names" else BOXES[1]
    words = (NAMES if args.box == "names" else lyrics_words(8, 6)) * args.rounds
    timings: list[list[float]] = [[], []]
    with tempfile.TemporaryDirectory() as tmp, serve_revisions((args.a, args.b), Path(tmp), args.server_cpu) as servers, \
            sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        pages = []
        for server in servers:
            page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            page.add_init_script(_IN_PAGE_CLOCK)  # defines the title check _CHART_SHOWS calls
            page.goto(f"{server.url}/{box.path}")
            field = page.get_by_role("textbox", name=box.label, exact=True)
            field.wait_for(timeout=120_000)
            pages.append((page, field))
        for word in words:
            for timing, (page, field) in zip(timings, pages):
                page.bring_to_front()
                field.click()
                field.press("Control+a")
                field.press("Backspace")
                field.type(word[0])
                drawn_chart(page, box.title.format(text=word[0]), timeout=60)
                page.wait_for_timeout(300)
                for i in range(1, len(word)):
                    started = time.perf_counter()
                    field.press(word[i]) if word[i].isascii() else field.type(word[i])
                    page.wait_for_function(_CHART_SHOWS, arg=box.title.format(text=word[: i + 1]), timeout=10_000,
                                           polling="raf")
                    timing.append((time.perf_counter() - started) * 1000)
                    page.wait_for_timeout(args.pause)
        browser.close()
    for name, revision, ms in zip("AB", (args.a, args.b), timings):
        ms = sorted(ms)
        print(f"{name} {revision}: median {statistics.median(ms):.0f} ms, 10th percentile {ms[len(ms) // 10]:.0f}, "
              f"90th {ms[len(ms) * 9 // 10]:.0f}, {len(ms)} keystrokes")


if __name__ == "__main__":
    main()
