"""The live section's pace under load: which charts are re-sent unchanged, and how often a session ticks.

A chart keeps its element id whatever its data (the browser updates it in place with Plotly.react);
"unchanged" means the same payload, which the browser does not draw again.
"""
from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
from streamlit.testing.v1 import AppTest

from rnnviz.ui import live, widgets


def _live_chart_script() -> None:
    import plotly.graph_objects as go
    import streamlit as st

    from rnnviz.ui import widgets

    st.session_state.setdefault("builds", 0)
    st.session_state[widgets.DETAIL_SECONDS_KEY] = 10.0 if st.session_state.get("shared") else 0.0
    st.session_state[widgets.FULL_RUN_KEY] = st.session_state.get("full_run", False)

    def build():
        st.session_state["builds"] += 1
        return go.Figure({"data": [{"type": "scatter", "y": [st.session_state["builds"], 2, 3]}]})

    widgets.live_chart(build, key="detail", depends_on=st.session_state.get("shown"))


def _chart(at: AppTest):
    [chart] = at.get("bidi_component")
    return chart.proto


def test_a_detail_chart_is_resent_unchanged_while_others_train_and_rebuilt_otherwise():
    at = AppTest.from_function(_live_chart_script, default_timeout=30).run()
    first = _chart(at)
    assert at.session_state["builds"] == 1

    at.session_state["shared"] = True  # a tick while other sessions train: the same figure again
    at.run()
    assert at.session_state["builds"] == 1
    assert _chart(at).bytes == first.bytes and _chart(at).id == first.id

    at.session_state["shown"] = "Nakamura"  # what the view shows changed (a typed name): rebuilt at once
    at.run()
    assert at.session_state["builds"] == 2
    assert _chart(at).bytes != first.bytes
    assert _chart(at).id == first.id  # the same element, updated in place, not a new chart

    at.session_state["full_run"] = True  # a full page run always rebuilds
    at.run()
    assert at.session_state["builds"] == 3

    at.session_state["full_run"] = False
    at.session_state["shared"] = False  # training alone: rebuilt at every tick
    at.run()
    at.run()
    assert at.session_state["builds"] == 5


def test_a_detail_chart_is_rebuilt_once_it_is_older_than_the_shared_pace(monkeypatch):
    at = AppTest.from_function(_live_chart_script, default_timeout=30).run()
    at.session_state["shared"] = True
    at.run()
    assert at.session_state["builds"] == 1
    later = time.monotonic() + 11.0
    monkeypatch.setattr(widgets, "time", SimpleNamespace(monotonic=lambda: later))
    at.run()
    assert at.session_state["builds"] == 2


def test_demand_counts_other_sessions_that_trained_recently():
    demand = live.TrainingDemand(window_seconds=0.2)
    demand.note("a")
    assert demand.others("a") == 0 and demand.others("b") == 1
    demand.note("b")
    assert demand.others("a") == 1
    time.sleep(0.25)
    assert demand.others("a") == 0 and demand.others("b") == 0


def test_the_pace_of_a_session_alone_in_a_group_and_in_a_crowd(monkeypatch):
    demand = live.TrainingDemand()
    monkeypatch.setattr(live, "training_demand", lambda: demand)
    alone = live.tick_schedule("me")
    assert alone.detail_seconds == 0  # every view moves at every tick
    assert alone.slice_seconds / (alone.slice_seconds + alone.interval) > 0.8  # trains most of the time
    # A tick capped at a few steps ends at once: it waits longer, so the page redraws about once a second.
    assert live.tick_schedule("me", capped=True).interval >= 0.8
    paces = []
    for other in range(7):
        demand.note(f"student {other}")
        paces.append(live.tick_schedule("me"))
    group, crowd = paces[0], paces[-1]
    assert paces[:live.CROWD_SIZE - 2] == [group] * (live.CROWD_SIZE - 2)
    assert paces[live.CROWD_SIZE - 2:] == [crowd] * (len(paces) - live.CROWD_SIZE + 2)
    for pace in (group, crowd):
        assert pace.interval > alone.interval and pace.detail_seconds >= 2 * pace.interval
        # Each student's charts still move within 10 s, even after missing one tick's slot.
        assert 2 * (pace.interval + 2 * pace.slice_seconds) < 10
    assert crowd.interval > group.interval and crowd.detail_seconds > group.detail_seconds
    # About the same share of the server per session: the crowd trains longer per tick.
    assert crowd.slice_seconds / crowd.interval == pytest.approx(group.slice_seconds / group.interval, rel=0.1)
    # Others are heard for longer than two ticks: no flipping between paces while they train.
    assert live.DEMAND_WINDOW_SECONDS > 2 * crowd.interval


def test_malloc_trims_arenas_tops_only_while_nobody_trains(monkeypatch):
    thresholds, sweeps = [], []
    monkeypatch.setattr(live, "set_trim_threshold", thresholds.append)
    monkeypatch.setattr(live, "trim_arena_tops", lambda: sweeps.append(len(thresholds)))
    demand = live.TrainingDemand(window_seconds=0.2)
    demand.trim_when_idle()
    assert thresholds == [live.IDLE_TRIM_THRESHOLD_BYTES] and sweeps == [1]  # swept after lowering it
    demand.trim_when_idle()
    assert len(thresholds) == 1 and len(sweeps) == 2
    demand.note("a")  # the first step after a quiet spell: no shrinking and regrowing at every step
    assert thresholds == [live.IDLE_TRIM_THRESHOLD_BYTES, live.TRIM_THRESHOLD_BYTES]
    demand.note("b")
    demand.trim_when_idle()  # others trained within the window
    assert len(thresholds) == 2 and len(sweeps) == 2
    time.sleep(0.25)
    demand.trim_when_idle()
    assert thresholds[2:] == [live.IDLE_TRIM_THRESHOLD_BYTES] and sweeps[2:] == [3]
