"""Toy tasks and the Sequence basics lesson object."""
import numpy as np
import pytest

from rnnviz.core.shapes import cell_shapes, fused_shapes
from rnnviz.core.trace import IGNORE_INDEX
from rnnviz.data.tasks import (
    alphabet_windows,
    builtin_tasks,
    custom_task,
    split_windows,
    validate_custom_pair,
)
from rnnviz.lessons.sequence import (
    MODEL_PRESETS,
    SequenceLesson,
    SequenceLessonConfig,
    generalisation_experiment,
)


def train_until_solved(lesson, max_epochs=300):
    for _ in range(max_epochs):
        lesson.trainer.step()
        if lesson.solved:
            return lesson.trainer.step_count
    return None


def test_hello_vocab_is_in_order_of_first_appearance():
    task = builtin_tasks()["ohlol"]
    assert task.vocab == ("h", "e", "l", "o")
    x, y = task.tensors()
    assert x.tolist() == [[0, 1, 2, 2, 3]] and y.tolist() == [[3, 0, 2, 3, 2]]


def test_alphabet_task_pads_after_the_real_steps_and_scores_only_them():
    task = builtin_tasks()["alphabet"]
    x, y = task.tensors()
    assert x.shape == (25, 25)
    assert task.decode(x[0]) == "abcdefghijklmnopqrstuvwxy"
    assert task.decode(y[0]) == "bcdefghijklmnopqrstuvwxyz"
    assert (y[24, 1:] == IGNORE_INDEX).all() and task.decode(y[24, :1]) == "z"


@pytest.mark.parametrize("preset", list(MODEL_PRESETS))
@pytest.mark.parametrize("task_key,target", [("ohlol", "ohlol"), ("elloh", "elloh")])
def test_every_model_learns_the_hello_tasks(preset, task_key, target):
    lesson = SequenceLesson(SequenceLessonConfig(task_key=task_key, preset=preset, hidden_size=4, learning_rate=0.1))
    assert train_until_solved(lesson) is not None
    assert lesson.predicted_text() == target


@pytest.mark.parametrize("preset", ["scratch", "rnn", "lstm", "gru"])
def test_alphabet_learns_all_25_successors(preset):
    lesson = SequenceLesson(SequenceLessonConfig(task_key="alphabet", preset=preset, hidden_size=16,
                                                 learning_rate=0.05))
    lesson.trainer.run_steps(150)
    successors = lesson.successor_predictions()
    wrong = {c: s for c, s in successors.items() if c != "z" and s != chr(ord(c) + 1)}
    assert not wrong
    assert successors["a"] == "b" and successors["m"] == "n"
    assert lesson.predicted_text() == "bcdefghijklmnopqrstuvwxyz"


def test_training_settings_apply_without_reset_but_architecture_changes_reset():
    config = SequenceLessonConfig()
    lesson = SequenceLesson(config)
    lesson.trainer.run_steps(3)
    same = lesson.apply(SequenceLessonConfig(learning_rate=0.01, clip_threshold=1.0))
    assert same is lesson and lesson.trainer.step_count == 3
    assert lesson.trainer.optimizer.param_groups[0]["lr"] == 0.01
    fresh = lesson.apply(SequenceLessonConfig(hidden_size=8, learning_rate=0.01, clip_threshold=1.0))
    assert fresh is not lesson and fresh.trainer.step_count == 0 and fresh.model.config.hidden_size == 8


def test_typed_text_skips_unknown_characters_and_names_them():
    lesson = SequenceLesson(SequenceLessonConfig())
    reading = lesson.trace_typed("hé王l😀")
    assert reading.used_text == "hl" and reading.skipped_chars == ("é", "王", "😀")
    assert reading.trace.probs.shape == (2, 4)
    assert np.allclose(reading.trace.probs.sum(1), 1, atol=1e-6)
    assert lesson.trace_typed("xyz").trace is None


@pytest.mark.parametrize("source,target,fragment", [
    ("", "abc", "both"), ("abc", "", "both"), ("abc", "ab", "same length"),
    ("a" * 41, "b" * 41, "at most"), ("ab\x00", "abc", "control"),
])
def test_bad_custom_pairs_get_a_message(source, target, fragment):
    message = validate_custom_pair(source, target)
    assert message and fragment in message
    with pytest.raises(ValueError):
        custom_task(source, target)


def test_custom_pair_with_non_latin_text_trains():
    lesson = SequenceLesson(SequenceLessonConfig(task_key="custom", custom_input="王小明王", custom_target="小明王小",
                                                 hidden_size=8))
    assert train_until_solved(lesson) is not None
    assert lesson.predicted_text() == "小明王小"


def test_window_split_tail_holds_out_the_end_and_random_is_seeded():
    windows = alphabet_windows(3)
    assert len(windows) == 23 and windows[0] == ("abc", "bcd") and windows[-1] == ("wxy", "xyz")
    train, held = split_windows(windows, 0.3, seed=0, mode="tail")
    assert held == windows[-len(held):] and len(train) + len(held) == 23
    assert split_windows(windows, 0.3, 1) == split_windows(windows, 0.3, 1)
    assert split_windows(windows, 0.3, 1) != split_windows(windows, 0.3, 2)


def test_generalisation_unseen_transitions_are_not_learned_but_seen_ones_are():
    config = SequenceLessonConfig(preset="rnn", hidden_size=16, learning_rate=0.05)
    random_split = generalisation_experiment(config, window=3, held_out_fraction=0.3, mode="random")
    tail_split = generalisation_experiment(config, window=3, held_out_fraction=0.3, mode="tail")
    assert random_split.train_accuracy == 1.0 and tail_split.train_accuracy == 1.0
    assert random_split.held_out_accuracy > 0.9
    assert tail_split.held_out_accuracy < 0.5


@pytest.mark.parametrize("batch_first", [False, True])
def test_shapes_are_read_off_real_modules(batch_first):
    rows = {r.tensor: r.shape for r in fused_shapes("lstm", 7, 3, 5, 4, num_layers=2, batch_first=batch_first)}
    assert rows["input x"] == ((3, 7, 5) if batch_first else (7, 3, 5))
    assert rows["output"] == ((3, 7, 4) if batch_first else (7, 3, 4))
    assert rows["h_n"] == (2, 3, 4) and rows["c_n"] == (2, 3, 4)
    assert rows["weight_ih_l0"] == (16, 5)
    cell = {r.tensor: r.shape for r in cell_shapes("gru", 3, 5, 4)}
    assert cell["x_t"] == (3, 5) and cell["h_t"] == (3, 4) and cell["weight_hh"] == (12, 4)
    bi = {r.tensor: r.shape for r in fused_shapes("rnn", 7, 3, 5, 4, bidirectional=True)}
    assert bi["output"] == (7, 3, 8) and bi["h_n"] == (2, 3, 4)
    with pytest.raises(ValueError):
        fused_shapes("rnn", 0, 3, 5, 4)
