"""Hidden states over time: heatmaps, animated one timestep per frame."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import plotly.graph_objects as go

from rnnviz.viz.style import (
    MAX_HORIZONTAL_TICKS,
    add_animation_controls,
    as_array,
    category_tick_angle,
    controls_offset,
    display_char,
    empty_figure,
    padded_chars,
    style_figure,
    unique_labels,
    z_for_json,
)

# ---------------------------------------------------------------- hidden states


def heatmap_height(n_rows: int, *, animated: bool, n_columns: int) -> tuple[int, int]:
    """(figure height, bottom margin) for a heatmap with n_rows rows."""
    plot_height = int(np.clip(n_rows * 24, 200, 560))
    bottom = controls_offset(n_columns) + 95 if animated else 70 + (35 if n_columns > MAX_HORIZONTAL_TICKS else 0)
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
    states = as_array(hidden_states, ndim=2)
    n_steps, n_units = states.shape
    x_title = "timestep · input character"
    if n_steps == 0 or n_units == 0:
        return empty_figure(title, "No sequence yet: type some input text.",
                             x_title=x_title, y_title=unit_label)
    chars = padded_chars(input_chars, n_steps)
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
        z=z_for_json(z), x=x_labels, y=y_labels, colorscale=colorscale, **colour_range,
        text=hover_text, hovertemplate="%{text} = %{z:.2f}<extra></extra>", hoverongaps=False,
        xgap=1, ygap=1, colorbar=dict(title=dict(text=colorbar_title), thickness=18),
    ))
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(type="category", tickangle=category_tick_angle(n_steps), showgrid=False)
    height, bottom = heatmap_height(n_units, animated=animate, n_columns=n_steps)
    style_figure(fig, title=title, height=height, x_title=x_title, y_title=unit_label, margin_bottom=bottom)
    if not animate:
        return fig

    frames = []
    for k in range(n_steps):
        partial = z.copy()
        partial[:, k + 1:] = np.nan  # timesteps not yet reached are blank
        frames.append(go.Frame(name=str(k), traces=[0],
                               data=[go.Heatmap(z=z_for_json(partial), **colour_range)]))
    fig.frames = frames
    return add_animation_controls(fig, x_labels, active_frame=n_steps - 1,
                                   offset_px=controls_offset(n_steps), current_prefix="up to ")


