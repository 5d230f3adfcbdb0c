"""A reload loses nothing: the server keeps each browser's lessons for a while after its tab goes.

A browser is recognised by a random token in a first-party cookie (never in the URL, so a shared
link carries the set-up but never reaches anyone's lesson). The store holds each (browser, page)
lesson, bounded in count, estimated memory and age; the oldest go first, and a browser whose
lesson had to go is told so.
"""
from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from typing import Any

import streamlit as st

COOKIE = "rnnviz_browser"
COOKIE_DAYS = 7
# A lesson outlives its tab's last activity this long: a reload or a second tab is back at once, and
# Streamlit itself resumes a briefly disconnected session. Then its memory goes back to the server.
KEEP_SECONDS = 3 * 60
KEEP_LESSONS = 48
KEEP_BYTES = 120_000_000  # estimated, over all kept lessons
DROPPED_REMEMBERED = 512


def lesson_nbytes(lesson: Any) -> int:
    """A rough size of a lesson: its models' parameters with Adam's two moments, its replay and history."""
    trainer = getattr(lesson, "trainer", None)
    entries = getattr(trainer, "entries", None)
    models = [e.model for e in entries] if entries else [getattr(lesson, "model", None)]
    params = sum(p.numel() * p.element_size() for m in models if m is not None for p in m.parameters())
    replay = getattr(lesson, "replay", None)
    history = getattr(getattr(trainer, "history", None), "records", ())
    return 3 * params + (replay.nbytes if replay is not None else 0) + 400 * len(history)


class LessonKeeper:
    """(browser, page) → the page's LiveSession, for every session of the server process."""

    def __init__(self, max_lessons: int = KEEP_LESSONS, max_bytes: int = KEEP_BYTES,
                 max_age_seconds: float = KEEP_SECONDS):
        self.max_lessons, self.max_bytes, self.max_age_seconds = max_lessons, max_bytes, max_age_seconds
        self._kept: OrderedDict[tuple[str, str], tuple[float, Any]] = OrderedDict()
        self._dropped: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, browser: str, page: str, state: Any) -> None:
        with self._lock:
            self._kept[(browser, page)] = (time.monotonic(), state)
            self._kept.move_to_end((browser, page))
            self._dropped.pop((browser, page), None)
            self._evict()

    def expire(self) -> None:
        """Drop what has been idle too long (called every few seconds by the server's janitor)."""
        with self._lock:
            self._expire()

    def get(self, browser: str, page: str) -> Any | None:
        with self._lock:
            self._expire()
            entry = self._kept.get((browser, page))
            return None if entry is None else entry[1]

    def was_dropped(self, browser: str, page: str) -> bool:
        with self._lock:
            return (browser, page) in self._dropped

    def __len__(self) -> int:
        return len(self._kept)

    @property
    def nbytes(self) -> int:
        return sum(lesson_nbytes(state.lesson) for _, state in self._kept.values())

    def _drop(self, key: tuple[str, str]) -> None:
        del self._kept[key]
        self._dropped[key] = None
        while len(self._dropped) > DROPPED_REMEMBERED:
            self._dropped.popitem(last=False)

    def _drop_oldest(self) -> None:
        self._drop(next(iter(self._kept)))

    def _expire(self) -> None:
        """Drop lessons idle for max_age_seconds: since they were put, or since their session last
        trained (``last_active``, set by each tick), whichever is later."""
        cutoff = time.monotonic() - self.max_age_seconds
        for key, (put_at, state) in list(self._kept.items()):
            if max(put_at, getattr(state, "last_active", 0.0)) < cutoff:
                self._drop(key)

    def _evict(self) -> None:
        self._expire()
        while len(self._kept) > self.max_lessons:
            self._drop_oldest()
        while len(self._kept) > 1 and self.nbytes > self.max_bytes:
            self._drop_oldest()


@st.cache_resource
def lesson_keeper() -> LessonKeeper:
    """One per server process, shared by every session (it holds no one's data but what they made)."""
    return LessonKeeper()


def browser_token() -> str | None:
    """This browser's token: from its cookie, or a new one set now (remembered for this session)."""
    token = st.session_state.get("_browser_token")
    if token:
        return token
    cookie = (st.context.cookies or {}).get(COOKIE) if hasattr(st, "context") else None
    if cookie and 16 <= len(cookie) <= 64 and cookie.replace("-", "").replace("_", "").isalnum():
        token = cookie
    else:
        token = secrets.token_urlsafe(24)
        st.sidebar.html(f"<script>document.cookie = '{COOKIE}={token}; path=/; max-age={COOKIE_DAYS * 86400}; "
                "SameSite=Strict';</script>", unsafe_allow_javascript=True)
    st.session_state["_browser_token"] = token
    return token
