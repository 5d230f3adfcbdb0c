"""Replay of training (snapshots of the display input's internals) and the history CSV."""
import csv
import io

import numpy as np
import pytest

from rnnviz.lessons.replay import REPLAY_LIMIT, Replay
from rnnviz.lessons.sequence import SequenceLesson, SequenceLessonConfig


def test_snapshots_are_dense_early_and_bounded():
    replay = Replay(lambda: ({"x": np.zeros(3)}, {}))
    for step in range(0, 200_000):
        replay.maybe_record(step, None)
    steps = replay.steps
    assert steps[:8] == [0, 1, 2, 3, 4, 5, 7, 9]  # every step at first, then ×1.25 each
    assert len(steps) <= REPLAY_LIMIT
    gaps = np.diff(steps)
    assert (gaps[1:] >= gaps[:-1]).all()  # never denser later than earlier
    assert steps[-1] > 100_000


def test_replay_answers_what_the_model_predicted_at_step_5():
    config = SequenceLessonConfig(task_key="ohlol", seed=3)
    lesson = SequenceLesson(config)
    lesson.run_steps(40)
    frame = lesson.replay.at_or_before(5)
    assert frame.step == 5
    # an independent run: a fresh lesson from the same seed trained exactly 5 steps
    twin = SequenceLesson(config)
    twin.run_steps(5)
    assert frame.values["predicted"] == twin.predicted_text()
    np.testing.assert_allclose(frame.arrays["probs"], twin.trace_display().probs, atol=2e-3)  # float16


def test_the_softmax_sharpens_over_the_replay():
    lesson = SequenceLesson(SequenceLessonConfig(task_key="ohlol", seed=0))
    lesson.run_steps(60)
    first, last = lesson.replay.frames[0], lesson.replay.frames[-1]
    target = lesson.task.encode(lesson.task.display_target)
    p_target_first = first.arrays["probs"].astype(float)[np.arange(len(target)), target].mean()
    p_target_last = last.arrays["probs"].astype(float)[np.arange(len(target)), target].mean()
    assert first.step == 0 and last.step > 30
    assert p_target_last > p_target_first + 0.3


def test_history_csv_has_one_row_per_recorded_step_with_named_columns():
    lesson = SequenceLesson(SequenceLessonConfig(task_key="elloh", clip_threshold=0.5))
    lesson.run_steps(25)
    rows = list(csv.DictReader(io.StringIO(lesson.history_csv())))
    records = lesson.trainer.history.records
    assert [int(r["step"]) for r in rows] == [r.step for r in records] == list(range(1, 26))
    assert set(rows[0]) >= {"step", "loss", "accuracy", "grad_norm_before_clip", "grad_norm_after_clip", "clipped"}
    for row, record in zip(rows, records):
        assert float(row["loss"]) == pytest.approx(record.loss)
        assert float(row["grad_norm_after_clip"]) <= 0.5 + 1e-6 or row["clipped"] == "False"
