"""Classifier evaluation: per-class accuracy bars and the confusion matrix."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
import plotly.graph_objects as go

from rnnviz.i18n import N_, _, translate
from rnnviz.viz.style import (
    colour_scale,
    cell_grid,
    AFTER_CLIP_COLOUR,
    BAR_COLOUR,
    CORRECT_COLOUR,
    MAX_CELLS_WITH_TEXT,
    MAX_HORIZONTAL_TICKS,
    TARGET_COLOUR,
    THRESHOLD_COLOUR,
    as_array,
    category_tick_angle,
    empty_figure,
    figure,
    merge,
    message_annotation,
    numbers,
    rounded,
    style_layout,
    unique_class_labels,
)

if TYPE_CHECKING:
    from rnnviz.lessons.names import Evaluation


# ---------------------------------------------------------------- evaluation


def accuracy_bars(
    labels: Sequence[str],
    accuracies: Sequence[float],
    *,
    title: str = N_("Accuracy per class"),
    category_title: str = N_("class"),
) -> go.Figure:
    """Horizontal bars 0..1, first label at the top. NaN (class never seen) is drawn as "n/a"."""
    title, category_title = translate(title), translate(category_title)
    values = as_array(accuracies, ndim=1)
    if len(values) == 0:
        return empty_figure(title, _("Nothing evaluated yet."), x_title=_("accuracy"), y_title=category_title)
    names = unique_class_labels(list(labels)[: len(values)])
    names += [_("class {index}", index=i) for i in range(len(names), len(values))]
    finite = np.isfinite(values)
    bars = dict(
        type="bar", x=rounded(np.where(finite, values, 0.0)), y=names, orientation="h",
        marker=dict(color=AFTER_CLIP_COLOUR),
        text=[f"{v:.0%}" if ok else _("n/a") for v, ok in zip(values, finite)], textposition="outside",
        cliponaxis=False, hovertemplate="%{y}: %{x:.1%}<extra></extra>",
    )
    height = int(np.clip(len(values) * 28, 200, 900)) + 130
    layout = merge(style_layout(title=title, height=height, x_title=_("accuracy"), y_title=category_title), dict(
        xaxis=dict(range=[0, 1], tickformat=".0%"),
        yaxis=dict(autorange="reversed", type="category"),
        margin=dict(r=60),  # room for the "100%" label right of a full bar
    ))
    return figure([bars], layout)


def _row_normalise(matrix: np.ndarray) -> np.ndarray:
    """Each row divided by its total; rows with total 0 stay all zeros (no division by zero)."""
    totals = matrix.sum(axis=1, keepdims=True)
    return np.divide(matrix, totals, out=np.zeros_like(matrix), where=totals > 0)


def confusion_matrix_figure(
    matrix: np.ndarray,
    labels: Sequence[str],
    *,
    normalise_rows: bool = True,
    title: str = N_("Confusion matrix (rows normalised)"),
) -> go.Figure:
    """True class (rows) × predicted class (columns); values written in cells up to 20 classes."""
    title = translate(title)
    counts = np.nan_to_num(as_array(matrix, ndim=2))
    n = counts.shape[0]
    if n == 0:
        return empty_figure(title, _("Nothing evaluated yet."), x_title=_("predicted class"),
                            y_title=_("true class"))
    names = unique_class_labels(list(labels)[:n])
    names += [_("class {index}", index=i) for i in range(len(names), n)]
    values = _row_normalise(counts) if normalise_rows else counts
    z_max = 1.0 if normalise_rows else max(float(values.max()), 1.0)
    heatmap: dict[str, Any] = dict(
        type="heatmap", z=rounded(values) if normalise_rows else [numbers(row) for row in values],
        x=names, y=names, colorscale=colour_scale("Blues"), zmin=0.0, zmax=z_max,
        colorbar=dict(title=dict(text=_("fraction of row") if normalise_rows else _("count"))),
        hovertemplate=_("true %{y} → predicted %{x}: %{z:.3g}<extra></extra>"),
    )
    if n <= MAX_CELLS_WITH_TEXT:
        heatmap.update(texttemplate="%{z:.2f}" if normalise_rows else "%{z:.0f}",
                       textfont=dict(size=13 if n > 10 else 15))
    size = int(np.clip(n * 34, 260, 700))
    layout = merge(
        style_layout(title=title, height=size + 150, x_title=_("predicted class"), y_title=_("true class"),
                     margin_bottom=70 + (35 if n > MAX_HORIZONTAL_TICKS else 0)),
        dict(yaxis=dict(autorange="reversed", type="category"),
             xaxis=dict(type="category", side="bottom", tickangle=category_tick_angle(n)),
             shapes=[cell_grid(n, n)]),
    )
    return figure([heatmap], layout)


# --- the names lesson's accuracy and data figures -----------------------------------------

def accuracy_figure(
    evaluations: Sequence[Evaluation], majority_rate: float | None = None, majority_language: str = "Russian"
) -> go.Figure:
    """Held-out accuracy and balanced accuracy (and the training batches' accuracy) against step.
    The page passes ``majority_language`` as it should be shown (translated)."""
    title = _("Accuracy on the held-out 10% while training")
    steps = [e.step for e in evaluations]
    series = [
        (_("test accuracy"), [e.test.accuracy for e in evaluations], CORRECT_COLOUR, "solid"),
        (_("test balanced accuracy"), [e.test.balanced_accuracy for e in evaluations], TARGET_COLOUR, "solid"),
        (_("training batches"), [e.train_accuracy for e in evaluations], BAR_COLOUR, "dot"),
    ]
    data: list[dict[str, Any]] = [
        dict(type="scatter", x=numbers(steps), y=rounded(values), mode="lines+markers" if len(steps) < 30 else "lines",
             name=name, line=dict(color=colour, width=2.5, dash=dash),
             hovertemplate=_("step %{{x}}<br>{series} = %{{y:.1%}}<extra></extra>", series=name))
        for name, values, colour, dash in series
    ]
    if majority_rate is not None and evaluations:
        data.append(dict(
            type="scatter", x=numbers([min(steps), max(steps)]), y=[float(majority_rate)] * 2, mode="lines",
            name=_("always “{language}”: {rate:.0%}", language=majority_language, rate=majority_rate),
            hoverinfo="skip", line=dict(color=THRESHOLD_COLOUR, width=1.5, dash="dash")))
    subtitle = None
    if evaluations:
        last = evaluations[-1]
        subtitle = _("step {step}: accuracy {accuracy:.1%}, balanced {balanced:.1%} on {count} held-out names",
                     step=last.step, accuracy=last.test.accuracy, balanced=last.test.balanced_accuracy,
                     count=last.test.n)
    layout = merge(
        style_layout(title=title, subtitle=subtitle, height=460, x_title=_("training step"), y_title=_("accuracy"),
                     margin_bottom=120, fixed_margins=True),
        dict(yaxis=dict(range=[0, 1], tickformat=".0%"),
             legend=dict(orientation="h", x=0, xanchor="left", y=-0.22, yanchor="top")),
    )
    if not evaluations:
        layout["annotations"] = [message_annotation(_("No evaluation yet. Press Train to start."))]
    return figure(data, layout)


def class_counts_figure(counts: dict[str, tuple[int, int]]) -> go.Figure:
    """Names per language (training + held out) as horizontal bars on a linear scale, so the
    imbalance is as visible as it is to the model. The keys are shown as given (the page translates them)."""
    languages = list(counts)
    totals = [int(sum(counts[lang])) for lang in languages]
    bars = dict(
        type="bar", y=languages, x=totals, orientation="h", marker=dict(color=AFTER_CLIP_COLOUR),
        text=[f"{n:,}" for n in totals], textposition="outside", cliponaxis=False,
        customdata=[[int(v) for v in counts[lang]] for lang in languages],
        hovertemplate=_("%{y}: %{x:,} names (%{customdata[0]:,} training, %{customdata[1]:,} held out)"
                        "<extra></extra>"),
    )
    total = sum(totals)
    subtitle = None
    if languages:
        largest = languages[int(np.argmax(totals))]
        smallest = languages[int(np.argmin(totals))]
        subtitle = _("{total:,} names; {largest} alone is {share:.0%}, {smallest} has {smallest_count:,}",
                     total=total, largest=largest, share=max(totals) / max(1, total), smallest=smallest,
                     smallest_count=min(totals))
    layout = merge(
        style_layout(title=_("Names per language"), subtitle=subtitle, height=len(languages) * 26 + 170,
                     x_title=_("names"), y_title=_("language")),
        dict(yaxis=dict(autorange="reversed", type="category"), margin=dict(r=70), showlegend=False),
    )
    return figure([bars], layout)
