"""The softmax at every timestep: heatmaps and animated bars."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import plotly.graph_objects as go

from rnnviz.i18n import N_, _, translate
from rnnviz.viz.states import heatmap_height
from rnnviz.viz.style import (
    colour_scale,
    cell_grid,
    BAR_COLOUR,
    CORRECT_COLOUR,
    MAX_HORIZONTAL_TICKS,
    PREDICTION_COLOUR,
    TARGET_COLOUR,
    animation_controls,
    as_array,
    category_tick_angle,
    controls_offset,
    empty_figure,
    figure,
    LEGEND_ROW_PX,
    legend_below,
    legend_on_top,
    merge,
    padded_chars,
    rounded,
    style_layout,
    unique_class_labels,
    unique_labels,
    z_for_json,
)

# ---------------------------------------------------------------- softmax outputs


def _valid_targets(targets: Sequence[int] | None, n_steps: int, n_classes: int) -> list[int | None]:
    """One target per timestep, None where missing or out of range (e.g. an ignore index)."""
    if targets is None:
        return [None] * n_steps
    values = [int(t) for t in as_array(targets, ndim=1)[:n_steps]]
    values = [t if 0 <= t < n_classes else None for t in values]
    return values + [None] * (n_steps - len(values))


def _classes_to_show(probs: np.ndarray, targets: list[int | None], top_k: int | None) -> np.ndarray:
    """Class indices, in class order: all, or those in some timestep's top_k plus the targets."""
    n_classes = probs.shape[1]
    if top_k is None or n_classes <= top_k:
        return np.arange(n_classes)
    top = np.argsort(-probs, axis=1, kind="stable")[:, :top_k]
    keep = set(top.ravel().tolist()) | {t for t in targets if t is not None}
    return np.array(sorted(keep), dtype=int)


def softmax_heatmap(
    probs: np.ndarray,
    class_labels: Sequence[str],
    input_chars: Sequence[str],
    *,
    targets: Sequence[int] | None = None,
    title: str = N_("Softmax output at each timestep"),
    top_k: int | None = None,
    class_title: str = N_("output class"),
) -> go.Figure:
    """Classes (rows) × timesteps (columns), colour = probability 0..1.

    Markers: white diamond = argmax (the model's prediction), open square = target.
    With ``top_k``, only classes in some timestep's top_k (or a target) are shown.
    """
    title, class_title = translate(title), translate(class_title)
    probabilities = as_array(probs, ndim=2)
    n_steps, n_classes = probabilities.shape
    x_title = _("timestep · input character")
    if n_steps == 0 or n_classes == 0:
        return empty_figure(title, _("No output yet: type some input text."),
                             x_title=x_title, y_title=class_title)
    x_labels = unique_labels(padded_chars(input_chars, n_steps))
    all_y_labels = unique_class_labels(class_labels)
    target_per_step = _valid_targets(targets, n_steps, n_classes)
    shown = _classes_to_show(probabilities, target_per_step, top_k)
    y_labels = [all_y_labels[c] for c in shown]

    data: list[dict[str, Any]] = [dict(
        type="heatmap", z=z_for_json(probabilities[:, shown].T), x=x_labels, y=y_labels,
        colorscale=colour_scale("Viridis"), zmin=0.0, zmax=1.0,
        colorbar=dict(title=dict(text=_("probability")), thickness=18),
        hovertemplate=_("after %{x}<br>P(%{y}) = %{z:.3f}<extra></extra>"),
    )]
    predicted = np.argmax(np.nan_to_num(probabilities, nan=-1.0), axis=1)
    data.append(dict(
        type="scatter", x=x_labels, y=[all_y_labels[c] for c in predicted], mode="markers",
        name=_("predicted (argmax)"),
        marker=dict(symbol="diamond", size=9, color="white", line=dict(color="black", width=1.5)),
        hovertemplate=_("after %{x}: predicted %{y}<extra></extra>"),
    ))
    subtitle_parts = []
    if targets is not None:
        target_steps = [t for t in range(n_steps) if target_per_step[t] is not None]
        data.append(dict(
            type="scatter", x=[x_labels[t] for t in target_steps],
            y=[all_y_labels[target_per_step[t]] for t in target_steps],
            mode="markers", name=_("target"),
            marker=dict(symbol="square-open", size=17, color=TARGET_COLOUR, line=dict(width=3)),
            hovertemplate=_("after %{x}: target %{y}<extra></extra>"),
        ))
        n_correct = sum(predicted[t] == target_per_step[t] for t in target_steps)
        subtitle_parts.append(_("{correct} of {total} next characters predicted correctly",
                                correct=n_correct, total=len(target_steps)))
    if len(shown) < n_classes:
        subtitle_parts.append(_("showing {shown} of {total} classes (top {top_k} + targets)",
                                shown=len(shown), total=n_classes, top_k=top_k))

    height, bottom = heatmap_height(len(shown), animated=False, n_columns=n_steps)
    subtitle = " · ".join(subtitle_parts) or None
    axis_px = bottom  # the x tick labels and axis title
    if subtitle:  # the legend goes below the plot, with room for two rows
        height += 2 * LEGEND_ROW_PX
        bottom += 2 * LEGEND_ROW_PX
    layout = style_layout(title=title, subtitle=subtitle, height=height,
                          x_title=x_title, y_title=class_title, margin_bottom=bottom)
    legend = legend_below(layout, axis_px - 10) if subtitle else legend_on_top()
    merge(layout, dict(
        yaxis=dict(autorange="reversed", type="category", categoryorder="array", categoryarray=y_labels),
        xaxis=dict(type="category", categoryorder="array", categoryarray=x_labels,
                   tickangle=category_tick_angle(n_steps), showgrid=False),
        legend=legend, shapes=[cell_grid(n_steps, len(shown))],
    ))
    return figure(data, layout)


def _bar_frame_data(
    step_probs: np.ndarray, classes: np.ndarray, labels: list[str], target: int | None
) -> dict[str, Any]:
    """Bars for one timestep: argmax dark blue, target orange, both green."""
    predicted = int(np.argmax(np.nan_to_num(step_probs, nan=-1.0)))
    colour_and_text = {
        (True, True): (CORRECT_COLOUR, _("target ✓")),
        (True, False): (TARGET_COLOUR, _("target")),
        (False, True): (PREDICTION_COLOUR, _("predicted")),
        (False, False): (BAR_COLOUR, ""),
    }
    styles = [colour_and_text[(c == target, c == predicted)] for c in classes]
    colours = [colour for colour, _text in styles]
    texts = [text for _colour, text in styles]
    return dict(
        type="bar", x=[labels[c] for c in classes], y=rounded(np.nan_to_num(step_probs[classes])),
        marker=dict(color=colours), text=texts, textposition="outside",
    )


def softmax_bars(
    probs: np.ndarray,
    class_labels: Sequence[str],
    input_chars: Sequence[str],
    *,
    targets: Sequence[int] | None = None,
    top_k: int | None = None,
    title: str = N_("Next-character distribution at each timestep"),
    class_title: str = N_("output class"),
) -> go.Figure:
    """Animated bars: frame t is the softmax distribution after reading input t.

    All classes in class order, or with ``top_k`` the top_k classes of that timestep sorted
    by probability (plus the target if it is not among them). Colours: dark blue =
    prediction (argmax), orange = target, green = target predicted correctly.
    **Initial state: frame 0** (the first timestep); y is fixed at 0..1.
    """
    title, class_title = translate(title), translate(class_title)
    probabilities = as_array(probs, ndim=2)
    n_steps, n_classes = probabilities.shape
    if n_steps == 0 or n_classes == 0:
        return empty_figure(title, _("No output yet: type some input text."),
                             x_title=class_title, y_title=_("probability"))
    step_labels = unique_labels(padded_chars(input_chars, n_steps))
    labels = unique_class_labels(class_labels)
    target_per_step = _valid_targets(targets, n_steps, n_classes)

    def classes_at(t: int) -> np.ndarray:
        if top_k is None or n_classes <= top_k:
            return np.arange(n_classes)
        order = np.argsort(-np.nan_to_num(probabilities[t], nan=-1.0), kind="stable")
        chosen = list(order[:top_k])
        if target_per_step[t] is not None and target_per_step[t] not in chosen:
            chosen.append(target_per_step[t])  # show how little mass the target got
        return np.array(chosen, dtype=int)

    bars = [_bar_frame_data(probabilities[t], classes_at(t), labels, target_per_step[t]) for t in range(n_steps)]
    first = merge(dict(bars[0]), dict(hovertemplate="%{x}: p = %{y:.3f}<extra></extra>", cliponaxis=False,
                                      constraintext="none", textfont=dict(size=13)))
    frames = [dict(name=str(t), traces=[0], data=[bar]) for t, bar in enumerate(bars)]

    n_bars = max(len(bar["x"]) for bar in bars)
    # The subtitle is the legend: one coloured square and label per entry.
    entries = [(PREDICTION_COLOUR, _("predicted (argmax)"))]
    if targets is not None:
        entries += [(TARGET_COLOUR, _("target")), (CORRECT_COLOUR, _("target predicted"))]
    legend = "   ".join(f"<span style='color:{colour}'>■</span> {label}" for colour, label in entries)
    offset = controls_offset(n_bars)
    layout = style_layout(title=title, subtitle=legend, height=560 + (30 if n_bars > MAX_HORIZONTAL_TICKS else 0),
                          x_title=class_title, y_title=_("probability"), margin_bottom=offset + 95)
    merge(layout,
          dict(yaxis=dict(range=[0, 1], fixedrange=True),
               xaxis=dict(type="category", tickangle=category_tick_angle(n_bars)), showlegend=False, bargap=0.15),
          animation_controls(step_labels, active_frame=0, offset_px=offset, current_prefix=_("after ")))
    return figure([first], layout, frames)
