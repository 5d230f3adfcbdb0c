"""Training curves: loss (and accuracy) and gradient norms before and after clipping."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import plotly.graph_objects as go

from rnnviz.i18n import N_, _, translate
from rnnviz.viz.style import (
    AFTER_CLIP_COLOUR,
    BEFORE_CLIP_COLOUR,
    CORRECT_COLOUR,
    LOG_DISPLAY_FLOOR,
    THRESHOLD_COLOUR,
    as_array,
    empty_figure,
    figure,
    legend_on_top,
    log_axis,
    merge,
    numbers,
    rounded,
    significant,
    style_layout,
)

# ---------------------------------------------------------------- training curves


def loss_curve(
    steps: Sequence[int],
    losses: Sequence[float],
    *,
    title: str = N_("Training loss"),
    y_title: str = N_("cross-entropy loss"),
    accuracy: Sequence[float] | None = None,
    log_y: bool = False,
) -> go.Figure:
    """Loss against training step; optional accuracy (0..1) on a second y axis on the right.

    NaN/inf losses (a diverged run) cannot be drawn; they are dropped and counted in the subtitle.
    """
    title, y_title = translate(title), translate(y_title)
    step_values = as_array(steps, ndim=1)
    loss_values = as_array(losses, ndim=1)
    n = min(len(step_values), len(loss_values))
    if n == 0:
        return empty_figure(title, _("No training steps yet. Press Train to start."),
                             x_title=_("training step"), y_title=y_title)
    step_values, loss_values = step_values[:n], loss_values[:n]
    finite = np.isfinite(step_values) & np.isfinite(loss_values)
    shown_loss = loss_values[finite]
    if log_y:
        shown_loss = np.maximum(shown_loss, LOG_DISPLAY_FLOOR)

    data: list[dict[str, Any]] = [dict(
        type="scatter", x=numbers(step_values[finite]), y=significant(shown_loss, 5), mode="lines", name=_("loss"),
        line=dict(color=AFTER_CLIP_COLOUR, width=2.5),
        hovertemplate=_("step %{x}<br>loss = %{y:.4f}<extra></extra>"),
    )]
    dropped = int(n - finite.sum())
    subtitle = None
    if dropped == 1:
        subtitle = _("{count} non-finite loss value not shown", count=dropped)
    elif dropped:
        subtitle = _("{count} non-finite loss values not shown", count=dropped)
    layout = style_layout(title=title, subtitle=subtitle, height=420, x_title=_("training step"), y_title=y_title,
                          fixed_margins=True)
    if accuracy is not None:
        accuracy_values = as_array(accuracy, ndim=1)
        m = min(len(step_values), len(accuracy_values))
        ok = np.isfinite(step_values[:m]) & np.isfinite(accuracy_values[:m])
        data.append(dict(
            type="scatter", x=numbers(step_values[:m][ok]), y=rounded(accuracy_values[:m][ok]), mode="lines",
            name=_("accuracy"), yaxis="y2", line=dict(color=CORRECT_COLOUR, width=2.5),
            hovertemplate=_("step %{x}<br>accuracy = %{y:.1%}<extra></extra>"),
        ))
        merge(layout, dict(
            # tickmode "auto": plotly.js 4 defaults overlaying axes to "sync" (odd accuracy ticks).
            yaxis2=dict(title=dict(text=_("accuracy")), overlaying="y", side="right", range=[0, 1],
                        tickformat=".0%", tickmode="auto", showgrid=False),
            legend=legend_on_top(),
            margin=dict(r=70),
        ))
    else:
        layout["showlegend"] = False
    if log_y:
        layout["yaxis"].update(log_axis(shown_loss))
    return figure(data, layout)


def count_clipped(norm_before: Sequence[float], threshold: float | None) -> int:
    """How many steps had a gradient norm above the clip threshold (0 when clipping is off).

    An infinite norm counts as clipped (it is above any threshold); NaN does not.
    """
    if threshold is None:
        return 0
    norms = as_array(norm_before, ndim=1)
    with np.errstate(invalid="ignore"):
        return int(np.count_nonzero(norms > threshold))


def finite_points(steps: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (step, value) with both finite, values floored for a log axis."""
    n = min(len(steps), len(values))
    steps, values = steps[:n], values[:n]
    keep = np.isfinite(steps) & np.isfinite(values)
    return steps[keep], np.maximum(values[keep], LOG_DISPLAY_FLOOR)


def grad_norm_chart(
    steps: Sequence[int],
    norm_before: Sequence[float],
    norm_after: Sequence[float],
    *,
    threshold: float | None,
    title: str = N_("Gradient norm before and after clipping"),
) -> go.Figure:
    """Gradient norm per step on a log axis: before/after clipping, the threshold dashed,
    clipped steps marked, and "N of M steps clipped" (or "clipping off") as the subtitle.

    Zeros are drawn at 1e-12 (log axis); NaN/inf points are left out of the lines.
    """
    title = translate(title)
    step_values = as_array(steps, ndim=1)
    before = as_array(norm_before, ndim=1)
    after = as_array(norm_after, ndim=1)
    y_title = _("gradient norm ‖g‖ (log scale)")
    if len(step_values) == 0 or len(before) == 0:
        return empty_figure(title, _("No gradient norms yet. Press Train to start."),
                             x_title=_("training step"), y_title=y_title)

    data: list[dict[str, Any]] = []
    x, y = finite_points(step_values, before)
    data.append(dict(type="scatter", x=numbers(x), y=significant(y), mode="lines", name=_("before clipping"),
                     line=dict(color=BEFORE_CLIP_COLOUR, width=2),
                     hovertemplate=_("step %{x}<br>before: %{y:.3g}<extra></extra>")))
    x, y = finite_points(step_values, after)
    data.append(dict(type="scatter", x=numbers(x), y=significant(y), mode="lines", name=_("after clipping"),
                     line=dict(color=AFTER_CLIP_COLOUR, width=2),
                     hovertemplate=_("step %{x}<br>after: %{y:.3g}<extra></extra>")))

    n_steps = min(len(step_values), len(before))
    if threshold is None:
        subtitle = _("clipping off")
    else:
        n_clipped = count_clipped(before[:n_steps], threshold)
        subtitle = _("{clipped} of {total} steps clipped (threshold {threshold:g})",
                     clipped=n_clipped, total=n_steps, threshold=threshold)
        finite_steps = step_values[np.isfinite(step_values)]
        if np.isfinite(threshold) and finite_steps.size:
            # A trace, not a layout shape: it gets a legend entry and needs no log-axis coordinates.
            data.append(dict(
                type="scatter", x=numbers([finite_steps.min(), finite_steps.max()]),
                y=[float(threshold), float(threshold)], mode="lines", name=_("clip threshold = {threshold:g}", threshold=threshold),
                line=dict(color=THRESHOLD_COLOUR, width=2, dash="dash"), hoverinfo="skip",
            ))
        with np.errstate(invalid="ignore"):
            clipped = before[:n_steps] > threshold
        x, y = finite_points(step_values[:n_steps][clipped], before[:n_steps][clipped])
        data.append(dict(
            type="scatter", x=numbers(x), y=significant(y), mode="markers", name=_("clipped step"),
            marker=dict(color="#d62728", size=9, symbol="circle-open", line=dict(width=2)),
            hovertemplate=_("step %{x} clipped<br>norm was %{y:.3g}<extra></extra>"),
        ))
    layout = style_layout(title=title, subtitle=subtitle, height=470, x_title=_("training step"), y_title=y_title,
                          margin_bottom=110, fixed_margins=True)
    # Up to four entries: below the plot they never collide with the subtitle in a narrow column.
    merge(layout, dict(yaxis=log_axis(*(trace["y"] for trace in data)),
                       legend=dict(orientation="h", x=0, y=-0.2, yanchor="top")))
    return figure(data, layout)
