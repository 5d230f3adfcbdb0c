"""Fetching datasets safely: downloads (through Pooch), checksums and zip extraction.

Everything here is generic (it knows nothing about names or lyrics) and has one
promise: a destination either appears complete and verified, or not at all.

Downloads go through `Pooch <https://www.fatiando.org/pooch/>`_: its
``HTTPDownloader`` streams into a temporary file next to the destination, the
sha256 is checked (when known), the file is moved into place only then, and
failed attempts are retried. This module adds what Pooch has no notion of: a
progress hook that reports ``progress(bytes_done, total)`` (for ``st.progress``),
a size limit, messages a student can act on, and processors that unpack a zip
into place atomically. Zip archives, downloaded or uploaded, are checked before
anything is unpacked: the number of entries (read from the archive's end record,
before Python parses its directory), unsafe paths, each member's size and
compression ratio, and the total. Failures raise :class:`DatasetError`.
"""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
import urllib.parse
from pathlib import Path, PurePosixPath
from typing import IO, Any, Callable, Optional, Union

from rnnviz.data.budget import (
    MAX_EXTRACTED_BYTES,
)
from rnnviz.i18n import _

CACHE_DIR_ENV = "RNNVIZ_CACHE_DIR"
DEFAULT_MAX_DOWNLOAD_BYTES = 200_000_000  # on disk, streamed: memory does not grow with it
DEFAULT_MAX_EXTRACTED_BYTES = MAX_EXTRACTED_BYTES
DEFAULT_CHUNK_SIZE = 64 * 1024
DEFAULT_TIMEOUT = 30
DOWNLOAD_RETRIES = 2
"""Failed downloads (dropped connection, checksum mismatch) are tried again this many times
(Pooch waits 1 s, then 2 s, in between)."""

ProgressCallback = Callable[[int, Optional[int]], None]
"""Called as ``progress(bytes_done, total_bytes_or_None)`` while downloading."""

ZipSource = Union[str, os.PathLike, IO[bytes], bytes]


class DatasetError(Exception):
    """A dataset could not be fetched, read or verified.

    The message is written for the person using the app (what went wrong and
    what to try), so pages can show ``str(error)`` as it is.
    """


def cache_dir() -> Path:
    """Folder for downloaded datasets: ``$RNNVIZ_CACHE_DIR`` or ``~/.cache/rnnviz``."""
    configured = os.environ.get(CACHE_DIR_ENV, "").strip()
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".cache" / "rnnviz"


def format_bytes(n_bytes: int) -> str:
    """A short human size: ``512 bytes``, ``1.2 MB``."""
    if n_bytes < 1000:
        return _("{count} bytes", count=n_bytes)
    for unit in ("kB", "MB", "GB"):
        n_bytes /= 1000
        if n_bytes < 1000 or unit == "GB":
            return f"{n_bytes:.1f} {unit}"
    raise AssertionError("unreachable")


def sha256_of_file(path: Path) -> str:
    """Hex sha256 of a file, read in chunks so large files need little memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_bytes_atomically(dest: Path, data: bytes) -> Path:
    """Write ``data`` to ``dest`` via a temporary file and ``os.replace``."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp_name, dest)
    except BaseException:
        _remove_quietly(Path(tmp_name))
        raise
    return dest


def decode_utf8_text(data: bytes, *, label: str) -> str:
    """Decode UTF-8 bytes (a leading BOM is dropped), naming the first bad byte if any."""
    bom = b"\xef\xbb\xbf"
    offset = len(bom) if data.startswith(bom) else 0
    try:
        return data[offset:].decode("utf-8")
    except UnicodeDecodeError as exc:
        position = offset + exc.start
        raise DatasetError(_(
            "{label} is not UTF-8 text (byte 0x{byte:02x} at position {position}).",
            label=label, byte=data[position], position=position)
        ) from None


def download_file(
    url: str,
    dest: Path,
    *,
    sha256: str | None = None,
    progress: ProgressCallback | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_DOWNLOAD_BYTES,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    retries: int | None = None,
    processor: Callable[[str, str, Any], Any] | None = None,
) -> Any:
    """Download ``url`` to ``dest`` with Pooch and return ``dest`` (or what ``processor`` returns).

    ``dest``'s folder is Pooch's cache: if ``dest`` already holds a file with the
    expected ``sha256`` nothing is downloaded, a file with another hash is replaced,
    and with ``sha256=None`` an existing ``dest`` is used as it is. A download streams
    into a temporary file in that folder, reporting ``progress(bytes_done,
    total_or_None)``; it is moved into place only once complete and verified, so on
    any failure ``dest`` is left as it was, nothing half-written remains, and
    :class:`DatasetError` says what happened. ``processor(path, action, pooch)`` is a
    Pooch processor (e.g. :class:`rnnviz.data.archives.ExtractZip`), called after the download or cache hit.
    """
    import pooch  # imported here: the app imports this module on pages that never download
    import requests

    pooch.get_logger().setLevel("WARNING")  # not "Downloading file ..." on the server's console

    dest = Path(dest)
    label = PurePosixPath(urllib.parse.urlparse(url).path).name or dest.name
    dest.parent.mkdir(parents=True, exist_ok=True)
    hook = _ProgressHook(progress, max_bytes, label)
    downloader = _HookedDownloader(pooch.HTTPDownloader(progressbar=hook, chunk_size=chunk_size, timeout=timeout), hook)
    fetcher = pooch.create(
        path=dest.parent,
        base_url="",
        registry={dest.name: f"sha256:{sha256.lower()}" if sha256 else None},
        urls={dest.name: url},
        retry_if_failed=DOWNLOAD_RETRIES if retries is None else retries,
    )
    try:
        result = fetcher.fetch(dest.name, processor=processor, downloader=downloader)
    except DatasetError:
        raise
    except requests.exceptions.HTTPError as exc:
        response = exc.response
        status = f"{response.status_code} {response.reason}" if response is not None else str(exc)
        raise DatasetError(_("Could not download {label}: the server answered {status} ({url}).",
                             label=label, status=status, url=url)) from exc
    except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError) as exc:
        raise DatasetError(_interrupted_message(label, _bytes_received(exc, hook.done), hook.total)) from exc
    except requests.exceptions.Timeout as exc:
        raise DatasetError(_(
            "Could not download {label}: the server did not answer within {timeout:g} s ({url}); try again.",
            label=label, timeout=timeout, url=url)
        ) from exc
    except requests.exceptions.ConnectionError as exc:
        if hook.done:
            raise DatasetError(_interrupted_message(label, hook.done, hook.total)) from exc
        raise DatasetError(_(
            "Could not download {label}: cannot reach {host}. "
            "Check the internet connection and try again, or point the app at a local copy (see README, Data).",
            label=label, host=urllib.parse.urlparse(url).netloc or url)
        ) from exc
    except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema,
            requests.exceptions.InvalidSchema) as exc:
        raise DatasetError(_("Could not download {label}: {url!r} is not a valid http(s) address.",
                             label=label, url=url)) from exc
    except requests.exceptions.RequestException as exc:
        raise DatasetError(_("Could not download {label}: {error} ({url}); try again.",
                             label=label, error=exc, url=url)) from exc
    except ValueError as exc:  # Pooch: the hash does not match
        if "hash" not in str(exc).lower():
            raise DatasetError(_("Could not download {label}: {error}.", label=label, error=exc)) from exc
        got = re.search(r"but got ([0-9a-fA-F]+)", str(exc))
        if got:
            raise DatasetError(_(
                "{label} was downloaded but its checksum does not match (expected sha256 {expected}…, got {got}…). "
                "The file may have changed on the server or been corrupted on the way; try again.",
                label=label, expected=sha256[:12], got=got.group(1)[:12])
            ) from exc
        raise DatasetError(_(
            "{label} was downloaded but its checksum does not match (expected sha256 {expected}…). "
            "The file may have changed on the server or been corrupted on the way; try again.",
            label=label, expected=sha256[:12])
        ) from exc
    except OSError as exc:  # disk full, permissions
        raise DatasetError(_("Could not save {label} in {folder}: {error}.",
                             label=label, folder=dest.parent, error=exc)) from exc
    return dest if processor is None else result


class _ProgressHook:
    """What Pooch's ``HTTPDownloader(progressbar=...)`` drives, turned into ``progress(done, total)``.

    Pooch sets ``total`` from Content-Length at the start of each attempt and calls
    ``update(chunk_size)`` after writing and flushing each chunk, so the real count of
    bytes is the temporary file's size; the callback gets it whenever it grows. The
    size limit is enforced here too: raising stops the download, and Pooch removes the
    temporary file.
    """

    def __init__(self, callback: ProgressCallback | None, max_bytes: int, label: str):
        self.callback, self.max_bytes, self.label = callback, max_bytes, label
        self.path: str | None = None
        self.done = 0
        self._total: int | None = None

    @property
    def total(self) -> int | None:
        return self._total

    @total.setter
    def total(self, value: int) -> None:  # the start of an attempt
        self._total = int(value) or None  # Pooch passes 0 when the server sent no Content-Length
        self.done = 0
        if self._total is not None and self._total > self.max_bytes:
            raise DatasetError(_(
                "{label} is {size}, more than the limit of {limit}; refusing to download it.",
                label=self.label, size=format_bytes(self._total), limit=format_bytes(self.max_bytes))
            )
        if self.callback is not None:
            self.callback(0, self._total)

    def update(self, n_bytes: int) -> None:
        done = os.path.getsize(self.path) if self.path else self.done + n_bytes
        if done > self.max_bytes:
            raise DatasetError(_(
                "{label} is larger than the limit of {limit}; stopped downloading it.",
                label=self.label, limit=format_bytes(self.max_bytes))
            )
        if done > self.done:
            self.done = done
            if self.callback is not None:
                self.callback(done, self._total)

    def reset(self) -> None:  # Pooch "fills the bar" at the end with reset() + update(total)
        pass

    def close(self) -> None:
        pass


class _HookedDownloader:
    """Pooch's HTTPDownloader, telling the progress hook which file it writes."""

    def __init__(self, http, hook: _ProgressHook):
        self.http, self.hook = http, hook

    def __call__(self, url: str, output_file, pooch, check_only: bool = False):
        self.hook.path = os.fspath(output_file) if isinstance(output_file, (str, os.PathLike)) else None
        return self.http(url, output_file, pooch, check_only=check_only)


# --- helpers -----------------------------------------------------------------


def _bytes_received(exc: BaseException, fallback: int) -> int:
    """Bytes that arrived before the connection dropped: urllib3's IncompleteRead knows them all,
    including the last partial chunk, which never reached the file."""
    pending, seen = [exc], set()
    while pending:
        error = pending.pop()
        if id(error) in seen:
            continue
        seen.add(id(error))
        partial = getattr(error, "partial", None)
        if isinstance(partial, int) and isinstance(getattr(error, "expected", None), int):
            return max(partial, fallback)
        pending += [arg for arg in getattr(error, "args", ()) if isinstance(arg, BaseException)]
        pending += [e for e in (error.__cause__, error.__context__) if e is not None]
    return fallback


def _interrupted_message(label: str, bytes_done: int, total: int | None) -> str:
    if total:
        return _("Download of {label} was interrupted after {done} of {total}; try again.",
                 label=label, done=format_bytes(bytes_done), total=format_bytes(total))
    return _("Download of {label} was interrupted after {done}; try again.",
             label=label, done=format_bytes(bytes_done))


def _remove_quietly(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


