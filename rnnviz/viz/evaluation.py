"""Classifier evaluation: per-class accuracy bars and the confusion matrix."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
import plotly.graph_objects as go

from rnnviz.viz.style import (
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
    style_figure,
    unique_class_labels,
)

if TYPE_CHECKING:
    from rnnviz.lessons.names import Evaluation


# ---------------------------------------------------------------- evaluation


def accuracy_bars(
    labels: Sequence[str],
    accuracies: Sequence[float],
    *,
    title: str = "Accuracy per class",
    category_title: str = "class",
) -> go.Figure:
    """Horizontal bars 0..1, first label at the top. NaN (class never seen) is drawn as "n/a"."""
    values = as_array(accuracies, ndim=1)
    if len(values) == 0:
        return empty_figure(title, "Nothing evaluated yet.", x_title="accuracy", y_title=category_title)
    names = unique_class_labels(list(labels)[: len(values)])
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
    style_figure(fig, title=title, height=height, x_title="accuracy", y_title=category_title)
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
    counts = np.nan_to_num(as_array(matrix, ndim=2))
    n = counts.shape[0]
    if n == 0:
        return empty_figure(title, "Nothing evaluated yet.", x_title="predicted class", y_title="true class")
    names = unique_class_labels(list(labels)[:n])
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
    fig.update_xaxes(type="category", side="bottom", tickangle=category_tick_angle(n))
    size = int(np.clip(n * 34, 260, 700))
    return style_figure(fig, title=title, height=size + 150, x_title="predicted class", y_title="true class",
                  margin_bottom=70 + (35 if n > MAX_HORIZONTAL_TICKS else 0))


# --- the names lesson's accuracy and data figures -----------------------------------------

def accuracy_figure(
    evaluations: Sequence[Evaluation], majority_rate: float | None = None, majority_language: str = "Russian"
) -> go.Figure:
    """Held-out accuracy and balanced accuracy (and the training batches' accuracy) against step."""
    title = "Accuracy on the held-out 10% while training"
    fig = go.Figure()
    if not evaluations:
        fig.add_annotation(text="No evaluation yet. Press Train to start.", xref="paper", yref="paper",
                           x=0.5, y=0.5, showarrow=False, font=dict(size=18, color="#777777"))
    steps = [e.step for e in evaluations]
    series = [
        ("test accuracy", [e.test.accuracy for e in evaluations], CORRECT_COLOUR, "solid"),
        ("test balanced accuracy", [e.test.balanced_accuracy for e in evaluations], TARGET_COLOUR, "solid"),
        ("training batches", [e.train_accuracy for e in evaluations], BAR_COLOUR, "dot"),
    ]
    for name, values, colour, dash in series:
        fig.add_trace(go.Scatter(x=steps, y=values, mode="lines+markers" if len(steps) < 30 else "lines",
                                 name=name, line=dict(color=colour, width=2.5, dash=dash),
                                 hovertemplate="step %{x}<br>" + name + " = %{y:.1%}<extra></extra>"))
    if majority_rate is not None and evaluations:
        fig.add_trace(go.Scatter(
            x=[min(steps), max(steps)], y=[majority_rate, majority_rate], mode="lines",
            name=f"always “{majority_language}”: {majority_rate:.0%}", hoverinfo="skip",
            line=dict(color=THRESHOLD_COLOUR, width=1.5, dash="dash")))
    fig.update_yaxes(range=[0, 1], tickformat=".0%")
    fig.update_layout(legend=dict(orientation="h", x=0, xanchor="left", y=-0.22, yanchor="top"))
    subtitle = None
    if evaluations:
        last = evaluations[-1]
        subtitle = (f"step {last.step}: accuracy {last.test.accuracy:.1%}, balanced {last.test.balanced_accuracy:.1%} "
                    f"on {last.test.n} held-out names")
    return style_figure(fig, title=title, subtitle=subtitle, height=460, x_title="training step",
                          y_title="accuracy", margin_bottom=120)


def class_counts_figure(counts: dict[str, tuple[int, int]]) -> go.Figure:
    """Names per language (training + held out) as horizontal bars on a linear scale, so the
    imbalance is as visible as it is to the model."""
    languages = list(counts)
    totals = [sum(counts[lang]) for lang in languages]
    fig = go.Figure(go.Bar(
        y=languages, x=totals, orientation="h", marker=dict(color=AFTER_CLIP_COLOUR),
        text=[f"{n:,}" for n in totals], textposition="outside", cliponaxis=False,
        customdata=[list(counts[lang]) for lang in languages],
        hovertemplate="%{y}: %{x:,} names (%{customdata[0]:,} training, %{customdata[1]:,} held out)<extra></extra>",
    ))
    total = sum(totals)
    subtitle = None
    if languages:
        largest = languages[int(np.argmax(totals))]
        smallest = languages[int(np.argmin(totals))]
        subtitle = (f"{total:,} names; {largest} alone is {max(totals) / max(1, total):.0%}, "
                    f"{smallest} has {min(totals):,}")
    fig.update_yaxes(autorange="reversed", type="category")
    style_figure(fig, title="Names per language", subtitle=subtitle,
                   height=len(languages) * 26 + 170, x_title="names", y_title="language")
    fig.update_layout(margin=dict(r=70), showlegend=False)
    return fig
