"""A fresh lesson page, two versions of the app side by side: page open to its first chart.

    python scripts/ab_fresh_page.py A B [--loads 5] [--page sequence_basics]

A and B are git revisions of this repository (``HEAD~1``, a branch, a commit), or ``.`` for the
working tree, each checked out in a temporary worktree and served by its own `streamlit run`, both
pinned to one core, with this script and one Chromium on another. A new student (a fresh browser
context: an empty cache) opens the page on A's server, then on B's, ``--loads`` times, timed as
``bench_classroom`` times a fresh page (harness.open_until_first_chart); a first round warms both
servers up and is not counted. Both servers are idle: under a class's load, compare
``bench_classroom`` runs. Prints each version's median and range. Asserts nothing.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.sync_api import sync_playwright  # noqa: E402

from scripts.ab_typing import serve_revisions  # noqa: E402
from tests.browser.harness import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    FIRST_CHART_PAGE,
    add_cpu_options,
    open_until_first_chart,
    pin_to_client_cpu,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("a")
    parser.add_argument("b")
    parser.add_argument("--loads", type=int, default=5, help="fresh pages per version")
    parser.add_argument("--page", default=FIRST_CHART_PAGE, help="the lesson page opened")
    add_cpu_options(parser)
    args = parser.parse_args()
    pin_to_client_cpu(args)
    seconds: list[list[float]] = [[], []]
    with tempfile.TemporaryDirectory() as tmp, serve_revisions((args.a, args.b), Path(tmp), args.server_cpu) as servers, \
            sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        for load in range(args.loads + 1):
            for times, server in zip(seconds, servers):
                page, taken = open_until_first_chart(browser, server.url, args.page)
                page.context.close()
                if load:
                    times.append(taken)
        browser.close()
    for name, revision, times in zip("AB", (args.a, args.b), seconds):
        print(f"{name} {revision}: median {statistics.median(times):.2f} s ({min(times):.2f}–{max(times):.2f}), "
              f"{len(times)} fresh pages of {args.page}")


if __name__ == "__main__":
    main()
