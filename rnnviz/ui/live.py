"""The live part of a lesson page: its session object, the training controls and the ticking fragment."""
from __future__ import annotations

import secrets
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, TypeVar

import streamlit as st

from rnnviz.core.memory import (
    IDLE_TRIM_THRESHOLD_BYTES,
    TRIM_THRESHOLD_BYTES,
    set_trim_threshold,
    start_memory_janitor,
    trim_arena_tops,
)
from rnnviz.core.runtime import TrainingSlots, configure_torch, training_slot_count
from rnnviz.i18n import N_, _, translate
from rnnviz.lessons.base import LiveLesson
from rnnviz.ui.departed import forget_departed_sessions
from rnnviz.ui.keep import browser_token, lesson_keeper
from rnnviz.ui.plotly_component import serve_plotly_js
from rnnviz.ui.widgets import DETAIL_SECONDS_KEY, FULL_RUN_KEY


@dataclass(frozen=True)
class Pace:
    """How a training session ticks: seconds of training per tick, seconds between ticks, and how
    often the live views beyond the loss curve are redrawn (0: at every tick; see ui.live_chart)."""

    slice_seconds: float
    interval: float
    detail_seconds: float = 0.0


# Alone, a session trains most of the time and still redraws about once a second. Once others train
# too, slices shrink and redraws slow, so page loads and typing get the core between slices; every
# redraw also costs each student's browser (its charts' Plotly.react), so a crowd redraws less often still.
LONE_PACE = Pace(0.75, 0.15)
# A tick capped at a few steps (a tiny task slowed down to watch) ends at once: about one update a
# second, the pace "epochs per update" was made for, else the page would redraw six times a second.
CAPPED_LONE_PACE = Pace(0.75, 0.9)
SHARED_PACE = Pace(0.25, 2.5, 7.5)
CROWD_PACE = Pace(0.4, 4.0, 12.0)  # the same share of the server per session, half the redraws
CROWD_SIZE = 5  # sessions training at once, this one included, from which the crowd pace applies
MAX_SLOT_WAIT_SECONDS = 3.0  # the longest a tick waits in line for a training slot
# A session counts as training if it asked for a slot this recently: over two crowd ticks, so that
# a session does not flip between paces while others train.
DEMAND_WINDOW_SECONDS = 9.0
AUTO_PAUSE_SECONDS = 120.0  # a forgotten tab must not train forever on a shared server
# Single keys: Streamlit ignores them while a text box has the focus, so typing never trains.
SHORTCUTS = {"train": "T", "step": "S", "reset": "0"}  # "0": back to step zero
STEP_WAIT_SECONDS = 5.0  # Step waits at most this long for a training slot
T = TypeVar("T")
REINITIALISED = N_("Those settings need a new model, so it was re-initialised.")

@dataclass
class LiveSession:
    """What one page keeps in st.session_state: its lesson object and whether it is training."""

    lesson: LiveLesson
    playing: bool = False
    notice: str | None = None
    pause_at_train_seconds: float = 0.0  # auto-pause point for the current run
    last_active: float = field(default_factory=time.monotonic)  # the last tick (the keeper's clock)
    missed_slots: int = 0  # ticks in a row that did not train (no slot free in time, or yielded to a page)
    results: dict[str, Any] = field(default_factory=dict)  # page-specific results (experiments)


def session(key: str, factory: Callable[[], LiveLesson]) -> LiveSession:
    if key not in st.session_state:
        st.session_state[key] = LiveSession(lesson=factory())
    return st.session_state[key]


def live_lesson(
    key: str, config: Any, build: Callable[[Any], LiveLesson], *, notice: str = REINITIALISED,
    keep_results: bool = False, errors: tuple[type[Exception], ...] = (ValueError,),
) -> LiveSession:
    """The page's session object with ``config`` applied: the same lesson retuned, or a fresh one
    (training paused, ``notice`` shown). A setting the lesson refuses is shown as an error and
    stops the page, never a stack trace."""
    restore_kept(key)
    try:
        state = session(key, lambda: build(config))
        lesson = state.lesson.apply(config)
    except errors as err:
        st.error(str(err), icon=":material/tune:")
        st.stop()
    if lesson is not state.lesson:
        state.lesson, state.playing, state.notice = lesson, False, notice
        if not keep_results:
            state.results.clear()
    token = browser_token()
    if token:
        lesson_keeper().put(token, key, state)
    return state


def restore_kept(key: str) -> None:
    """On a page's first run in a session (a reload, a second tab): this browser's lesson, if kept."""
    if key in st.session_state:
        return
    token = browser_token()
    if not token:
        return
    keeper = lesson_keeper()
    kept = keeper.get(token, key)
    if kept is not None:
        kept.playing = False
        kept.notice = _("Welcome back: your model is as you left it (step {step:,}).",
                        step=kept.lesson.trainer.step_count)
        st.session_state[key] = kept
    elif keeper.was_dropped(token, key):
        st.toast(_("The server had to let go of your earlier model on this page (it keeps the most recent "
                   "ones for a while); this is a fresh one."), icon=":material/history:")


def train_section(state: LiveSession, render: Callable[[Any], None], key: str,
                  steps_per_tick: int | None = None) -> None:
    """Train/Pause, Step, Reset, and the live fragment that trains and redraws ``render(lesson)``."""
    training_controls(state, key)
    live_training(state, render, key, steps_per_tick)


def training_controls(state: LiveSession, key: str) -> None:
    """Train/Pause, Step and Reset. Callbacks run before the script, so the live fragment
    below is defined with the right schedule on the same run."""
    trainer = state.lesson.trainer

    def toggle() -> None:
        state.playing = not state.playing and not state.lesson.trainer.stopped
        state.pause_at_train_seconds = state.lesson.trainer.train_seconds + AUTO_PAUSE_SECONDS
        state.notice = None

    def step() -> None:
        state.playing = False
        # Through the turnstile like a tick: a burst of Step presses must not crowd out the class.
        ran, _waited = training_slots().run(state.lesson.step, wait=STEP_WAIT_SECONDS)
        state.notice = None if ran else N_("The server is busy training other sessions; press Step again.")

    def do_reset() -> None:
        state.playing = False
        state.lesson = state.lesson.reset()
        state.notice = N_("Model re-initialised from the seed.")

    # A row sized by its buttons: labels and shortcut hints fit in either language at 1024 px.
    row = st.container(horizontal=True, vertical_alignment="center", gap="small")
    row.button(
        _("Pause") if state.playing else (_("Continue") if trainer.step_count else _("Train")),
        key=f"{key}_train", type="primary", on_click=toggle, icon=":material/pause:" if state.playing
        else ":material/play_arrow:", disabled=trainer.stopped, width="content",
        shortcut=SHORTCUTS["train"], help=_("Train or pause (key {key})", key=SHORTCUTS["train"]),
    )
    row.button(_("Step"), key=f"{key}_step", on_click=step, disabled=trainer.stopped, width="content",
               icon=":material/skip_next:", shortcut=SHORTCUTS["step"],
               help=_("One optimizer step (key {key})", key=SHORTCUTS["step"]))
    row.button(_("Reset"), key=f"{key}_reset", on_click=do_reset, width="content",
               icon=":material/restart_alt:", shortcut=SHORTCUTS["reset"],
               help=_("Re-initialise the model from the seed (key {key})", key=SHORTCUTS["reset"]))
    if state.notice:
        st.info(translate(state.notice), icon=":material/info:")


@st.cache_resource
def training_slots() -> TrainingSlots:
    """One turnstile per server process, shared by every session."""
    return TrainingSlots(training_slot_count())


class TrainingDemand:
    """Which sessions asked to train recently: how many share the server's training slots; and
    malloc's trim threshold, high while anyone trains and low once nobody does (see core.memory)."""

    def __init__(self, window_seconds: float = DEMAND_WINDOW_SECONDS):
        self.window_seconds = window_seconds
        self._last_request: dict[str, float] = {}
        self._lock = threading.Lock()
        self._trimming_idle = False  # configure_malloc starts with the training threshold

    def note(self, who: str) -> None:
        with self._lock:
            if self._trimming_idle:  # every step would shrink and regrow its arena's top
                set_trim_threshold(TRIM_THRESHOLD_BYTES)
                self._trimming_idle = False
            self._last_request[who] = time.monotonic()

    def others(self, who: str) -> int:
        """Sessions other than ``who`` that trained within the window (forgetting older ones)."""
        with self._lock:
            self._forget_old()
            return sum(1 for k in self._last_request if k != who)

    def trim_when_idle(self) -> None:
        """While nobody trains, the arenas give back their free tops (the steps of sessions that left),
        and the blocks freed from now on (departed sessions let go) return theirs."""
        with self._lock:
            self._forget_old()
            idle = not self._last_request
            if idle and not self._trimming_idle:
                set_trim_threshold(IDLE_TRIM_THRESHOLD_BYTES)
                self._trimming_idle = True
        if idle:
            trim_arena_tops()

    def _forget_old(self) -> None:
        cutoff = time.monotonic() - self.window_seconds
        self._last_request = {k: t for k, t in self._last_request.items() if t >= cutoff}


@st.cache_resource
def training_demand() -> TrainingDemand:
    return TrainingDemand()


class ForegroundRuns:
    """How many full page runs (a page opening, a widget changed) are under way in the process.

    Training slices wait while any is: a student opening a page, or typing, must not queue behind
    the whole class's training on a one-core server. A session's own page run never overlaps its
    own ticks (Streamlit runs one script run per session at a time), so this counts only others.
    """

    def __init__(self) -> None:
        self._active: dict[str, int] = {}
        self._lock = threading.Lock()

    @contextmanager
    def running(self, who: str) -> Iterator[None]:
        with self._lock:
            self._active[who] = self._active.get(who, 0) + 1
        try:
            yield
        finally:
            with self._lock:
                self._active[who] -= 1
                if not self._active[who]:
                    del self._active[who]

    def others(self, who: str) -> int:
        """Page runs under way in sessions other than ``who`` (a page run also draws its own fragment)."""
        with self._lock:
            return sum(n for session, n in self._active.items() if session != who)


@st.cache_resource
def foreground_runs() -> ForegroundRuns:
    return ForegroundRuns()


def session_id() -> str:
    """A key for this browser session, made once."""
    if "_session_id" not in st.session_state:
        st.session_state["_session_id"] = secrets.token_hex(8)
    return st.session_state["_session_id"]


@contextmanager
def page_run() -> Iterator[None]:
    """Wrap a full page run (app.py's navigation.run()) so other sessions' training yields to it."""
    st.session_state[FULL_RUN_KEY] = True
    try:
        with foreground_runs().running(session_id()):
            yield
    finally:
        st.session_state[FULL_RUN_KEY] = False


def tick_schedule(who: str, capped: bool = False) -> Pace:
    """This session's pace, given how many others are training."""
    others = training_demand().others(who)
    if others == 0:
        return CAPPED_LONE_PACE if capped else LONE_PACE
    return SHARED_PACE if others + 1 < CROWD_SIZE else CROWD_PACE


def live_training(
    state: LiveSession, render: Callable[[Any], None], key: str, steps_per_tick: int | None = None
) -> None:
    """Train in short slices while playing and redraw ``render(lesson)`` after each.

    ``steps_per_tick`` slows tiny tasks down so a class can watch them converge;
    None trains for the whole slice.
    """

    who = f"{id(state)}"  # this session's page: a key no other session shares
    capped = steps_per_tick is not None
    pace = tick_schedule(who, capped)

    @st.fragment(run_every=pace.interval if state.playing else None, key=f"{key}_live")
    def live() -> None:
        # Train and draw as one unit: a page run that starts meanwhile (Pause, typing) waits for
        # the slice to end, so the counters and the charts it draws describe the same step.
        with state.lesson.trainer.lock:
            tick(state.lesson)

    def tick(lesson: LiveLesson) -> None:
        state.last_active = time.monotonic()
        trainer = lesson.trainer
        waiting = False
        pace_changed = False
        st.session_state[DETAIL_SECONDS_KEY] = 0.0
        if state.playing:
            training_demand().note(who)
            now = tick_schedule(who, capped)
            st.session_state[DETAIL_SECONDS_KEY] = now.detail_seconds
            pace_changed = now.interval != pace.interval
            if not state.missed_slots and foreground_runs().others(session_id()):
                # Another student's page is being built: it goes first, but only once in a row, or
                # a class opening pages one after another would stop this session for many ticks.
                ran = False
            else:
                # In line for the slot (first come, first served); a session that missed its turn
                # waits longer the next time, so in a crowd every session still trains every few ticks.
                wait = min(MAX_SLOT_WAIT_SECONDS, now.slice_seconds * (1 + state.missed_slots))
                ran, _waited = training_slots().run(
                    lambda: lesson.run_for(now.slice_seconds, max_steps=steps_per_tick), wait=wait)
            state.missed_slots = 0 if ran else state.missed_slots + 1
            waiting = not ran
            if trainer.stopped or trainer.train_seconds > state.pause_at_train_seconds:
                state.playing = False
                if not trainer.stopped:
                    state.notice = _(
                        "Paused automatically after {seconds:.0f} s of training; "
                        "press Continue for more.", seconds=trainer.train_seconds,
                    )
                st.rerun()  # the whole page: stop the ticks, refresh the views below
        else:
            lesson.monitor(force=True)  # paused: the views describe exactly the step shown
        if trainer.stop_reason:
            st.error(translate(trainer.stop_reason), icon=":material/error:")
        if waiting:
            st.caption(":material/hourglass_top: " + _("Other sessions are training on this server; yours continues in a moment."))
        render(state.lesson)
        if pace_changed:
            # Others started or stopped training: a fragment's interval is set when the page runs,
            # so run the page once to tick at the new pace (the first to train would otherwise keep
            # redrawing six times as often as the rest of the class).
            st.rerun()

    live()




@st.cache_resource
def server_setup() -> None:
    """Once per server process: torch's thread cap and a thread that lets go of departed sessions and
    hands the memory they freed back to the OS (app.py configures malloc before its imports); plotly.js
    served to the charts."""
    serve_plotly_js()
    configure_torch()
    start_memory_janitor(before_release=_forget_departed)


def _forget_departed() -> None:
    training_demand().trim_when_idle()
    lesson_keeper().expire()
    forget_departed_sessions()


def accept_upload(state: LiveSession, uploaded, slot: str, load: Callable[[bytes], T],
                  errors: tuple[type[Exception], ...]) -> T | None:
    """Load an st.file_uploader file once: the loaded value the first time this file is seen,
    else None. A file ``load`` refuses (one of ``errors``) shows its message for as long as
    it stays in the uploader, and is not tried again on every rerun."""
    if uploaded is None:
        return None
    seen, problem = f"{slot}_file_id", f"{slot}_problem"
    if state.results.get(seen) != uploaded.file_id:
        state.results[seen] = uploaded.file_id
        try:
            value = load(uploaded.getvalue())
        except errors as err:
            state.results[problem] = _("{name} cannot be used: {error}", name=uploaded.name, error=err)
        else:
            state.results[problem] = None
            return value
    if state.results.get(problem):
        st.error(state.results[problem], icon=":material/error:")
    return None
