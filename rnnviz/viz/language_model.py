"""Figures of the character language model lesson."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import plotly.graph_objects as go

from rnnviz.i18n import N_, _, translate
from rnnviz.viz.states import state_heatmap
from rnnviz.viz.style import (
    colour_scale,
    cell_grid,
    AFTER_CLIP_COLOUR,
    CORRECT_COLOUR,
    FONT_FAMILY,
    LEGEND_ROW_PX,
    legend_below,
    log_axis,
    MAX_HORIZONTAL_TICKS,
    TARGET_COLOUR,
    animation_controls,
    as_array,
    category_tick_angle,
    controls_offset,
    dark_ink_on,
    display_char,
    empty_figure,
    figure,
    merge,
    numbers,
    rounded,
    scale_colours,
    style_layout,
    z_for_json,
)
from rnnviz.viz.training import finite_points

# ---------------------------------------------------------------- character language model

VALIDATION_COLOUR = "#e4572e"
CHANCE_COLOUR = "#888888"
IDEAL_COLOUR = "#2a9d4b"
MINIBATCH_COLOURS = ("#1f77b4", "#e4572e", "#2a9d4b", "#9467bd", "#8c564b", "#e377c2")


def perplexity_curve(
    steps: Sequence[int],
    train_perplexity: Sequence[float],
    eval_steps: Sequence[int],
    validation_perplexity: Sequence[float],
    *,
    vocab_size: int,
    title: str = N_("Perplexity: training vs. held-out text"),
) -> go.Figure:
    """Perplexity against training step on a log axis.

    The training minibatches' perplexity (exp of each step's loss), the validation
    tail's perplexity at the evaluated steps, the chance line (a uniform guess over the
    vocabulary has perplexity = vocabulary size) and the ideal line (1: every next
    character certain and right). A gap opening between the two curves is memorisation.
    """
    title = translate(title)
    y_title = _("perplexity (log scale)")
    step_values = as_array(steps, ndim=1)
    train_values = as_array(train_perplexity, ndim=1)
    eval_x = as_array(eval_steps, ndim=1)
    eval_y = as_array(validation_perplexity, ndim=1)
    if len(step_values) == 0 and len(eval_x) == 0:
        return empty_figure(title, _("No training steps yet. Press Train to start."),
                             x_title=_("training step"), y_title=y_title)
    data: list[dict[str, Any]] = []
    x, y = finite_points(step_values, train_values)
    data.append(dict(type="scatter", x=numbers(x), y=rounded(y, 3), mode="lines", name=_("training minibatch"),
                     line=dict(color=AFTER_CLIP_COLOUR, width=1.8),
                     hovertemplate=_("step %{x}<br>training perplexity %{y:.3f}<extra></extra>")))
    x, y = finite_points(eval_x, eval_y)
    data.append(dict(type="scatter", x=numbers(x), y=rounded(y, 3), mode="lines+markers", name=_("validation tail"),
                     line=dict(color=VALIDATION_COLOUR, width=2.5), marker=dict(size=6),
                     hovertemplate=_("step %{x}<br>validation perplexity %{y:.2f}<extra></extra>")))
    all_x = np.concatenate([step_values[np.isfinite(step_values)], eval_x[np.isfinite(eval_x)], [0.0]])
    x_span = numbers([float(all_x.min()), float(max(all_x.max(), 1.0))])
    data.append(dict(type="scatter", x=x_span, y=[vocab_size, vocab_size], mode="lines",
                     name=_("chance = vocabulary size ({size:,})", size=vocab_size),
                     line=dict(color=CHANCE_COLOUR, width=2, dash="dash"), hoverinfo="skip"))
    data.append(dict(type="scatter", x=x_span, y=[1, 1], mode="lines", name=_("ideal = 1"),
                     line=dict(color=IDEAL_COLOUR, width=2, dash="dot"), hoverinfo="skip"))
    finite = np.concatenate([train_values[np.isfinite(train_values)], eval_y[np.isfinite(eval_y)], [vocab_size]])
    top = float(np.log10(max(finite.max(), 2.0) * 1.6))
    last_parts = []
    if len(train_values) and np.isfinite(train_values[-1]):
        last_parts.append(_("last training minibatch {value}", value=short_number(train_values[-1])))
    if len(eval_y) and np.isfinite(eval_y[-1]):
        last_parts.append(_("validation {value}", value=short_number(eval_y[-1])))
    layout = style_layout(title=title, subtitle=" · ".join(last_parts) or _("not trained yet"), height=500,
                          x_title=_("training step"), y_title=y_title, margin_bottom=60 + 2 * LEGEND_ROW_PX, fixed_margins=True)
    merge(layout, dict(yaxis=dict(log_axis([10 ** -0.03, 10 ** top]), range=[-0.03, top]),
                       legend=legend_below(layout, 55)))
    return figure(data, layout)


def short_number(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def _minibatch_title(scheme: str, max_batches: int) -> str:
    if scheme == "sequential":
        return _("How the first {count} minibatches cut the training text (sequential sampling)", count=max_batches)
    if scheme == "random":
        return _("How the first {count} minibatches cut the training text (random sampling)", count=max_batches)
    return _("How the first {count} minibatches cut the training text ({scheme} sampling)",
             count=max_batches, scheme=scheme)


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
    title = title or _minibatch_title(scheme, max_batches)
    shown_rows = min(batch_size, max_rows)
    y_labels = [_("row {row}", row=r) for r in range(shown_rows)]
    data: list[dict[str, Any]] = []
    if scheme == "sequential":
        stream = corpus_len // batch_size
        xs, ys = [], []
        for r in range(shown_rows):
            xs += [int(r * stream), int((r + 1) * stream), None]
            ys += [y_labels[r], y_labels[r], None]
        data.append(dict(type="scatter", x=xs, y=ys, mode="lines", name=_("each row's stream"),
                         line=dict(color="#dddddd", width=14), hoverinfo="skip"))
    for k in range(max_batches):
        segments = [(int(r), int(start), int(end)) for b, r, start, end in rows if b == k and r < shown_rows]
        if not segments:
            continue
        colour = MINIBATCH_COLOURS[k % len(MINIBATCH_COLOURS)]
        xs, ys = [], []
        for r, start, end in segments:
            xs += [start, end, None]
            ys += [y_labels[r], y_labels[r], None]
        data.append(dict(type="scatter", x=xs, y=ys, mode="lines", name=_("minibatch {index}", index=k), legendgroup=str(k),
                         line=dict(color=colour, width=14), hoverinfo="skip"))
        data.append(dict(
            type="scatter", x=[(s + e) / 2 for _r, s, e in segments], y=[y_labels[r] for r, _s, _e in segments],
            mode="markers", marker=dict(color=colour, size=9, symbol="square"), legendgroup=str(k),
            showlegend=False, customdata=[[k, s, e - 1] for _r, s, e in segments],
            hovertemplate=_("minibatch %{customdata[0]}, %{y}<br>characters %{customdata[1]}–%{customdata[2]}"
                            "<extra></extra>"),
        ))
    if scheme == "sequential":
        subtitle = _("Row r of minibatch k+1 continues where row r of minibatch k stopped: the state is carried over")
    else:
        subtitle = _("Each row is a random piece of {count} characters: the state starts from zero every minibatch",
                     count=num_steps)
    if batch_size > shown_rows:
        title = _("{title} (first {shown} of {total} rows shown)", title=title, shown=shown_rows, total=batch_size)
    layout = style_layout(title=title, subtitle=subtitle, height=int(np.clip(shown_rows * 26, 160, 420)) + 250,
                          x_title=_("position in the training text (character index)"),
                          y_title=_("row of the minibatch"), margin_bottom=60 + 2 * LEGEND_ROW_PX)
    merge(layout, dict(yaxis=dict(type="category", categoryorder="array", categoryarray=y_labels, autorange="reversed"),
                       xaxis=dict(range=[0, max(int(corpus_len), 1)], rangemode="tozero"),
                       legend=legend_below(layout, 55)))
    return figure(data, layout)


def _ordinal(rank: int) -> str:
    """The tick label of candidate rank ``rank`` (0-based): "1st", "2nd", "3rd", "4th", ..."""
    if rank == 0:
        return _("1st")
    if rank == 1:
        return _("2nd")
    if rank == 2:
        return _("3rd")
    return _("{n}th", n=rank + 1)


GRID_COLOUR_SCALE = "Viridis"


def candidates_grid(
    step_labels: Sequence[str],
    candidate_labels: Sequence[Sequence[str]],
    candidate_probs: np.ndarray,
    chosen_rank: Sequence[int],
    *,
    title: str = N_("Top candidates for each generated character"),
    subtitle: str | None = None,
    x_title: str = N_("generation step · generated character"),
) -> dict[str, Any]:
    """Rank (rows: most likely on top) × generation step (columns), each cell naming a candidate
    character and coloured by its probability 0..1 (Viridis); an orange bar under the character chosen.

    A table, not a figure: ``rnnviz.ui`` draws it as HTML (``plotly_chart.js``), updated cell by cell,
    because plotly.js spends ~30 ms per redraw laying out this many cell labels as SVG text, more than
    all else a keystroke in the prefix box costs the browser. Works for any vocabulary size (1,000+
    Chinese characters) because it shows only k rows. Colours and the ink on them are computed here.
    """
    title, x_title = translate(title), translate(x_title)
    probs = as_array(candidate_probs, ndim=2)
    n_steps, k = probs.shape
    columns, by_rank = list(step_labels)[:n_steps], probs.T  # rows: ranks
    if n_steps == 0 or k == 0:
        columns, by_rank, subtitle = [], np.zeros((0, 0)), subtitle or _("Nothing generated yet.")
    colours = scale_colours(by_rank, GRID_COLOUR_SCALE)
    ranks = [int(r) for r in list(chosen_rank)[:len(columns)]]
    n_rows = by_rank.shape[0]
    return {
        "title": title,
        "subtitle": subtitle,
        "x_title": x_title,
        "y_title": _("candidate rank"),
        "columns": columns,
        "rows": [_ordinal(r) for r in range(n_rows)],
        "cells": [[display_char(candidate_labels[t][r]) for t in range(len(columns))] for r in range(n_rows)],
        "probs": [rounded(row, 3) for row in by_rank],
        "colours": colours.tolist(),
        "dark_ink": dark_ink_on(colours).tolist(),
        "chosen": [r if r < n_rows else -1 for r in ranks],
        "chosen_colour": TARGET_COLOUR,
        "scale": [c for _p, c in colour_scale(GRID_COLOUR_SCALE)],
        "legend": {"colour": _("probability"), "chosen": _("chosen character")},
        "tip": _("step {step} · candidate “{char}”: p = {p}"),  # filled in by the browser, cell by cell
        "narrow": len(columns) > MAX_HORIZONTAL_TICKS,
        "font": FONT_FAMILY,
    }


def candidate_bars(
    step_labels: Sequence[str],
    candidate_labels: Sequence[Sequence[str]],
    sampling_probs: np.ndarray,
    model_probs: np.ndarray,
    chosen_position: Sequence[int],
    *,
    title: str = N_("The distribution each character was drawn from"),
    show_model: bool = True,
) -> go.Figure:
    """Animated bars, one frame per generated character: the candidates' probabilities in the
    distribution actually sampled from (after temperature / top-k), and beside them (grey) the
    model's own softmax. ``chosen_position[t]`` is the chosen character's place in row t (green).
    **Initial state: frame 0** (the first generated character); y is fixed at 0..1.
    """
    title = translate(title)
    sampled = as_array(sampling_probs, ndim=2)
    model = as_array(model_probs, ndim=2)
    n_steps, k = sampled.shape
    if n_steps == 0 or k == 0:
        return empty_figure(title, _("Nothing generated yet."), x_title=_("candidate character"),
                            y_title=_("probability"))
    ranks = [int(r) for r in list(chosen_position)[:n_steps]]
    sampled_rounded = rounded(np.nan_to_num(sampled))
    model_rounded = rounded(np.nan_to_num(model)) if show_model else []
    chosen_text, sampled_name, model_name = _("chosen"), _("sampled from"), _("model softmax")

    def frame_data(t: int) -> list[dict[str, Any]]:
        labels = [display_char(c) for c in candidate_labels[t]]
        colours = [CORRECT_COLOUR if r == ranks[t] else AFTER_CLIP_COLOUR for r in range(k)]
        texts = [chosen_text if r == ranks[t] else "" for r in range(k)]
        bars = [dict(type="bar", x=labels, y=sampled_rounded[t], name=sampled_name,
                     marker=dict(color=colours), text=texts, textposition="outside")]
        if show_model:
            bars.append(dict(type="bar", x=labels, y=model_rounded[t], name=model_name,
                             marker=dict(color="#bbbbbb")))
        return bars

    frame_bars = [frame_data(t) for t in range(n_steps)]
    hover = dict(hovertemplate="“%{x}”: p = %{y:.3f}<extra>%{fullData.name}</extra>", cliponaxis=False)
    first = [merge(dict(bar), hover) for bar in frame_bars[0]]
    merge(first[0], dict(textfont=dict(size=13), constraintext="none"))
    traces = list(range(len(first)))
    frames = [dict(name=str(t), traces=traces, data=data) for t, data in enumerate(frame_bars)]
    # The subtitle is the legend: one coloured square and label per entry.
    entries = [(CORRECT_COLOUR, _("chosen character")), (AFTER_CLIP_COLOUR, _("distribution sampled from"))]
    if show_model:
        entries.append(("#bbbbbb", _("the model's softmax (temperature 1)")))
    subtitle = "   ".join(f"<span style='color:{colour}'>■</span> {label}" for colour, label in entries)
    offset = controls_offset(k)
    layout = style_layout(title=title, subtitle=subtitle, height=560, x_title=_("candidate character"),
                          y_title=_("probability"), margin_bottom=offset + 95)
    merge(layout, dict(
        yaxis=dict(range=[0, 1.05], fixedrange=True),
        xaxis=dict(type="category", tickangle=category_tick_angle(k), tickfont=dict(size=17)),
        barmode="group", bargap=0.2, showlegend=False,  # the subtitle is the legend
    ), animation_controls(list(step_labels)[:n_steps], active_frame=0, offset_px=offset,
                          current_prefix=_("generating ")))
    return figure(first, layout, frames)


def text_activation_figure(
    chars: Sequence[str],
    values: np.ndarray,
    *,
    prefix_len: int = 0,
    width: int = 40,
    title: str = N_("The text coloured by one hidden unit"),
    colorbar_title: str = "h_t[unit]",
    value_range: tuple[float, float] = (-1.0, 1.0),
) -> go.Figure:
    """Karpathy's view: the text laid out in rows of ``width`` characters, each character's cell
    coloured by the chosen unit's value after reading it (diverging scale fixed at -1..1).
    The first ``prefix_len`` characters (the typed prefix) are bold.
    """
    title = translate(title)
    vals = as_array(values, ndim=1)
    chars = [str(c) for c in list(chars)[: len(vals)]]
    n = len(chars)
    if n == 0:
        return empty_figure(title, _("No text yet."), x_title=_("character in the row"), y_title=_("row"))
    width = max(1, min(int(width), n))
    n_rows = -(-n // width)
    z = np.full((n_rows, width), np.nan)
    text = [[""] * width for _row in range(n_rows)]
    hover = [[""] * width for _row in range(n_rows)]
    for i, (c, v) in enumerate(zip(chars, vals)):
        r, col = divmod(i, width)
        z[r, col] = v
        shown = display_char(c)
        text[r][col] = f"<b>{shown}</b>" if i < prefix_len else shown
        hover[r][col] = _("t={t} “{char}” (prefix)", t=i, char=shown) if i < prefix_len else f"t={i} “{shown}”"
    y_labels = [f"{r * width}–{min(n, (r + 1) * width) - 1}" for r in range(n_rows)]
    z_min, z_max = float(value_range[0]), float(value_range[1])
    colorbar: dict[str, Any] = dict(title=dict(text=colorbar_title), thickness=18, len=1.0)
    if z_min < 0 < z_max:
        colorbar["tickvals"] = [z_min, 0.0, z_max]
    heatmap = dict(
        type="heatmap", z=z_for_json(z), x=list(range(width)), y=y_labels, text=text, texttemplate="%{text}",
        customdata=hover, textfont=dict(family=FONT_FAMILY, size=17),
        colorscale=colour_scale("RdBu_r"), zmin=z_min, zmax=z_max,
        hoverongaps=False, colorbar=colorbar,
        hovertemplate=_("%{customdata}<br>value %{z:.3f}<extra></extra>"),
    )
    if np.isclose(z_min, -z_max):
        heatmap["zmid"] = 0.0
    subtitle = _("bold: the prefix you typed · red positive, blue negative, white 0") if prefix_len else \
        _("red positive, blue negative, white 0")
    layout = style_layout(title=title, subtitle=subtitle, height=max(n_rows * 40, 120) + 190,
                          x_title=_("character in the row (read left to right, then the next row)"),
                          y_title=_("characters"))
    merge(layout, dict(yaxis=dict(type="category", categoryorder="array", categoryarray=y_labels, autorange="reversed"),
                       xaxis=dict(showticklabels=False, showgrid=False, zeroline=False),
                       shapes=[cell_grid(width, n_rows, width=2)]))
    return figure([heatmap], layout)


def unit_heatmap(
    hidden_states: np.ndarray,
    input_chars: Sequence[str],
    units: Sequence[int],
    *,
    title: str = N_("Hidden state h_t over time"),
    animate: bool = False,
) -> go.Figure:
    """:func:`hidden_state_heatmap` for a chosen subset of units, rows labelled with the real unit
    numbers (h[17], h[3], ...) so a big hidden layer stays readable."""
    states = as_array(hidden_states, ndim=2)
    chosen = [int(u) for u in units]
    return state_heatmap(states[:, chosen] if chosen else states[:, :0], input_chars,
                         [f"h[{u}]" for u in chosen], title=title, animate=animate)
