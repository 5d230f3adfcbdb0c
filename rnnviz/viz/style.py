"""The shared look of every figure: fonts, colours, labels, layout and animation controls.

Every builder in ``rnnviz.viz`` writes its figure as a plain Plotly spec (trace dicts with a "type",
a layout dict, frames) and wraps it once with :func:`figure`, unvalidated: building the same figure
through ``go.Scatter``/``update_layout`` validates every property and costs 10-50 ms per figure on
the shared classroom server, the wrap costs well under 1 ms. ``tests/unit/test_figures.py`` runs every
builder's output through Plotly's full validator, so the fast path stays honest.

Arrays are rounded to what a reader can see (4 decimals for probabilities and tanh values, 4
significant digits for unbounded quantities) with NaN/inf as null, so less JSON goes to the browser.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Sequence

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
from _plotly_utils.basevalidators import ColorscaleValidator

from rnnviz.i18n import _

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
PLOT_BACKGROUND = "white"  # plotly_white's plot area: the colour of a column not yet reached

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


def _finite_or_none(array: np.ndarray) -> list:
    """``array.tolist()`` with None where the value is NaN or ±inf (JSON null: a gap in Plotly)."""
    finite = np.isfinite(array)
    if finite.all():
        return array.tolist()
    values = array.astype(object)
    values[~finite] = None
    return values.tolist()


def rounded(values: Any, decimals: int = 4) -> list:
    """(Nested) list of floats rounded to ``decimals`` places, None for NaN/inf.

    For bounded quantities a reader reads to 2-3 decimals: probabilities, gates, tanh states.
    """
    return _finite_or_none(np.round(as_array(values), decimals))


def significant(values: Any, digits: int = 4) -> list:
    """(Nested) list of floats rounded to ``digits`` significant digits, None for NaN/inf.

    For unbounded quantities (losses, gradient norms, perplexities) that may span decades on a
    log axis. Rounded by an exact power of ten per value, so the JSON carries short numbers.
    """
    array = as_array(values)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        usable = np.isfinite(array) & (array != 0)
        exponent = np.floor(np.log10(np.abs(np.where(usable, array, 1.0))))
        places = (digits - 1 - exponent).astype(int)
        up = 10.0 ** np.maximum(places, 0)  # exact powers of ten: the results are the shortest decimals
        down = 10.0 ** np.maximum(-places, 0)
        result = np.where(places >= 0, np.round(array * up) / up, np.round(array / down) * down)
    return _finite_or_none(np.where(usable & np.isfinite(result), result, array))  # subnormals stay as they are


def numbers(values: Any) -> list:
    """Axis values (e.g. training steps) as ints when they are whole numbers, else 4 significant digits."""
    array = as_array(values)
    if array.size and np.isfinite(array).all() and np.all(array == np.round(array)) and np.abs(array).max() < 2**53:
        return array.astype(np.int64).tolist()
    return significant(array)


def z_for_json(matrix: np.ndarray) -> list[list[float | None]]:
    """Nested lists with None for NaN/inf, so blank cells are unambiguous gaps in Plotly."""
    return rounded(matrix, 4)


# ---------------------------------------------------------------- figure specs


def _light_template() -> dict[str, Any]:
    """plotly_white, cut to what these figures use (scatter, bar and heatmap on 2-D axes).

    The full template is ~7 KB per figure: in every spec sent to the browser, and in every redraw,
    where plotly.js merges each of its entries (polar, ternary, scene, geo, 40 trace types) into the
    figure. Cut, a live tick's newPlot costs about half. The look of these figures is unchanged.
    """
    full = pio.templates["plotly_white"].to_plotly_json()
    layout_keys = ("autotypenumbers", "colorway", "font", "hovermode", "hoverlabel", "paper_bgcolor", "plot_bgcolor",
                   "coloraxis", "colorscale", "xaxis", "yaxis", "shapedefaults", "annotationdefaults", "title")
    return {"layout": {key: full["layout"][key] for key in layout_keys if key in full["layout"]},
            "data": {kind: full["data"][kind] for kind in ("scatter", "bar", "heatmap") if kind in full["data"]}}


_TEMPLATE = _light_template()  # a dict; go.Figure copies it per figure


@lru_cache(maxsize=None)
def _colour_scale(name: str) -> tuple[tuple[float, str], ...]:
    return tuple(tuple(stop) for stop in ColorscaleValidator("colorscale", "heatmap").validate_coerce(name))


def colour_scale(name: str | Sequence) -> list:
    """A named colour scale ("RdBu_r", "Viridis") as the explicit [[position, colour], ...] list.

    Validation used to do this; plotly.js knows only some names (and no "_r" reversals).
    """
    if not isinstance(name, str):
        return list(name)
    return [list(stop) for stop in _colour_scale(name)]


def _hex_rgb(colours: Sequence[str]) -> np.ndarray:
    """"#rrggbb" strings as an (n, 3) array of 0..255 channel values."""
    return np.array([[int(c[i:i + 2], 16) for i in (1, 3, 5)] for c in colours], dtype=float).reshape(-1, 3)


def scale_colours(values: Any, name: str = "Viridis", low: float = 0.0, high: float = 1.0) -> np.ndarray:
    """The colour a heatmap with colour scale ``name`` (zmin ``low``, zmax ``high``) gives each value,
    as "#rrggbb" strings of ``values``' shape: linear in RGB between the scale's stops, as plotly.js does."""
    stops = colour_scale(name)
    positions = np.array([float(p) for p, _c in stops])
    rgb = _hex_rgb([c for _p, c in stops])
    where = np.clip((as_array(values).astype(float) - low) / (high - low), 0.0, 1.0)
    channels = [np.rint(np.interp(where, positions, rgb[:, i])).astype(int) for i in range(3)]
    flat = [f"#{r:02x}{g:02x}{b:02x}" for r, g, b in zip(*(c.ravel() for c in channels))]
    return np.array(flat, dtype=object).reshape(where.shape)


def dark_ink_on(colours: Any) -> np.ndarray:
    """Whether text on each "#rrggbb" background reads better dark than white (its relative luminance)."""
    colours = np.asarray(colours, dtype=object)
    rgb = _hex_rgb(colours.ravel()) / 255
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    luminance = linear @ np.array([0.2126, 0.7152, 0.0722])
    # Contrast with black (L + 0.05) / 0.05 beats contrast with white 1.05 / (L + 0.05) above L ~ 0.18.
    return (luminance > 0.179).reshape(colours.shape)


def merge(target: dict, *updates: dict) -> dict:
    """Merge ``updates`` into ``target`` in place, nested dicts key by key (like ``update_layout``)."""
    for update in updates:
        for key, value in update.items():
            if isinstance(value, dict) and isinstance(target.get(key), dict):
                merge(target[key], value)
            else:
                target[key] = value
    return target


# Over this many decades a log axis is labelled at 1, 2 and 5 in each; over more, at each power of ten
# (1, 2, 5 over nine decades would be 27 labels, written on top of one another in a 470 px chart).
MAX_DECADES_LABELLED_1_2_5 = 3.5


def log_axis(*drawn: Any) -> dict[str, Any]:
    """A log axis whose every label reads as the value at its height, for a chart drawing the values
    in ``drawn`` (each a list or array, e.g. the traces' y values; None and NaN are not drawn).

    Plotly writes a decade's 2 and 5 as bare small digits by default: 0.5 as a "5" under the 1, which a
    student reads as five. Here they are written out over a few decades, as decimals (0.0005, not
    plotly's "500μ"), and over more decades only the powers of ten are labelled, as powers.
    """
    shown = np.concatenate([as_array(values).ravel() for values in drawn]) if drawn else np.empty(0)
    shown = shown[np.isfinite(shown) & (shown > 0)]
    decades = float(np.log10(shown.max() / shown.min())) if shown.size else 0.0
    if decades <= MAX_DECADES_LABELLED_1_2_5:
        return dict(type="log", dtick="D2", minorloglabels="complete", exponentformat="none")
    return dict(type="log", dtick=1, exponentformat="power")


def figure(data: Sequence[dict], layout: dict, frames: Sequence[dict] | None = None) -> go.Figure:
    """The one place a spec becomes a ``go.Figure``: wrapped once, without validation.

    Given a ``go.Figure``, ``st.plotly_chart`` only calls ``fig.to_dict()``; a plain dict it would
    validate in full. Pages may still change the figure through the usual ``go.Figure`` API.
    """
    fig = go.Figure({"data": list(data), "layout": layout}, _validate=False)
    if frames:
        # go.Figure validates frames even with _validate=False (~1 ms per frame); install them unvalidated.
        fast = _unvalidated_frames(frames)
        if fast is not None:
            fig._frame_objs = fast
        if fast is None or len(fig.frames) != len(frames):  # plotly internals changed: validate instead
            fig.frames = list(frames)
    return fig


def _unvalidated_frames(frames: Sequence[dict]) -> list[go.Frame] | None:
    """``go.Frame`` objects holding the frame specs as they are, or None if plotly's internals differ.

    An unvalidated frame keeps its spec in ``_props``; its trace objects (``frame.data[i]``, views
    onto ``_props["data"][i]``) are made here, as the validated path would, so they stay readable.
    """
    try:
        result = []
        for spec in frames:
            frame = go.Frame(spec, _validate=False)
            if spec.get("data"):
                data_validator = frame._get_validator("data")
                traces = []
                for trace_spec in spec["data"]:
                    trace = data_validator.get_trace_class(trace_spec.get("type", "scatter"))(_validate=False)
                    trace._orphan_props.clear()
                    trace._parent = frame
                    traces.append(trace)
                frame._compound_array_props["data"] = traces
            result.append(frame)
        return result
    except (AttributeError, KeyError, TypeError, ValueError):
        return None


def style_layout(
    *,
    title: str,
    subtitle: str | None = None,
    height: int,
    x_title: str,
    y_title: str,
    margin_bottom: int = 60,
    fixed_margins: bool = False,
) -> dict[str, Any]:
    """The layout shared by every figure: white template, big fonts, title, axis titles.

    Builders merge their own axes, legend and margins into it with :func:`merge`. ``fixed_margins``
    is for curves redrawn at every training tick: their tick labels are short numbers that the fixed
    margins hold, and plotly.js's automatic margins cost a second layout pass per redraw.
    """
    title_spec: dict[str, Any] = dict(text=title, x=0.01, xanchor="left", font=dict(size=20))
    if subtitle:
        title_spec["subtitle"] = dict(text=subtitle, font=dict(size=14, color="#555555"))
    return dict(
        template=_TEMPLATE,
        title=title_spec,
        font=dict(family=FONT_FAMILY, size=BASE_FONT_SIZE),
        hoverlabel=dict(font=dict(family=FONT_FAMILY, size=BASE_FONT_SIZE)),
        height=height,
        margin=dict(l=70, r=30, t=95 if subtitle else 65, b=margin_bottom),
        # Only the primary axes: a secondary y axis keeps its own title.
        xaxis=dict(title=dict(text=x_title), **({"automargin": False} if fixed_margins else {})),
        yaxis=dict(title=dict(text=y_title), **({"automargin": False} if fixed_margins else {})),
    )


def empty_figure(title: str, message: str, *, x_title: str, y_title: str, height: int = 380) -> go.Figure:
    """A titled, labelled figure with a centred message instead of data."""
    blank = dict(showticklabels=False, showgrid=False, zeroline=False)
    layout = merge(style_layout(title=title, height=height, x_title=x_title, y_title=y_title), dict(
        annotations=[message_annotation(message)], xaxis=blank, yaxis=dict(blank)))
    return figure([], layout)


def message_annotation(message: str) -> dict[str, Any]:
    """A grey message in the middle of the plot area ("No training steps yet ...")."""
    return dict(text=message, xref="paper", yref="paper", x=0.5, y=0.5, showarrow=False,
                font=dict(size=18, color="#777777"))


def legend_on_top() -> dict[str, Any]:
    return dict(orientation="h", x=1, xanchor="right", y=1.0, yanchor="bottom")


LEGEND_ROW_PX = 26  # the height of one row of legend entries


def legend_below(layout: dict[str, Any], clearance_px: float) -> dict[str, Any]:
    """A horizontal legend ``clearance_px`` under the plot area of ``layout`` (past the x tick labels
    and axis title), for figures with a subtitle: above the plot, a legend whose entries wrap onto
    more rows in a narrow column grows into the title and subtitle; below it, Plotly makes room."""
    plot_px = max(layout["height"] - layout["margin"]["t"] - layout["margin"]["b"], 1)
    return dict(orientation="h", x=0, xanchor="left", y=round(-clearance_px / plot_px, 4), yanchor="top")


def category_tick_angle(n_categories: int) -> int:
    return 0 if n_categories <= MAX_HORIZONTAL_TICKS else -90


def controls_offset(n_categories: int) -> int:
    """Pixels between the plot area and the animation controls: clears tick labels and axis title."""
    return 70 if n_categories <= MAX_HORIZONTAL_TICKS else 100


def animation_controls(
    frame_labels: Sequence[str],
    *,
    active_frame: int,
    offset_px: int,
    current_prefix: str = "",
    duration_ms: int = FRAME_DURATION_MS,
) -> dict[str, Any]:
    """Layout entries (``updatemenus``, ``sliders``): Play/Pause and a timestep slider for frames
    named "0", "1", ...

    Used by every animated figure so the controls look and behave the same everywhere.
    """
    jump = {"frame": {"duration": 0, "redraw": True}, "transition": {"duration": 0}, "mode": "immediate"}
    play = dict(
        label=_("▶ Play"),
        method="animate",
        # fromcurrent: Play after Pause resumes; after the last frame it starts over.
        args=[None, {"frame": {"duration": duration_ms, "redraw": True},
                     "transition": {"duration": 0}, "fromcurrent": True, "mode": "immediate"}],
    )
    pause = dict(
        label=_("❚❚ Pause"),
        method="animate",
        args=[[None], {"frame": {"duration": 0, "redraw": False},
                       "transition": {"duration": 0}, "mode": "immediate"}],
    )
    steps = [dict(label=label, method="animate", args=[[str(k)], jump]) for k, label in enumerate(frame_labels)]
    crowded = len(frame_labels) > MAX_SLIDER_TICK_LABELS
    return dict(
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


MAX_GRID_LINES = 48  # cells along an axis


def cell_grid(n_columns: int, n_rows: int, *, xref: str = "x", yref: str = "y", width: float = 1) -> dict[str, Any]:
    """Lines of the plot background between a heatmap's cells (column c spans c-0.5..c+0.5, row r
    likewise), as one layout shape above it: the look of ``xgap``/``ygap`` at about half the cost of
    drawing the chart. With gaps, plotly.js paints a heatmap pixel by pixel at its size on the screen
    and encodes that as a PNG; without them, one pixel per cell, scaled (measured in headless
    Chromium: 55 → 28 ms a ``Plotly.react`` for 30 × 5 cells 1,300 px wide, 25 → 17 ms for 8 × 256).
    Shapes after a ``column_reveal`` mask stay through its frames, which move the mask only. Past
    ``MAX_GRID_LINES`` cells along an axis (128 hidden units), cells a few pixels tall would be as
    much line as colour: that axis gets none."""
    vertical = [f"M{c - 0.5},-0.5V{n_rows - 0.5}" for c in range(1, n_columns)] if n_columns <= MAX_GRID_LINES else []
    horizontal = [f"M-0.5,{r - 0.5}H{n_columns - 0.5}" for r in range(1, n_rows)] if n_rows <= MAX_GRID_LINES else []
    return dict(type="path", path="".join(vertical + horizontal), xref=xref, yref=yref, layer="above",
                line=dict(color=PLOT_BACKGROUND, width=width))


def column_mask(upto: int, n_columns: int, *, xref: str = "x", yref: str = "y", pad: float = 0.0) -> dict[str, Any]:
    """A plot-background rectangle over the columns after ``upto`` of a category-axis heatmap
    (column t spans t-0.5..t+0.5), on the subplot of axes ``xref``/``yref``; invisible when
    ``upto`` is the last column. ``pad`` (a fraction of the subplot's height) extends it above and
    below, over the half-pixel a heatmap on a fractional pixel boundary shows beyond its rows."""
    return dict(type="rect", xref=xref, yref=f"{yref} domain", x0=upto + 0.5, x1=n_columns - 0.5,
                y0=-pad, y1=1 + pad, fillcolor=PLOT_BACKGROUND, line=dict(width=0), layer="above",
                visible=upto < n_columns - 1)


def column_reveal(
    n_columns: int, axes: Sequence[tuple[str, str]] = (("x", "y"),), *, pad: float = 0.0
) -> tuple[list[dict], list[dict]]:
    """(layout shapes, frames) that reveal a heatmap one column per frame.

    The heatmap carries every value once; frame k only moves a mask (one rectangle per subplot in
    ``axes``) so that columns after k are hidden, so the frames are O(columns), not
    O(columns² × rows). The initial shapes are the last frame's: every column shown.
    """
    def masks(k: int) -> list[dict]:
        return [column_mask(k, n_columns, xref=x, yref=y, pad=pad) for x, y in axes]

    frames = [dict(name=str(k), layout=dict(shapes=masks(k))) for k in range(n_columns)]
    return masks(n_columns - 1), frames
