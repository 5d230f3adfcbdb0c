"""Downloads (through Pooch) and zip extraction against a localhost server: complete or nothing."""
from __future__ import annotations

import hashlib
import io
import os
import random
import socket
import threading
import zipfile
from pathlib import Path

import pytest

from rnnviz.data import download, names
from rnnviz.data.archives import ExtractZip, extract_zip_atomically, read_zip_members, zip_members
from rnnviz.data.download import DatasetError, cache_dir, download_file, format_bytes

try:
    from ._http import Route, build_zip, names_zip_members, serve
except ImportError:  # tests/unit is not a package
    from _http import Route, build_zip, names_zip_members, serve


@pytest.fixture(autouse=True)
def no_retries(monkeypatch):
    """Pooch retries a failed download after 1 s, then 2 s: tests of failures need not wait."""
    monkeypatch.setattr(download, "DOWNLOAD_RETRIES", 0)


class _FlakyRoutes(dict):
    """Routes whose first ``failures`` answers for a path are ``bad``, then ``good``."""

    def __init__(self, path: str, bad: Route, good: Route, failures: int = 1):
        super().__init__({path: good})
        self.path, self.bad, self.failures = path, bad, failures
        self.lock = threading.Lock()

    def get(self, path, default=None):
        with self.lock:
            if path == self.path and self.failures > 0:
                self.failures -= 1
                return self.bad
        return super().get(path, default)


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
    dest.write_bytes(b"old copy")
    new = b"new, longer version"
    with serve({"/f.txt": Route(new[:5], declared_length=len(new))}) as server:
        with pytest.raises(DatasetError, match="interrupted"):  # the old copy's hash is not the new one's: update
            download_file(server.url("/f.txt"), dest, sha256=hashlib.sha256(new).hexdigest())
    assert dest.read_bytes() == b"old copy"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]


def test_a_verified_copy_is_not_downloaded_again_and_an_outdated_one_is_replaced(tmp_path):
    body = b"the current version"
    sha = hashlib.sha256(body).hexdigest()
    with serve({"/f.txt": Route(body)}) as server:
        download_file(server.url("/f.txt"), tmp_path / "f.txt", sha256=sha)
        download_file(server.url("/f.txt"), tmp_path / "f.txt", sha256=sha)
        assert server.total_requests == 1  # Pooch's cache: the hash matches, nothing to fetch
        (tmp_path / "f.txt").write_bytes(b"an outdated version")
        download_file(server.url("/f.txt"), tmp_path / "f.txt", sha256=sha)
        assert server.total_requests == 2
    assert (tmp_path / "f.txt").read_bytes() == body


def test_a_dropped_connection_is_retried(tmp_path, monkeypatch):
    monkeypatch.setattr(download, "DOWNLOAD_RETRIES", 1)  # Pooch waits 1 s before trying again
    body = os.urandom(100_000)
    routes = _FlakyRoutes("/f.bin", bad=Route(body[:1000], declared_length=len(body)), good=Route(body))
    calls = []
    with serve(routes) as server:
        path = download_file(server.url("/f.bin"), tmp_path / "f.bin", sha256=hashlib.sha256(body).hexdigest(),
                             progress=lambda done, total: calls.append((done, total)))
        assert server.requests["/f.bin"] == 2
    assert path.read_bytes() == body
    assert calls[-1] == (len(body), len(body))
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]


def test_offline_gives_a_clear_message_and_leaves_nothing(tmp_path):
    with socket.socket() as probe:  # a port nobody listens on: what "no internet" looks like to requests
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(DatasetError, match=r"cannot reach 127\.0\.0\.1:\d+\. Check the internet connection"):
        download_file(f"http://127.0.0.1:{port}/data.zip", tmp_path / "data.zip", timeout=5)
    assert list(tmp_path.iterdir()) == []


def test_unusable_urls_give_a_clear_message(tmp_path):
    with pytest.raises(DatasetError, match="not a valid http"):
        download_file("not a url", tmp_path / "x")


def test_extract_zip_is_a_pooch_processor(names_zip, tmp_path):
    with serve({"/data.zip": Route(names_zip)}) as server:
        target = download_file(server.url("/data.zip"), tmp_path / "data.zip",
                               processor=ExtractZip(tmp_path / "names", member_filter=names.is_language_file,
                                                    flatten=True, validate=names.validate_names_dir))
    assert target == tmp_path / "names"
    assert len(list(target.iterdir())) == 18


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


def test_zip_bombs_are_refused_before_unpacking(tmp_path):
    bomb = build_zip({"a.txt": b"a" * 20_000_000})  # 20 kB packed
    with pytest.raises(DatasetError, match=r"a\.txt .*would unpack from .* to 20\.0 MB.*zip bomb"):
        read_zip_members(bomb)
    with pytest.raises(DatasetError, match="zip bomb"):
        extract_zip_atomically(bomb, tmp_path / "out")
    assert list(tmp_path.iterdir()) == []
    assert read_zip_members(build_zip({"spaces.txt": b" " * 500_000}))  # small runs are not bombs


def test_a_member_larger_than_it_claims_fails_its_check(tmp_path):
    data = bytearray(build_zip({"a.txt": b"a" * 100_000}))
    # Shrink the declared size in both headers: zipfile stops there, and the CRC gives it away.
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = data.find(signature) + offset
        data[at: at + 4] = (1000).to_bytes(4, "little")
    with pytest.raises(DatasetError, match="damaged"):
        read_zip_members(bytes(data))
    with pytest.raises(DatasetError, match="damaged"):
        extract_zip_atomically(bytes(data), tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


def test_too_many_members_are_refused_before_python_parses_them():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for i in range(2_000):
            archive.writestr(f"f{i}.txt", b"")
    with pytest.raises(DatasetError, match="lists 2,000 files; the limit is 1,000"):
        zip_members(buffer.getvalue())
    with pytest.raises(DatasetError, match="lists 2,000 files; the limit is 10"):
        read_zip_members(buffer.getvalue(), max_members=10)


def test_ensure_names_dir_downloads_once_then_uses_cache(names_zip, isolated_env, monkeypatch):
    with serve({"/data.zip": Route(names_zip)}) as server:
        monkeypatch.setenv("RNNVIZ_NAMES_URL", server.url("/data.zip"))
        progress = []
        first = names.ensure_names_dir(progress=lambda d, t: progress.append((d, t)))
        assert server.total_requests == 1
        done = [d for d, _ in progress]
        assert done[0] == 0 and done == sorted(done) and done[-1] == len(names_zip)  # one 64 kB chunk
        assert {t for _, t in progress} == {len(names_zip)}
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


def test_ensure_names_dir_offline_says_so_and_caches_nothing(isolated_env, monkeypatch):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("RNNVIZ_NAMES_URL", f"http://127.0.0.1:{port}/data.zip")
    with pytest.raises(DatasetError, match="Could not download data.zip: cannot reach"):
        names.ensure_names_dir()
    assert sorted(p.name for p in isolated_env.iterdir()) == []


def test_ensure_names_dir_refuses_a_zip_bomb(shared_data, isolated_env, monkeypatch):
    members = names_zip_members(shared_data / "names")
    members["data/names/Arabic.txt"] = b"Nasser\n" * 1_000_000  # 7 MB of names, packed to 20 kB
    with serve({"/data.zip": Route(build_zip(members))}) as server:
        monkeypatch.setenv("RNNVIZ_NAMES_URL", server.url("/data.zip"))
        with pytest.raises(DatasetError, match="Arabic.txt .*zip bomb"):
            names.ensure_names_dir()
    assert sorted(p.name for p in isolated_env.iterdir()) == []


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
