"""A page's set-up in its URL: opened from a link, a page starts from exactly that set-up.

Each page declares its URL fields (query parameter, widget key, how to read the value). On
the page's first run in a session the widgets are seeded from the URL; a value that is unknown
or out of range is ignored with a short notice, never an exception. After the widgets, the
URL follows their current values, so the address bar is always a link to this set-up; the text
typed into a name or prefix box is written there by the browser itself (typed_url.js).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence
from urllib.parse import urlencode

import streamlit as st

from rnnviz.i18n import _

# Parameters every page understands (the language, projector mode), never reported as unknown.
SHARED_PARAMS = ("lang", "present")
COPY_LINK_KEY = "_rnnviz_copy_link"  # the popover's open state


@dataclass(frozen=True)
class UrlField:
    """One setting in the URL: ``param`` in the query string, ``key`` of the widget it sets."""

    param: str
    key: str
    parse: Callable[[str], Any]  # raises ValueError for a value the widget cannot show
    show: Callable[[Any], str] = str
    # A text box typed into (a name, a prefix): the browser writes its text into the address bar
    # (typed_url.js); the server writes it only along with another setting that changed.
    typed: bool = False


def choice(options: Sequence[Any]) -> Callable[[str], Any]:
    """A value among ``options``, matched by its text (so 0.1 matches "0.1", None matches "none")."""
    by_text = {_text(o): o for o in options}

    def parse(raw: str) -> Any:
        if raw not in by_text:
            raise ValueError(f"not one of {', '.join(by_text)}")
        return by_text[raw]
    return parse


def integer(low: int, high: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        value = int(raw)
        if not low <= value <= high:
            raise ValueError(f"not between {low} and {high}")
        return value
    return parse


def number(low: float, high: float) -> Callable[[str], float]:
    def parse(raw: str) -> float:
        value = float(raw)
        if not (math.isfinite(value) and low <= value <= high):
            raise ValueError(f"not between {low:g} and {high:g}")
        return value
    return parse


def flag(raw: str) -> bool:
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError("not 1 or 0")


def text(max_chars: int) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if len(raw) > max_chars:
            raise ValueError(f"longer than {max_chars} characters")
        return raw
    return parse


def _text(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def seed_from_url(page: str, fields: Sequence[UrlField]) -> list[str]:
    """Once per page and session, before the widgets: set them from the URL. Returns what was ignored."""
    done = f"_url_seeded_{page}"
    if st.session_state.get(done):
        return []
    st.session_state[done] = True
    known = {f.param for f in fields} | set(SHARED_PARAMS)
    ignored = []
    for f in fields:
        raw = st.query_params.get(f.param)
        if raw is None:
            continue
        try:
            st.session_state[f.key] = f.parse(raw)
        except (ValueError, TypeError) as err:
            ignored.append(f"{f.param}={raw} ({err})")  # the setting's own name: code, not prose
    ignored += [f"{p}={st.query_params.get(p)} (unknown setting)" for p in st.query_params if p not in known]
    return ignored


def current_values(fields: Sequence[UrlField]) -> dict[str, str]:
    """Each field's widget value as the URL writes it."""
    return {f.param: f.show(st.session_state[f.key]) if f.show is not str else _text(st.session_state[f.key])
            for f in fields if f.key in st.session_state}


def url_follows(fields: Sequence[UrlField]) -> None:
    """After the widgets: write their current values into the URL (only what changed). A change of
    typed text alone writes nothing: the browser has put it in the address bar already, and each
    URL message costs the browser a history entry and ~20 ms before the chart it waits for."""
    wanted = current_values(fields)
    changed = {param: value for param, value in wanted.items() if st.query_params.get(param) != value}
    unwanted = [param for param in st.query_params if param not in wanted and param not in SHARED_PARAMS]
    if not unwanted and set(changed) <= {f.param for f in fields if f.typed}:
        return
    for param, value in changed.items():
        st.query_params[param] = value
    for param in unwanted:
        del st.query_params[param]


TYPED_URL_KEY = "_rnnviz_typed_url"
_typed_url = st.components.v2.component(
    "rnnviz.typed_url", js=Path(__file__).with_name("typed_url.js").read_text(encoding="utf-8"),
    css=f".st-key-{TYPED_URL_KEY} {{ display: none; }}",  # it shows nothing: no gap for it in the sidebar
    isolate_styles=False)


def address_bar_follows_typing(fields: Sequence[UrlField]) -> None:
    """Once per page run, outside any fragment: the browser keeps the typed fields' text in the address bar."""
    boxes = [{"key": f.key, "param": f.param} for f in fields if f.typed]
    if boxes:
        with st.sidebar:
            _typed_url(key=TYPED_URL_KEY, data={"boxes": boxes}, height="content")


def link_to_setup(fields: Sequence[UrlField]) -> str:
    """This page's address with its current query string and the text in its typed boxes now."""
    base = (st.context.url or "").split("?")[0]
    params = {k: st.query_params.get(k) for k in st.query_params}
    params.update(current_values([f for f in fields if f.typed]))  # the server's copy of the URL may lag them
    query = urlencode(params)
    return f"{base}?{query}" if query else base


def url_setup(page: str, fields: Sequence[UrlField]):
    """Seed the widgets from the URL (first run), and return a function to call after the widgets."""
    ignored = seed_from_url(page, fields)
    if ignored:
        st.toast(_("Ignored in the link: {settings}", settings="; ".join(ignored)), icon=":material/link_off:")
    address_bar_follows_typing(fields)

    def after_widgets() -> None:
        url_follows(fields)
    return after_widgets


@st.fragment
def copy_link_control(fields: Sequence[UrlField]) -> None:
    """A popover with this set-up's link and a copy button. The link is made when the popover opens
    (which runs this fragment only): typing a name or a prefix changes the URL without a page run."""
    with st.popover(_("Copy link to this set-up"), icon=":material/link:", key=COPY_LINK_KEY,
                    on_change="rerun") as popover:
        st.caption(_("Anyone who opens this link gets these settings and a fresh model of their own."))
        if popover.open:
            st.code(link_to_setup(fields), language=None, wrap_lines=True)
