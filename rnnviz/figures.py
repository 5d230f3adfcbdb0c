"""Plotly figure builders for the lessons.

Every function here is pure: numpy arrays or lists in, a ``plotly.graph_objects.Figure``
out. Nothing imports streamlit or torch (a torch tensor is accepted and turned into a
numpy array). The look follows DESIGN.md "Visual language":

* time runs left to right and each column is labelled ``"<t>·<char>"`` so that repeated
  characters stay separate columns (Plotly merges repeated category labels);
* tanh states use a diverging scale fixed at -1..1 in every frame, gates and
  probabilities a sequential 0..1 scale;
* animations are Plotly frames with Play/Pause buttons and a timestep slider, so they
  play in the browser without a server round trip.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import plotly.graph_objects as go

__all__ = [
    "display_char",
    "unique_labels",
    "loss_curve",
    "count_clipped",
    "grad_norm_chart",
    "hidden_state_heatmap",
    "softmax_heatmap",
    "softmax_bars",
    "accuracy_bars",
    "confusion_matrix_figure",
]

# Latin font first, then CJK fallbacks, so Chinese labels never show as boxes.
FONT_FAMILY = "Inter, 'Noto Sans CJK SC', 'Microsoft YaHei', 'PingFang SC', sans-serif"
BASE_FONT_SIZE = 15  # readable on a classroom projector
FRAME_DURATION_MS = 400
LOG_DISPLAY_FLOOR = 1e-12  # zeros cannot be drawn on a log axis

BAR_COLOUR = "#a9bcd6"
PREDICTION_COLOUR = "#1f3b73"
TARGET_COLOUR = "#e4572e"
CORRECT_COLOUR = "#2a9d4b"
BEFORE_CLIP_COLOUR = "#f28e2b"
AFTER_CLIP_COLOUR = "#1f77b4"
THRESHOLD_COLOUR = "#555555"

# Above this many categories the x tick labels are turned vertical, and above
# MAX_SLIDER_TICK_LABELS the slider's own tick labels are hidden (they would overlap;
# the slider's current-value read-out still names the timestep).
MAX_HORIZONTAL_TICKS = 16
MAX_SLIDER_TICK_LABELS = 30
MAX_CELLS_WITH_TEXT = 20


# ---------------------------------------------------------------- labels


def display_char(text: str) -> str:
    """Make whitespace visible: space -> "␣", newline -> "↵", tab -> "⇥", "" -> "∅"."""
    text = str(text)
    if text == "":
        return "∅"
    return text.replace(" ", "␣").replace("\n", "↵").replace("\r", "↵").replace("\t", "⇥")


def unique_labels(chars: Sequence[str]) -> list[str]:
    """Timestep column labels that never repeat: "hello" -> ["0·h", "1·e", "2·l", "3·l", "4·o"]."""
    return [f"{t}·{display_char(c)}" for t, c in enumerate(chars)]


def _padded_chars(input_chars: Sequence[str], n_steps: int) -> list[str]:
    """The input characters padded with "?" to n_steps (hover text needs one per column)."""
    chars = [str(c) for c in list(input_chars)[:n_steps]]
    return chars + ["?"] * (n_steps - len(chars))


def _unique_class_labels(class_labels: Sequence[Any]) -> list[str]:
    """Visible class labels; a label that occurs twice gets its class index appended."""
    shown = [display_char(label) for label in class_labels]
    counts: dict[str, int] = {}
    for label in shown:
        counts[label] = counts.get(label, 0) + 1
    return [label if counts[label] == 1 else f"{label} [{i}]" for i, label in enumerate(shown)]


# ---------------------------------------------------------------- small helpers


def _as_array(values: Any, ndim: int | None = None) -> np.ndarray:
    """Float numpy array from a list, numpy array or (CPU or GPU) torch tensor."""
    if hasattr(values, "detach"):  # torch tensor, without importing torch
        values = values.detach().cpu().numpy()
    array = np.asarray(values if values is not None else [], dtype=float)
    if ndim is not None and array.size == 0:
        array = array.reshape((0,) * ndim)
    if ndim is not None and array.ndim != ndim:
        raise ValueError(f"expected a {ndim}-D array, got shape {array.shape}")
    return array


def _z_for_json(matrix: np.ndarray) -> list[list[float | None]]:
    """Nested lists with None for NaN/inf, so blank cells are unambiguous gaps in Plotly."""
    rounded = np.round(matrix, 4)
    return [[float(v) if np.isfinite(v) else None for v in row] for row in rounded]


def _style(
    fig: go.Figure,
    *,
    title: str,
    subtitle: str | None = None,
    height: int,
    x_title: str,
    y_title: str,
    margin_bottom: int = 60,
) -> go.Figure:
    """The look shared by every figure: white template, big fonts, title, axis titles."""
    title_spec: dict[str, Any] = dict(text=title, x=0.01, xanchor="left", font=dict(size=20))
    if subtitle:
        title_spec["subtitle"] = dict(text=subtitle, font=dict(size=14, color="#555555"))
    fig.update_layout(
        template="plotly_white",
        title=title_spec,
        font=dict(family=FONT_FAMILY, size=BASE_FONT_SIZE),
        hoverlabel=dict(font=dict(family=FONT_FAMILY, size=BASE_FONT_SIZE)),
        height=height,
        margin=dict(l=70, r=30, t=95 if subtitle else 65, b=margin_bottom),
    )
    # Only the primary axes: a secondary y axis keeps its own title.
    fig.update_layout(xaxis_title_text=x_title, yaxis_title_text=y_title)
    return fig


def _empty_figure(title: str, message: str, *, x_title: str, y_title: str, height: int = 380) -> go.Figure:
    """A titled, labelled figure with a centred message instead of data."""
    fig = go.Figure()
    fig.add_annotation(
        text=message, xref="paper", yref="paper", x=0.5, y=0.5,
        showarrow=False, font=dict(size=18, color="#777777"),
    )
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False)
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False)
    return _style(fig, title=title, height=height, x_title=x_title, y_title=y_title)


def _legend_on_top() -> dict[str, Any]:
    return dict(orientation="h", x=1, xanchor="right", y=1.0, yanchor="bottom")


def _category_tick_angle(n_categories: int) -> int:
    return 0 if n_categories <= MAX_HORIZONTAL_TICKS else -90


def _controls_offset(n_categories: int) -> int:
    """Pixels between the plot area and the animation controls: clears tick labels and axis title."""
    return 70 if n_categories <= MAX_HORIZONTAL_TICKS else 100


def _add_animation_controls(
    fig: go.Figure,
    frame_labels: Sequence[str],
    *,
    active_frame: int,
    offset_px: int,
    current_prefix: str = "",
    duration_ms: int = FRAME_DURATION_MS,
) -> go.Figure:
    """Play/Pause buttons and a timestep slider for frames named "0", "1", ...

    Used by every animated figure so the controls look and behave the same everywhere.
    """
    jump = {"frame": {"duration": 0, "redraw": True}, "transition": {"duration": 0}, "mode": "immediate"}
    play = dict(
        label="▶ Play",
        method="animate",
        # fromcurrent: Play after Pause resumes; after the last frame it starts over.
        args=[None, {"frame": {"duration": duration_ms, "redraw": True},
                     "transition": {"duration": 0}, "fromcurrent": True, "mode": "immediate"}],
    )
    pause = dict(
        label="❚❚ Pause",
        method="animate",
        args=[[None], {"frame": {"duration": 0, "redraw": False},
                       "transition": {"duration": 0}, "mode": "immediate"}],
    )
    steps = [dict(label=label, method="animate", args=[[str(k)], jump]) for k, label in enumerate(frame_labels)]
    crowded = len(frame_labels) > MAX_SLIDER_TICK_LABELS
    fig.update_layout(
        updatemenus=[dict(
            type="buttons", direction="left", showactive=False, buttons=[play, pause],
            x=0, xanchor="left", y=0, yanchor="top", pad=dict(t=offset_px + 28, r=10),
        )],
        sliders=[dict(
            active=active_frame, steps=steps,
            x=0.22, len=0.78, xanchor="left", y=0, yanchor="top", pad=dict(t=offset_px, b=10),
            currentvalue=dict(prefix=current_prefix, font=dict(size=16, color="#222222"), xanchor="left"),
            font=dict(size=12, color="rgba(0,0,0,0)" if crowded else "#444444"),
            transition=dict(duration=0),
        )],
    )
    return fig


# ---------------------------------------------------------------- training curves


def loss_curve(
    steps: Sequence[int],
    losses: Sequence[float],
    *,
    title: str = "Training loss",
    y_title: str = "cross-entropy loss",
    accuracy: Sequence[float] | None = None,
    log_y: bool = False,
) -> go.Figure:
    """Loss against training step; optional accuracy (0..1) on a second y axis on the right.

    NaN/inf losses (a diverged run) cannot be drawn; they are dropped and counted in the subtitle.
    """
    step_values = _as_array(steps, ndim=1)
    loss_values = _as_array(losses, ndim=1)
    n = min(len(step_values), len(loss_values))
    if n == 0:
        return _empty_figure(title, "No training steps yet. Press Train to start.",
                             x_title="training step", y_title=y_title)
    step_values, loss_values = step_values[:n], loss_values[:n]
    finite = np.isfinite(step_values) & np.isfinite(loss_values)
    shown_loss = loss_values[finite]
    if log_y:
        shown_loss = np.maximum(shown_loss, LOG_DISPLAY_FLOOR)

    fig = go.Figure(go.Scatter(
        x=step_values[finite], y=shown_loss, mode="lines", name="loss",
        line=dict(color=AFTER_CLIP_COLOUR, width=2.5),
        hovertemplate="step %{x}<br>loss = %{y:.4f}<extra></extra>",
    ))
    if accuracy is not None:
        accuracy_values = _as_array(accuracy, ndim=1)
        m = min(len(step_values), len(accuracy_values))
        ok = np.isfinite(step_values[:m]) & np.isfinite(accuracy_values[:m])
        fig.add_trace(go.Scatter(
            x=step_values[:m][ok], y=accuracy_values[:m][ok], mode="lines", name="accuracy",
            yaxis="y2", line=dict(color=CORRECT_COLOUR, width=2.5),
            hovertemplate="step %{x}<br>accuracy = %{y:.1%}<extra></extra>",
        ))
        fig.update_layout(
            # tickmode "auto": plotly.js 4 defaults overlaying axes to "sync" (odd accuracy ticks).
            yaxis2=dict(title=dict(text="accuracy"), overlaying="y", side="right", range=[0, 1],
                        tickformat=".0%", tickmode="auto", showgrid=False),
            legend=_legend_on_top(),
        )
    else:
        fig.update_layout(showlegend=False)
    if log_y:
        fig.update_layout(yaxis=dict(type="log"))
    dropped = int(n - finite.sum())
    subtitle = f"{dropped} non-finite loss value{'s' if dropped != 1 else ''} not shown" if dropped else None
    _style(fig, title=title, subtitle=subtitle, height=420, x_title="training step", y_title=y_title)
    if accuracy is not None:
        fig.update_layout(margin=dict(r=70))
    return fig


def count_clipped(norm_before: Sequence[float], threshold: float | None) -> int:
    """How many steps had a gradient norm above the clip threshold (0 when clipping is off).

    An infinite norm counts as clipped (it is above any threshold); NaN does not.
    """
    if threshold is None:
        return 0
    norms = _as_array(norm_before, ndim=1)
    with np.errstate(invalid="ignore"):
        return int(np.count_nonzero(norms > threshold))


def _finite_points(steps: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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
    title: str = "Gradient norm before and after clipping",
) -> go.Figure:
    """Gradient norm per step on a log axis: before/after clipping, the threshold dashed,
    clipped steps marked, and "N of M steps clipped" (or "clipping off") as the subtitle.

    Zeros are drawn at 1e-12 (log axis); NaN/inf points are left out of the lines.
    """
    step_values = _as_array(steps, ndim=1)
    before = _as_array(norm_before, ndim=1)
    after = _as_array(norm_after, ndim=1)
    y_title = "gradient norm ‖g‖ (log scale)"
    if len(step_values) == 0 or len(before) == 0:
        return _empty_figure(title, "No gradient norms yet. Press Train to start.",
                             x_title="training step", y_title=y_title)

    fig = go.Figure()
    x, y = _finite_points(step_values, before)
    fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name="before clipping",
                             line=dict(color=BEFORE_CLIP_COLOUR, width=2),
                             hovertemplate="step %{x}<br>before: %{y:.3g}<extra></extra>"))
    x, y = _finite_points(step_values, after)
    fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name="after clipping",
                             line=dict(color=AFTER_CLIP_COLOUR, width=2),
                             hovertemplate="step %{x}<br>after: %{y:.3g}<extra></extra>"))

    n_steps = min(len(step_values), len(before))
    if threshold is None:
        subtitle = "clipping off"
    else:
        n_clipped = count_clipped(before[:n_steps], threshold)
        subtitle = f"{n_clipped} of {n_steps} steps clipped (threshold {threshold:g})"
        finite_steps = step_values[np.isfinite(step_values)]
        if np.isfinite(threshold) and finite_steps.size:
            # A trace, not a layout shape: it gets a legend entry and needs no log-axis coordinates.
            fig.add_trace(go.Scatter(
                x=[finite_steps.min(), finite_steps.max()], y=[threshold, threshold], mode="lines",
                name=f"clip threshold = {threshold:g}",
                line=dict(color=THRESHOLD_COLOUR, width=2, dash="dash"), hoverinfo="skip",
            ))
        with np.errstate(invalid="ignore"):
            clipped = before[:n_steps] > threshold
        x, y = _finite_points(step_values[:n_steps][clipped], before[:n_steps][clipped])
        fig.add_trace(go.Scatter(
            x=x, y=y, mode="markers", name="clipped step",
            marker=dict(color="#d62728", size=9, symbol="circle-open", line=dict(width=2)),
            hovertemplate="step %{x} clipped<br>norm was %{y:.3g}<extra></extra>",
        ))
    fig.update_yaxes(type="log")
    # Up to four entries: below the plot they never collide with the subtitle in a narrow column.
    fig.update_layout(legend=dict(orientation="h", x=0, y=-0.2, yanchor="top"))
    return _style(fig, title=title, subtitle=subtitle, height=470,
                  x_title="training step", y_title=y_title, margin_bottom=110)


# ---------------------------------------------------------------- hidden states


def _heatmap_height(n_rows: int, *, animated: bool, n_columns: int) -> tuple[int, int]:
    """(figure height, bottom margin) for a heatmap with n_rows rows."""
    plot_height = int(np.clip(n_rows * 24, 200, 560))
    bottom = _controls_offset(n_columns) + 95 if animated else 70 + (35 if n_columns > MAX_HORIZONTAL_TICKS else 0)
    return plot_height + bottom + 90, bottom


def hidden_state_heatmap(
    hidden_states: np.ndarray,
    input_chars: Sequence[str],
    *,
    title: str = "Hidden state h_t over time",
    value_range: tuple[float, float] = (-1.0, 1.0),
    colorscale: str = "RdBu_r",
    unit_label: str = "hidden unit",
    animate: bool = True,
    unit_prefix: str = "h",
    colorbar_title: str = "value",
) -> go.Figure:
    """Units (rows, ``h[0]`` at the top) × timesteps (columns, ``"2·l"``), colour = value.

    The colour range is fixed at ``value_range`` in the data and in every frame, so a colour
    means the same number throughout. ``zmid=0`` is set when the range is symmetric about 0
    (tanh states); gates use e.g. ``value_range=(0, 1), colorscale="Viridis"``.

    Animation (``animate=True``): frame k shows timesteps 0..k and blanks the rest.
    **Initial state: all timesteps filled** (the slider starts on the last timestep), so a
    static screenshot is informative; Play runs from timestep 0.
    """
    states = _as_array(hidden_states, ndim=2)
    n_steps, n_units = states.shape
    x_title = "timestep · input character"
    if n_steps == 0 or n_units == 0:
        return _empty_figure(title, "No sequence yet: type some input text.",
                             x_title=x_title, y_title=unit_label)
    chars = _padded_chars(input_chars, n_steps)
    x_labels = unique_labels(chars)
    y_labels = [f"{unit_prefix}[{i}]" for i in range(n_units)]
    # Hover reads "t=2 'l', h[1] = 0.53"; the value comes from z, so frames need no text.
    hover_text = [[f"t={t} '{display_char(c)}', {y}" for t, c in enumerate(chars)] for y in y_labels]

    z_min, z_max = float(value_range[0]), float(value_range[1])
    colour_range: dict[str, Any] = dict(zmin=z_min, zmax=z_max)
    if np.isclose(z_min, -z_max):
        colour_range["zmid"] = 0.0  # diverging scale centred on 0 (zmin/zmax already enforce it)

    z = states.T  # rows = units, columns = time
    fig = go.Figure(go.Heatmap(
        z=_z_for_json(z), x=x_labels, y=y_labels, colorscale=colorscale, **colour_range,
        text=hover_text, hovertemplate="%{text} = %{z:.2f}<extra></extra>", hoverongaps=False,
        xgap=1, ygap=1, colorbar=dict(title=dict(text=colorbar_title), thickness=18),
    ))
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(type="category", tickangle=_category_tick_angle(n_steps), showgrid=False)
    height, bottom = _heatmap_height(n_units, animated=animate, n_columns=n_steps)
    _style(fig, title=title, height=height, x_title=x_title, y_title=unit_label, margin_bottom=bottom)
    if not animate:
        return fig

    frames = []
    for k in range(n_steps):
        partial = z.copy()
        partial[:, k + 1:] = np.nan  # timesteps not yet reached are blank
        frames.append(go.Frame(name=str(k), traces=[0],
                               data=[go.Heatmap(z=_z_for_json(partial), **colour_range)]))
    fig.frames = frames
    return _add_animation_controls(fig, x_labels, active_frame=n_steps - 1,
                                   offset_px=_controls_offset(n_steps), current_prefix="up to ")


# ---------------------------------------------------------------- softmax outputs


def _valid_targets(targets: Sequence[int] | None, n_steps: int, n_classes: int) -> list[int | None]:
    """One target per timestep, None where missing or out of range (e.g. an ignore index)."""
    if targets is None:
        return [None] * n_steps
    values = [int(t) for t in _as_array(targets, ndim=1)[:n_steps]]
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
    title: str = "Softmax output at each timestep",
    top_k: int | None = None,
    class_title: str = "output class",
) -> go.Figure:
    """Classes (rows) × timesteps (columns), colour = probability 0..1.

    Markers: white diamond = argmax (the model's prediction), open square = target.
    With ``top_k``, only classes in some timestep's top_k (or a target) are shown.
    """
    probabilities = _as_array(probs, ndim=2)
    n_steps, n_classes = probabilities.shape
    x_title = "timestep · input character"
    if n_steps == 0 or n_classes == 0:
        return _empty_figure(title, "No output yet: type some input text.",
                             x_title=x_title, y_title=class_title)
    x_labels = unique_labels(_padded_chars(input_chars, n_steps))
    all_y_labels = _unique_class_labels(class_labels)
    target_per_step = _valid_targets(targets, n_steps, n_classes)
    shown = _classes_to_show(probabilities, target_per_step, top_k)
    y_labels = [all_y_labels[c] for c in shown]

    fig = go.Figure(go.Heatmap(
        z=_z_for_json(probabilities[:, shown].T), x=x_labels, y=y_labels,
        colorscale="Viridis", zmin=0.0, zmax=1.0, xgap=1, ygap=1,
        colorbar=dict(title=dict(text="probability"), thickness=18),
        hovertemplate="after %{x}<br>P(%{y}) = %{z:.3f}<extra></extra>",
    ))
    predicted = np.argmax(np.nan_to_num(probabilities, nan=-1.0), axis=1)
    fig.add_trace(go.Scatter(
        x=x_labels, y=[all_y_labels[c] for c in predicted], mode="markers", name="predicted (argmax)",
        marker=dict(symbol="diamond", size=9, color="white", line=dict(color="black", width=1.5)),
        hovertemplate="after %{x}: predicted %{y}<extra></extra>",
    ))
    subtitle_parts = []
    if targets is not None:
        target_steps = [t for t in range(n_steps) if target_per_step[t] is not None]
        fig.add_trace(go.Scatter(
            x=[x_labels[t] for t in target_steps],
            y=[all_y_labels[target_per_step[t]] for t in target_steps],
            mode="markers", name="target",
            marker=dict(symbol="square-open", size=17, color=TARGET_COLOUR, line=dict(width=3)),
            hovertemplate="after %{x}: target %{y}<extra></extra>",
        ))
        n_correct = sum(predicted[t] == target_per_step[t] for t in target_steps)
        subtitle_parts.append(f"{n_correct} of {len(target_steps)} next characters predicted correctly")
    if len(shown) < n_classes:
        subtitle_parts.append(f"showing {len(shown)} of {n_classes} classes (top {top_k} + targets)")

    fig.update_yaxes(autorange="reversed", type="category", categoryorder="array", categoryarray=y_labels)
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=x_labels,
                     tickangle=_category_tick_angle(n_steps), showgrid=False)
    fig.update_layout(legend=_legend_on_top())
    height, bottom = _heatmap_height(len(shown), animated=False, n_columns=n_steps)
    return _style(fig, title=title, subtitle=" · ".join(subtitle_parts) or None, height=height,
                  x_title=x_title, y_title=class_title, margin_bottom=bottom)


def _bar_frame_data(
    step_probs: np.ndarray, classes: np.ndarray, labels: list[str], target: int | None
) -> go.Bar:
    """Bars for one timestep: argmax dark blue, target orange, both green."""
    predicted = int(np.argmax(np.nan_to_num(step_probs, nan=-1.0)))
    colour_and_text = {
        (True, True): (CORRECT_COLOUR, "target ✓"),
        (True, False): (TARGET_COLOUR, "target"),
        (False, True): (PREDICTION_COLOUR, "predicted"),
        (False, False): (BAR_COLOUR, ""),
    }
    styles = [colour_and_text[(c == target, c == predicted)] for c in classes]
    colours = [colour for colour, _ in styles]
    texts = [text for _, text in styles]
    return go.Bar(
        x=[labels[c] for c in classes], y=np.nan_to_num(step_probs[classes]).round(4).tolist(),
        marker=dict(color=colours), text=texts, textposition="outside",
    )


def softmax_bars(
    probs: np.ndarray,
    class_labels: Sequence[str],
    input_chars: Sequence[str],
    *,
    targets: Sequence[int] | None = None,
    top_k: int | None = None,
    title: str = "Next-character distribution at each timestep",
    class_title: str = "output class",
) -> go.Figure:
    """Animated bars: frame t is the softmax distribution after reading input t.

    All classes in class order, or with ``top_k`` the top_k classes of that timestep sorted
    by probability (plus the target if it is not among them). Colours: dark blue =
    prediction (argmax), orange = target, green = target predicted correctly.
    **Initial state: frame 0** (the first timestep); y is fixed at 0..1.
    """
    probabilities = _as_array(probs, ndim=2)
    n_steps, n_classes = probabilities.shape
    if n_steps == 0 or n_classes == 0:
        return _empty_figure(title, "No output yet: type some input text.",
                             x_title=class_title, y_title="probability")
    step_labels = unique_labels(_padded_chars(input_chars, n_steps))
    labels = _unique_class_labels(class_labels)
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
    fig = go.Figure(bars[0])
    fig.update_traces(hovertemplate="%{x}: p = %{y:.3f}<extra></extra>", cliponaxis=False,
                      constraintext="none", textfont=dict(size=13))
    fig.frames = [go.Frame(name=str(t), traces=[0], data=[bar]) for t, bar in enumerate(bars)]

    n_bars = max(len(bar.x) for bar in bars)
    fig.update_yaxes(range=[0, 1], fixedrange=True)
    fig.update_xaxes(type="category", tickangle=_category_tick_angle(n_bars))
    fig.update_layout(showlegend=False, bargap=0.15)
    legend = (f"<span style='color:{PREDICTION_COLOUR}'>■</span> predicted (argmax)"
              + ("" if targets is None else
                 f"   <span style='color:{TARGET_COLOUR}'>■</span> target"
                 f"   <span style='color:{CORRECT_COLOUR}'>■</span> target predicted"))
    offset = _controls_offset(n_bars)
    _style(fig, title=title, subtitle=legend, height=560 + (30 if n_bars > MAX_HORIZONTAL_TICKS else 0),
           x_title=class_title, y_title="probability", margin_bottom=offset + 95)
    return _add_animation_controls(fig, step_labels, active_frame=0, offset_px=offset,
                                   current_prefix="after ")


# ---------------------------------------------------------------- evaluation


def accuracy_bars(
    labels: Sequence[str],
    accuracies: Sequence[float],
    *,
    title: str = "Accuracy per class",
    category_title: str = "class",
) -> go.Figure:
    """Horizontal bars 0..1, first label at the top. NaN (class never seen) is drawn as "n/a"."""
    values = _as_array(accuracies, ndim=1)
    if len(values) == 0:
        return _empty_figure(title, "Nothing evaluated yet.", x_title="accuracy", y_title=category_title)
    names = _unique_class_labels(list(labels)[: len(values)])
    names += [f"class {i}" for i in range(len(names), len(values))]
    finite = np.isfinite(values)
    fig = go.Figure(go.Bar(
        x=np.where(finite, values, 0.0).tolist(), y=names, orientation="h",
        marker=dict(color=AFTER_CLIP_COLOUR),
        text=[f"{v:.0%}" if ok else "n/a" for v, ok in zip(values, finite)], textposition="outside",
        cliponaxis=False, hovertemplate="%{y}: %{x:.1%}<extra></extra>",
    ))
    fig.update_xaxes(range=[0, 1], tickformat=".0%")
    fig.update_yaxes(autorange="reversed", type="category")
    height = int(np.clip(len(values) * 28, 200, 900)) + 130
    _style(fig, title=title, height=height, x_title="accuracy", y_title=category_title)
    fig.update_layout(margin=dict(r=60))  # room for the "100%" label right of a full bar
    return fig


def _row_normalise(matrix: np.ndarray) -> np.ndarray:
    """Each row divided by its total; rows with total 0 stay all zeros (no division by zero)."""
    totals = matrix.sum(axis=1, keepdims=True)
    return np.divide(matrix, totals, out=np.zeros_like(matrix), where=totals > 0)


def confusion_matrix_figure(
    matrix: np.ndarray,
    labels: Sequence[str],
    *,
    normalise_rows: bool = True,
    title: str = "Confusion matrix (rows normalised)",
) -> go.Figure:
    """True class (rows) × predicted class (columns); values written in cells up to 20 classes."""
    counts = np.nan_to_num(_as_array(matrix, ndim=2))
    n = counts.shape[0]
    if n == 0:
        return _empty_figure(title, "Nothing evaluated yet.", x_title="predicted class", y_title="true class")
    names = _unique_class_labels(list(labels)[:n])
    names += [f"class {i}" for i in range(len(names), n)]
    values = _row_normalise(counts) if normalise_rows else counts
    z_max = 1.0 if normalise_rows else max(float(values.max()), 1.0)
    text_options: dict[str, Any] = {}
    if n <= MAX_CELLS_WITH_TEXT:
        text_options = dict(texttemplate="%{z:.2f}" if normalise_rows else "%{z:.0f}",
                            textfont=dict(size=13 if n > 10 else 15))
    fig = go.Figure(go.Heatmap(
        z=values.round(4).tolist(), x=names, y=names, colorscale="Blues", zmin=0.0, zmax=z_max,
        xgap=1, ygap=1, colorbar=dict(title=dict(text="fraction of row" if normalise_rows else "count")),
        hovertemplate="true %{y} → predicted %{x}: %{z:.3g}<extra></extra>", **text_options,
    ))
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(type="category", side="bottom", tickangle=_category_tick_angle(n))
    size = int(np.clip(n * 34, 260, 700))
    return _style(fig, title=title, height=size + 150, x_title="predicted class", y_title="true class",
                  margin_bottom=70 + (35 if n > MAX_HORIZONTAL_TICKS else 0))


# ---------------------------------------------------------------- character language model

__all__ += [
    "perplexity_curve",
    "minibatch_layout_figure",
    "candidates_heatmap",
    "candidate_bars",
    "text_activation_figure",
    "unit_heatmap",
]

VALIDATION_COLOUR = "#e4572e"
CHANCE_COLOUR = "#888888"
IDEAL_COLOUR = "#2a9d4b"
MINIBATCH_COLOURS = ("#1f77b4", "#e4572e", "#2a9d4b", "#9467bd", "#8c564b", "#e377c2")
ORDINALS = ("1st", "2nd", "3rd")


def perplexity_curve(
    steps: Sequence[int],
    train_perplexity: Sequence[float],
    eval_steps: Sequence[int],
    validation_perplexity: Sequence[float],
    *,
    vocab_size: int,
    title: str = "Perplexity: training vs. held-out text",
) -> go.Figure:
    """Perplexity against training step on a log axis.

    The training minibatches' perplexity (exp of each step's loss), the validation
    tail's perplexity at the evaluated steps, the chance line (a uniform guess over the
    vocabulary has perplexity = vocabulary size) and the ideal line (1: every next
    character certain and right). A gap opening between the two curves is memorisation.
    """
    y_title = "perplexity (log scale)"
    step_values = _as_array(steps, ndim=1)
    train_values = _as_array(train_perplexity, ndim=1)
    eval_x = _as_array(eval_steps, ndim=1)
    eval_y = _as_array(validation_perplexity, ndim=1)
    if len(step_values) == 0 and len(eval_x) == 0:
        return _empty_figure(title, "No training steps yet. Press Train to start.",
                             x_title="training step", y_title=y_title)
    fig = go.Figure()
    x, y = _finite_points(step_values, train_values)
    fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name="training minibatch",
                             line=dict(color=AFTER_CLIP_COLOUR, width=1.8),
                             hovertemplate="step %{x}<br>training perplexity %{y:.3f}<extra></extra>"))
    x, y = _finite_points(eval_x, eval_y)
    fig.add_trace(go.Scatter(x=x, y=y, mode="lines+markers", name="validation tail",
                             line=dict(color=VALIDATION_COLOUR, width=2.5), marker=dict(size=6),
                             hovertemplate="step %{x}<br>validation perplexity %{y:.2f}<extra></extra>"))
    all_x = np.concatenate([step_values[np.isfinite(step_values)], eval_x[np.isfinite(eval_x)], [0.0]])
    x_span = [float(all_x.min()), float(max(all_x.max(), 1.0))]
    fig.add_trace(go.Scatter(x=x_span, y=[vocab_size, vocab_size], mode="lines",
                             name=f"chance = vocabulary size ({vocab_size:,})",
                             line=dict(color=CHANCE_COLOUR, width=2, dash="dash"), hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=x_span, y=[1, 1], mode="lines", name="ideal = 1",
                             line=dict(color=IDEAL_COLOUR, width=2, dash="dot"), hoverinfo="skip"))
    finite = np.concatenate([train_values[np.isfinite(train_values)], eval_y[np.isfinite(eval_y)], [vocab_size]])
    top = float(np.log10(max(finite.max(), 2.0) * 1.6))
    fig.update_yaxes(type="log", range=[-0.03, top], dtick="D2")  # 1, 2, 5, 10, 20, 50, ...
    last_parts = []
    if len(train_values) and np.isfinite(train_values[-1]):
        last_parts.append(f"last training minibatch {_short_number(train_values[-1])}")
    if len(eval_y) and np.isfinite(eval_y[-1]):
        last_parts.append(f"validation {_short_number(eval_y[-1])}")
    _style(fig, title=title, subtitle=" · ".join(last_parts) or "not trained yet", height=500,
           x_title="training step", y_title=y_title)
    return _legend_under_subtitle(fig)


def _short_number(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def _legend_under_subtitle(fig: go.Figure, rows: int = 1) -> go.Figure:
    """A horizontal legend between the subtitle and the plot (room made in the top margin)."""
    fig.update_layout(legend=dict(orientation="h", x=0, xanchor="left", y=1.0, yanchor="bottom"),
                      margin=dict(t=100 + 24 * rows))
    return fig


def minibatch_layout_figure(
    rows: Sequence[Any],
    corpus_len: int,
    *,
    scheme: str,
    num_steps: int,
    batch_size: int,
    max_batches: int = 3,
    max_rows: int = 16,
    title: str | None = None,
) -> go.Figure:
    """Where the first minibatches' rows come from in the training text.

    ``rows`` are ``(batch_index, row, start, end)`` records (``rnnviz.corpus.MinibatchRow``).
    y = row of the minibatch, x = position in the text, one colour per minibatch. For
    sequential sampling the grey band behind each row is its stream: minibatch k+1 sits
    right after minibatch k. Segments too short to see on a long text still get a marker.
    """
    title = title or f"How the first {max_batches} minibatches cut the training text ({scheme} sampling)"
    shown_rows = min(batch_size, max_rows)
    y_labels = [f"row {r}" for r in range(shown_rows)]
    fig = go.Figure()
    if scheme == "sequential":
        stream = corpus_len // batch_size
        xs, ys = [], []
        for r in range(shown_rows):
            xs += [r * stream, (r + 1) * stream, None]
            ys += [y_labels[r], y_labels[r], None]
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name="each row's stream",
                                 line=dict(color="#dddddd", width=14), hoverinfo="skip"))
    for k in range(max_batches):
        segments = [r for r in rows if r[0] == k and r[1] < shown_rows]
        if not segments:
            continue
        colour = MINIBATCH_COLOURS[k % len(MINIBATCH_COLOURS)]
        xs, ys = [], []
        for _, r, start, end in segments:
            xs += [start, end, None]
            ys += [y_labels[r], y_labels[r], None]
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name=f"minibatch {k}", legendgroup=str(k),
                                 line=dict(color=colour, width=14), hoverinfo="skip"))
        fig.add_trace(go.Scatter(
            x=[(s + e) / 2 for _, _, s, e in segments], y=[y_labels[r] for _, r, _, _ in segments],
            mode="markers", marker=dict(color=colour, size=9, symbol="square"), legendgroup=str(k),
            showlegend=False, customdata=[[k, s, e - 1] for _, _, s, e in segments],
            hovertemplate="minibatch %{customdata[0]}, %{y}<br>characters %{customdata[1]}–%{customdata[2]}"
                          "<extra></extra>",
        ))
    fig.update_yaxes(type="category", categoryorder="array", categoryarray=y_labels, autorange="reversed")
    fig.update_xaxes(range=[0, max(corpus_len, 1)], rangemode="tozero")
    if scheme == "sequential":
        subtitle = "Row r of minibatch k+1 continues where row r of minibatch k stopped: the state is carried over"
    else:
        subtitle = f"Each row is a random piece of {num_steps} characters: the state starts from zero every minibatch"
    more = f" (first {shown_rows} of {batch_size} rows shown)" if batch_size > shown_rows else ""
    _style(fig, title=title + more, subtitle=subtitle, height=int(np.clip(shown_rows * 26, 160, 420)) + 220,
           x_title="position in the training text (character index)", y_title="row of the minibatch")
    return _legend_under_subtitle(fig)


def _ordinal(rank: int) -> str:
    return ORDINALS[rank] if rank < len(ORDINALS) else f"{rank + 1}th"


def candidates_heatmap(
    step_labels: Sequence[str],
    candidate_labels: Sequence[Sequence[str]],
    candidate_probs: np.ndarray,
    chosen_rank: Sequence[int],
    *,
    title: str = "Top candidates for each generated character",
    subtitle: str | None = None,
    x_title: str = "generation step · generated character",
) -> go.Figure:
    """Rank (rows: most likely on top) × generation step (columns), each cell naming a candidate
    character and coloured by its probability 0..1; an open square marks the character chosen.

    Works for any vocabulary size (1,000+ Chinese characters) because it shows only k rows.
    """
    probs = _as_array(candidate_probs, ndim=2)
    n_steps, k = probs.shape
    if n_steps == 0 or k == 0:
        return _empty_figure(title, "Nothing generated yet.", x_title=x_title, y_title="candidate rank")
    x_labels = list(step_labels)[:n_steps]
    rows = list(range(k))
    text = [[display_char(candidate_labels[t][r]) for t in range(n_steps)] for r in range(k)]
    fig = go.Figure(go.Heatmap(
        z=_z_for_json(probs.T), x=x_labels, y=rows, text=text, texttemplate="%{text}",
        textfont=dict(family=FONT_FAMILY, size=16 if n_steps <= 30 else 13),
        colorscale="Viridis", zmin=0.0, zmax=1.0, xgap=1, ygap=1,
        colorbar=dict(title=dict(text="probability"), thickness=18),
        hovertemplate="step %{x}<br>candidate “%{text}”: p = %{z:.3f}<extra></extra>",
    ))
    ranks = [int(r) for r in list(chosen_rank)[:n_steps]]
    inside = [t for t in range(n_steps) if ranks[t] < k]
    # An orange bar under the chosen character of each column (it underlines, never hides, the text).
    fig.add_trace(go.Scatter(
        x=[x_labels[t] for t in inside], y=[ranks[t] + 0.36 for t in inside], mode="markers",
        name="chosen character", hoverinfo="skip",
        marker=dict(symbol="line-ew", size=13 if n_steps <= 30 else 9, line=dict(width=4, color=TARGET_COLOUR)),
    ))
    fig.update_yaxes(tickmode="array", tickvals=rows, ticktext=[_ordinal(r) for r in rows],
                     range=[k - 0.5, -0.5], showgrid=False, zeroline=False)
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=x_labels,
                     tickangle=_category_tick_angle(n_steps), showgrid=False)
    height = int(np.clip(k * 44, 160, 560)) + 70 + (35 if n_steps > MAX_HORIZONTAL_TICKS else 0) + 150
    _style(fig, title=title, subtitle=subtitle, height=height, x_title=x_title, y_title="candidate rank",
           margin_bottom=70 + (35 if n_steps > MAX_HORIZONTAL_TICKS else 0))
    fig.update_layout(showlegend=True)  # one legend entry is hidden unless asked for
    return _legend_under_subtitle(fig)


def candidate_bars(
    step_labels: Sequence[str],
    candidate_labels: Sequence[Sequence[str]],
    sampling_probs: np.ndarray,
    model_probs: np.ndarray,
    chosen_position: Sequence[int],
    *,
    title: str = "The distribution each character was drawn from",
    show_model: bool = True,
) -> go.Figure:
    """Animated bars, one frame per generated character: the candidates' probabilities in the
    distribution actually sampled from (after temperature / top-k), and beside them (grey) the
    model's own softmax. ``chosen_position[t]`` is the chosen character's place in row t (green).
    **Initial state: frame 0** (the first generated character); y is fixed at 0..1.
    """
    sampled = _as_array(sampling_probs, ndim=2)
    model = _as_array(model_probs, ndim=2)
    n_steps, k = sampled.shape
    if n_steps == 0 or k == 0:
        return _empty_figure(title, "Nothing generated yet.", x_title="candidate character", y_title="probability")
    ranks = [int(r) for r in list(chosen_position)[:n_steps]]

    def frame_data(t: int) -> list[go.Bar]:
        labels = [display_char(c) for c in candidate_labels[t]]
        colours = [CORRECT_COLOUR if r == ranks[t] else AFTER_CLIP_COLOUR for r in range(k)]
        texts = ["chosen" if r == ranks[t] else "" for r in range(k)]
        bars = [go.Bar(x=labels, y=np.nan_to_num(sampled[t]).round(4).tolist(), name="sampled from",
                       marker=dict(color=colours), text=texts, textposition="outside")]
        if show_model:
            bars.append(go.Bar(x=labels, y=np.nan_to_num(model[t]).round(4).tolist(), name="model softmax",
                               marker=dict(color="#bbbbbb")))
        return bars

    frames = [frame_data(t) for t in range(n_steps)]
    fig = go.Figure(frames[0])
    fig.update_traces(hovertemplate="“%{x}”: p = %{y:.3f}<extra>%{fullData.name}</extra>", cliponaxis=False)
    fig.update_traces(selector=dict(name="sampled from"), textfont=dict(size=13), constraintext="none")
    traces = list(range(len(frames[0])))
    fig.frames = [go.Frame(name=str(t), traces=traces, data=data) for t, data in enumerate(frames)]
    fig.update_yaxes(range=[0, 1.05], fixedrange=True)
    fig.update_xaxes(type="category", tickangle=_category_tick_angle(k), tickfont=dict(size=17))
    fig.update_layout(barmode="group", bargap=0.2, showlegend=False)  # the subtitle is the legend
    subtitle = (f"<span style='color:{CORRECT_COLOUR}'>■</span> chosen character   "
                f"<span style='color:{AFTER_CLIP_COLOUR}'>■</span> distribution sampled from"
                + ("   <span style='color:#bbbbbb'>■</span> the model's softmax (temperature 1)" if show_model else ""))
    offset = _controls_offset(k)
    _style(fig, title=title, subtitle=subtitle, height=560, x_title="candidate character", y_title="probability",
           margin_bottom=offset + 95)
    return _add_animation_controls(fig, list(step_labels)[:n_steps], active_frame=0, offset_px=offset,
                                   current_prefix="generating ")


def text_activation_figure(
    chars: Sequence[str],
    values: np.ndarray,
    *,
    prefix_len: int = 0,
    width: int = 40,
    title: str = "The text coloured by one hidden unit",
    colorbar_title: str = "h_t[unit]",
    value_range: tuple[float, float] = (-1.0, 1.0),
) -> go.Figure:
    """Karpathy's view: the text laid out in rows of ``width`` characters, each character's cell
    coloured by the chosen unit's value after reading it (diverging scale fixed at -1..1).
    The first ``prefix_len`` characters (the typed prefix) are bold.
    """
    vals = _as_array(values, ndim=1)
    chars = [str(c) for c in list(chars)[: len(vals)]]
    n = len(chars)
    if n == 0:
        return _empty_figure(title, "No text yet.", x_title="character in the row", y_title="row")
    width = max(1, min(int(width), n))
    n_rows = -(-n // width)
    z = np.full((n_rows, width), np.nan)
    text = [[""] * width for _ in range(n_rows)]
    hover = [[""] * width for _ in range(n_rows)]
    for i, (c, v) in enumerate(zip(chars, vals)):
        r, col = divmod(i, width)
        z[r, col] = v
        shown = display_char(c)
        text[r][col] = f"<b>{shown}</b>" if i < prefix_len else shown
        hover[r][col] = f"t={i} “{shown}”{' (prefix)' if i < prefix_len else ''}"
    y_labels = [f"{r * width}–{min(n, (r + 1) * width) - 1}" for r in range(n_rows)]
    z_min, z_max = float(value_range[0]), float(value_range[1])
    fig = go.Figure(go.Heatmap(
        z=_z_for_json(z), x=list(range(width)), y=y_labels, text=text, texttemplate="%{text}",
        customdata=hover, textfont=dict(family=FONT_FAMILY, size=17),
        colorscale="RdBu_r", zmin=z_min, zmax=z_max, zmid=0.0 if np.isclose(z_min, -z_max) else None,
        xgap=2, ygap=2, hoverongaps=False, colorbar=dict(title=dict(text=colorbar_title), thickness=18),
        hovertemplate="%{customdata}<br>value %{z:.3f}<extra></extra>",
    ))
    fig.update_yaxes(type="category", categoryorder="array", categoryarray=y_labels, autorange="reversed")
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False)
    fig.update_traces(colorbar=dict(tickvals=[z_min, 0.0, z_max] if z_min < 0 < z_max else None, len=1.0))
    subtitle = "bold: the prefix you typed · red positive, blue negative, white 0" if prefix_len else \
        "red positive, blue negative, white 0"
    return _style(fig, title=title, subtitle=subtitle, height=max(n_rows * 40, 120) + 190,
                  x_title="character in the row (read left to right, then the next row)", y_title="characters")


def unit_heatmap(
    hidden_states: np.ndarray,
    input_chars: Sequence[str],
    units: Sequence[int],
    *,
    title: str = "Hidden state h_t over time",
    animate: bool = False,
) -> go.Figure:
    """:func:`hidden_state_heatmap` for a chosen subset of units, rows labelled with the real unit
    numbers (h[17], h[3], ...) so a big hidden layer stays readable."""
    states = _as_array(hidden_states, ndim=2)
    chosen = [int(u) for u in units]
    fig = hidden_state_heatmap(states[:, chosen] if chosen else states[:, :0], input_chars, title=title,
                               animate=animate)
    if not chosen or not fig.data:
        return fig
    labels = [f"h[{u}]" for u in chosen]
    chars = _padded_chars(input_chars, states.shape[0])
    fig.data[0].y = labels
    fig.data[0].text = [[f"t={t} '{display_char(c)}', {y}" for t, c in enumerate(chars)] for y in labels]
    return fig
