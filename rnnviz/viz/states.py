"""Hidden states over time: heatmaps, animated one timestep per frame."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from rnnviz.i18n import N_, _, translate
from rnnviz.viz.style import (
    colour_scale,
    MAX_HORIZONTAL_TICKS,
    animation_controls,
    as_array,
    category_tick_angle,
    cell_grid,
    column_reveal,
    controls_offset,
    empty_figure,
    figure,
    merge,
    padded_chars,
    style_layout,
    unique_labels,
    z_for_json,
)

# ---------------------------------------------------------------- hidden states


def heatmap_plot_height(n_rows: int) -> int:
    """Pixels of the plot area of a heatmap with n_rows rows."""
    return int(np.clip(n_rows * 24, 200, 560))


def heatmap_height(n_rows: int, *, animated: bool, n_columns: int) -> tuple[int, int]:
    """(figure height, bottom margin) for a heatmap with n_rows rows."""
    plot_height = heatmap_plot_height(n_rows)
    bottom = controls_offset(n_columns) + 95 if animated else 70 + (35 if n_columns > MAX_HORIZONTAL_TICKS else 0)
    return plot_height + bottom + 90, bottom


def hidden_state_heatmap(
    hidden_states: np.ndarray,
    input_chars: Sequence[str],
    *,
    title: str = N_("Hidden state h_t over time"),
    value_range: tuple[float, float] = (-1.0, 1.0),
    colorscale: str = "RdBu_r",
    unit_label: str = N_("hidden unit"),
    animate: bool = True,
    unit_prefix: str = "h",
    colorbar_title: str = N_("value"),
) -> go.Figure:
    """Units (rows, ``h[0]`` at the top) × timesteps (columns, ``"2·l"``), colour = value.

    The colour range is fixed at ``value_range``, so a colour means the same number throughout.
    ``zmid=0`` is set when the range is symmetric about 0 (tanh states); gates use e.g.
    ``value_range=(0, 1), colorscale="Viridis"``.

    Animation (``animate=True``): frame k shows timesteps 0..k; a plot-background rectangle covers
    the rest (the heatmap holds every value once, the frames only move the rectangle).
    **Initial state: all timesteps shown** (the slider starts on the last timestep), so a
    static screenshot is informative; Play runs from timestep 0.
    """
    states = as_array(hidden_states, ndim=2)
    return state_heatmap(states, input_chars, [f"{unit_prefix}[{i}]" for i in range(states.shape[1])],
                         title=title, value_range=value_range, colorscale=colorscale, unit_label=unit_label,
                         animate=animate, colorbar_title=colorbar_title)


def state_heatmap(
    states: np.ndarray,
    input_chars: Sequence[str],
    row_labels: Sequence[str],
    *,
    title: str,
    value_range: tuple[float, float] = (-1.0, 1.0),
    colorscale: str = "RdBu_r",
    unit_label: str = N_("hidden unit"),
    animate: bool = True,
    colorbar_title: str = N_("value"),
) -> go.Figure:
    """:func:`hidden_state_heatmap` of a (steps, units) array with the given row labels."""
    title, unit_label, colorbar_title = translate(title), translate(unit_label), translate(colorbar_title)
    n_steps, n_units = states.shape
    x_title = _("timestep · input character")
    if n_steps == 0 or n_units == 0:
        return empty_figure(title, _("No sequence yet: type some input text."),
                             x_title=x_title, y_title=unit_label)
    chars = padded_chars(input_chars, n_steps)
    x_labels = unique_labels(chars)
    y_labels = list(row_labels)

    z_min, z_max = float(value_range[0]), float(value_range[1])
    heatmap = dict(
        type="heatmap", z=z_for_json(states.T), x=x_labels, y=y_labels,  # rows = units, columns = time
        colorscale=colour_scale(colorscale), zmin=z_min, zmax=z_max,
        # "2·l, h[1] = 0.53": the labels say it, not a text per cell (half of a keystroke's payload)
        hovertemplate="%{x}, %{y} = %{z:.2f}<extra></extra>", hoverongaps=False,
        colorbar=dict(title=dict(text=colorbar_title), thickness=18),
    )
    if np.isclose(z_min, -z_max):
        heatmap["zmid"] = 0.0  # diverging scale centred on 0 (zmin/zmax already enforce it)
    height, bottom = heatmap_height(n_units, animated=animate, n_columns=n_steps)
    layout = merge(
        style_layout(title=title, height=height, x_title=x_title, y_title=unit_label, margin_bottom=bottom),
        dict(yaxis=dict(autorange="reversed", type="category"),
             xaxis=dict(type="category", tickangle=category_tick_angle(n_steps), showgrid=False)),
    )
    grid = cell_grid(n_steps, n_units)
    if not animate:
        layout["shapes"] = [grid]
        return figure([heatmap], layout)
    masks, frames = column_reveal(n_steps, pad=1.5 / heatmap_plot_height(n_units))  # ~1.5 px
    layout["shapes"] = [*masks, grid]
    merge(layout, animation_controls(x_labels, active_frame=n_steps - 1, offset_px=controls_offset(n_steps),
                                     current_prefix=_("up to ")))
    return figure([heatmap], layout, frames)
