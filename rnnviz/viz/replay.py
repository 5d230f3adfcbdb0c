"""Replay figures: one Plotly figure whose frames are training steps, not timesteps.

Each panel is a heatmap (rows × timesteps) on a colour range fixed across all frames, so a
change of colour is a change of value. The slider names each frame's training step; a note
per frame says what the model predicted then. Built as a plain spec (no per-property
validation: this runs while a class trains); tests validate the result with plotly's validator.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from rnnviz.i18n import N_, _, translate
from rnnviz.viz.style import BASE_FONT_SIZE, cell_grid, colour_scale, figure, merge, rounded, style_layout, unique_labels

REPLAY_FRAME_MS = 500
PROBABILITY_SCALE = colour_scale("Viridis")
TANH_SCALE = colour_scale("RdBu_r")  # blue −1, white 0, red +1


@dataclass(frozen=True)
class ReplayPanel:
    """One heatmap of the replay: its rows, colour range, and one matrix (rows × timesteps) per frame."""

    title: str
    row_labels: Sequence[str]
    matrices: Sequence[np.ndarray]
    value_range: tuple[float, float]
    colorscale: str
    cell_text: Sequence[Sequence[Sequence[str]]] | None = None  # per frame, rows × timesteps


def replay_figure(
    panels: Sequence[ReplayPanel],
    column_labels: Sequence[str],
    steps: Sequence[int],
    notes: Sequence[str],
    *,
    title: str,
    x_title: str = N_("timestep · input character"),
) -> go.Figure:
    """Stacked heatmaps over training steps, with ▶/❚❚ and a slider "step N" (starts on the last)."""
    x_title = translate(x_title)
    if not steps:
        raise ValueError("A replay needs at least one snapshot.")
    columns = unique_labels(column_labels)
    n = len(panels)
    gap = 0.08 if n > 1 else 0.0
    height_each = (1.0 - gap * (n - 1)) / n
    layout = merge(style_layout(title=title, height=230 + sum(max(140, 22 * len(p.row_labels)) for p in panels),
                                x_title=x_title, y_title="", margin_bottom=150),
                   {"margin": {"l": 90, "t": 130}, "annotations": [],
                    # the title at the very top, the step's note under it, the panel titles under that
                    "title": {"y": 0.99, "yref": "container", "yanchor": "top"}})
    data = []
    for k, panel in enumerate(panels):
        suffix = "" if k == 0 else str(k + 1)
        top = 1.0 - k * (height_each + gap)
        domain = [round(max(0.0, top - height_each), 4), round(min(1.0, top), 4)]
        layout[f"yaxis{suffix}"] = {"domain": domain, "autorange": "reversed",
                                    "type": "category", "tickfont": {"size": 12}}
        layout[f"xaxis{suffix}"] = {"anchor": f"y{suffix}", "type": "category", "tickangle": 0,
                                    "showticklabels": k == n - 1,
                                    **({"matches": "x"} if k else {})}
        if k == n - 1:
            layout["xaxis" + suffix]["title"] = {"text": x_title}
        layout["annotations"].append({"text": f"<b>{panel.title}</b>", "xref": "paper", "yref": "paper",
                                      "x": 0.0, "y": top, "yanchor": "bottom", "showarrow": False,
                                      "font": {"size": BASE_FONT_SIZE - 1}})
        data.append(_panel_trace(panel, len(steps) - 1, columns, suffix, show_scale=k == 0))
        layout.setdefault("shapes", []).append(cell_grid(len(columns), len(panel.row_labels), xref=f"x{suffix}",
                                                         yref=f"y{suffix}"))
    layout["annotations"].append(_note(notes[-1]))
    frames = []
    for f, step in enumerate(steps):
        frames.append({
            "name": str(step),
            "data": [{"type": "heatmap", **_panel_values(panel, f)} for panel in panels],
            "traces": list(range(n)),
            "layout": {"annotations": layout["annotations"][:-1] + [_note(notes[f])]},
        })
    layout["updatemenus"] = [{
        "type": "buttons", "direction": "left", "showactive": False, "x": 0.0, "y": -0.12,
        "xanchor": "left", "yanchor": "top", "pad": {"t": 40},
        "buttons": [
            {"label": _("▶ Play"), "method": "animate",
             "args": [None, {"frame": {"duration": REPLAY_FRAME_MS, "redraw": True},
                             "transition": {"duration": 0}, "fromcurrent": False, "mode": "immediate"}]},
            {"label": _("❚❚ Pause"), "method": "animate",
             "args": [[None], {"frame": {"duration": 0, "redraw": False}, "mode": "immediate"}]},
        ],
    }]
    layout["sliders"] = [{
        "active": len(steps) - 1, "x": 0.27, "len": 0.73, "y": -0.12, "yanchor": "top", "pad": {"t": 40},
        "currentvalue": {"prefix": _("training step "), "font": {"size": BASE_FONT_SIZE}},
        "steps": [{"label": str(step), "method": "animate",
                   "args": [[str(step)], {"frame": {"duration": 0, "redraw": True}, "mode": "immediate",
                                          "transition": {"duration": 0}}]} for step in steps],
    }]
    return figure(data, layout, frames)


def _note(text: str) -> dict:
    return {"text": f"<b>{text}</b>", "xref": "paper", "yref": "paper", "x": 0.0, "y": 1.0, "xanchor": "left",
            "yanchor": "bottom", "yshift": 34, "showarrow": False, "font": {"size": BASE_FONT_SIZE + 1,
                                                                            "color": "#1f3b73"}}


def _panel_values(panel: ReplayPanel, frame: int) -> dict:
    values: dict = {"z": rounded(np.asarray(panel.matrices[frame], dtype=np.float64), 3)}
    if panel.cell_text is not None:
        values["text"] = [list(row) for row in panel.cell_text[frame]]
    return values


def _panel_trace(panel: ReplayPanel, frame: int, columns: list[str], suffix: str, show_scale: bool) -> dict:
    zmin, zmax = panel.value_range
    trace = {
        "type": "heatmap", "x": columns, "y": list(panel.row_labels), "zmin": zmin, "zmax": zmax,
        "colorscale": panel.colorscale, "xaxis": f"x{suffix}", "yaxis": f"y{suffix}",
        "showscale": show_scale,
        "hovertemplate": "%{x}<br>%{y}: %{z:.3f}<extra></extra>",
        **_panel_values(panel, frame),
    }
    if panel.cell_text is not None:
        trace["texttemplate"] = "%{text}"
        trace["hovertemplate"] = "%{x}<br>%{text}: %{z:.3f}<extra></extra>"
    return trace


# -- each lesson's replay ------------------------------------------------------------------------
# ``frames`` are rnnviz.lessons.replay.ReplayFrame objects (step, loss, arrays, values): plain data.

TANH_RANGE = (-1.0, 1.0)
PROBABILITY_RANGE = (0.0, 1.0)


def _prediction_note(frame) -> str:
    """What the model predicted at this frame ("step 40: predicts “ohlol” · loss 0.123")."""
    if frame.loss is None:
        return _("step {step}: predicts “{predicted}”", step=frame.step, predicted=frame.values["predicted"])
    return _("step {step}: predicts “{predicted}” · loss {loss:.3f}", step=frame.step,
             predicted=frame.values["predicted"], loss=frame.loss)


def sequence_replay(frames: Sequence, vocab: Sequence[str], input_text: str) -> go.Figure:
    """The softmax and h_t at every timestep of the display input, over training."""
    hidden_units = frames[-1].arrays["hidden"].shape[1]
    panels = [
        ReplayPanel(_("softmax at each timestep"), [f"“{c}”" for c in vocab],
                    [f.arrays["probs"].T for f in frames], PROBABILITY_RANGE, PROBABILITY_SCALE),
        ReplayPanel(_("hidden state h_t"), [f"h[{u}]" for u in range(hidden_units)],
                    [f.arrays["hidden"].T for f in frames], TANH_RANGE, TANH_SCALE),
    ]
    notes = [_prediction_note(f) for f in frames]
    return replay_figure(panels, list(input_text), [f.step for f in frames], notes,
                         title=_("Replay of training: reading “{text}”", text=input_text))


def beliefs_replay(frames: Sequence, name: str, languages: Sequence[str]) -> go.Figure:
    """P(language) after each letter of one example name, over training.

    The page passes ``languages`` (and the frames' top language) as they should be shown."""
    shown = [f for f in frames if name in f.arrays]
    panels = [ReplayPanel(_("P(language) after each letter of “{name}”", name=name), list(languages),
                          [f.arrays[name].T for f in shown], PROBABILITY_RANGE, PROBABILITY_SCALE)]
    notes = []
    for f in shown:
        language, p = f.values["top"][name]
        notes.append(_("step {step}: “{name}” looks {language} ({p:.0%})", step=f.step, name=name,
                       language=language, p=p))
    read_as = shown[-1].values["read_as"][name]  # the letters the model reads (transliterated)
    return replay_figure(panels, list(read_as), [f.step for f in shown], notes,
                         title=_("Replay of training: “{name}”", name=name), x_title=_("after letter"))


def continuation_replay(frames: Sequence) -> go.Figure:
    """The top candidates for each character of the first prefix's greedy continuation, over training."""
    k = frames[-1].arrays["candidate_probs"].shape[1]
    ranks = [_("most likely")] + [f"#{r}" for r in range(2, k + 1)]
    panels = [ReplayPanel(_("candidates for each next character (colour: probability)"), ranks,
                          [f.arrays["candidate_probs"].T for f in frames], PROBABILITY_RANGE, PROBABILITY_SCALE,
                          cell_text=[np.array(f.values["candidate_chars"], dtype=object).T.tolist()
                                     for f in frames])]
    prefix = frames[-1].values["prefix"]
    notes = [_("step {step}: {prefix} → {continuation}", step=f.step, prefix=prefix,
               continuation=f.values["continuation"][:24]).replace("\n", "↵") for f in frames]
    n_chars = frames[-1].arrays["candidate_probs"].shape[0]
    return replay_figure(panels, [str(i + 1) for i in range(n_chars)], [f.step for f in frames], notes,
                         title=_("Replay of training: continuing “{prefix}”", prefix=prefix),
                         x_title=_("generated character"))


def panels_replay(frames: Sequence, input_text: str, *, title: str, note_of) -> go.Figure:
    """One heatmap per named (timesteps × units) array of the frames, e.g. gates or one model each.

    The names are keys (English gate names decide the colour range), shown translated."""
    panels = []
    for name, last in frames[-1].arrays.items():
        in_01 = "gate" in name
        if in_01:
            value_range = PROBABILITY_RANGE
        elif "cell state" in name:
            limit = max(1.0, max(float(np.abs(f.arrays[name].astype(float)).max()) for f in frames))
            value_range = (-limit, limit)
        else:
            value_range = TANH_RANGE
        panels.append(ReplayPanel(translate(name), [f"{u}" for u in range(last.shape[1])],
                                  [f.arrays[name].T for f in frames], value_range,
                                  PROBABILITY_SCALE if in_01 else TANH_SCALE))
    return replay_figure(panels, list(input_text), [f.step for f in frames], [note_of(f) for f in frames],
                         title=title)
