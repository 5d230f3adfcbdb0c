"""Sessions whose students have left are really let go.

Streamlit keeps a disconnected session (its session state: our lessons, their chart payloads, its
uploaded files) for ``server.disconnectedSessionTTL`` so that a network blip loses nothing. Its
store only removes an expired entry when it is written to, i.e. when somebody connects or leaves,
and nothing shuts the expired session down. Seen: 3 minutes after a class of eight had left (and
after its TTL), all eight lessons and ~11k more objects than idle were alive, held by that store.
So the server's memory janitor calls ``forget_departed_sessions`` now and then.
"""
from __future__ import annotations

import logging

_LOG = logging.getLogger(__name__)


def _shut_down_expired(storage_cache) -> None:
    """On Streamlit's event loop (its session store is not thread-safe): remove the expired
    sessions and shut each down as Streamlit's own ``close_session`` does (uploaded files,
    media references, session caches), here rather than in whichever thread's garbage
    collection happens to reach the session's ``__del__``."""
    for _, session_info in storage_cache.expire():
        session = session_info.session
        try:
            session.shutdown()
            # Streamlit's message loop keeps the last session it flushed in a local variable until
            # somebody connects again (seen: one charlm lesson, ~30 MB, alive with no session left).
            # The session can never come back, so what it held goes now, whoever still holds it.
            session.session_state.clear()
            session._fragment_storage.clear()
        except Exception:  # noqa: BLE001 - one session failing to shut down must not keep the rest
            _LOG.exception("shutting down an expired session failed")


def forget_departed_sessions() -> bool:
    """Ask Streamlit's event loop to drop the disconnected sessions whose TTL has passed. Safe from
    any thread; False when there is no running Streamlit server, or its internals differ from the
    version this was written for (then nothing is done: Streamlit's own behaviour stays)."""
    try:
        from streamlit.runtime import Runtime

        if not Runtime.exists():
            return False
        runtime = Runtime.instance()
        storage_cache = runtime._session_mgr._session_storage._cache
        loop = runtime._get_async_objs().eventloop
    except (AttributeError, ImportError, RuntimeError):
        return False
    if not callable(getattr(storage_cache, "expire", None)) or loop.is_closed():
        return False
    loop.call_soon_threadsafe(_shut_down_expired, storage_cache)
    return True
