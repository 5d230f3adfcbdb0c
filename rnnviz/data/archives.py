"""Zip archives, safely: member names, sizes, counts and compression ratios checked before anything is unpacked."""
from __future__ import annotations

import io
import os
import shutil
import struct
import tempfile
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import IO, Callable

from rnnviz.data.budget import (
    COMPRESSION_RATIO_MIN_BYTES,
    MAX_COMPRESSION_RATIO,
    MAX_ZIP_DIRECTORY_BYTES,
    MAX_ZIP_MEMBERS,
)
from rnnviz.i18n import _
from rnnviz.data.download import DEFAULT_MAX_EXTRACTED_BYTES, DatasetError, ZipSource, format_bytes, write_bytes_atomically


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
