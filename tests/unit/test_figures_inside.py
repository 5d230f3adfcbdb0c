"""Figure builders of the Inside the RNN pages."""
import json

import numpy as np

from rnnviz.viz import inside as fi


def test_metric_lines_one_trace_per_series_plus_reference_and_log_axis():
    fig = fi.metric_lines({"a": ([1, 2, 3], [0.1, 0.5, 0.9]), "b": ([1, 2, 3], [0.2, 0.2, 0.3])},
                          title="t", x_title="x", y_title="y", reference=(0.25, "chance"))
    assert [t.name for t in fig.data] == ["a", "b", "chance"]
    assert list(fig.data[2].y) == [0.25, 0.25]
    log = fi.metric_lines({"a": ([0, 1], [0.0, 1e-3])}, title="t", x_title="x", y_title="y", log_y=True)
    assert log.layout.yaxis.type == "log" and log.data[0].y[0] > 0  # zero drawn at the floor, not dropped
    empty = fi.metric_lines({"a": ([], [])}, title="Empty", x_title="x", y_title="y")
    assert "Empty" in empty.layout.title.text and not empty.data


def test_gradient_heatmaps_share_one_colour_scale():
    norms = np.array([[1e-9, 1e-3, 1.0], [1e-6, 1e-2, 0.5]])
    fig = fi.gradient_heatmaps({"RNN": ([1, 2], norms), "LSTM": ([1, 2], norms * 10)}, title="g", x_title="t")
    assert len(fig.data) == 2 and [t.showscale for t in fig.data] == [True, False]
    assert all(t.zmin == -8 and t.zmax == 1 for t in fig.data)
    expected = np.clip(np.log10(np.maximum(norms, 1e-12)), -8, 1)  # 1e-9 is shown as the floor, 1e-8
    np.testing.assert_allclose(np.array(fig.data[0].z, dtype=float), expected, atol=1e-3)


def test_eigenvalue_figure_draws_unit_circle_radius_and_points():
    eig = np.array([0.5 + 0.5j, 0.5 - 0.5j, -0.9])
    fig = fi.eigenvalue_figure(eig, title="e")
    names = [t.name for t in fig.data]
    assert names[0].startswith("unit circle") and "0.90" in names[1]
    np.testing.assert_allclose(fig.data[2].x, eig.real)
    assert fig.layout.yaxis.scaleanchor == "x"


def test_gate_panel_animates_every_panel_together():
    values = {"input gate i": np.random.rand(4, 3), "h_t": np.random.rand(4, 3) * 2 - 1}
    fig = fi.gate_panel(values, list("abcd"), title="g")
    assert len(fig.data) == 2 and len(fig.frames) == 4
    np.testing.assert_allclose(np.array(fig.data[0].z, dtype=float), values["input gate i"].T, atol=1e-4)
    # Every frame moves one mask per panel; frame 0 covers exactly the columns after timestep 0 in both.
    assert all(not frame.data and len(frame.layout.shapes) == 2 for frame in fig.frames)
    masks = fig.frames[0].layout.shapes
    assert [(m.xref, m.yref) for m in masks] == [(fig.data[0].xaxis, "y domain"), (fig.data[1].xaxis, "y2 domain")]
    assert all((m.x0, m.x1, m.visible) == (0.5, 3.5, True) for m in masks)
    assert not any(m.visible for m in fig.frames[-1].layout.shapes)  # the last timestep shows everything
    assert fig.data[0].zmin == 0 and fig.data[1].zmin == -1
    json.loads(fig.to_json())


def test_pca_trajectory_and_tensor_blocks():
    points = np.cumsum(np.ones((5, 2)), axis=0)
    fig = fi.pca_trajectory(points, list("hello"), (0.9, 0.1), title="p")
    assert len(fig.frames) == 5 and len(fig.frames[2].data[0].x) == 3
    blocks = fi.tensor_blocks([("x", (5, 3, 4), "#fff"), ("h", (3, 6), "#000")], title="b")
    assert len(blocks.layout.shapes) == 5 + 1  # five sheets of x (capped at 6), one sheet of h
    assert any("5 × 3 × 4" in a.text for a in blocks.layout.annotations)
