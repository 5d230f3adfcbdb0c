"""A session whose student left is let go once Streamlit's disconnectedSessionTTL has passed,
on a real Streamlit Runtime (the version the project pins)."""
from __future__ import annotations

import asyncio
import gc
import threading
import weakref

import pytest
from streamlit.runtime import Runtime, RuntimeConfig
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.runtime.memory_session_storage import MemorySessionStorage
from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager
from streamlit.runtime.session_manager import SessionClient
from streamlit.runtime.uploaded_file_manager import UploadedFileRec

from rnnviz.ui.departed import forget_departed_sessions

TTL_SECONDS = 0.2  # sessions that must expire during a test


class _Client(SessionClient):
    def write_forward_msg(self, msg) -> None:
        pass


class _Lesson:
    """Stands for what a page keeps in session state."""


@pytest.fixture
def make_runtime(tmp_path):
    """A Streamlit Runtime (not started) whose disconnected sessions live ``ttl_seconds``."""
    script = tmp_path / "app.py"
    script.write_text("import streamlit as st\n")

    def make(ttl_seconds: float) -> Runtime:
        return Runtime(RuntimeConfig(
            script_path=str(script),
            media_file_storage=MemoryMediaFileStorage("/media"),
            uploaded_file_manager=MemoryUploadedFileManager("/upload"),
            session_storage=MemorySessionStorage(ttl_seconds=ttl_seconds),
        ))

    yield make
    Runtime._instance = None


def _leave_after_uploading(runtime: Runtime):
    """One student: connects, uploads a file, puts a lesson in session state, closes the tab."""
    session_id = runtime.connect_session(_Client(), user_info={})
    session = runtime._session_mgr.get_session_info(session_id).session
    runtime.uploaded_file_mgr.add_file(session_id, UploadedFileRec("f1", "corpus.txt", "text/plain", b"x" * 1000))
    lesson = _Lesson()
    session.session_state["lesson"] = lesson
    runtime.disconnect_session(session_id)
    return session_id, weakref.ref(session), weakref.ref(lesson)


def _run(runtime: Runtime, scenario) -> None:
    """Run ``scenario()`` on a started runtime, on its event loop, in a thread of its own (a test
    before this one may have left an event loop marked running on the main thread)."""
    async def main():
        await runtime.start()
        try:
            await scenario()
        finally:
            runtime.stop()
            await runtime.stopped

    failure = []

    def in_thread():
        try:
            asyncio.run(main())
        except BaseException as err:  # noqa: BLE001 - re-raised on the test's thread
            failure.append(err)

    thread = threading.Thread(target=in_thread)
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive(), "the scenario did not finish in 60 s"
    if failure:
        raise failure[0]


async def _forget_from_another_thread() -> bool:
    """As the memory janitor does, from its own thread; then the event loop runs what was scheduled."""
    called = []
    worker = threading.Thread(target=lambda: called.append(forget_departed_sessions()))
    worker.start()
    worker.join()
    await asyncio.sleep(0.05)
    gc.collect()
    return called == [True]


def test_a_departed_session_is_let_go_after_the_ttl(make_runtime):
    runtime = make_runtime(TTL_SECONDS)

    async def scenario():
        session_id, session, lesson = _leave_after_uploading(runtime)
        await asyncio.sleep(TTL_SECONDS * 2)
        gc.collect()
        # Streamlit alone: expired, so no longer listed, yet still held with all it kept.
        assert runtime._session_mgr.list_sessions() == []
        assert session() is not None and lesson() is not None
        assert runtime.uploaded_file_mgr.get_files(session_id, ["f1"])

        assert await _forget_from_another_thread()
        assert lesson() is None, "the lesson in the departed session's state is still alive"
        assert session() is None
        assert runtime.uploaded_file_mgr.get_files(session_id, ["f1"]) == []

    _run(runtime, scenario)


def test_a_departed_session_still_referenced_elsewhere_lets_its_state_go(make_runtime):
    """Streamlit's own message loop can keep the last session it flushed in a local variable."""
    runtime = make_runtime(TTL_SECONDS)

    async def scenario():
        _session_id, session, lesson = _leave_after_uploading(runtime)
        held_by_streamlit = session()
        await asyncio.sleep(TTL_SECONDS * 2)
        assert await _forget_from_another_thread()
        assert held_by_streamlit is session()
        assert lesson() is None, "the lesson in the departed session's state is still alive"

    _run(runtime, scenario)


def test_a_session_within_its_ttl_is_kept_for_its_return(make_runtime):
    runtime = make_runtime(60)  # long enough for a slow machine to reconnect in time

    async def scenario():
        session_id, _session, lesson = _leave_after_uploading(runtime)
        assert await _forget_from_another_thread()
        assert lesson() is not None
        # The student is back in time: the same session, state and upload.
        assert runtime.connect_session(_Client(), user_info={}, existing_session_id=session_id) == session_id
        assert runtime._session_mgr.get_session_info(session_id).session.session_state["lesson"] is lesson()
        assert runtime.uploaded_file_mgr.get_files(session_id, ["f1"])

    _run(runtime, scenario)


def test_without_a_server_nothing_is_done():
    assert not Runtime.exists()
    assert forget_departed_sessions() is False
