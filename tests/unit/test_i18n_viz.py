"""The figure builders (rnnviz.viz) speak the page's language: built under ``using("zh")`` no English
sentence is left in what a figure shows (titles, subtitles, axis and colour-bar titles, legend names,
annotations, hover templates, bar texts, tick and category labels, Play/Pause, slider read-outs), and
under "en" the figure is the English one: only its texts differ between the two languages."""
from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any, Iterator

import numpy as np
import pytest

from rnnviz.i18n import using
from rnnviz.lessons.replay import ReplayFrame
from rnnviz.viz import evaluation, inside, language_model, replay, softmax, states, style, training
from tests.i18n_helpers import GRID_TEXT_KEYS, english_sentences, grid_texts

# Keys whose string values a reader sees (hover templates included: their words show on hover).
_SHOWN_KEYS = {"text", "name", "hovertemplate", "texttemplate", "prefix", "label", "ticktext", "customdata",
               "x", "y"}
_SKIPPED_KEYS = {"template"}  # plotly_white: colours and fonts, no words
# Data the builders are given, not words they produce (the inputs below): allowed to stay English.
ALLOW = ["hello", "the cat sat"]


def _probs(steps: int, classes: int, seed: int = 0) -> np.ndarray:
    logits = np.random.default_rng(seed).normal(size=(steps, classes))
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _frames(step_values, arrays, values, loss=0.5):
    return [ReplayFrame(step=s, loss=None if k == 0 else loss, arrays=arrays(k), values=values(k))
            for k, s in enumerate(step_values)]


def cases() -> list[tuple[str, Any]]:
    """Every builder of rnnviz.viz on inputs that reach each of its texts (empty states included).

    Titles are left to their defaults wherever the builder has one: the pages' own titles are
    translated by the pages.
    """
    rng = np.random.default_rng(0)
    probs = _probs(5, 5)
    evaluations = [SimpleNamespace(step=10 * i, train_accuracy=0.5, test=SimpleNamespace(
        accuracy=0.4 + i / 10, balanced_accuracy=0.3, n=100)) for i in range(3)]
    gates = {"input gate i": rng.random((4, 3)), "forget gate f": rng.random((4, 3)),
             "candidate g": np.tanh(rng.normal(size=(4, 3))), "output gate o": rng.random((4, 3)),
             "cell state c_t": np.full((4, 3), 2.5), "h_t": np.tanh(np.linspace(-2, 2, 12)).reshape(4, 3)}
    gru = {"reset gate r": rng.random((3, 2)), "update gate z": rng.random((3, 2)),
           "candidate n": np.tanh(rng.normal(size=(3, 2))), "h_t": np.zeros((3, 2))}
    vocab = list("ehlo")
    seq_frames = _frames([0, 5, 40], lambda k: {"probs": _probs(5, 4, k), "hidden": rng.normal(size=(5, 3))},
                         lambda k: {"predicted": "ohlol"[: k + 3]})
    belief_frames = _frames([0, 7], lambda k: {"Nakamura": _probs(8, 3, k)},
                            lambda k: {"top": {"Nakamura": ("Japanese", 0.6)}, "read_as": {"Nakamura": "Nakamura"}})
    continuation_frames = _frames(
        [0, 9], lambda k: {"candidate_probs": _probs(4, 5, k)},
        lambda k: {"prefix": "the cat sat", "continuation": "on\nthe", "candidate_chars": [list("abcde")] * 4})
    gate_frames = _frames([0, 3], lambda k: {name: v for name, v in gates.items()}, lambda k: {"predicted": "ello"})
    return [
        ("loss_curve", training.loss_curve([0, 1, 2, 3], [2.0, 1.0, float("nan"), 0.5], accuracy=[0.1, 0.2, 0.3, 0.4])),
        ("loss_curve", training.loss_curve([0, 1, 2], [float("inf"), float("nan"), 1.0], log_y=True)),
        ("loss_curve", training.loss_curve([], [])),
        ("grad_norm_chart", training.grad_norm_chart([0, 1, 2], [0.5, 3.0, 5.0], [0.5, 1.0, 1.0], threshold=1.0)),
        ("grad_norm_chart", training.grad_norm_chart([1, 2], [0.5, 2.0], [0.5, 2.0], threshold=None)),
        ("grad_norm_chart", training.grad_norm_chart([], [], [], threshold=1.0)),
        ("hidden_state_heatmap", states.hidden_state_heatmap(np.tanh(rng.normal(size=(5, 3))), "hello")),
        ("hidden_state_heatmap", states.hidden_state_heatmap(rng.random((5, 3)), "hello", animate=False,
                                                             value_range=(0, 1), colorscale="Viridis")),
        ("hidden_state_heatmap", states.hidden_state_heatmap(np.zeros((0, 4)), "")),
        ("softmax_heatmap", softmax.softmax_heatmap(probs, list("abcde"), "hello", targets=[1, -100, 2, 4, 0], top_k=2)),
        ("softmax_heatmap", softmax.softmax_heatmap(np.zeros((0, 5)), list("abcde"), "")),
        ("softmax_bars", softmax.softmax_bars(probs, list("abcde"), "hello", targets=[1, 2, 2, 4, 0], top_k=2)),
        ("softmax_bars", softmax.softmax_bars(probs, list("abcde"), "hello")),
        ("softmax_bars", softmax.softmax_bars(np.zeros((0, 5)), list("abcde"), "")),
        ("accuracy_bars", evaluation.accuracy_bars(["a"], [0.5, float("nan")])),
        ("accuracy_bars", evaluation.accuracy_bars([], [])),
        ("confusion_matrix_figure", evaluation.confusion_matrix_figure(np.eye(3) * 2, list("ab"))),
        ("confusion_matrix_figure", evaluation.confusion_matrix_figure(np.eye(3), list("abc"), normalise_rows=False)),
        ("confusion_matrix_figure", evaluation.confusion_matrix_figure(np.zeros((0, 0)), [])),
        ("accuracy_figure", evaluation.accuracy_figure(evaluations, 0.47, "Russian")),
        ("accuracy_figure", evaluation.accuracy_figure([])),
        ("class_counts_figure", evaluation.class_counts_figure({"Russian": (90, 10), "Czech": (5, 1)})),
        ("class_counts_figure", evaluation.class_counts_figure({})),
        ("perplexity_curve", language_model.perplexity_curve([1, 2], [90.0, 60.0], [2], [80.0], vocab_size=97)),
        ("perplexity_curve", language_model.perplexity_curve([1], [float("nan")], [], [], vocab_size=97)),
        ("perplexity_curve", language_model.perplexity_curve([], [], [], [], vocab_size=97)),
        ("minibatch_layout_figure", language_model.minibatch_layout_figure(
            [(0, 0, 0, 35), (1, 0, 35, 70), (2, 1, 535, 570)], 1000, scheme="sequential", num_steps=35, batch_size=2)),
        ("minibatch_layout_figure", language_model.minibatch_layout_figure(
            [(0, 0, 10, 45)], 1000, scheme="random", num_steps=35, batch_size=40)),
        ("candidate_bars", language_model.candidate_bars(
            ["0·a", "1·b"], [list("xyz")] * 2, np.array([[0.5, 0.3, 0.2], [1.0, 0, 0]]), np.full((2, 3), 1 / 3), [0, 1])),
        ("candidate_bars", language_model.candidate_bars(
            ["0·a"], [list("xy")], np.array([[0.5, 0.5]]), np.array([[0.5, 0.5]]), [1], show_model=False)),
        ("candidate_bars", language_model.candidate_bars([], [], np.zeros((0, 3)), np.zeros((0, 3)), [])),
        ("text_activation_figure", language_model.text_activation_figure(list("hello"), [0.5, -0.5, 1.0, 0.0, 0.2],
                                                                         prefix_len=2, width=3)),
        ("text_activation_figure", language_model.text_activation_figure(list("ab"), [0.1, 0.9], value_range=(0, 1))),
        ("text_activation_figure", language_model.text_activation_figure([], [])),
        ("unit_heatmap", language_model.unit_heatmap(np.tanh(np.linspace(-2, 2, 40)).reshape(4, 10), "abcd", [7, 2],
                                                     animate=True)),
        ("unit_heatmap", language_model.unit_heatmap(np.zeros((4, 10)), "abcd", [])),
        ("metric_lines", inside.metric_lines({"RNN": ([0, 1], [0.1, 0.9])}, title="t", x_title="x", y_title="y",
                                             reference=(0.25, "ρ"))),
        ("metric_lines", inside.metric_lines({"RNN": ([], [])}, title="t", x_title="x", y_title="y")),
        ("gradient_heatmaps", inside.gradient_heatmaps(
            {"RNN": ([1, 2], np.array([[0.0, 1e-3, 1.0], [1e-6, np.nan, 50.0]])), "LSTM": ([], np.zeros((0, 3)))},
            title="g", x_title="t")),
        ("gradient_heatmaps", inside.gradient_heatmaps({"RNN": ([], np.zeros((0, 3)))}, title="g", x_title="t")),
        ("eigenvalue_figure", inside.eigenvalue_figure(np.array([0.5 + 0.5j, 0.5 - 0.5j, -0.9]), title="e")),
        ("gate_panel", inside.gate_panel(gates, list("ab c"), title="g")),
        ("gate_panel", inside.gate_panel(gru, list("abc"), title="g", animate=False)),
        ("pca_trajectory", inside.pca_trajectory(np.cumsum(np.ones((5, 2)), axis=0), list("hello"), (0.9, 0.1),
                                                 title="p")),
        ("tensor_blocks", inside.tensor_blocks([("x", (5, 3, 4), "#ffffff"), ("h", (3, 6), "#000000")], title="b")),
        ("sequence_replay", replay.sequence_replay(seq_frames, vocab, "hello")),
        ("beliefs_replay", replay.beliefs_replay(belief_frames, "Nakamura", ["Japanese", "Italian", "Czech"])),
        ("continuation_replay", replay.continuation_replay(continuation_frames)),
        ("panels_replay", replay.panels_replay(gate_frames, "ab c", title="r", note_of=lambda f: str(f.step))),
    ]


def _strings(node: Any, key: str = "") -> Iterator[str]:
    """The strings a reader sees in a Plotly spec (nested lists of labels included)."""
    if isinstance(node, dict):
        for k, value in node.items():
            if k not in _SKIPPED_KEYS:
                yield from _strings(value, k)
    elif isinstance(node, (list, tuple)):
        for item in node:
            yield from _strings(item, key)
    elif isinstance(node, str) and key in _SHOWN_KEYS:
        yield node


def shown_texts(fig) -> list[str]:
    return list(_strings(fig.to_dict()))


def _structure(node: Any) -> Any:
    """The spec with every string blanked: what must not change with the language."""
    if isinstance(node, dict):
        return {k: _structure(v) for k, v in node.items()}
    if isinstance(node, (list, tuple)):
        return [_structure(v) for v in node]
    return "" if isinstance(node, str) else node


def test_cases_cover_every_builder():
    import inspect

    import plotly.graph_objects as go

    builders = set()
    for module in (training, states, softmax, evaluation, language_model, inside, replay, style):
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if function.__module__ == module.__name__ and not name.startswith("_") and \
                    function.__annotations__.get("return") in ("go.Figure", go.Figure):
                builders.add(name)
    assert builders - {"empty_figure", "figure", "state_heatmap", "replay_figure"} <= {name for name, _fig in cases()}


def test_no_english_sentence_is_left_in_chinese_figures():
    with using("zh"):
        built = cases()
    leftovers = {name: found for name, fig in built
                 if (found := english_sentences(shown_texts(fig), allow=ALLOW))}
    assert not leftovers, leftovers


@pytest.mark.parametrize("word", ["▶ 播放", "❚❚ 暂停", "截至 ", "训练步 ", "已读入 ", "正在生成 "])
def test_controls_are_translated(word):
    with using("zh"):
        texts = [t for _name, fig in cases() for t in shown_texts(fig)]
    assert word in texts


def test_chinese_figures_differ_from_english_ones_only_in_their_texts():
    with using("en"):
        english = cases()
    with using("zh"):
        chinese = cases()
    for (name, en_fig), (_same, zh_fig) in zip(english, chinese):
        en_spec, zh_spec = en_fig.to_dict(), zh_fig.to_dict()
        assert _structure(en_spec) == _structure(zh_spec), name
        cjk = [t for t in shown_texts(en_fig) if re.search(r"[\u4e00-\u9fff]", t)]
        assert all("我" in t or "你" in t or "他" in t or "她" in t or "它" in t or "想" in t for t in cjk), (name, cjk)


def test_english_figures_keep_their_english_texts():
    with using("en"):
        texts = {t for _name, fig in cases() for t in shown_texts(fig)}
        loss = training.loss_curve([0, 1], [1.0, float("nan")])
        grad = training.grad_norm_chart([0, 1, 2], [0.5, 3.0, 5.0], [0.5, 1.0, 1.0], threshold=1.0)
        bars = softmax.softmax_bars(_probs(3, 4), list("abcd"), "abc", targets=[0, 1, 2])
        replayed = replay.sequence_replay(_frames([0, 5], lambda k: {"probs": _probs(3, 4, k),
                                                                     "hidden": np.zeros((3, 2))},
                                                  lambda k: {"predicted": "ohl"}), list("ehlo"), "hel")
    assert {"▶ Play", "❚❚ Pause", "up to ", "after ", "generating ", "training step ", "loss", "accuracy",
            "before clipping", "after clipping", "clipped step", "clip threshold = 1", "training minibatch",
            "validation tail", "chance = vocabulary size (97)", "No training steps yet. Press Train to start.",
            "step %{x}<br>loss = %{y:.4f}<extra></extra>", "row 0",
            "step %{x}<br>test accuracy = %{y:.1%}<extra></extra>", "always “Russian”: 47%",
            "input gate i", "cell state c_t"} <= texts
    assert loss.layout.title.subtitle.text == "1 non-finite loss value not shown"
    assert grad.layout.title.subtitle.text == "2 of 3 steps clipped (threshold 1)"
    assert bars.layout.title.subtitle.text.endswith("■</span> target predicted")
    assert replayed.layout.annotations[-1].text == "<b>step 5: predicts “ohl” · loss 0.500</b>"
    assert replayed.frames[0].layout.annotations[-1].text == "<b>step 0: predicts “ohl”</b>"
    assert replayed.layout.sliders[0].currentvalue.prefix == "training step "


def _grids() -> list[dict]:
    return [language_model.candidates_grid(["0·我", "1·想"], [list("我你他她它"), list(" \nabc")], _probs(2, 5), [0, 4]),
            language_model.candidates_grid([], [], np.zeros((0, 3)), [])]


def test_the_candidates_grid_speaks_the_pages_language():
    with using("zh"):
        chinese = _grids()
    with using("en"):
        english = _grids()
    assert not english_sentences([t for grid in chinese for t in grid_texts(grid)], allow=ALLOW)
    assert {"第 1", "候选排名", "概率", "选中的字符"} <= {t for t in grid_texts(chinese[0])}
    assert {"1st", "2nd", "3rd", "4th", "5th", "candidate rank", "probability", "chosen character",
            "step {step} · candidate “{char}”: p = {p}"} <= set(grid_texts(english[0]))
    for en, zh in zip(english, chinese):  # only the words differ
        assert {k: v for k, v in en.items() if k not in GRID_TEXT_KEYS} == \
            {k: v for k, v in zh.items() if k not in GRID_TEXT_KEYS}
        assert all(field in zh["tip"] for field in ("{step}", "{char}", "{p}"))  # filled in by the browser
