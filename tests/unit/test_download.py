"""Downloads and zip extraction against a localhost server: complete or nothing."""
from __future__ import annotations

import hashlib
import os
import random
import zipfile
from pathlib import Path

import pytest

from rnnviz.data import names
from rnnviz.data.download import (
    DatasetError,
    cache_dir,
    download_file,
    extract_zip_atomically,
    format_bytes,
    read_zip_members,
)

try:
    from ._http import Route, build_zip, names_zip_members, serve
except ImportError:  # tests/unit is not a package
    from _http import Route, build_zip, names_zip_members, serve


@pytest.fixture(scope="module")
def names_zip(shared_data: Path) -> bytes:
    """Shaped like the tutorial's data.zip: data/names/*.txt plus other files and macOS junk."""
    members = names_zip_members(shared_data / "names")
    members["data/eng-fra.txt"] = b"Go.\tVa !\n"
    members["__MACOSX/data/names/._Arabic.txt"] = b"\x00\x05\x16\x07 resource fork"
    return build_zip(members)


@pytest.fixture
def isolated_env(monkeypatch, tmp_path):
    """No names/corpus env vars from the outside; the cache in tmp_path."""
    for var in ("RNNVIZ_NAMES_DIR", "RNNVIZ_NAMES_URL", "RNNVIZ_CORPORA_DIR", "RNNVIZ_CORPUS_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("RNNVIZ_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_cache_dir_follows_env(monkeypatch, tmp_path):
    monkeypatch.setenv("RNNVIZ_CACHE_DIR", str(tmp_path))
    assert cache_dir() == tmp_path
    monkeypatch.delenv("RNNVIZ_CACHE_DIR")
    assert cache_dir() == Path.home() / ".cache" / "rnnviz"


def test_format_bytes():
    assert format_bytes(512) == "512 bytes"
    assert format_bytes(1_234_567) == "1.2 MB"


def test_download_and_extract_gives_valid_names_dir(names_zip, tmp_path):
    with serve({"/data.zip": Route(names_zip)}) as server:
        archive = download_file(server.url("/data.zip"), tmp_path / "data.zip")
    assert archive.read_bytes() == names_zip
    target = extract_zip_atomically(
        archive, tmp_path / "names", member_filter=names.is_language_file, flatten=True
    )
    assert sorted(p.name for p in target.iterdir()) == [f"{lang}.txt" for lang in names.LANGUAGES]
    names.validate_names_dir(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.zip", "names"]  # no temp leftovers


def test_progress_reports_increasing_byte_counts(names_zip, tmp_path):
    calls = []
    with serve({"/data.zip": Route(names_zip)}) as server:
        download_file(
            server.url("/data.zip"),
            tmp_path / "data.zip",
            progress=lambda done, total: calls.append((done, total)),
            chunk_size=8192,
        )
    done = [d for d, _ in calls]
    assert len(calls) > 3
    assert done == sorted(done) and len(set(done)) == len(done)
    assert done[-1] == len(names_zip)
    assert {total for _, total in calls} == {len(names_zip)}


def test_interrupted_download_raises_and_leaves_nothing(tmp_path):
    body = os.urandom(150_000)
    route = Route(body, declared_length=400_000)  # promise more, then hang up
    with serve({"/big.bin": route}) as server:
        with pytest.raises(DatasetError, match=r"interrupted after 150\.0 kB of 400\.0 kB"):
            download_file(server.url("/big.bin"), tmp_path / "big.bin", timeout=5)
    assert list(tmp_path.iterdir()) == []


def test_sha256_mismatch_raises_and_keeps_no_file(tmp_path):
    body = b"some bytes"
    with serve({"/f.txt": Route(body)}) as server:
        with pytest.raises(DatasetError, match="checksum"):
            download_file(server.url("/f.txt"), tmp_path / "f.txt", sha256="0" * 64)
        good = download_file(
            server.url("/f.txt"), tmp_path / "f.txt", sha256=hashlib.sha256(body).hexdigest()
        )
    assert good.read_bytes() == body
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]


def test_failed_download_keeps_previous_dest(tmp_path):
    dest = tmp_path / "f.txt"
    dest.write_bytes(b"old, good copy")
    with serve({"/f.txt": Route(b"new", declared_length=10)}) as server:
        with pytest.raises(DatasetError):
            download_file(server.url("/f.txt"), dest)
    assert dest.read_bytes() == b"old, good copy"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]


def test_http_error_and_size_limit_raise_dataset_error(tmp_path):
    with serve({"/big": Route(b"x" * 5000)}) as server:
        with pytest.raises(DatasetError, match="404"):
            download_file(server.url("/missing.zip"), tmp_path / "a")
        with pytest.raises(DatasetError, match="limit"):
            download_file(server.url("/big"), tmp_path / "b", max_bytes=1000)
    assert list(tmp_path.iterdir()) == []


def test_corrupt_zip_raises_and_leaves_no_dir(tmp_path, names_zip):
    garbage = tmp_path / "garbage.zip"
    garbage.write_bytes(b"this is not a zip file at all" * 100)
    with pytest.raises(DatasetError, match="zip"):
        extract_zip_atomically(garbage, tmp_path / "out")
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(names_zip[: len(names_zip) // 2])
    with pytest.raises(DatasetError):
        extract_zip_atomically(truncated, tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["garbage.zip", "truncated.zip"]


def test_damaged_member_raises_and_leaves_no_dir(tmp_path):
    payload = random.Random(0).randbytes(5000)  # incompressible, so byte 500 is member data
    data = bytearray(build_zip({"a.bin": payload}))
    data[500] ^= 0xFF
    with pytest.raises(DatasetError, match="damaged"):
        extract_zip_atomically(bytes(data), tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("evil_name", ["../evil.txt", "/tmp/evil.txt", "a/../../evil.txt", "..\\evil.txt"])
def test_zip_slip_is_rejected(tmp_path, evil_name):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("ok.txt", b"fine")
        zf.writestr(zipfile.ZipInfo(evil_name), b"pwned")
    with pytest.raises(DatasetError, match="unsafe"):
        extract_zip_atomically(archive, tmp_path / "sub" / "out")
    assert not (tmp_path / "evil.txt").exists()
    assert list((tmp_path / "sub").iterdir()) == []


def test_validate_hook_rejects_before_anything_appears(tmp_path):
    def reject(folder: Path) -> None:
        raise DatasetError("nope")

    with pytest.raises(DatasetError, match="nope"):
        extract_zip_atomically(build_zip({"a.txt": b"a"}), tmp_path / "out", validate=reject)
    assert list(tmp_path.iterdir()) == []


def test_extract_replaces_existing_dir_and_flatten_rejects_clashes(tmp_path):
    out = tmp_path / "out"
    extract_zip_atomically(build_zip({"x/a.txt": b"1"}), out)
    extract_zip_atomically(build_zip({"x/b.txt": b"2"}), out, flatten=True)
    assert [p.name for p in out.iterdir()] == ["b.txt"]
    with pytest.raises(DatasetError, match="two files"):
        extract_zip_atomically(build_zip({"x/a.txt": b"1", "y/a.txt": b"2"}), out, flatten=True)
    assert [p.name for p in out.iterdir()] == ["b.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_read_zip_members_filters():
    data = build_zip({"a.txt": b"A", "b.bin": b"B"})
    assert read_zip_members(data, member_filter=lambda n: n.endswith(".txt")) == {"a.txt": b"A"}
    with pytest.raises(DatasetError, match="limit"):
        read_zip_members(data, max_total_bytes=1)


def test_ensure_names_dir_downloads_once_then_uses_cache(names_zip, isolated_env, monkeypatch):
    with serve({"/data.zip": Route(names_zip)}) as server:
        monkeypatch.setenv("RNNVIZ_NAMES_URL", server.url("/data.zip"))
        progress = []
        first = names.ensure_names_dir(progress=lambda d, t: progress.append(d))
        assert server.total_requests == 1
        assert progress and progress[-1] == len(names_zip)
        second = names.ensure_names_dir()
        assert server.total_requests == 1  # served from the cache
    assert first == second == isolated_env / "names"
    names.validate_names_dir(first)
    assert sorted(p.name for p in isolated_env.iterdir()) == ["names"]  # zip and temp dirs gone


def test_ensure_names_dir_refetches_a_damaged_cache(names_zip, isolated_env, monkeypatch):
    damaged = isolated_env / "names"
    damaged.mkdir(parents=True)
    (damaged / "Arabic.txt").write_text("Nasser\n", encoding="utf-8")  # 17 files missing
    with serve({"/data.zip": Route(names_zip)}) as server:
        monkeypatch.setenv("RNNVIZ_NAMES_URL", server.url("/data.zip"))
        assert names.ensure_names_dir() == damaged
        assert server.total_requests == 1
    names.validate_names_dir(damaged)


def test_ensure_names_dir_failed_download_caches_nothing(isolated_env, monkeypatch):
    broken = build_zip({"data/names/Arabic.txt": b"Nasser\n"})  # only one language
    with serve({"/data.zip": Route(broken)}) as server:
        monkeypatch.setenv("RNNVIZ_NAMES_URL", server.url("/data.zip"))
        with pytest.raises(DatasetError, match="missing 17"):
            names.ensure_names_dir()
    assert sorted(p.name for p in isolated_env.iterdir()) == []


def test_ensure_names_dir_uses_env_dir_without_network(shared_data, isolated_env, monkeypatch):
    with serve({}) as server:
        monkeypatch.setenv("RNNVIZ_NAMES_URL", server.url("/data.zip"))
        monkeypatch.setenv("RNNVIZ_NAMES_DIR", str(shared_data / "names"))
        assert names.ensure_names_dir() == shared_data / "names"
        assert server.total_requests == 0
    assert not isolated_env.exists()


def test_ensure_names_dir_rejects_invalid_env_dir(tmp_path, isolated_env, monkeypatch):
    monkeypatch.setenv("RNNVIZ_NAMES_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(DatasetError, match="does not exist"):
        names.ensure_names_dir()
