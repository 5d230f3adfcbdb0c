"""Benchmark the Sequence basics lesson: training speed per model, epochs to solve, trace/figure cost.

    python scripts/bench_sequence.py

Prints numbers; asserts nothing (speed goals are read, not tested).
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rnnviz.core.runtime import configure_torch  # noqa: E402
from rnnviz.lessons.sequence import MODEL_PRESETS, SequenceLesson, SequenceLessonConfig  # noqa: E402
from rnnviz.viz import states  # noqa: E402


def epochs_to_solve(config: SequenceLessonConfig, limit: int = 500) -> int | None:
    lesson = SequenceLesson(config)
    for _ in range(limit):
        lesson.trainer.step()
        if lesson.solved:
            return lesson.trainer.step_count
    return None


def main() -> None:
    configure_torch()
    print(f"{'task':9} {'model':42} {'epochs/s':>9} {'epochs to solve':>16}")
    for task in ("ohlol", "elloh", "alphabet"):
        for preset, info in MODEL_PRESETS.items():
            config = SequenceLessonConfig(task_key=task, preset=preset, hidden_size=4, learning_rate=0.1)
            lesson = SequenceLesson(config)
            steps = lesson.trainer.run_for(1.0)
            solved = epochs_to_solve(config)
            print(f"{task:9} {info.label:42} {steps / lesson.trainer.train_seconds:9.0f} {str(solved):>16}")
    lesson = SequenceLesson(SequenceLessonConfig(task_key="alphabet", preset="lstm", hidden_size=32, num_layers=2))
    lesson.trainer.run_steps(50)
    started = time.perf_counter()
    for _ in range(20):
        tr = lesson.trace_display()
    trace_ms = (time.perf_counter() - started) / 20 * 1000
    started = time.perf_counter()
    for _ in range(20):
        fig = states.hidden_state_heatmap(tr.hidden_states[-1], list(lesson.task.display_input))
        fig.to_json()
    figure_ms = (time.perf_counter() - started) / 20 * 1000
    print(f"trace of the 25-step alphabet through a 2-layer LSTM 32: {trace_ms:.1f} ms")
    print(f"animated hidden-state heatmap (25 frames), built + serialised: {figure_ms:.1f} ms, "
          f"{len(fig.to_json()) / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
