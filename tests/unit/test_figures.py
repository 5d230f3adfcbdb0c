"""Behaviour of the figure builders in rnnviz.figures (no browser needed)."""
import json
import re

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from rnnviz.viz import evaluation, language_model, softmax, style, training
from rnnviz.viz import states as state_figures


def _z(trace) -> np.ndarray:
    """A heatmap's z as a float array (None -> NaN)."""
    return np.array([[np.nan if v is None else v for v in row] for row in trace.z], dtype=float)


def _button_labels(fig) -> list[str]:
    return [button.label for menu in fig.layout.updatemenus for button in menu.buttons]


def _traces_named(fig, name):
    return [trace for trace in fig.data if trace.name == name]


def _round_trip(fig) -> dict:
    return json.loads(fig.to_json())


# ---------------------------------------------------------------- labels


def test_unique_labels_for_repeated_characters():
    labels = style.unique_labels("hello")
    assert labels == ["0·h", "1·e", "2·l", "3·l", "4·o"]
    assert len(set(labels)) == 5


def test_unique_labels_make_whitespace_visible():
    assert style.unique_labels("a b\n") == ["0·a", "1·␣", "2·b", "3·↵"]


# ---------------------------------------------------------------- loss curve


def test_loss_curve_plots_loss_against_step():
    fig = training.loss_curve([1, 2, 3], [2.0, 1.5, 1.0])
    assert isinstance(fig, go.Figure)
    assert list(fig.data[0].x) == [1, 2, 3]
    assert list(fig.data[0].y) == [2.0, 1.5, 1.0]
    assert fig.layout.title.text == "Training loss"
    assert fig.layout.xaxis.title.text == "training step"
    assert fig.layout.yaxis.title.text == "cross-entropy loss"
    assert_styled_like_plotly_white(fig)


def assert_styled_like_plotly_white(fig) -> None:
    """The figure's template is plotly_white's, cut to what it uses: the 2-D layout entries, and the
    defaults of every trace type the figure draws (so it looks exactly as with the full template)."""
    white = pio.templates["plotly_white"].to_plotly_json()
    used = fig.layout.template.to_plotly_json()
    for key in ("font", "colorway", "paper_bgcolor", "plot_bgcolor", "hoverlabel", "hovermode", "xaxis", "yaxis"):
        assert used["layout"][key] == white["layout"][key], key
    for trace in fig.data:
        assert used["data"].get(trace.type) == white["data"][trace.type], trace.type
    assert len(json.dumps(used)) < len(json.dumps(white)) / 2  # most of it is for polar, 3-D, maps, ...


def test_loss_curve_empty_input_still_titled_with_hint():
    fig = training.loss_curve([], [])
    assert fig.layout.title.text == "Training loss"
    assert len(fig.data) == 0
    assert any("Train" in a.text for a in fig.layout.annotations)
    _round_trip(fig)


def test_loss_curve_accuracy_on_secondary_axis():
    fig = training.loss_curve([0, 1], [2.0, 1.0], accuracy=[0.2, 0.6])
    accuracy = _traces_named(fig, "accuracy")[0]
    assert accuracy.yaxis == "y2"
    assert tuple(fig.layout.yaxis2.range) == (0, 1)
    assert fig.layout.yaxis2.title.text == "accuracy"
    assert fig.layout.yaxis.title.text == "cross-entropy loss"


def test_loss_curve_log_scale_and_non_finite_values():
    fig = training.loss_curve([0, 1, 2, 3], [2.0, 0.0, float("nan"), float("inf")], log_y=True)
    assert fig.layout.yaxis.type == "log"
    assert len(fig.data[0].y) == 2
    assert min(fig.data[0].y) > 0
    assert "2 non-finite" in fig.layout.title.subtitle.text


# ---------------------------------------------------------------- gradient norms


def test_count_clipped():
    assert training.count_clipped([0.5, 2, 3], 1.0) == 2
    assert training.count_clipped([0.5, 2, 3], None) == 0
    assert training.count_clipped([float("nan"), float("inf"), 0.1], 1.0) == 1
    assert training.count_clipped([], 1.0) == 0


def test_grad_norm_chart_marks_clipped_steps_and_threshold():
    fig = training.grad_norm_chart([1, 2, 3], [0.5, 2, 3], [0.5, 1, 1], threshold=1.0)
    assert fig.layout.yaxis.type == "log"
    names = [trace.name for trace in fig.data]
    assert "before clipping" in names and "after clipping" in names
    clipped = _traces_named(fig, "clipped step")[0]
    assert list(clipped.x) == [2, 3]
    assert list(clipped.y) == [2, 3]
    threshold_line = [t for t in fig.data if t.name and t.name.startswith("clip threshold")][0]
    assert threshold_line.name == "clip threshold = 1"
    assert threshold_line.line.dash == "dash"
    assert set(threshold_line.y) == {1.0}
    assert "2 of 3 steps clipped" in fig.layout.title.subtitle.text


def test_grad_norm_chart_without_threshold():
    fig = training.grad_norm_chart([1, 2, 3], [0.5, 2, 3], [0.5, 2, 3], threshold=None)
    assert not any(t.name and t.name.startswith("clip threshold") for t in fig.data)
    assert not _traces_named(fig, "clipped step")
    assert "clipping off" in fig.layout.title.subtitle.text


def test_grad_norm_chart_survives_zero_nan_inf():
    before = [0.0, float("nan"), float("inf"), 5.0]
    after = [0.0, float("nan"), float("nan"), 1.0]
    fig = training.grad_norm_chart([0, 1, 2, 3], before, after, threshold=1.0)
    line_before = _traces_named(fig, "before clipping")[0]
    assert list(line_before.x) == [0, 3]  # NaN and inf dropped
    assert min(line_before.y) == pytest.approx(1e-12)  # zero floored for the log axis
    assert all(np.isfinite(trace.y).all() for trace in fig.data)
    assert "2 of 4 steps clipped" in fig.layout.title.subtitle.text  # inf counts as clipped
    assert list(_traces_named(fig, "clipped step")[0].x) == [3]  # inf cannot be drawn
    _round_trip(fig)


def test_grad_norm_chart_empty():
    fig = training.grad_norm_chart([], [], [], threshold=1.0)
    assert fig.layout.title.text == "Gradient norm before and after clipping"
    assert len(fig.data) == 0


# ---------------------------------------------------------------- hidden-state heatmap


@pytest.fixture
def hidden_fig():
    states = np.linspace(-0.9, 0.9, 20).reshape(5, 4)
    return state_figures.hidden_state_heatmap(states, "hello"), states


def test_hidden_heatmap_shape_labels_and_fixed_range(hidden_fig):
    fig, states = hidden_fig
    heat = fig.data[0]
    assert len(set(heat.x)) == 5
    assert list(heat.y) == ["h[0]", "h[1]", "h[2]", "h[3]"]
    assert (heat.zmin, heat.zmax, heat.zmid) == (-1.0, 1.0, 0.0)
    np.testing.assert_allclose(_z(heat), states.T, atol=1e-4)  # initial state: all timesteps
    assert fig.layout.xaxis.title.text and fig.layout.yaxis.title.text == "hidden unit"


def test_hidden_heatmap_frames_reveal_one_timestep_at_a_time(hidden_fig):
    fig, states = hidden_fig
    assert len(fig.frames) == 5
    np.testing.assert_allclose(_z(fig.data[0]), states.T, atol=1e-4)  # every value, sent once
    for k, frame in enumerate(fig.frames):
        assert not frame.data  # the colour range stays the data's: frames only move the mask
        (mask,) = frame.layout.shapes
        assert (mask.xref, mask.yref) == ("x", "y domain") and -0.01 < mask.y0 <= 0 and 1 <= mask.y1 < 1.01
        # Column t spans t-0.5..t+0.5 on the category axis: the mask covers exactly the columns after k.
        assert (mask.x0, mask.x1) == (k + 0.5, 4.5)
        assert mask.visible is (k < 4) and mask.fillcolor == style.PLOT_BACKGROUND and mask.layer == "above"
    assert fig.layout.shapes[0].to_plotly_json() == fig.frames[-1].layout.shapes[0].to_plotly_json()  # all shown


def test_hidden_heatmap_controls(hidden_fig):
    fig, _ = hidden_fig
    labels = " ".join(_button_labels(fig))
    assert "Play" in labels and "Pause" in labels
    play = [b for m in fig.layout.updatemenus for b in m.buttons if "Play" in b.label][0]
    assert play.args[1]["frame"]["redraw"] is True
    slider = fig.layout.sliders[0]
    assert len(slider.steps) == 5
    assert [step.label for step in slider.steps] == style.unique_labels("hello")
    assert [step.args[0][0] for step in slider.steps] == [frame.name for frame in fig.frames]


def test_hidden_heatmap_hover_names_timestep_and_unit_without_a_text_per_cell(hidden_fig):
    fig, _ = hidden_fig
    trace = fig.data[0]
    # plotly.js fills the template from the cell's column and row labels: "2·l, h[1] = 0.53"
    hover = trace.hovertemplate.replace("%{x}", trace.x[2]).replace("%{y}", trace.y[1])
    assert hover.startswith("2·l, h[1] = %{z")
    assert trace.text is None  # a text per cell would be more than half of what a keystroke sends


def test_gate_heatmap_uses_sequential_range_without_zmid():
    fig = state_figures.hidden_state_heatmap(np.random.rand(3, 2), "abc", value_range=(0.0, 1.0),
                                 colorscale="Viridis", animate=False)
    heat = fig.data[0]
    assert (heat.zmin, heat.zmax) == (0.0, 1.0)
    assert heat.zmid is None
    assert not fig.frames and not fig.layout.sliders


def test_hidden_heatmap_accepts_chinese_and_round_trips():
    fig = state_figures.hidden_state_heatmap(np.zeros((2, 3)), "你好")
    data = _round_trip(fig)
    assert data["data"][0]["x"] == ["0·你", "1·好"]
    assert "你" in fig.to_json() or "\\u4f60" in fig.to_json()


def test_hidden_heatmap_empty():
    fig = state_figures.hidden_state_heatmap(np.zeros((0, 4)), "")
    assert fig.layout.title.text == "Hidden state h_t over time"
    _round_trip(fig)


# ---------------------------------------------------------------- softmax


def _probs(n_steps, n_classes, seed=0):
    return np.random.default_rng(seed).dirichlet(np.ones(n_classes), size=n_steps)


def test_softmax_heatmap_marks_targets_and_predictions():
    probs = _probs(4, 5)
    targets = [1, 2, 2, 4]
    fig = softmax.softmax_heatmap(probs, list("abcde"), "abcd", targets=targets)
    heat = fig.data[0]
    assert (heat.zmin, heat.zmax) == (0.0, 1.0)
    assert list(heat.y) == list("abcde")
    target = _traces_named(fig, "target")[0]
    assert list(target.x) == style.unique_labels("abcd")
    assert list(target.y) == ["b", "c", "c", "e"]
    predicted = _traces_named(fig, "predicted (argmax)")[0]
    assert list(predicted.y) == ["abcde"[i] for i in probs.argmax(axis=1)]


def test_softmax_heatmap_top_k_keeps_top_classes_and_targets():
    probs = np.full((2, 100), 0.001)
    probs[0, 10], probs[1, 20] = 0.9, 0.9
    labels = [f"c{i}" for i in range(100)]
    fig = softmax.softmax_heatmap(probs, labels, "ab", targets=[50, 20], top_k=1)
    assert list(fig.data[0].y) == ["c10", "c20", "c50"]
    assert "showing 3 of 100" in fig.layout.title.subtitle.text


def test_softmax_heatmap_shows_whitespace_and_unique_class_labels():
    fig = softmax.softmax_heatmap(_probs(2, 4), [" ", "\n", "a", "a"], "ab")
    labels = list(fig.data[0].y)
    assert labels[:2] == ["␣", "↵"]
    assert len(set(labels)) == 4


def test_softmax_bars_frames_and_fixed_axis():
    probs = _probs(5, 6)
    fig = softmax.softmax_bars(probs, list("abcdef"), "hello", targets=[1, 2, 3, 3, 0])
    assert len(fig.frames) == 5
    assert tuple(fig.layout.yaxis.range) == (0, 1)
    assert fig.layout.yaxis.title.text == "probability"
    np.testing.assert_allclose(fig.data[0].y, probs[0], atol=1e-4)  # initial state = frame 0
    assert list(fig.frames[2].data[0].x) == list("abcdef")  # all classes, class order
    slider = fig.layout.sliders[0]
    assert len(slider.steps) == 5 and slider.active == 0
    assert "Play" in " ".join(_button_labels(fig))


def test_softmax_bars_highlight_target_and_prediction():
    probs = np.array([[0.1, 0.7, 0.2], [0.6, 0.3, 0.1]])
    fig = softmax.softmax_bars(probs, list("xyz"), "ab", targets=[2, 0])
    first = fig.frames[0].data[0]
    assert first.marker.color[1] == style.PREDICTION_COLOUR
    assert first.marker.color[2] == style.TARGET_COLOUR
    assert fig.frames[1].data[0].marker.color[0] == style.CORRECT_COLOUR


def test_softmax_bars_top_k_per_timestep_keeps_target():
    probs = np.full((1, 50), 0.01)
    probs[0, [3, 7, 9]] = [0.3, 0.2, 0.1]
    fig = softmax.softmax_bars(probs, [str(i) for i in range(50)], "a", targets=[40], top_k=3)
    assert list(fig.frames[0].data[0].x) == ["3", "7", "9", "40"]


# ---------------------------------------------------------------- evaluation


def test_accuracy_bars():
    fig = evaluation.accuracy_bars(["a", "b", "c"], [1.0, 0.5, float("nan")])
    assert tuple(fig.layout.xaxis.range) == (0, 1)
    assert list(fig.data[0].x) == [1.0, 0.5, 0.0]
    assert list(fig.data[0].text) == ["100%", "50%", "n/a"]
    _round_trip(fig)


def test_confusion_matrix_rows_normalised_safely():
    matrix = np.array([[3, 1, 0], [0, 0, 0], [1, 1, 2]])
    fig = evaluation.confusion_matrix_figure(matrix, ["a", "b", "c"])
    z = _z(fig.data[0])
    np.testing.assert_allclose(z.sum(axis=1), [1.0, 0.0, 1.0])
    np.testing.assert_allclose(z[0], [0.75, 0.25, 0.0])
    assert fig.data[0].texttemplate  # small matrix: values written in cells
    assert fig.layout.yaxis.title.text == "true class"
    assert fig.layout.xaxis.title.text == "predicted class"


def test_confusion_matrix_counts_and_no_text_when_large():
    fig = evaluation.confusion_matrix_figure(np.eye(25) * 4, [str(i) for i in range(25)], normalise_rows=False)
    assert _z(fig.data[0]).max() == 4
    assert fig.data[0].texttemplate is None


# ---------------------------------------------------------------- every figure


def _every_figure():
    probs = _probs(3, 4)
    return {
        "loss": training.loss_curve([1, 2], [1.0, 0.5], accuracy=[0.1, 0.2], title="你的训练损失"),
        "grad": training.grad_norm_chart([1, 2], [0.5, 2.0], [0.5, 1.0], threshold=1.0, title="梯度范数 你"),
        "hidden": state_figures.hidden_state_heatmap(np.zeros((3, 2)), "你好吗"),
        "softmax_heatmap": softmax.softmax_heatmap(probs, ["你", "好", " ", "\n"], "你好吗", targets=[0, 1, 2]),
        "softmax_bars": softmax.softmax_bars(probs, ["你", "好", " ", "\n"], "你好吗", targets=[0, 1, 2]),
        "accuracy": evaluation.accuracy_bars(["你", "好"], [0.5, 1.0]),
        "confusion": evaluation.confusion_matrix_figure(np.ones((2, 2)), ["你", "好"]),
    }


@pytest.mark.parametrize("name", list(_every_figure()))
def test_every_figure_is_titled_styled_and_serialisable(name):
    fig = _every_figure()[name]
    data = _round_trip(fig)
    assert fig.layout.title.text
    assert fig.layout.xaxis.title.text and fig.layout.yaxis.title.text
    assert fig.layout.font.size >= 14
    assert_styled_like_plotly_white(fig)
    assert 250 <= fig.layout.height <= 1100
    text = json.dumps(data, ensure_ascii=False)
    assert "你" in text  # Chinese labels survive serialisation


# ---------------------------------------------------------------- the unvalidated fast path


def _every_builder_output():
    """Every figure builder of rnnviz.viz on representative inputs, including empty ones."""
    from types import SimpleNamespace

    from rnnviz.viz import inside, language_model

    probs = _probs(4, 5)
    evaluations = [SimpleNamespace(step=10 * i, train_accuracy=0.5, test=SimpleNamespace(
        accuracy=0.4 + i / 10, balanced_accuracy=float("nan") if i == 1 else 0.3, n=100)) for i in range(3)]
    gates = {"input gate i": np.random.default_rng(0).random((4, 3)), "cell state c_t": np.full((4, 3), 2.5),
             "h_t": np.tanh(np.linspace(-2, 2, 12)).reshape(4, 3)}
    cases = [
        ("loss_curve", training.loss_curve([0, 1, 2, 3], [2.0, 0.0, float("nan"), 1.0], accuracy=[0.1, 0.2, 0.3, 0.4])),
        ("loss_curve", training.loss_curve([1, 2], [1e-9, 0.5], log_y=True)),
        ("loss_curve", training.loss_curve([], [])),
        ("grad_norm_chart", training.grad_norm_chart([0, 1, 2], [0.0, float("inf"), 5.0], [0.0, 1.0, 1.0], threshold=1.0)),
        ("grad_norm_chart", training.grad_norm_chart([1, 2], [0.5, 2.0], [0.5, 2.0], threshold=None)),
        ("grad_norm_chart", training.grad_norm_chart([], [], [], threshold=1.0)),
        ("hidden_state_heatmap", state_figures.hidden_state_heatmap(np.tanh(np.linspace(-3, 3, 12)).reshape(4, 3), "a b\n")),
        ("hidden_state_heatmap", state_figures.hidden_state_heatmap(np.full((20, 2), np.nan), "x" * 20, value_range=(0, 1),
                                                                     colorscale="Viridis", animate=False)),
        ("hidden_state_heatmap", state_figures.hidden_state_heatmap(np.zeros((0, 4)), "")),
        ("softmax_heatmap", softmax.softmax_heatmap(probs, list("abcde"), "abcd", targets=[1, -100, 2, 4], top_k=2)),
        ("softmax_heatmap", softmax.softmax_heatmap(np.zeros((0, 5)), list("abcde"), "")),
        ("softmax_bars", softmax.softmax_bars(probs, list("abcde"), "abcd", targets=[1, 2, 2, 4], top_k=2)),
        ("softmax_bars", softmax.softmax_bars(np.zeros((0, 5)), list("abcde"), "")),
        ("accuracy_bars", evaluation.accuracy_bars(["a", "b"], [0.5, float("nan")])),
        ("accuracy_bars", evaluation.accuracy_bars([], [])),
        ("confusion_matrix_figure", evaluation.confusion_matrix_figure(np.eye(3) * 2, list("abc"))),
        ("confusion_matrix_figure", evaluation.confusion_matrix_figure(np.eye(25), [], normalise_rows=False)),
        ("confusion_matrix_figure", evaluation.confusion_matrix_figure(np.zeros((0, 0)), [])),
        ("accuracy_figure", evaluation.accuracy_figure(evaluations, 0.47)),
        ("accuracy_figure", evaluation.accuracy_figure([])),
        ("class_counts_figure", evaluation.class_counts_figure({"Russian": (90, 10), "Czech": (5, 1)})),
        ("class_counts_figure", evaluation.class_counts_figure({})),
        ("perplexity_curve", language_model.perplexity_curve([1, 2], [90.0, float("nan")], [2], [80.0], vocab_size=97)),
        ("perplexity_curve", language_model.perplexity_curve([], [], [], [], vocab_size=97)),
        ("minibatch_layout_figure", language_model.minibatch_layout_figure(
            [(0, 0, 0, 35), (1, 0, 35, 70), (0, 1, 500, 535)], 1000, scheme="sequential", num_steps=35, batch_size=2)),
        ("minibatch_layout_figure", language_model.minibatch_layout_figure(
            [], 1000, scheme="random", num_steps=35, batch_size=40)),
        ("candidate_bars", language_model.candidate_bars(
            ["0·a", "1·b"], [list("xyz")] * 2, np.array([[0.5, 0.3, 0.2], [1.0, 0, 0]]), np.full((2, 3), 1 / 3), [0, 1])),
        ("candidate_bars", language_model.candidate_bars(
            ["0·a"], [list("xy")], np.array([[0.5, 0.5]]), np.array([[0.5, 0.5]]), [1], show_model=False)),
        ("candidate_bars", language_model.candidate_bars([], [], np.zeros((0, 3)), np.zeros((0, 3)), [])),
        ("text_activation_figure", language_model.text_activation_figure(list("分开 我\n"), [0.5, -0.5, 1.0, 0.0, 0.2],
                                                                         prefix_len=2, width=3)),
        ("text_activation_figure", language_model.text_activation_figure(list("ab"), [0.1, 0.9], value_range=(0, 1))),
        ("text_activation_figure", language_model.text_activation_figure([], [])),
        ("unit_heatmap", language_model.unit_heatmap(np.tanh(np.linspace(-2, 2, 40)).reshape(4, 10), "abcd", [7, 2],
                                                     animate=True)),
        ("unit_heatmap", language_model.unit_heatmap(np.zeros((4, 10)), "abcd", [])),
        ("metric_lines", inside.metric_lines({"a": ([0, 1], [0.0, 1e-3]), "b": ([], [])}, title="t", x_title="x",
                                             y_title="y", log_y=True, markers=True)),
        ("metric_lines", inside.metric_lines({"a": ([1, 2], [0.1, 0.9])}, title="t", x_title="x", y_title="y",
                                             reference=(0.25, "chance"), y_range=(0, 1.05))),
        ("metric_lines", inside.metric_lines({"a": ([], [])}, title="t", x_title="x", y_title="y")),
        ("gradient_heatmaps", inside.gradient_heatmaps(
            {"RNN": ([1, 2], np.array([[0.0, 1e-3, 1.0], [1e-6, np.nan, 50.0]])), "LSTM": ([], np.zeros((0, 3)))},
            title="g", x_title="t")),
        ("gradient_heatmaps", inside.gradient_heatmaps({"RNN": ([], np.zeros((0, 3)))}, title="g", x_title="t")),
        ("eigenvalue_figure", inside.eigenvalue_figure(np.array([0.5 + 0.5j, 0.5 - 0.5j, -0.9]), title="e")),
        ("eigenvalue_figure", inside.eigenvalue_figure(np.array([]), title="e")),
        ("gate_panel", inside.gate_panel(gates, list("ab c"), title="g")),
        ("gate_panel", inside.gate_panel({"h_t": np.zeros((1, 2))}, ["a"], title="g")),
        ("pca_trajectory", inside.pca_trajectory(np.cumsum(np.ones((5, 2)), axis=0), list("hello"), (0.9, 0.1), title="p")),
        ("tensor_blocks", inside.tensor_blocks([("x", (5, 3, 4), "#ffffff"), ("h", (3, 6), "#000000"), ("b", (7,), "#123456")],
                                               title="b")),
        ("tensor_blocks", inside.tensor_blocks([], title="b")),
    ]
    return cases


def _builders() -> set[str]:
    """The public functions of rnnviz.viz whose return annotation is go.Figure."""
    import inspect

    from rnnviz.viz import inside, language_model

    names = set()
    for module in (training, state_figures, softmax, evaluation, language_model, inside, style):
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if function.__module__ == module.__name__ and not name.startswith("_") and \
                    function.__annotations__.get("return") in ("go.Figure", go.Figure):
                names.add(name)
    return names


def test_every_builder_passes_plotlys_full_validator_unchanged():
    """The builders wrap their specs unvalidated (fast); Plotly's full validator must accept every
    output as it is and change nothing in it (e.g. a colour scale name plotly.js would not know)."""
    cases = _every_builder_output()
    assert _builders() - {"empty_figure", "figure", "state_heatmap"} <= {name for name, _ in cases}
    for name, fig in cases:
        assert isinstance(fig, go.Figure), name
        spec = fig.to_dict()
        validated = go.Figure(spec)  # raises on any invalid property
        assert validated.to_dict() == spec, name
        _round_trip(fig)


# -- heatmaps: drawn without gaps, with a grid of lines on their cell boundaries -----------------------

def _grid_segments(path: str) -> tuple[list[tuple[float, float, float]], list[tuple[float, float, float]]]:
    """(vertical, horizontal) segments of a cell_grid path, each as (position, start, end)."""
    vertical, horizontal = [], []
    for x, y, kind, end in re.findall(r"M(-?[\d.]+),(-?[\d.]+)([VH])(-?[\d.]+)", path):
        if kind == "V":
            vertical.append((float(x), float(y), float(end)))
        else:
            horizontal.append((float(y), float(x), float(end)))
    assert re.sub(r"M(-?[\d.]+),(-?[\d.]+)([VH])(-?[\d.]+)", "", path) == ""  # nothing else in the path
    return vertical, horizontal


def test_no_heatmap_asks_plotly_for_gaps_and_every_grid_lies_on_its_cell_boundaries():
    from tests.unit.test_i18n_viz import cases

    gridded = set()
    for name, fig in cases():
        heatmaps = {(t.xaxis or "x", t.yaxis or "y"): t for t in fig.data if t.type == "heatmap"}
        for trace in heatmaps.values():
            # with gaps, plotly.js paints every pixel of the chart and encodes it as a PNG
            assert trace.xgap is None and trace.ygap is None, name
        for shape in fig.layout.shapes or ():
            if shape.type != "path":
                continue
            trace = heatmaps[(shape.xref, shape.yref)]  # a grid is drawn over a heatmap on its own axes
            n_rows, n_columns = np.shape(np.asarray(trace.z, dtype=object))
            vertical, horizontal = _grid_segments(shape.path)
            expected_vertical = [(c - 0.5, -0.5, n_rows - 0.5) for c in range(1, n_columns)]
            expected_horizontal = [(r - 0.5, -0.5, n_columns - 0.5) for r in range(1, n_rows)]
            assert vertical == (expected_vertical if n_columns <= style.MAX_GRID_LINES else []), name
            assert horizontal == (expected_horizontal if n_rows <= style.MAX_GRID_LINES else []), name
            gridded.add(name)
    assert {"softmax_heatmap", "hidden_state_heatmap", "confusion_matrix_figure"} <= gridded


def test_a_grid_is_left_out_along_an_axis_of_many_cells():
    vertical, horizontal = _grid_segments(style.cell_grid(3, style.MAX_GRID_LINES + 1)["path"])
    assert [x for x, _start, _end in vertical] == [0.5, 1.5] and horizontal == []
    vertical, horizontal = _grid_segments(style.cell_grid(style.MAX_GRID_LINES + 1, 2)["path"])
    assert vertical == [] and horizontal == [(0.5, -0.5, style.MAX_GRID_LINES + 0.5)]


# --- the candidates grid (drawn as HTML by rnnviz/ui/plotly_chart.js) -------------------------------------


def test_grid_colours_are_the_ones_plotly_gives_a_heatmap():
    from plotly.colors import sample_colorscale

    values = np.array([[0.0, 0.031, 0.25, 0.5], [0.777, 0.9, 0.999, 1.0]])
    expected = sample_colorscale(style.colour_scale("Viridis"), values.ravel().tolist())
    as_hex = ["#{:02x}{:02x}{:02x}".format(*(round(float(c)) for c in rgb[4:-1].split(","))) for rgb in expected]
    assert style.scale_colours(values).ravel().tolist() == as_hex
    assert style.scale_colours(np.array([-0.5, 1.5])).tolist() == [as_hex[0], as_hex[-1]]  # clipped like zmin/zmax


def _contrast(colour: str, ink: tuple[int, int, int]) -> float:
    """WCAG 2 contrast ratio between two sRGB colours."""
    def luminance(rgb):
        linear = [c / 255 / 12.92 if c / 255 <= 0.04045 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in rgb]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    a, b = luminance([int(colour[i:i + 2], 16) for i in (1, 3, 5)]), luminance(ink)
    return (max(a, b) + 0.05) / (min(a, b) + 0.05)


def test_grid_ink_is_whichever_of_dark_and_white_contrasts_more():
    colours = style.scale_colours(np.linspace(0, 1, 41))
    dark = style.dark_ink_on(colours)
    for colour, is_dark in zip(colours, dark):
        assert is_dark == (_contrast(colour, (0, 0, 0)) > _contrast(colour, (255, 255, 255))), colour
    assert not dark[0] and dark[-1]  # white on Viridis' purple, dark on its yellow


def test_candidates_grid_lays_out_ranks_by_steps_and_marks_the_chosen():
    probs = np.array([[0.6, 0.3, 0.1], [0.5, 0.25, 0.2], [0.9, 0.05, 0.04]])
    grid = language_model.candidates_grid(["0·a", "1·b", "2·\n"], [list("ab "), list("xyz"), list("\n12")], probs,
                                          [0, 2, 7], title="t", subtitle="s")
    assert grid["cells"] == [["a", "x", "↵"], ["b", "y", "1"], ["␣", "z", "2"]]  # rows: ranks; whitespace shown
    assert grid["probs"] == probs.T.round(3).tolist()
    assert grid["colours"] == style.scale_colours(probs.T).tolist()
    assert grid["chosen"] == [0, 2, -1]  # the third step chose a character outside the top 3
    assert grid["rows"] == ["1st", "2nd", "3rd"] and grid["columns"] == ["0·a", "1·b", "2·\n"]
    assert (grid["title"], grid["subtitle"]) == ("t", "s") and not grid["narrow"]
    wide = language_model.candidates_grid([str(t) for t in range(30)], [list("ab")] * 30, np.full((30, 2), 0.5),
                                          [0] * 30)
    assert wide["narrow"] and len(wide["columns"]) == 30 and len(wide["cells"][0]) == 30
    empty = language_model.candidates_grid([], [], np.zeros((0, 3)), [])
    assert empty["cells"] == [] and empty["rows"] == [] and empty["subtitle"] == "Nothing generated yet."
    json.dumps(grid)  # goes to the browser as JSON
