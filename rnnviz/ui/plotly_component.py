"""A Plotly chart that updates in place: the figure goes to the browser as JSON and plotly.js applies
it with ``Plotly.react`` (rnnviz/ui/plotly_chart.js), instead of ``st.plotly_chart``'s full redraw.

``st.plotly_chart`` hashes the figure into the element's identity, so a chart whose data changes is a
new element: the browser tears the old one down and draws it from scratch (Plotly.newPlot), at every
training tick and every keystroke. A Streamlit custom component (``st.components.v2``) keyed by the
chart's key keeps its identity while its data changes. plotly.js is served by Streamlit's component
file route: a bundle of only the trace types these charts draw, committed beside this file
(scripts/build_plotly_js.py), when it is the very version of plotly.js the installed plotly.py writes
its JSON for; otherwise the installed package's full bundle.

The same component draws a grid of coloured cells (``grid_payload``) as an HTML table, without plotly.js.
"""
from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import plotly
import plotly.graph_objects as go
import plotly.io as pio
import streamlit as st
import streamlit.components.v1 as components_v1

from rnnviz.i18n import _

_LOGGER = logging.getLogger(__name__)
COMPONENT_NAME = "rnnviz.plotly_chart"
CHART_KEY_PREFIX = "_rnnviz_chart_"
# The trace types these charts draw, and all that the bundle below holds: 1.2 MB instead of the full
# 4.8 MB. On the way to every fresh page's first chart, a browser fetches and evaluates it in ~0.17 s
# and draws a first heatmap ~0.26 s later: 0.43 s, against 0.8 s with plotly's own "cartesian" bundle
# and 1.5 s with the full one (scripts/bench_plotly_js.py).
BUNDLED_TRACES = ("scatter", "bar", "heatmap")
FULL_PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
BUNDLED_PLOTLY_JS = Path(__file__).with_name("plotly_bundle") / "plotly-rnnviz.min.js"


def plotly_js_version(path: Path) -> str | None:
    """The version a plotly.js bundle names in its licence header ("plotly.js ... v4.1.1"), if any."""
    try:
        with open(path, encoding="utf-8") as bundle:
            head = bundle.read(300)
    except OSError:
        return None
    found = re.search(r"plotly\.js\b[^\n]*?\bv(\d+\.\d+\.\d+\S*)", head)
    return found.group(1) if found else None


def choose_plotly_js(full: Path, bundled: Path) -> Path:
    """The bundled plotly.js if it is the same version as the full one, else the full one: a newer
    plotly.py may write attributes an older plotly.js does not know."""
    version, bundled_version = plotly_js_version(full), plotly_js_version(bundled)
    if version is not None and bundled_version == version:
        return bundled
    _LOGGER.warning("Serving the full plotly.js %s: %s is not the same version (%s)", version, bundled.name,
                    bundled_version)
    return full


PLOTLY_JS = choose_plotly_js(FULL_PLOTLY_JS, BUNDLED_PLOTLY_JS)
PLOTLY_JS_ROUTE = f"component/{__name__}.plotly_js/{PLOTLY_JS.name}"  # the name declare_component gives it

_PLOTLY_LOADER_JS = Path(__file__).with_name("plotly_loader.js").read_text(encoding="utf-8")
_mount = st.components.v2.component(
    COMPONENT_NAME, js=_PLOTLY_LOADER_JS + Path(__file__).with_name("plotly_chart.js").read_text(encoding="utf-8"),
    isolate_styles=False)
# The same loader, started by the home page: a student who opens the app and then a lesson finds
# plotly.js (~0.35 s to evaluate) already there. A failure is left to the charts, which say so.
_PRELOAD_HTML = "<script>(() => {{\n{loader}\nloadPlotly({route}).catch(() => {{}});\n}})();</script>".format(
    loader=re.sub(r"^\s*//.*\n|\s+// .*", "", _PLOTLY_LOADER_JS, flags=re.M),  # the page text carries no comments
    route=json.dumps(PLOTLY_JS_ROUTE))


def serve_plotly_js() -> None:
    """Once per server, in a script run: a v1 component declared with a path makes Streamlit serve the
    files in that directory (and only there) at component/<module>.<name>/."""
    served = components_v1.declare_component("plotly_js", path=str(PLOTLY_JS.parent))
    if PLOTLY_JS_ROUTE != f"component/{served.name}/{PLOTLY_JS.name}":
        raise RuntimeError(f"plotly.js is served as {served.name}, not where the charts look for it")


def preload_plotly() -> None:
    """Start loading plotly.js in this browser tab now (once per tab; later runs change nothing)."""
    st.sidebar.html(_PRELOAD_HTML, unsafe_allow_javascript=True)


def chart_payload(fig: go.Figure, config: dict) -> bytes:
    """What the browser receives for one chart: its height first (the page holds the space until
    plotly.js has drawn it), the figure (as ``st.plotly_chart`` would send it, unvalidated), its
    plotly.js config and where plotly.js is served. Bytes go to the browser as they are; a dict would
    be walked for dataframes and re-encoded by Streamlit."""
    return _payload(int(fig.layout.height or 450), {"assets": PLOTLY_JS_ROUTE, "config": config},
                    "figure", pio.to_json(fig, validate=False))


def grid_payload(grid: dict) -> bytes:
    """What the browser receives for a table of coloured cells (``language_model.candidates_grid``): drawn
    as HTML by the same component, without plotly.js. The height only holds the space until it is drawn."""
    return _payload(150 + 38 * len(grid["rows"]), {}, "grid", json.dumps(grid, ensure_ascii=False))


def _payload(height: int, fields: dict, body_key: str, body_json: str) -> bytes:
    """The height first (the browser reads it before parsing the rest), then ``fields``, the message for a
    chart that cannot be drawn, and the body, already JSON (inserted as it is, not encoded again)."""
    head = json.dumps({"height": height, **fields, "failed": _("This chart could not be drawn: {error}")},
                      ensure_ascii=False)
    return f'{head[:-1]},"{body_key}":{body_json}}}'.encode()


def plotly_chart(payload: bytes, key: str) -> None:
    # A keyed component is a widget: its key names a session-state entry, so it gets its own
    # namespace (a chart keyed like its page's session object would shadow it).
    _mount(key=f"{CHART_KEY_PREFIX}{key}", data=payload, width="stretch", height="content")
