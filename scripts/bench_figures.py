"""Benchmark of every figure builder in rnnviz/viz: build time, the time Streamlit then spends on the
figure (``return_figure_from_figure_or_data`` + ``plotly.io.to_json``, as ``st.plotly_chart`` did; the
pages' ``chart_payload`` now skips the first) and
the JSON size sent to the browser (``plotly.io.to_json``). Prints a table; asserts nothing.

Times are the median CPU time of this process (``time.process_time``) over ``--repeats`` builds: on a
shared server other processes would otherwise inflate wall-clock times, and CPU is what a class shares.

    python scripts/bench_figures.py                # this checkout
    python scripts/bench_figures.py --ref HEAD~1   # this checkout beside the rnnviz/ of another commit

With ``--ref`` the other commit's ``rnnviz/`` is extracted (``git archive``) into a temporary folder
and measured in a subprocess, so both columns use the same inputs (sizes as on the pages: a names-page
hidden state of 12 letters × 256 units, 2,000 steps of training history, ...).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def cases() -> dict:
    """name -> zero-argument callable building one figure (imports rnnviz from sys.path)."""
    from rnnviz.viz import evaluation, inside, language_model, softmax, states, training

    rng = np.random.default_rng(0)
    steps = np.arange(1, 2001)
    loss = 3.0 * np.exp(-steps / 700) + 0.1 * rng.random(2000)
    norms = np.exp(rng.normal(0, 1, 2000))
    probs12 = rng.dirichlet(np.ones(18), size=12)
    probs20 = rng.dirichlet(np.ones(30), size=20)
    languages = [f"lang{i}" for i in range(18)]
    evaluations = [SimpleNamespace(step=10 * i, train_accuracy=0.5 + i / 400,
                                   test=SimpleNamespace(accuracy=0.4 + i / 300, balanced_accuracy=0.3 + i / 300, n=2000))
                   for i in range(100)]
    rows = [(k, r, 1000 * r + 35 * k, 1000 * r + 35 * (k + 1)) for k in range(3) for r in range(32)]
    cand = rng.dirichlet(np.ones(5), size=100)
    lstm = {name: rng.random((12, 32)) for name in ("input gate i", "forget gate f", "output gate o")}
    lstm["candidate g"] = np.tanh(rng.normal(size=(12, 32)))
    lstm["cell state c_t"] = rng.normal(size=(12, 32)) * 2
    lstm["h_t"] = np.tanh(rng.normal(size=(12, 32)))
    grads = {name: (list(range(0, 2000, 10)), np.exp(rng.normal(-5, 3, (200, 30)))) for name in ("RNN", "LSTM", "GRU")}
    return {
        "loss_curve (2000 steps + accuracy)": lambda: training.loss_curve(steps, loss, accuracy=np.clip(1 - loss / 3, 0, 1)),
        "grad_norm_chart (2000 steps)": lambda: training.grad_norm_chart(steps, norms, np.minimum(norms, 1.0), threshold=1.0),
        "hidden_state_heatmap (12 × 256, animated)": lambda: states.hidden_state_heatmap(
            np.tanh(rng.normal(size=(12, 256))), "abcdefghijkl"),
        "hidden_state_heatmap (20 × 32, animated)": lambda: states.hidden_state_heatmap(
            np.tanh(rng.normal(size=(20, 32))), "hello world, hello w"),
        "softmax_heatmap (12 × 18)": lambda: softmax.softmax_heatmap(probs12, languages, "abcdefghijkl",
                                                                     class_title="language"),
        "softmax_bars (20 steps × 30)": lambda: softmax.softmax_bars(probs20, [chr(97 + i % 26) + str(i) for i in range(30)],
                                                                   "hello world, hello w", targets=list(range(20))),
        "accuracy_bars (18)": lambda: evaluation.accuracy_bars(languages, rng.random(18)),
        "confusion_matrix_figure (18 × 18)": lambda: evaluation.confusion_matrix_figure(
            rng.integers(0, 50, (18, 18)), languages),
        "accuracy_figure (100 evaluations)": lambda: evaluation.accuracy_figure(evaluations, 0.47, "Russian"),
        "class_counts_figure (18)": lambda: evaluation.class_counts_figure(
            {lang: (100 * i + 5, 10 * i + 1) for i, lang in enumerate(languages)}),
        "perplexity_curve (2000 steps)": lambda: language_model.perplexity_curve(
            steps, np.exp(loss), steps[::40], np.exp(loss[::40]) * 1.1, vocab_size=97),
        "minibatch_layout_figure (3 × 32 rows)": lambda: language_model.minibatch_layout_figure(
            rows, 32000, scheme="sequential", num_steps=35, batch_size=32),
        "candidates_grid (100 × 5; HTML, not a figure)": lambda: language_model.candidates_grid(
            [f"{t}·x" for t in range(100)], [list("abcde")] * 100, cand, [0] * 100),
        "candidate_bars (100 × 5)": lambda: language_model.candidate_bars(
            [f"{t}·x" for t in range(100)], [list("abcde")] * 100, cand, cand, [0] * 100),
        "text_activation_figure (300 chars)": lambda: language_model.text_activation_figure(
            list("the quick brown fox " * 15), np.tanh(rng.normal(size=300)), prefix_len=20),
        "unit_heatmap (80 × 24 of 256, animated)": lambda: language_model.unit_heatmap(
            np.tanh(rng.normal(size=(80, 256))), list("the quick brown fox " * 4), list(range(0, 240, 10)),
            animate=True),
        "metric_lines (3 × 500)": lambda: inside.metric_lines(
            {name: (list(range(500)), rng.random(500)) for name in "abc"}, title="t", x_title="x", y_title="y"),
        "gradient_heatmaps (3 × 200 × 30)": lambda: inside.gradient_heatmaps(grads, title="g", x_title="t"),
        "eigenvalue_figure (64)": lambda: inside.eigenvalue_figure(np.linalg.eigvals(rng.normal(size=(64, 64)) / 8),
                                                                   title="e"),
        "gate_panel (LSTM, 6 × 12 × 32)": lambda: inside.gate_panel(lstm, list("hello world!"), title="g"),
        "pca_trajectory (12 points)": lambda: inside.pca_trajectory(np.cumsum(rng.normal(size=(12, 2)), axis=0),
                                                                   list("hello world!"), (0.6, 0.2), title="p"),
        "tensor_blocks (4 tensors)": lambda: inside.tensor_blocks(
            [("x", (35, 32, 97), "#a9bcd6"), ("h0", (2, 32, 256), "#f2a541"), ("out", (35, 32, 256), "#2a9d4b"),
             ("W_hh", (256, 256), "#e4572e")], title="b"),
    }


def measure(repeats: int) -> dict[str, dict[str, float]]:
    import plotly.io as pio
    import plotly.tools

    results = {}
    for name, build in cases().items():
        build()  # warm up (imports, template caches)
        build_ms, send_ms = [], []
        for _ in range(repeats):
            start = time.process_time()
            fig = build()
            middle = time.process_time()
            if isinstance(fig, dict):  # a grid: sent as plain JSON
                json.dumps(fig, ensure_ascii=False)
            else:
                pio.to_json(plotly.tools.return_figure_from_figure_or_data(fig, validate_figure=True), validate=False)
            build_ms.append(1000 * (middle - start))
            send_ms.append(1000 * (time.process_time() - middle))
        results[name] = {"build_ms": statistics.median(build_ms), "send_ms": statistics.median(send_ms),
                         "json_kb": len((json.dumps(fig, ensure_ascii=False) if isinstance(fig, dict)
                                         else pio.to_json(fig)).encode()) / 1024}
    return results


def measure_ref(ref: str, repeats: int) -> dict[str, dict[str, float]]:
    """Run this script on ``ref``'s rnnviz/ (extracted to a temporary folder) in a subprocess."""
    with tempfile.TemporaryDirectory() as folder:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "rnnviz"], check=True,
                                 capture_output=True).stdout
        tar_path = Path(folder) / "rnnviz.tar"
        tar_path.write_bytes(archive)
        with tarfile.open(tar_path) as tar:
            tar.extractall(folder, filter="data")
        env = dict(os.environ, PYTHONPATH=folder)
        out = subprocess.run([sys.executable, __file__, "--json", "--repeats", str(repeats), "--root", folder],
                             check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ref", help="also measure this git commit's rnnviz/ (e.g. HEAD~1)")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="print the results as JSON (used by --ref)")
    parser.add_argument("--root", default=str(ROOT), help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, args.root)
    after = measure(args.repeats)
    if args.json:
        print(json.dumps(after))
        return
    before = measure_ref(args.ref, args.repeats) if args.ref else None
    width = max(len(name) for name in after)
    if before is None:
        print(f"{'builder':<{width}}  {'build ms':>9}  {'send ms':>8}  {'JSON KB':>8}")
        for name, r in after.items():
            print(f"{name:<{width}}  {r['build_ms']:9.1f}  {r['send_ms']:8.1f}  {r['json_kb']:8.1f}")
        return
    print(f"{'builder':<{width}}  {'build ms':>17}  {'send ms':>15}  {'JSON KB':>17}")
    print(f"{'':<{width}}  {'before':>8} {'after':>8}  {'before':>7} {'after':>7}  {'before':>8} {'after':>8}")
    totals = np.zeros(6)
    for name, r in after.items():
        b = before.get(name)
        row = ([b["build_ms"], r["build_ms"], b["send_ms"], r["send_ms"], b["json_kb"], r["json_kb"]] if b else
               [np.nan, r["build_ms"], np.nan, r["send_ms"], np.nan, r["json_kb"]])
        totals += np.nan_to_num(row)
        print(f"{name:<{width}}  {row[0]:8.1f} {row[1]:8.1f}  {row[2]:7.1f} {row[3]:7.1f}  {row[4]:8.1f} {row[5]:8.1f}")
    t = totals
    print(f"{'total':<{width}}  {t[0]:8.1f} {t[1]:8.1f}  {t[2]:7.1f} {t[3]:7.1f}  {t[4]:8.1f} {t[5]:8.1f}")


if __name__ == "__main__":
    main()
