"""Fetching datasets safely: downloads, checksums and zip extraction.

Everything here is generic (it knows nothing about names or lyrics) and has one
promise: a destination either appears complete and verified, or not at all.
Downloads stream into a temporary file next to the destination and are moved
into place with ``os.replace`` only after every check passed; zip archives are
extracted into a temporary folder that is renamed into place the same way.
Failures raise :class:`DatasetError` with a message a student can act on.
"""
from __future__ import annotations

import hashlib
import http.client
import io
import os
import shutil
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import IO, Callable, Optional, Union

CACHE_DIR_ENV = "RNNVIZ_CACHE_DIR"
DEFAULT_MAX_DOWNLOAD_BYTES = 200_000_000
DEFAULT_MAX_EXTRACTED_BYTES = 500_000_000
DEFAULT_CHUNK_SIZE = 64 * 1024

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
        return f"{n_bytes} bytes"
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
        raise DatasetError(
            f"{label} is not UTF-8 text (byte 0x{data[position]:02x} at position {position})."
        ) from None


def download_file(
    url: str,
    dest: Path,
    *,
    sha256: str | None = None,
    progress: ProgressCallback | None = None,
    timeout: float = 30,
    max_bytes: int = DEFAULT_MAX_DOWNLOAD_BYTES,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> Path:
    """Download ``url`` to ``dest`` and return ``dest``.

    Streams into a temporary file in ``dest``'s folder (so the final
    ``os.replace`` is an atomic rename on one file system), reports
    ``progress(bytes_done, total_or_None)``, checks the size against
    ``Content-Length`` (a short body means the connection dropped) and the
    sha256 if given. On any failure the temporary file is removed, ``dest`` is
    left untouched, and :class:`DatasetError` is raised.
    """
    dest = Path(dest)
    label = PurePosixPath(urllib.parse.urlparse(url).path).name or dest.name
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    tmp_path = Path(tmp_name)
    bytes_done = 0
    total: int | None = None
    try:
        with os.fdopen(fd, "wb") as out:
            digest = hashlib.sha256()
            with urllib.request.urlopen(url, timeout=timeout) as response:
                total = _content_length(response)
                if total is not None and total > max_bytes:
                    raise DatasetError(
                        f"{label} is {format_bytes(total)}, more than the limit of "
                        f"{format_bytes(max_bytes)}; refusing to download it."
                    )
                if progress is not None:
                    progress(0, total)
                while True:
                    chunk = response.read(chunk_size)
                    if not chunk:
                        break
                    bytes_done += len(chunk)
                    if bytes_done > max_bytes:
                        raise DatasetError(
                            f"{label} is larger than the limit of {format_bytes(max_bytes)}; "
                            "stopped downloading it."
                        )
                    out.write(chunk)
                    digest.update(chunk)
                    if progress is not None:
                        progress(bytes_done, total)
        if total is not None and bytes_done < total:
            raise DatasetError(_interrupted_message(label, bytes_done, total))
        if sha256 is not None and digest.hexdigest() != sha256.lower():
            raise DatasetError(
                f"{label} was downloaded but its checksum does not match (expected sha256 "
                f"{sha256[:12]}…, got {digest.hexdigest()[:12]}…). The file may have changed "
                "on the server or been corrupted on the way; try again."
            )
        os.replace(tmp_path, dest)
        return dest
    except DatasetError:
        raise
    except http.client.IncompleteRead as exc:  # newer Pythons raise this on a short body
        raise DatasetError(_interrupted_message(label, bytes_done + len(exc.partial), total)) from exc
    except urllib.error.HTTPError as exc:
        raise DatasetError(
            f"Could not download {label}: the server answered {exc.code} {exc.reason} ({url})."
        ) from exc
    except urllib.error.URLError as exc:
        raise DatasetError(
            f"Could not download {label}: {exc.reason} ({url}). Check the internet connection "
            "and try again."
        ) from exc
    except (OSError, http.client.HTTPException) as exc:  # timeouts, resets, disk full
        if bytes_done and total:
            raise DatasetError(_interrupted_message(label, bytes_done, total)) from exc
        raise DatasetError(f"Could not download {label}: {exc} ({url}); try again.") from exc
    except ValueError as exc:  # urllib's "unknown url type"
        raise DatasetError(f"Could not download {label}: {exc}.") from exc
    finally:
        # Whatever happened (including KeyboardInterrupt), never leave a partial file.
        _remove_quietly(tmp_path)


def read_zip_members(
    source: ZipSource,
    *,
    member_filter: Callable[[str], bool] | None = None,
    max_total_bytes: int = DEFAULT_MAX_EXTRACTED_BYTES,
) -> dict[str, bytes]:
    """Read the (filtered) file members of a zip into memory: ``{member name: bytes}``.

    ``source`` is a path, an open binary file or the zip's bytes. Corrupt
    archives, unsafe member names and archives that unpack to more than
    ``max_total_bytes`` raise :class:`DatasetError`.
    """
    members: dict[str, bytes] = {}
    with _open_zip(source) as archive:
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
) -> Path:
    """Extract a zip into ``dest_dir`` so that ``dest_dir`` is complete or absent.

    Members are written into a temporary folder next to ``dest_dir``;
    ``member_filter(name)`` chooses which file members to keep (default: all),
    ``flatten`` drops their folders (two members with one file name is an
    error), and ``validate(tmp_dir)`` may raise to reject the result before it
    becomes visible. Only then is the folder renamed into place, replacing any
    previous ``dest_dir``. Corrupt zips and member names that would escape the
    folder ("zip slip": ``../x``, ``/etc/x``) raise :class:`DatasetError`.
    """
    dest_dir = Path(dest_dir)
    dest_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp_dir = Path(tempfile.mkdtemp(dir=dest_dir.parent, prefix=f".{dest_dir.name}.", suffix=".tmp"))
    try:
        with _open_zip(zip_source) as archive:
            written: set[str] = set()
            for info in _selected_members(archive, member_filter, max_total_bytes):
                relative = PurePosixPath(info.filename)
                if flatten:
                    relative = PurePosixPath(relative.name)
                    if relative.name in written:
                        raise DatasetError(
                            f"The archive holds two files called {relative.name}; "
                            "cannot tell which one to use."
                        )
                written.add(str(relative))
                target = tmp_dir.joinpath(*relative.parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(_read_member(archive, info))
        if validate is not None:
            validate(tmp_dir)
        _move_dir_into_place(tmp_dir, dest_dir)
        return dest_dir
    finally:
        if tmp_dir.exists():
            shutil.rmtree(tmp_dir, ignore_errors=True)


# --- helpers -----------------------------------------------------------------


def _content_length(response) -> int | None:
    value = response.headers.get("Content-Length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _interrupted_message(label: str, bytes_done: int, total: int | None) -> str:
    of_total = f" of {format_bytes(total)}" if total else ""
    return f"Download of {label} was interrupted after {format_bytes(bytes_done)}{of_total}; try again."


def _remove_quietly(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def _open_zip(source: ZipSource) -> zipfile.ZipFile:
    if isinstance(source, (bytes, bytearray)):
        source = io.BytesIO(source)
    try:
        return zipfile.ZipFile(source)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as exc:
        raise DatasetError(f"This is not a readable zip archive ({exc}).") from exc
    except OSError as exc:
        raise DatasetError(f"Could not open the zip archive: {exc}.") from exc


def _is_unsafe_member_name(name: str) -> bool:
    # Reject anything that could land outside the target folder once joined:
    # absolute paths, drive letters, backslash separators and ".." components.
    if "\\" in name or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return True
    return any(part == ".." for part in PurePosixPath(name).parts)


def _selected_members(
    archive: zipfile.ZipFile,
    member_filter: Callable[[str], bool] | None,
    max_total_bytes: int,
) -> list[zipfile.ZipInfo]:
    selected = []
    for info in archive.infolist():
        if _is_unsafe_member_name(info.filename):
            raise DatasetError(
                f"The archive contains an unsafe file path ({info.filename!r}) that points "
                "outside its folder; refusing to extract it."
            )
        if info.is_dir() or (member_filter is not None and not member_filter(info.filename)):
            continue
        selected.append(info)
    total = sum(info.file_size for info in selected)
    if total > max_total_bytes:
        raise DatasetError(
            f"The archive would unpack to {format_bytes(total)}, more than the limit of "
            f"{format_bytes(max_total_bytes)}."
        )
    return selected


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    # zipfile verifies each member's CRC when it is read to the end, so a
    # damaged archive fails here rather than producing wrong data.
    try:
        return archive.read(info)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
        raise DatasetError(f"The zip archive is damaged: cannot read {info.filename} ({exc}).") from exc


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
