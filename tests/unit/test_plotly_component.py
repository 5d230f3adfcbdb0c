"""The payload a chart sends to the browser (rnnviz/ui/plotly_chart.js reads it)."""
import json
import re

import plotly.graph_objects as go
import plotly.io as pio

from rnnviz.ui.plotly_component import PLOTLY_JS_DIR, PLOTLY_JS_FILE, PLOTLY_JS_ROUTE, chart_payload
from rnnviz.viz import training

CONFIG = {"displaylogo": False}


def test_the_payload_carries_the_figure_as_plotly_writes_it():
    fig = training.loss_curve([1, 2, 3], [2.0, 1.5, 1.2])
    payload = json.loads(chart_payload(fig, CONFIG))
    assert payload["figure"] == json.loads(pio.to_json(fig, validate=False))
    assert payload["config"] == CONFIG
    assert payload["assets"] == PLOTLY_JS_ROUTE


def test_the_payload_starts_with_the_height_the_browser_reserves():
    # the browser reads the height with a regular expression before parsing the whole payload
    tall = go.Figure({"data": [{"type": "bar", "y": [1]}], "layout": {"height": 612, "title": {"text": "漢字"}}})
    raw = chart_payload(tall, CONFIG).decode("utf-8")
    assert re.match(r'^\{"height": (\d+)', raw).group(1) == "612"
    assert "漢字" in raw  # sent as UTF-8, not escaped
    default = chart_payload(go.Figure(), CONFIG).decode("utf-8")
    assert re.match(r'^\{"height": (\d+)', default).group(1) == "450"  # plotly.js's default height


def test_plotly_js_is_where_the_route_points():
    assert (PLOTLY_JS_DIR / PLOTLY_JS_FILE).is_file()
    assert PLOTLY_JS_ROUTE.endswith("/" + PLOTLY_JS_FILE)
    head = (PLOTLY_JS_DIR / PLOTLY_JS_FILE).read_text(encoding="utf-8")[:200]
    assert "plotly.js" in head
