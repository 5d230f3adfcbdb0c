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
import io
import os
import re
import shutil
import struct
import tempfile
import urllib.parse
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import IO, Any, Callable, Optional, Union

from rnnviz.data.budget import (
    COMPRESSION_RATIO_MIN_BYTES,
    MAX_COMPRESSION_RATIO,
    MAX_EXTRACTED_BYTES,
    MAX_ZIP_DIRECTORY_BYTES,
    MAX_ZIP_MEMBERS,
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
    Pooch processor (e.g. :class:`ExtractZip`), called after the download or cache hit.
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


class ExtractZip:
    """A Pooch processor: unpack the downloaded zip into ``dest_dir`` atomically (see
    :func:`extract_zip_atomically`, whose checks it applies) and return ``dest_dir``."""

    def __init__(self, dest_dir: Path, **options):
        self.dest_dir, self.options = Path(dest_dir), options

    def __call__(self, fname: str, action: str, pooch) -> Path:
        return extract_zip_atomically(fname, self.dest_dir, **self.options)


class ExtractZipMember:
    """A Pooch processor: write one member of the downloaded zip to ``dest`` atomically.

    ``check(data)`` may raise to refuse the member's bytes (a checksum, say) before
    ``dest`` appears. Returns ``dest``.
    """

    def __init__(self, member: str, dest: Path, check: Callable[[bytes], None] | None = None,
                 max_bytes: int = DEFAULT_MAX_EXTRACTED_BYTES):
        self.member, self.dest, self.check, self.max_bytes = member, Path(dest), check, max_bytes

    def __call__(self, fname: str, action: str, pooch) -> Path:
        members = read_zip_members(fname, member_filter=lambda name: name == self.member,
                                   max_total_bytes=self.max_bytes)
        if self.member not in members:
            raise DatasetError(_("The downloaded archive does not contain {member}.", member=self.member))
        data = members.pop(self.member)
        if self.check is not None:
            self.check(data)
        return write_bytes_atomically(self.dest, data)


def zip_members(source: ZipSource, *, max_members: int = MAX_ZIP_MEMBERS) -> list[zipfile.ZipInfo]:
    """The entries of a zip, checked for size and safety before anything is unpacked.

    Refuses archives that list more than ``max_members`` entries or whose directory
    is larger than :data:`MAX_ZIP_DIRECTORY_BYTES` (both read from the end record,
    before Python parses the directory into objects), and entries whose names would
    escape the target folder. Nothing is decompressed.
    """
    with _open_zip(source, max_members=max_members) as archive:
        infos = archive.infolist()
    _check_member_names(infos)
    return infos


def read_zip_members(
    source: ZipSource,
    *,
    member_filter: Callable[[str], bool] | None = None,
    max_total_bytes: int = DEFAULT_MAX_EXTRACTED_BYTES,
    max_members: int = MAX_ZIP_MEMBERS,
) -> dict[str, bytes]:
    """Read the (filtered) file members of a zip into memory: ``{member name: bytes}``.

    ``source`` is a path, an open binary file or the zip's bytes. Corrupt
    archives, unsafe member names, too many entries, zip bombs and archives that
    unpack to more than ``max_total_bytes`` raise :class:`DatasetError` before any
    member is decompressed (zipfile never returns more than a member's declared
    size, and a member that holds more fails its CRC check).
    """
    members: dict[str, bytes] = {}
    with _open_zip(source, max_members=max_members) as archive:
        for info in _selected_members(archive, member_filter, max_total_bytes):
            members[info.filename] = _read_member(archive, info)
    return members


def extract_zip_atomically(
    zip_source: ZipSource,
    dest_dir: Path,
    *,
    member_filter: Callable[[str], bool] | None = None,
    flatten: bool = False,
    validate: Callable[[Path], None] | None = None,
    max_total_bytes: int = DEFAULT_MAX_EXTRACTED_BYTES,
    max_members: int = MAX_ZIP_MEMBERS,
) -> Path:
    """Extract a zip into ``dest_dir`` so that ``dest_dir`` is complete or absent.

    Members are streamed (never held whole in memory) into a temporary folder next
    to ``dest_dir``; ``member_filter(name)`` chooses which file members to keep
    (default: all), ``flatten`` drops their folders (two members with one file name
    is an error), and ``validate(tmp_dir)`` may raise to reject the result before it
    becomes visible. Only then is the folder renamed into place, replacing any
    previous ``dest_dir``. Corrupt zips, member names that would escape the folder
    ("zip slip": ``../x``, ``/etc/x``), too many entries and zip bombs raise
    :class:`DatasetError` before anything is written.
    """
    dest_dir = Path(dest_dir)
    dest_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp_dir = Path(tempfile.mkdtemp(dir=dest_dir.parent, prefix=f".{dest_dir.name}.", suffix=".tmp"))
    try:
        with _open_zip(zip_source, max_members=max_members) as archive:
            written: set[str] = set()
            for info in _selected_members(archive, member_filter, max_total_bytes):
                relative = PurePosixPath(info.filename)
                if flatten:
                    relative = PurePosixPath(relative.name)
                    if relative.name in written:
                        raise DatasetError(_(
                            "The archive holds two files called {name}; cannot tell which one to use.",
                            name=relative.name)
                        )
                written.add(str(relative))
                target = tmp_dir.joinpath(*relative.parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                _copy_member(archive, info, target)
        if validate is not None:
            validate(tmp_dir)
        _move_dir_into_place(tmp_dir, dest_dir)
        return dest_dir
    finally:
        if tmp_dir.exists():
            shutil.rmtree(tmp_dir, ignore_errors=True)


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


_END_RECORD = struct.Struct("<4s4H2LH")  # signature, disks, entries here, entries, directory size, offset, comment
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_END_RECORD = struct.Struct("<4sQ2H2L4Q")


def _directory_extent(handle: IO[bytes]) -> tuple[int, int] | None:
    """``(entries, directory bytes)`` from the zip's end record, or None if there is none.

    This is what zipfile would read into memory and parse into one object per entry,
    so it is checked first. The record is at most 64 kB (its comment) from the end.
    """
    handle.seek(0, os.SEEK_END)
    size = handle.tell()
    tail_length = min(size, _END_RECORD.size + 0xFFFF)
    handle.seek(size - tail_length)
    tail = handle.read(tail_length)
    position = tail.rfind(b"PK\x05\x06")
    if position < 0 or position + _END_RECORD.size > len(tail):
        return None
    entries, directory_bytes = _END_RECORD.unpack_from(tail, position)[4:6]
    locator = position - _ZIP64_LOCATOR.size
    if locator >= 0 and tail[locator:locator + 4] == b"PK\x06\x07":  # zip64: the real counts are elsewhere
        record_offset = _ZIP64_LOCATOR.unpack_from(tail, locator)[2]
        handle.seek(record_offset)
        record = handle.read(_ZIP64_END_RECORD.size)
        if len(record) == _ZIP64_END_RECORD.size and record.startswith(b"PK\x06\x06"):
            fields = _ZIP64_END_RECORD.unpack(record)
            entries, directory_bytes = max(entries, fields[7]), max(directory_bytes, fields[8])
    handle.seek(0)
    return entries, directory_bytes


def _open_zip(source: ZipSource, *, max_members: int = MAX_ZIP_MEMBERS) -> zipfile.ZipFile:
    if isinstance(source, (bytes, bytearray, memoryview)):
        source = io.BytesIO(source)
    try:
        if hasattr(source, "read"):
            extent = _directory_extent(source)
        else:
            with open(source, "rb") as handle:
                extent = _directory_extent(handle)
    except OSError as exc:
        raise DatasetError(_("Could not open the zip archive: {error}.", error=exc)) from exc
    if extent is not None:
        entries, directory_bytes = extent
        if entries > max_members:
            raise DatasetError(_(
                "The archive lists {count:,} files; the limit is {limit:,}. Zip only the files that are needed.",
                count=entries, limit=max_members)
            )
        if directory_bytes > MAX_ZIP_DIRECTORY_BYTES:
            raise DatasetError(_(
                "The archive's list of files takes {size}; the limit is {limit}. Zip only the files that are needed.",
                size=format_bytes(directory_bytes), limit=format_bytes(MAX_ZIP_DIRECTORY_BYTES))
            )
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, struct.error) as exc:
        raise DatasetError(_("This is not a readable zip archive ({error}).", error=exc)) from exc
    except OSError as exc:
        raise DatasetError(_("Could not open the zip archive: {error}.", error=exc)) from exc
    if len(archive.infolist()) > max_members:  # the end record may understate it
        archive.close()
        raise DatasetError(_("The archive holds more than {limit:,} files; zip only the files that are needed.",
                             limit=max_members))
    return archive


def _is_unsafe_member_name(name: str) -> bool:
    # Reject anything that could land outside the target folder once joined:
    # absolute paths, drive letters, backslash separators and ".." components.
    if "\\" in name or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return True
    return any(part == ".." for part in PurePosixPath(name).parts)


def _check_member_names(infos: list[zipfile.ZipInfo]) -> None:
    for info in infos:
        if _is_unsafe_member_name(info.filename):
            raise DatasetError(_(
                "The archive contains an unsafe file path ({path!r}) that points "
                "outside its folder; refusing to extract it.", path=info.filename)
            )


def _selected_members(
    archive: zipfile.ZipFile,
    member_filter: Callable[[str], bool] | None,
    max_total_bytes: int,
) -> list[zipfile.ZipInfo]:
    infos = archive.infolist()
    _check_member_names(infos)
    selected = [
        info for info in infos
        if not info.is_dir() and (member_filter is None or member_filter(info.filename))
    ]
    for info in selected:
        if (info.file_size > COMPRESSION_RATIO_MIN_BYTES
                and info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1)):
            raise DatasetError(_(
                "{name} in the archive would unpack from {packed} to {size} ({ratio:,} times as much; "
                "text packs at most about 10 times). This looks like a zip bomb; refusing to unpack it.",
                name=info.filename, packed=format_bytes(info.compress_size), size=format_bytes(info.file_size),
                ratio=info.file_size // max(info.compress_size, 1))
            )
        if info.file_size > max_total_bytes:
            raise DatasetError(_(
                "{name} in the archive would unpack to {size}, more than the limit of {limit}.",
                name=info.filename, size=format_bytes(info.file_size), limit=format_bytes(max_total_bytes))
            )
    total = sum(info.file_size for info in selected)
    if total > max_total_bytes:
        raise DatasetError(_(
            "The archive would unpack to {size}, more than the limit of {limit}.",
            size=format_bytes(total), limit=format_bytes(max_total_bytes))
        )
    return selected


_ZIP_READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, OSError)


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    # zipfile returns at most the declared file_size and verifies each member's CRC
    # when it is read to the end, so a damaged or lying archive fails here.
    try:
        return archive.read(info)
    except _ZIP_READ_ERRORS as exc:
        raise DatasetError(_("The zip archive is damaged: cannot read {name} ({error}).",
                             name=info.filename, error=exc)) from exc


def _copy_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path) -> None:
    try:
        with archive.open(info) as member, open(target, "wb") as out:
            shutil.copyfileobj(member, out, 1 << 20)
    except _ZIP_READ_ERRORS as exc:
        if isinstance(exc, OSError) and not isinstance(exc, zipfile.BadZipFile) and exc.filename is not None:
            raise DatasetError(_("Could not write {name}: {error}.", name=target.name, error=exc)) from exc
        raise DatasetError(_("The zip archive is damaged: cannot read {name} ({error}).",
                             name=info.filename, error=exc)) from exc


def _move_dir_into_place(tmp_dir: Path, dest_dir: Path) -> None:
    if not dest_dir.exists():
        os.replace(tmp_dir, dest_dir)
        return
    # A folder cannot be atomically replaced by another non-empty one, so swap:
    # move the old one aside, move the new one in, then delete the old one.
    old = Path(tempfile.mkdtemp(dir=dest_dir.parent, prefix=f".{dest_dir.name}.", suffix=".old"))
    os.replace(dest_dir, old / dest_dir.name)
    os.replace(tmp_dir, dest_dir)
    shutil.rmtree(old, ignore_errors=True)
