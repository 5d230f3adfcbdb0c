"""Figure builders for the "Inside the RNN" lessons (pure functions, Plotly out).

They share the look and the animation controls of ``rnnviz.viz.style``.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import plotly.colors
import plotly.graph_objects as go

from rnnviz.i18n import N_, _, translate
from rnnviz.viz.style import (
    LOG_DISPLAY_FLOOR,
    colour_scale,
    animation_controls,
    column_reveal,
    display_char,
    empty_figure,
    figure,
    log_axis,
    merge,
    numbers,
    rounded,
    significant,
    style_layout,
    unique_labels,
)

SERIES_COLOURS = ["#1f77b4", "#e4572e", "#2a9d4b", "#9467bd", "#8c564b", "#f2a541"]
LOG_NORM_RANGE = (-8.0, 1.0)  # log10 of gradient norms shown in the heatmaps
SUBPLOT_TITLE_FONT = dict(size=16)
# Magma with its first stop nudged off near-black: Streamlit's Plotly renderer replaces the exact
# "#000004" with a light theme colour, so vanished gradients would look bright instead of dark.
MAGMA = [[k / (len(plotly.colors.sequential.Magma) - 1), c] for k, c in enumerate(plotly.colors.sequential.Magma)]
MAGMA[0][1] = "#05030f"

# The panel names the lessons pass to gate_panel / replay.panels_replay (rnnviz.core.cells.GATE_NAMES,
# and the cell state): English keys, which decide each panel's colour range; shown translated.
PANEL_NAMES = (
    N_("input gate i"), N_("forget gate f"), N_("candidate g"), N_("output gate o"),
    N_("reset gate r"), N_("update gate z"), N_("candidate n"), N_("cell state c_t"),
)


def _log_safe(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    return np.where(np.isfinite(values), np.maximum(values, LOG_DISPLAY_FLOOR), np.nan)


def _axis(name: str, k: int) -> str:
    """Trace/shape reference of subplot k (1-based): "x", "x2", ..."""
    return name if k == 1 else f"{name}{k}"


def _domains(n: int, spacing: float) -> list[list[float]]:
    """n equal domains from 0 to 1 with ``spacing`` between them (as plotly.subplots.make_subplots)."""
    size = (1.0 - spacing * (n - 1)) / n
    return [[k * (size + spacing), k * (size + spacing) + size] for k in range(n)]


def _subplot_title(text: str, x: float, y: float) -> dict[str, Any]:
    return dict(text=text, x=x, y=y, xref="paper", yref="paper", xanchor="center", yanchor="bottom",
                showarrow=False, font=SUBPLOT_TITLE_FONT)


def metric_lines(
    series: dict[str, tuple[Sequence[float], Sequence[float]]],
    *,
    title: str,
    x_title: str,
    y_title: str,
    log_y: bool = False,
    reference: tuple[float, str] | None = None,
    y_range: tuple[float, float] | None = None,
    markers: bool = False,
) -> go.Figure:
    """One line per named series (x, y); an optional dashed reference line (value, label)."""
    if not any(len(x) for x, _y in series.values()):
        return empty_figure(title, _("No data yet. Press Train to start."), x_title=x_title, y_title=y_title)
    data: list[dict[str, Any]] = []
    for colour, (name, (x, y)) in zip(SERIES_COLOURS, series.items()):
        y = _log_safe(y) if log_y else np.asarray(y, dtype=float)
        data.append(dict(type="scatter", x=numbers(x), y=significant(y), name=name,
                         mode="lines+markers" if markers else "lines", line=dict(color=colour, width=2.5)))
    if reference is not None:
        value, label = reference
        xs = [x for x, _y in series.values() if len(x)]
        data.append(dict(type="scatter", x=numbers([min(min(x) for x in xs), max(max(x) for x in xs)]),
                         y=[float(value), float(value)], name=label, mode="lines",
                         line=dict(color="#555555", dash="dash", width=1.5)))
    # Legend under the plot: long titles and several series would collide above it.
    layout = style_layout(title=title, height=430, x_title=x_title, y_title=y_title, margin_bottom=110)
    layout["legend"] = dict(orientation="h", x=0, y=-0.22, yanchor="top")
    if log_y:
        merge(layout, dict(yaxis=log_axis(*(trace["y"] for trace in data))))
    elif y_range:
        layout["yaxis"]["range"] = list(y_range)
    return figure(data, layout)


def gradient_heatmaps(panels: dict[str, tuple[Sequence[int], np.ndarray]], *, title: str,
                      x_title: str) -> go.Figure:
    """One panel per model, side by side on one colour scale: training step (rows) × timestep
    (columns), coloured by log10 ‖∂L/∂h_t‖."""
    if not any(len(steps) for steps, _norms in panels.values()):
        return empty_figure(title, _("No training steps yet."), x_title=x_title, y_title=_("training step"))
    layout = style_layout(title=title, height=430, x_title=x_title, y_title=_("training step"))
    data: list[dict[str, Any]] = []
    annotations = []
    for col, ((name, (steps, norms)), domain) in enumerate(zip(panels.items(), _domains(len(panels), 0.03)), start=1):
        x_axis, y_axis = _axis("xaxis", col), _axis("yaxis", col)
        merge(layout, {x_axis: dict(anchor=_axis("y", col), domain=domain),
                       y_axis: dict(anchor=_axis("x", col), domain=[0.0, 1.0])})
        if col > 1:
            merge(layout, {y_axis: dict(matches="y", showticklabels=False)})
        annotations.append(_subplot_title(name, (domain[0] + domain[1]) / 2, 1.0))
        if not len(steps):
            continue
        norms = np.asarray(norms, dtype=float)
        data.append(dict(
            # Clamped into the colour range: a gradient that underflowed to 0 shows as the darkest colour.
            type="heatmap", xaxis=_axis("x", col), yaxis=_axis("y", col),
            z=rounded(np.clip(np.log10(_log_safe(norms)), LOG_NORM_RANGE[0], LOG_NORM_RANGE[1]), 3),
            x=list(range(norms.shape[1])), y=numbers(steps),
            colorscale=MAGMA, zmin=LOG_NORM_RANGE[0], zmax=LOG_NORM_RANGE[1], showscale=col == 1,
            colorbar=dict(title=dict(text="‖∂L/∂hₜ‖"), tickvals=[-8, -6, -4, -2, 0],
                          ticktext=["10⁻⁸", "10⁻⁶", "10⁻⁴", "10⁻²", "1"]),
            hovertemplate=_("{name}<br>step %{{y}}, t=%{{x}}: log₁₀‖∂L/∂h‖ = %{{z}}<extra></extra>", name=name),
        ))
        merge(layout, {x_axis: dict(title=dict(text=x_title))})
    layout["annotations"] = annotations
    return figure(data, layout)


def eigenvalue_figure(eigenvalues: np.ndarray, *, title: str) -> go.Figure:
    """Eigenvalues of W_hh in the complex plane, against the unit circle."""
    eigenvalues = np.asarray(eigenvalues)
    angle = np.linspace(0, 2 * np.pi, 200)
    radius = float(np.abs(eigenvalues).max()) if len(eigenvalues) else 0.0
    data = [
        dict(type="scatter", x=rounded(np.cos(angle)), y=rounded(np.sin(angle)), mode="lines",
             name=_("unit circle |λ| = 1"), line=dict(color="#555555", dash="dash")),
        dict(type="scatter", x=significant(radius * np.cos(angle)), y=significant(radius * np.sin(angle)),
             mode="lines", name=_("spectral radius {radius:.2f}", radius=radius), line=dict(color="#e4572e", width=1.5)),
        dict(type="scatter", x=significant(eigenvalues.real), y=significant(eigenvalues.imag), mode="markers",
             name=_("eigenvalues of W_hh"), marker=dict(size=9, color="#1f77b4", line=dict(color="white", width=1))),
    ]
    extent = max(1.2, radius * 1.15)
    layout = style_layout(title=title, height=460, x_title=_("real part"), y_title=_("imaginary part"),
                          margin_bottom=90)
    merge(layout, dict(xaxis=dict(range=[-extent, extent], zeroline=True),
                       yaxis=dict(range=[-extent, extent], scaleanchor="x", scaleratio=1, zeroline=True),
                       legend=dict(orientation="h", y=-0.2)))
    return figure(data, layout)


def gate_panel(
    values: dict[str, np.ndarray], input_chars: Sequence[str], *, title: str, animate: bool = True
) -> go.Figure:
    """Stacked heatmaps (one per named (steps, units) array) animated together over timesteps
    (or, with ``animate=False``, drawn whole: a view redrawn while training).

    Gates use 0..1; tanh quantities (candidate, h_t) −1..1; the cell state its own symmetric range.
    Every panel holds all its values once; frame t moves one plot-background rectangle per panel
    over the timesteps after t. **Initial state: all timesteps shown**; Play runs from timestep 0.
    The names are English keys (:data:`PANEL_NAMES`, "h_t"), shown translated.
    """
    names = list(values)
    steps = next(iter(values.values())).shape[0]
    labels = unique_labels(input_chars)
    n = len(names)

    def scale(name: str, array: np.ndarray) -> tuple[float, float, str]:
        if "gate" in name:
            return 0.0, 1.0, "Viridis"
        limit = 1.0 if ("candidate" in name or name.startswith("h")) else max(1.0, float(np.abs(array).max()))
        return -limit, limit, "RdBu_r"

    height = 120 + 95 * n
    layout = style_layout(title=title, height=height + (120 if animate else 0), x_title="", y_title="",
                          margin_bottom=150 if animate else 60)
    data: list[dict[str, Any]] = []
    annotations = []
    # Row 1 at the top, as plotly.subplots.make_subplots(shared_xaxes=True): the bottom x axis carries
    # the tick labels, the others follow it.
    for row, (name, domain) in enumerate(zip(names, reversed(_domains(n, 0.04))), start=1):
        array = np.asarray(values[name], dtype=float).T
        zmin, zmax, colours = scale(name, array)
        x_axis, y_axis = _axis("xaxis", row), _axis("yaxis", row)
        merge(layout, {x_axis: dict(anchor=_axis("y", row), domain=[0.0, 1.0], type="category"),
                       y_axis: dict(anchor=_axis("x", row), domain=domain, showticklabels=False)})
        if row < n:
            merge(layout, {x_axis: dict(matches=_axis("x", n), showticklabels=False)})
        shown = translate(name)
        annotations.append(_subplot_title(shown, 0.5, domain[1]))
        data.append(dict(
            type="heatmap", xaxis=_axis("x", row), yaxis=_axis("y", row),
            z=rounded(array), x=labels, y=[f"{row - 1}:{u}" for u in range(array.shape[0])],
            zmin=zmin, zmax=zmax, colorscale=colour_scale(colours), showscale=False,
            hovertemplate=_("{name}<br>t=%{{x}}, unit %{{customdata}}: %{{z:.3f}}<extra></extra>", name=shown),
            customdata=np.tile(np.arange(array.shape[0], dtype=np.int32)[:, None], (1, steps)),
        ))
    layout["annotations"] = annotations
    if not animate:
        return figure(data, layout)
    panel_px = (height - 95) * (1.0 - 0.04 * (n - 1)) / n  # the plot area (height - margins) shared by n panels
    layout["shapes"], frames = column_reveal(steps, [(_axis("x", row), _axis("y", row)) for row in range(1, n + 1)],
                                             pad=3 / panel_px)  # ~3 px, within the 0.04 spacing
    merge(layout, animation_controls(labels, active_frame=steps - 1, offset_px=40, current_prefix=_("up to ")))
    return figure(data, layout, frames)


def pca_trajectory(points: np.ndarray, input_chars: Sequence[str], explained: tuple[float, float], *,
                   title: str) -> go.Figure:
    """The hidden state's path through its two main directions, drawn step by step."""
    labels = [display_char(c) for c in input_chars]
    steps = len(points)
    pad = 0.15 * max(1e-6, float(np.abs(points).max()))
    x_range = [float(points[:, 0].min()) - pad, float(points[:, 0].max()) + pad]
    y_range = [float(points[:, 1].min()) - pad, float(points[:, 1].max()) + pad]
    xs, ys = significant(points[:, 0]), significant(points[:, 1])
    blues = colour_scale("Blues")
    now = _("now")

    def path(upto: int) -> list[dict[str, Any]]:
        return [
            dict(type="scatter", x=xs[: upto + 1], y=ys[: upto + 1], mode="lines+markers+text",
                 text=labels[: upto + 1], textposition="top center", line=dict(color="#1f77b4", width=2),
                 marker=dict(size=9, color=list(range(upto + 1)), colorscale=blues, cmin=-2, cmax=steps),
                 name="h_t", hovertemplate="t=%{customdata}: (%{x:.2f}, %{y:.2f})<extra></extra>",
                 customdata=list(range(upto + 1))),
            dict(type="scatter", x=xs[upto: upto + 1], y=ys[upto: upto + 1], mode="markers", name=now,
                 marker=dict(size=16, color="#e4572e", symbol="circle-open", line=dict(width=3))),
        ]

    subtitle = _("the two axes explain {first:.0%} and {second:.0%} of the variance of h_t",
                 first=explained[0], second=explained[1])
    layout = style_layout(title=title, subtitle=subtitle, height=560, x_title=_("principal component 1"),
                          y_title=_("principal component 2"), margin_bottom=150)
    merge(layout, dict(xaxis=dict(range=x_range), yaxis=dict(range=y_range), showlegend=False),
          animation_controls(unique_labels(input_chars), active_frame=steps - 1, offset_px=60,
                             current_prefix=_("up to ")))
    frames = [dict(name=str(t), data=path(t)) for t in range(steps)]
    return figure(path(steps - 1), layout, frames)


def tensor_blocks(tensors: list[tuple[str, tuple[int, ...], str]], *, title: str) -> go.Figure:
    """Draw each (name, shape, colour) as a stack of rectangles: the last two dims are the
    rectangle (rows × columns), a leading dim is the number of stacked sheets."""
    shapes: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    grey = dict(size=12, color="#555555")
    x_cursor, top = 0.0, 0.0
    offset = 0.25  # how far each sheet of a 3-D tensor is shifted
    for name, shape, colour in tensors:
        dims = list(shape)
        sheets = dims[0] if len(dims) == 3 else 1
        rows, cols = (dims[-2], dims[-1]) if len(dims) >= 2 else (1, dims[0])
        # Sizes grow with the dimension but are compressed, so a 512-wide tensor still fits.
        width = round(0.6 + 0.55 * float(np.log2(1 + cols)), 4)
        height = round(0.6 + 0.55 * float(np.log2(1 + rows)), 4)
        shown_sheets = min(sheets, 6)
        for k in reversed(range(shown_sheets)):
            x0, y0 = x_cursor + k * offset, k * offset
            shapes.append(dict(type="rect", x0=round(x0, 4), y0=y0, x1=round(x0 + width, 4), y1=round(y0 + height, 4),
                               line=dict(color="#333333", width=1), fillcolor=colour, opacity=0.85))
        depth = (shown_sheets - 1) * offset
        label = " × ".join(str(d) for d in dims)
        annotations += [
            dict(x=round(x_cursor + width / 2, 4), y=-0.3, text=f"<b>{name}</b><br>({label})", showarrow=False,
                 yanchor="top", font=dict(size=14)),
            dict(x=round(x_cursor - 0.08, 4), y=round(height / 2, 4), text=str(rows), showarrow=False,
                 xanchor="right", font=grey),
            dict(x=round(x_cursor + width / 2, 4), y=height, text=str(cols), showarrow=False, yanchor="bottom",
                 font=grey),
        ]
        if sheets > 1:
            annotations.append(dict(x=round(x_cursor + depth + width, 4), y=round(depth + height, 4),
                                    text=_("{count} deep", count=sheets), showarrow=False, xanchor="left", yanchor="bottom",
                                    font=grey))
        top = max(top, depth + height)
        x_cursor += width + depth + 1.8
    height_px = int(120 + 45 * (top + 2.2))
    layout = style_layout(title=title, height=min(460, max(240, height_px)), x_title="", y_title="")
    merge(layout, dict(
        xaxis=dict(visible=False, range=[-0.6, round(max(4.0, x_cursor - 1.0), 4)]),
        yaxis=dict(visible=False, range=[-1.6, round(top + 0.6, 4)], scaleanchor="x", scaleratio=1),
    ))
    if tensors:
        layout.update(shapes=shapes, annotations=annotations)
    return figure([], layout)
