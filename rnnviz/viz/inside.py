"""Figure builders for the "Inside the RNN" lessons (pure functions, Plotly out).

They share the look and the animation controls of ``rnnviz.figures``.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.colors
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from rnnviz.viz.style import (
    add_animation_controls,
    display_char,
    empty_figure,
    style_figure,
    unique_labels,
)

SERIES_COLOURS = ["#1f77b4", "#e4572e", "#2a9d4b", "#9467bd", "#8c564b", "#f2a541"]
LOG_FLOOR = 1e-12
LOG_NORM_RANGE = (-8.0, 1.0)  # log10 of gradient norms shown in the heatmaps
# Magma with its first stop nudged off near-black: Streamlit's Plotly renderer replaces the exact
# "#000004" with a light theme colour, so vanished gradients would look bright instead of dark.
MAGMA = [[k / (len(plotly.colors.sequential.Magma) - 1), c] for k, c in enumerate(plotly.colors.sequential.Magma)]
MAGMA[0][1] = "#05030f"


def _log_safe(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    return np.where(np.isfinite(values), np.maximum(values, LOG_FLOOR), np.nan)


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
    if not any(len(x) for x, _ in series.values()):
        return empty_figure(title, "No data yet. Press Train to start.", x_title=x_title, y_title=y_title)
    fig = go.Figure()
    for colour, (name, (x, y)) in zip(SERIES_COLOURS, series.items()):
        y = _log_safe(y) if log_y else np.asarray(y, dtype=float)
        fig.add_trace(go.Scatter(x=list(x), y=y, name=name, mode="lines+markers" if markers else "lines",
                                 line=dict(color=colour, width=2.5)))
    if reference is not None:
        value, label = reference
        xs = [x for x, _ in series.values() if len(x)]
        fig.add_trace(go.Scatter(x=[min(min(x) for x in xs), max(max(x) for x in xs)], y=[value, value],
                                 name=label, mode="lines", line=dict(color="#555555", dash="dash", width=1.5)))
    if log_y:
        fig.update_yaxes(type="log", exponentformat="power")
    elif y_range:
        fig.update_yaxes(range=list(y_range))
    # Legend under the plot: long titles and several series would collide above it.
    fig.update_layout(legend=dict(orientation="h", x=0, y=-0.22, yanchor="top"))
    return style_figure(fig, title=title, height=430, x_title=x_title, y_title=y_title, margin_bottom=110)


def gradient_heatmaps(panels: dict[str, tuple[Sequence[int], np.ndarray]], *, title: str,
                      x_title: str) -> go.Figure:
    """One panel per model, side by side on one colour scale: training step (rows) × timestep
    (columns), coloured by log10 ‖∂L/∂h_t‖."""
    if not any(len(steps) for steps, _ in panels.values()):
        return empty_figure(title, "No training steps yet.", x_title=x_title, y_title="training step")
    fig = make_subplots(rows=1, cols=len(panels), shared_yaxes=True, subplot_titles=list(panels),
                        horizontal_spacing=0.03)
    for col, (name, (steps, norms)) in enumerate(panels.items(), start=1):
        if not len(steps):
            continue
        fig.add_trace(go.Heatmap(
            # Clamped into the colour range: a gradient that underflowed to 0 shows as the darkest colour.
            z=np.round(np.clip(np.log10(_log_safe(norms)), LOG_NORM_RANGE[0], LOG_NORM_RANGE[1]), 3),
            x=list(range(norms.shape[1])), y=list(steps),
            colorscale=MAGMA, zmin=LOG_NORM_RANGE[0], zmax=LOG_NORM_RANGE[1], showscale=col == 1,
            colorbar=dict(title=dict(text="‖∂L/∂hₜ‖"), tickvals=[-8, -6, -4, -2, 0],
                          ticktext=["10⁻⁸", "10⁻⁶", "10⁻⁴", "10⁻²", "1"]),
            hovertemplate=f"{name}<br>step %{{y}}, t=%{{x}}: log₁₀‖∂L/∂h‖ = %{{z}}<extra></extra>",
        ), row=1, col=col)
        fig.update_xaxes(title_text=x_title, row=1, col=col)
    fig.update_yaxes(title_text="training step", row=1, col=1)
    return style_figure(fig, title=title, height=430, x_title=x_title, y_title="training step")


def eigenvalue_figure(eigenvalues: np.ndarray, *, title: str) -> go.Figure:
    """Eigenvalues of W_hh in the complex plane, against the unit circle."""
    angle = np.linspace(0, 2 * np.pi, 200)
    radius = float(np.abs(eigenvalues).max()) if len(eigenvalues) else 0.0
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=np.cos(angle), y=np.sin(angle), mode="lines", name="unit circle |λ| = 1",
                             line=dict(color="#555555", dash="dash")))
    fig.add_trace(go.Scatter(x=radius * np.cos(angle), y=radius * np.sin(angle), mode="lines",
                             name=f"spectral radius {radius:.2f}", line=dict(color="#e4572e", width=1.5)))
    fig.add_trace(go.Scatter(x=eigenvalues.real, y=eigenvalues.imag, mode="markers", name="eigenvalues of W_hh",
                             marker=dict(size=9, color="#1f77b4", line=dict(color="white", width=1))))
    extent = max(1.2, radius * 1.15)
    fig.update_xaxes(range=[-extent, extent], zeroline=True)
    fig.update_yaxes(range=[-extent, extent], scaleanchor="x", scaleratio=1, zeroline=True)
    fig.update_layout(legend=dict(orientation="h", y=-0.2))
    return style_figure(fig, title=title, height=460, x_title="real part", y_title="imaginary part", margin_bottom=90)


def gate_panel(
    values: dict[str, np.ndarray], input_chars: Sequence[str], *, title: str
) -> go.Figure:
    """Stacked heatmaps (one per named (steps, units) array) animated together over timesteps.

    Gates use 0..1; tanh quantities (candidate, h_t) −1..1; the cell state its own symmetric range.
    """
    names = list(values)
    steps = next(iter(values.values())).shape[0]
    labels = unique_labels(input_chars)
    fig = make_subplots(rows=len(names), cols=1, shared_xaxes=True, vertical_spacing=0.04,
                        subplot_titles=names)

    def scale(name: str, array: np.ndarray) -> tuple[float, float, str]:
        if "gate" in name:
            return 0.0, 1.0, "Viridis"
        limit = 1.0 if ("candidate" in name or name.startswith("h")) else max(1.0, float(np.abs(array).max()))
        return -limit, limit, "RdBu_r"

    def traces(upto: int) -> list[go.Heatmap]:
        out = []
        for row, name in enumerate(names):
            array = values[name].T.astype(float)
            shown = np.where(np.arange(steps)[None, :] <= upto, array, np.nan)
            zmin, zmax, colours = scale(name, array)
            out.append(go.Heatmap(
                z=np.round(shown, 4), x=labels, y=[f"{row}:{u}" for u in range(array.shape[0])],
                zmin=zmin, zmax=zmax, colorscale=colours, showscale=False,
                hovertemplate=f"{name}<br>t=%{{x}}, unit %{{customdata}}: %{{z:.3f}}<extra></extra>",
                customdata=np.tile(np.arange(array.shape[0])[:, None], (1, steps)),
            ))
        return out

    for row, trace in enumerate(traces(steps - 1), start=1):
        fig.add_trace(trace, row=row, col=1)
    fig.frames = [go.Frame(name=str(t), data=traces(t), traces=list(range(len(names)))) for t in range(steps)]
    fig.update_yaxes(showticklabels=False)
    fig.update_xaxes(type="category")
    height = 120 + 95 * len(names)
    style_figure(fig, title=title, height=height + 120, x_title="", y_title="", margin_bottom=150)
    add_animation_controls(fig, labels, active_frame=steps - 1, offset_px=40, current_prefix="up to ")
    return fig


def pca_trajectory(points: np.ndarray, input_chars: Sequence[str], explained: tuple[float, float], *,
                   title: str) -> go.Figure:
    """The hidden state's path through its two main directions, drawn step by step."""
    labels = [display_char(c) for c in input_chars]
    steps = len(points)
    pad = 0.15 * max(1e-6, float(np.abs(points).max()))
    x_range = [float(points[:, 0].min()) - pad, float(points[:, 0].max()) + pad]
    y_range = [float(points[:, 1].min()) - pad, float(points[:, 1].max()) + pad]

    def path(upto: int) -> list[go.Scatter]:
        shown = points[: upto + 1]
        return [
            go.Scatter(x=shown[:, 0], y=shown[:, 1], mode="lines+markers+text", text=labels[: upto + 1],
                       textposition="top center", line=dict(color="#1f77b4", width=2),
                       marker=dict(size=9, color=np.arange(upto + 1), colorscale="Blues", cmin=-2, cmax=steps),
                       name="h_t", hovertemplate="t=%{customdata}: (%{x:.2f}, %{y:.2f})<extra></extra>",
                       customdata=list(range(upto + 1))),
            go.Scatter(x=shown[-1:, 0], y=shown[-1:, 1], mode="markers", name="now",
                       marker=dict(size=16, color="#e4572e", symbol="circle-open", line=dict(width=3))),
        ]

    fig = go.Figure(data=path(steps - 1))
    fig.frames = [go.Frame(name=str(t), data=path(t)) for t in range(steps)]
    fig.update_xaxes(range=x_range)
    fig.update_yaxes(range=y_range)
    fig.update_layout(showlegend=False)
    style_figure(fig, title=title, subtitle=f"the two axes explain {explained[0]:.0%} and {explained[1]:.0%} "
           "of the variance of h_t", height=560, x_title="principal component 1",
           y_title="principal component 2", margin_bottom=150)
    add_animation_controls(fig, unique_labels(input_chars), active_frame=steps - 1, offset_px=60,
                            current_prefix="up to ")
    return fig


def tensor_blocks(tensors: list[tuple[str, tuple[int, ...], str]], *, title: str) -> go.Figure:
    """Draw each (name, shape, colour) as a stack of rectangles: the last two dims are the
    rectangle (rows × columns), a leading dim is the number of stacked sheets."""
    fig = go.Figure()
    x_cursor, top = 0.0, 0.0
    offset = 0.25  # how far each sheet of a 3-D tensor is shifted
    for name, shape, colour in tensors:
        dims = list(shape)
        sheets = dims[0] if len(dims) == 3 else 1
        rows, cols = (dims[-2], dims[-1]) if len(dims) >= 2 else (1, dims[0])
        # Sizes grow with the dimension but are compressed, so a 512-wide tensor still fits.
        width = 0.6 + 0.55 * np.log2(1 + cols)
        height = 0.6 + 0.55 * np.log2(1 + rows)
        shown_sheets = min(sheets, 6)
        for k in reversed(range(shown_sheets)):
            x0, y0 = x_cursor + k * offset, k * offset
            fig.add_shape(type="rect", x0=x0, y0=y0, x1=x0 + width, y1=y0 + height,
                          line=dict(color="#333333", width=1), fillcolor=colour, opacity=0.85)
        depth = (shown_sheets - 1) * offset
        label = " × ".join(str(d) for d in dims)
        fig.add_annotation(x=x_cursor + width / 2, y=-0.3, text=f"<b>{name}</b><br>({label})",
                           showarrow=False, yanchor="top", font=dict(size=14))
        fig.add_annotation(x=x_cursor - 0.08, y=height / 2, text=str(rows), showarrow=False, xanchor="right",
                           font=dict(size=12, color="#555555"))
        fig.add_annotation(x=x_cursor + width / 2, y=height, text=str(cols), showarrow=False, yanchor="bottom",
                           font=dict(size=12, color="#555555"))
        if sheets > 1:
            fig.add_annotation(x=x_cursor + depth + width, y=depth + height, text=f"{sheets} deep",
                               showarrow=False, xanchor="left", yanchor="bottom", font=dict(size=12, color="#555555"))
        top = max(top, depth + height)
        x_cursor += width + depth + 1.8
    fig.update_xaxes(visible=False, range=[-0.6, max(4.0, x_cursor - 1.0)])
    fig.update_yaxes(visible=False, range=[-1.6, top + 0.6], scaleanchor="x", scaleratio=1)
    height_px = int(120 + 45 * (top + 2.2))
    return style_figure(fig, title=title, height=min(460, max(240, height_px)), x_title="", y_title="")
