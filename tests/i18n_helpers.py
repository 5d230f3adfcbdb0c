"""Finding English left on a page that should speak Chinese (for the pages' AppTests).

    from tests.i18n_helpers import english_sentences, page_texts

    at.query_params["lang"] = "zh"; at.run(); ...
    assert english_sentences(page_texts(at), allow=[corpus_sample]) == []

What counts as a leftover English SENTENCE: a run of 3 or more consecutive ordinary English words
(letters only, lower case after the first letter, hyphen or apostrophe inside allowed:
"Train for a few steps", "press Continue for more") inside one text. Not counted, so the check is
strict about prose and blind to what stays English on purpose:

- code in backticks, LaTeX (``$...$``, ``$$...$$``, ``\\(...\\)``), HTML tags, URLs, file names,
  ``:material/...:`` icons;
- tokens that are code or symbols: with ``_ . / = ( )`` or digits inside (``nn.RNN``,
  ``batch_first``, ``h_t``, ``W_hh``, ``x2``), and acronyms (``RNN``, ``LSTM``, ``GRU``, ``CSV``,
  ``KB``); each breaks a run;
- one or two English words among Chinese: proper names ("Jay Chou", "Tiny Shakespeare"), language
  labels kept as data ("Russian"), glossary terms kept in English (softmax, top-k, one-hot);
- anything in ``allow``: text that is data, not UI (corpus excerpts, generated samples, the
  surnames typed, the sequence "hello").

So the 18 language labels of the names data must be translated (俄语, 英语, ...) only where they
appear in a sentence-like run; the names page should translate them anyway (they are UI labels).
"""
from __future__ import annotations

import json
import re
from typing import Iterable

from rnnviz.ui.plotly_component import COMPONENT_NAME

_IGNORED = re.compile(
    r"```.*?```|`[^`]*`"                      # code
    r"|\$\$.*?\$\$|\$[^$\n]*\$|\\\(.*?\\\)|\\\[.*?\\\]"  # LaTeX
    r"|<[^>]+>"                               # HTML tags (<br>, <b>)
    r"|https?://\S+"                          # URLs
    r"|:material/[a-z_]+:"                    # icons
    r"|\b[\w.-]+\.(?:txt|csv|html|zip|pt|json|py|png)\b",  # file names
    re.S,
)
_WORD = re.compile(r"[A-Za-z][a-z]*(?:[-'][A-Za-z]+)*")
_ACRONYM = re.compile(r"[A-Z][A-Z0-9]+s?")
_STRIP = "\"'“”‘’()[]{},.;:!?…«»"


def _words(text: str) -> list[str | None]:
    """The text's tokens: a word, or None for anything that breaks a run."""
    tokens: list[str | None] = []
    for raw in text.split():
        token = raw.strip(_STRIP)
        if token and _WORD.fullmatch(token) and not _ACRONYM.fullmatch(token):
            tokens.append(token)
        else:
            tokens.append(None)
    return tokens


def english_sentences(texts: Iterable[str], allow: Iterable[str] = (), min_words: int = 3) -> list[str]:
    """The runs of ``min_words`` or more English words in ``texts`` (empty: all Chinese or code)."""
    allowed = [a for a in allow if a]
    found = []
    for text in texts:
        if not text:
            continue
        for a in allowed:
            text = text.replace(a, " | ")
        text = _IGNORED.sub(" | ", text)
        # non-ASCII (CJK, arrows, punctuation) separates words too: "训练history曲线" has one word
        text = re.sub(r"[^\x00-\x7f]+", " | ", text)
        run: list[str] = []
        for token in _words(text) + [None]:
            if token is not None:
                run.append(token)
                continue
            if len(run) >= min_words:
                found.append(" ".join(run))
            run = []
    return found


# --- what a page shows, from an AppTest ----------------------------------------------------------

_TEXT_FIELDS = {"body", "label", "help", "placeholder", "options", "content", "caption", "text", "delta",
                "title", "prefix", "suffix", "description"}
_SKIPPED_TYPES = {"latex", "code", "exception", "json", "dataframe", "arrow_data_frame", "text_area_value"}


def _proto_strings(message, out: list[str]) -> None:
    for field, value in message.ListFields():
        if field.message_type is not None:
            values = value if field.is_repeated else [value]
            for v in values:
                if hasattr(v, "ListFields"):
                    _proto_strings(v, out)
        elif field.name in _TEXT_FIELDS and field.type == field.TYPE_STRING:
            out.extend(value if field.is_repeated else [value])


def payload_spec(payload: bytes) -> dict:
    """What a chart component's payload draws: its Plotly figure, or its grid of coloured cells."""
    parsed = json.loads(payload)
    return parsed["grid"] if "grid" in parsed else parsed["figure"]


GRID_TEXT_KEYS = ("title", "subtitle", "x_title", "y_title", "rows", "legend", "tip")


def grid_texts(grid: dict) -> list[str]:
    """The words of a grid of coloured cells (``language_model.candidates_grid``): its title, subtitle,
    axis titles, row labels, legend and hover text (the cells and columns are the model's characters)."""
    out: list[str] = []
    for key in GRID_TEXT_KEYS:
        value = grid.get(key)
        values = value.values() if isinstance(value, dict) else value if isinstance(value, list) else [value]
        out.extend(v for v in values if isinstance(v, str) and v)
    return out


def figure_texts(spec: dict) -> list[str]:
    """Titles, axis titles, annotations, legend entries, slider and button labels of a Plotly spec
    (or the words of a grid of coloured cells)."""
    if "cells" in spec:
        return grid_texts(spec)
    out: list[str] = []

    def title(obj) -> None:
        t = obj.get("title") if isinstance(obj, dict) else None
        if isinstance(t, dict):
            out.append(t.get("text", ""))
        elif isinstance(t, str):
            out.append(t)

    def layout_texts(layout: dict) -> None:
        title(layout)
        for key, value in layout.items():
            if isinstance(value, dict) and re.match(r"(x|y)axis\d*$|coloraxis\d*$|legend\d*$|scene\d*$", key):
                title(value)
                title(value.get("colorbar", {}))
        for a in layout.get("annotations", []) or []:
            out.append(a.get("text", ""))
        for s in layout.get("sliders", []) or []:
            out.append((s.get("currentvalue") or {}).get("prefix", ""))
        for m in layout.get("updatemenus", []) or []:
            out.extend(b.get("label", "") for b in m.get("buttons", []) or [])

    layout_texts(spec.get("layout", {}))
    for trace in spec.get("data", []) or []:
        out.append(trace.get("name", "") if isinstance(trace.get("name"), str) else "")
        title(trace.get("colorbar", {}))
    for frame in spec.get("frames", []) or []:
        layout_texts(frame.get("layout", {}) or {})
    return [t for t in out if t]


def page_texts(at) -> list[str]:
    """Every text an AppTest run shows: markdown, titles, captions, alerts, widget labels, options
    and help, tab and expander labels, buttons, and the texts of every Plotly chart. Leaves out
    st.latex, st.code, exceptions, tables and what users typed (widget values)."""
    out: list[str] = []

    def visit(node) -> None:
        kind = getattr(node, "type", "")
        if kind == "bidi_component":  # a chart: its figure's texts (the component's code is not shown)
            if node.proto.component_name == COMPONENT_NAME:
                out.extend(figure_texts(payload_spec(node.proto.bytes)))
        elif kind not in _SKIPPED_TYPES and getattr(node, "proto", None) is not None:
            _proto_strings(node.proto, out)
        for child in getattr(node, "children", {}).values():
            visit(child)

    visit(at._tree)
    return [t for t in out if t]
