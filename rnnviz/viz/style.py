"""The shared look of every figure: fonts, colours, labels, layout and animation controls."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import plotly.graph_objects as go

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


def padded_chars(input_chars: Sequence[str], n_steps: int) -> list[str]:
    """The input characters padded with "?" to n_steps (hover text needs one per column)."""
    chars = [str(c) for c in list(input_chars)[:n_steps]]
    return chars + ["?"] * (n_steps - len(chars))


def unique_class_labels(class_labels: Sequence[Any]) -> list[str]:
    """Visible class labels; a label that occurs twice gets its class index appended."""
    shown = [display_char(label) for label in class_labels]
    counts: dict[str, int] = {}
    for label in shown:
        counts[label] = counts.get(label, 0) + 1
    return [label if counts[label] == 1 else f"{label} [{i}]" for i, label in enumerate(shown)]


# ---------------------------------------------------------------- small helpers


def as_array(values: Any, ndim: int | None = None) -> np.ndarray:
    """Float numpy array from a list, numpy array or (CPU or GPU) torch tensor."""
    if hasattr(values, "detach"):  # torch tensor, without importing torch
        values = values.detach().cpu().numpy()
    array = np.asarray(values if values is not None else [], dtype=float)
    if ndim is not None and array.size == 0:
        array = array.reshape((0,) * ndim)
    if ndim is not None and array.ndim != ndim:
        raise ValueError(f"expected a {ndim}-D array, got shape {array.shape}")
    return array


def z_for_json(matrix: np.ndarray) -> list[list[float | None]]:
    """Nested lists with None for NaN/inf, so blank cells are unambiguous gaps in Plotly."""
    rounded = np.round(matrix, 4)
    return [[float(v) if np.isfinite(v) else None for v in row] for row in rounded]


def style_figure(
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


def empty_figure(title: str, message: str, *, x_title: str, y_title: str, height: int = 380) -> go.Figure:
    """A titled, labelled figure with a centred message instead of data."""
    fig = go.Figure()
    fig.add_annotation(
        text=message, xref="paper", yref="paper", x=0.5, y=0.5,
        showarrow=False, font=dict(size=18, color="#777777"),
    )
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False)
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False)
    return style_figure(fig, title=title, height=height, x_title=x_title, y_title=y_title)


def legend_on_top() -> dict[str, Any]:
    return dict(orientation="h", x=1, xanchor="right", y=1.0, yanchor="bottom")


def category_tick_angle(n_categories: int) -> int:
    return 0 if n_categories <= MAX_HORIZONTAL_TICKS else -90


def controls_offset(n_categories: int) -> int:
    """Pixels between the plot area and the animation controls: clears tick labels and axis title."""
    return 70 if n_categories <= MAX_HORIZONTAL_TICKS else 100


def add_animation_controls(
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


