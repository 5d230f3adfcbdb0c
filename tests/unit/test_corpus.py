"""Corpora: loading and checking, uploads, vocabulary, minibatch sampling, perplexity."""
from __future__ import annotations

import dataclasses
import hashlib
import math
import random
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from rnnviz.data import corpus, download
from rnnviz.data.corpus import CorpusError
from rnnviz.data.download import DatasetError

try:
    from ._http import Route, build_zip, serve
except ImportError:  # tests/unit is not a package
    from _http import Route, build_zip, serve

LYRICS = corpus.corpus_source("jaychou_lyrics")
SHAKESPEARE = corpus.corpus_source("tinyshakespeare")


@pytest.fixture
def isolated_env(monkeypatch, tmp_path):
    for var in ("RNNVIZ_CORPORA_DIR", "RNNVIZ_CORPUS_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("RNNVIZ_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(download, "DOWNLOAD_RETRIES", 0)  # a refused download is not tried again
    return tmp_path / "cache"


@pytest.fixture
def shared_corpora(shared_data, isolated_env, monkeypatch) -> Path:
    monkeypatch.setenv("RNNVIZ_CORPORA_DIR", str(shared_data / "corpora"))
    return shared_data / "corpora"


# --- built-in corpora ----------------------------------------------------------------


def test_lyrics_as_the_book_prepares_them(shared_corpora):
    first = corpus.load_builtin_corpus("jaychou_lyrics", first_n_chars=10_000)
    assert len(first) == 10_000
    assert len(set(first)) == 1_027  # the book's figure
    full = corpus.load_builtin_corpus("jaychou_lyrics")
    assert len(full) == 63_282
    assert "\n" not in full and "\r" not in full
    assert len(set(full)) == 2_582  # 2,583 in the raw file, whose "\n" became " "
    assert full.startswith("想要有直升机 想要和你飞到宇宙去")


def test_shakespeare_keeps_its_newlines(shared_corpora):
    text = corpus.load_builtin_corpus("tinyshakespeare")
    assert len(text) == 1_115_394
    assert text.startswith("First Citizen:\n")
    assert len(corpus.build_vocab(text)) == 65


def test_local_copy_with_wrong_checksum_is_rejected(tmp_path, shared_data, isolated_env, monkeypatch):
    folder = tmp_path / "corpora"
    folder.mkdir()
    original = (shared_data / "corpora" / "jaychou_lyrics.txt").read_bytes()
    (folder / "jaychou_lyrics.txt").write_bytes(original.replace("想要".encode(), "不要".encode(), 1))
    monkeypatch.setenv("RNNVIZ_CORPORA_DIR", str(folder))
    with pytest.raises(CorpusError, match="checksum"):
        corpus.load_builtin_corpus("jaychou_lyrics")
    with pytest.raises(CorpusError, match="tinyshakespeare.txt is not in"):
        corpus.load_builtin_corpus("tinyshakespeare")


def test_unknown_corpus_name():
    with pytest.raises(ValueError, match="jaychou_lyrics, tinyshakespeare"):
        corpus.corpus_source("war_and_peace")


def test_base_url_override_keeps_remote_file_names(monkeypatch):
    monkeypatch.setenv("RNNVIZ_CORPUS_BASE_URL", "http://127.0.0.1:9/mirror/")
    assert corpus.download_url(LYRICS) == "http://127.0.0.1:9/mirror/jaychou_lyrics.txt.zip"
    assert corpus.download_url(SHAKESPEARE) == "http://127.0.0.1:9/mirror/input.txt"
    monkeypatch.delenv("RNNVIZ_CORPUS_BASE_URL")
    assert corpus.download_url(SHAKESPEARE) == SHAKESPEARE.url


def test_shakespeare_downloads_once_then_uses_cache(shared_data, isolated_env, monkeypatch):
    body = (shared_data / "corpora" / "tinyshakespeare.txt").read_bytes()
    calls = []
    with serve({"/input.txt": Route(body)}) as server:
        monkeypatch.setenv("RNNVIZ_CORPUS_BASE_URL", server.url("/"))
        first = corpus.load_builtin_corpus("tinyshakespeare", progress=lambda d, t: calls.append((d, t)))
        second = corpus.load_builtin_corpus("tinyshakespeare")
        assert server.total_requests == 1
    assert first == second and len(first) == 1_115_394
    assert sorted(p.name for p in (isolated_env / "corpora").iterdir()) == ["tinyshakespeare.txt"]
    done = [d for d, _ in calls]
    assert len(done) > 10 and done == sorted(done) and len(set(done)) == len(done)  # growing byte counts
    assert done[-1] == len(body) and {t for _, t in calls} == {len(body)}


def test_a_damaged_cached_copy_is_downloaded_again(shared_data, isolated_env, monkeypatch):
    body = (shared_data / "corpora" / "tinyshakespeare.txt").read_bytes()
    cached = isolated_env / "corpora" / "tinyshakespeare.txt"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(body[:1000])
    with serve({"/input.txt": Route(body)}) as server:
        monkeypatch.setenv("RNNVIZ_CORPUS_BASE_URL", server.url("/"))
        assert corpus.ensure_corpus_file(SHAKESPEARE) == cached
        assert server.total_requests == 1
    assert cached.read_bytes() == body


def test_an_interrupted_download_leaves_nothing_half_written(shared_data, isolated_env, monkeypatch):
    body = (shared_data / "corpora" / "tinyshakespeare.txt").read_bytes()
    with serve({"/input.txt": Route(body[:300_000], declared_length=len(body))}) as server:
        monkeypatch.setenv("RNNVIZ_CORPUS_BASE_URL", server.url("/"))
        with pytest.raises(DatasetError, match=r"interrupted after 300\.0 kB of 1\.1 MB; try again"):
            corpus.load_builtin_corpus("tinyshakespeare")
    assert list((isolated_env / "corpora").iterdir()) == []


def test_offline_with_no_copy_says_what_to_do(isolated_env, monkeypatch):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("RNNVIZ_CORPUS_BASE_URL", f"http://127.0.0.1:{port}")
    with pytest.raises(DatasetError, match="input.txt: cannot reach .*internet connection"):
        corpus.load_builtin_corpus("tinyshakespeare")
    with pytest.raises(DatasetError, match="jaychou_lyrics.txt.zip: cannot reach"):
        corpus.load_builtin_corpus("jaychou_lyrics")
    assert [p for p in (isolated_env / "corpora").iterdir()] == []


def test_download_with_wrong_checksum_caches_nothing(isolated_env, monkeypatch):
    with serve({"/input.txt": Route(b"To be, or not to be\n")}) as server:
        monkeypatch.setenv("RNNVIZ_CORPUS_BASE_URL", server.url("/"))
        with pytest.raises(DatasetError, match="checksum"):
            corpus.load_builtin_corpus("tinyshakespeare")
    assert list((isolated_env / "corpora").iterdir()) == []


def test_lyrics_zip_download_checks_both_checksums(shared_data, isolated_env, monkeypatch):
    lyrics = (shared_data / "corpora" / "jaychou_lyrics.txt").read_bytes()
    our_zip = build_zip({"jaychou_lyrics.txt": lyrics})  # not byte-identical to d2l's zip
    with serve({"/jaychou_lyrics.txt.zip": Route(our_zip)}) as server:
        monkeypatch.setenv("RNNVIZ_CORPUS_BASE_URL", server.url(""))
        # The real source pins d2l's archive, so ours is refused...
        with pytest.raises(DatasetError, match="checksum"):
            corpus.ensure_corpus_file(LYRICS)
        # ...and accepted when the pin is ours; the text inside is then checked as well.
        ours = dataclasses.replace(LYRICS, zip_sha256=hashlib.sha256(our_zip).hexdigest())
        path = corpus.ensure_corpus_file(ours)
        assert path.read_bytes() == lyrics
        assert corpus.ensure_corpus_file(ours) == path
        assert server.total_requests == 2

    tampered_zip = build_zip({"jaychou_lyrics.txt": lyrics + b"extra"})
    path.unlink()
    with serve({"/jaychou_lyrics.txt.zip": Route(tampered_zip)}) as server:
        monkeypatch.setenv("RNNVIZ_CORPUS_BASE_URL", server.url(""))
        tampered = dataclasses.replace(LYRICS, zip_sha256=hashlib.sha256(tampered_zip).hexdigest())
        with pytest.raises(CorpusError, match="checksum"):
            corpus.ensure_corpus_file(tampered)
    assert list((isolated_env / "corpora").iterdir()) == []


# --- uploads -------------------------------------------------------------------------


def test_upload_plain_and_bom_utf8():
    assert corpus.decode_uploaded_text("héllo wörld\n".encode()) == "héllo wörld\n"
    assert corpus.decode_uploaded_text(b"\xef\xbb\xbfhello") == "hello"
    assert corpus.decode_uploaded_text(b"line one\r\nline two\r\n") == "line one\nline two\n"
    assert corpus.decode_uploaded_text("周杰伦\t歌词".encode()) == "周杰伦\t歌词"


def test_upload_binary_is_rejected():
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10"
    with pytest.raises(CorpusError, match="PNG image"):
        corpus.decode_uploaded_text(png)
    with pytest.raises(CorpusError, match="NUL byte at position 5"):
        corpus.decode_uploaded_text(b"hello\x00world")
    with pytest.raises(CorpusError, match="control characters"):
        corpus.decode_uploaded_text(b"text" + b"\x01\x02\x03\x1b" * 5)
    with pytest.raises(CorpusError, match="UTF-16"):
        corpus.decode_uploaded_text("hello".encode("utf-16"))


def test_upload_latin1_is_rejected_with_position():
    latin1 = "Hello, café!".encode("latin-1")
    with pytest.raises(CorpusError, match=r"not UTF-8 text \(byte 0xe9 at position 10\)\. It looks like "
                                          r"Latin-1 \(Windows-1252\) text: .*save it as UTF-8"):
        corpus.decode_uploaded_text(latin1)
    with pytest.raises(CorpusError, match=r"byte 0xe9 at position 13\)"):  # BOM counted
        corpus.decode_uploaded_text(b"\xef\xbb\xbf" + latin1)
    with pytest.raises(CorpusError, match=r"not UTF-8 text \(byte 0xd6 at position 0\)\. .*GBK or Big5"):
        corpus.decode_uploaded_text("周杰伦 分开 不分开".encode("gbk"))


def test_upload_binary_without_a_signature_is_called_binary():
    data = bytes((b % 255) + 1 for b in random.Random(0).randbytes(10_000))  # no NUL, no known header
    with pytest.raises(CorpusError, match=r"looks like a binary file, not text \(byte 0x.. at position \d+ is not "
                                          r"UTF-8; [\d,]+ of its first 10,000 bytes are control codes\)"):
        corpus.decode_uploaded_text(data)


def test_the_upload_widgets_and_the_server_use_the_codes_limits():
    import re
    import tomllib

    from rnnviz.data import budget

    root = Path(__file__).resolve().parents[2]
    server = tomllib.loads((root / ".streamlit" / "config.toml").read_text())["server"]
    assert server["maxUploadSize"] == budget.MAX_UPLOAD_WIDGET_MB  # in MB; every code limit fits under it
    assert budget.MAX_UPLOAD_WIDGET_MB * 1_000_000 >= max(
        budget.MAX_UPLOAD_BYTES, budget.MAX_NAMES_ZIP_BYTES, budget.MAX_CHECKPOINT_BYTES)
    page = (root / "app_pages" / "charlm.py").read_text()
    uploader = re.search(r"file_uploader\((.*?)\)\n", page, re.S).group(1)
    assert "max_upload_size=MAX_UPLOAD_BYTES // 1_000_000" in uploader  # the widget takes the code's limit
    assert corpus.MAX_UPLOAD_BYTES // 1_000_000 == corpus.MAX_UPLOAD_MB


def test_upload_character_limit():
    assert corpus.MAX_UPLOAD_BYTES == corpus.MAX_UPLOAD_MB * 1_000_000
    with pytest.raises(CorpusError, match=r"This text has 3,500,001 characters; the limit is 3,500,000"):
        corpus.decode_uploaded_text(b"a" * 3_500_001)
    assert len(corpus.decode_uploaded_text("长".encode() * 1_600_000)) == 1_600_000  # 4.8 MB, 1.6 million characters


def test_upload_size_and_emptiness():
    with pytest.raises(CorpusError, match="6.0 MB; the limit is 5.0 MB"):
        corpus.decode_uploaded_text(b"a" * 6_000_000)
    with pytest.raises(CorpusError, match="control characters"):
        corpus.decode_uploaded_text(b"\x01" * 4_000_000)  # binary before too long
    with pytest.raises(CorpusError, match="limit is 100 bytes"):
        corpus.decode_uploaded_text(b"a" * 101, max_bytes=100)
    with pytest.raises(CorpusError, match="empty"):
        corpus.decode_uploaded_text(b"")
    with pytest.raises(CorpusError, match="nothing to learn"):
        corpus.decode_uploaded_text(b" \n\n ")


# --- vocabulary and splitting --------------------------------------------------------


def test_vocab_sorted_by_code_point_and_round_trip():
    vocab = corpus.build_vocab("hello world")
    assert vocab.index_to_char == (" ", "d", "e", "h", "l", "o", "r", "w")
    assert vocab.counts[vocab.char_to_index["l"]] == 3
    indices = corpus.encode("hello", vocab)
    assert indices.dtype == np.int64 and indices.tolist() == [3, 2, 4, 4, 5]
    assert corpus.decode(indices, vocab) == "hello"
    with pytest.raises(CorpusError, match="'z'"):
        corpus.encode("fizz", vocab)


def test_split_train_validation_takes_the_tail():
    train, valid = corpus.split_train_validation(np.arange(100))
    assert train.tolist() == list(range(90)) and valid.tolist() == list(range(90, 100))
    train, valid = corpus.split_train_validation("abcdefghij", validation_fraction=0.25)
    assert (train, valid) == ("abcdefgh", "ij")
    assert corpus.split_train_validation([1, 2], 0.1) == ([1], [2])


# --- minibatches ---------------------------------------------------------------------


def test_random_minibatches_as_in_the_book():
    data = np.arange(100)  # with indices equal to positions, X shows where each row starts
    batches = list(corpus.random_minibatches(data, batch_size=4, num_steps=5, rng=np.random.default_rng(0)))
    assert len(batches) == (99 // 5) // 4 == 4
    starts = []
    for X, Y in batches:
        assert X.shape == Y.shape == (4, 5)
        assert X.dtype == Y.dtype == torch.long
        assert torch.equal(Y, X + 1)  # Y is X shifted by one character
        assert torch.equal(X[:, 1:], Y[:, :-1])
        assert (X[:, 0] % 5 == 0).all()  # subsequences are cut at multiples of num_steps
        starts += X[:, 0].tolist()
    assert len(set(starts)) == len(starts)  # non-overlapping within an epoch
    assert starts != sorted(starts)  # in random order

    again = list(corpus.random_minibatches(data, 4, 5, np.random.default_rng(0)))
    assert all(torch.equal(a[0], b[0]) for a, b in zip(batches, again))


def test_sequential_minibatches_rows_continue_across_batches():
    data = np.arange(103)
    batches = list(corpus.sequential_minibatches(data, batch_size=4, num_steps=6))
    # 4 streams of 103 // 4 = 25 characters; (25 - 1) // 6 = 4 minibatches
    assert len(batches) == 4
    assert batches[0][0][:, 0].tolist() == [0, 25, 50, 75]
    for (X, Y), (X_next, _) in zip(batches, batches[1:]):
        assert X.shape == Y.shape == (4, 6)
        assert torch.equal(Y, X + 1)
        assert torch.equal(X_next[:, 0], X[:, -1] + 1)  # each row continues where it ended

    shifted = list(corpus.sequential_minibatches(data, 4, 6, offset=3))
    assert shifted[0][0][:, 0].tolist() == [3, 28, 53, 78]


def test_sequential_matches_the_books_reshape():
    rng = np.random.default_rng(1)
    data = rng.integers(0, 50, size=500)
    batch_size, num_steps = 3, 7
    batch_len = len(data) // batch_size
    streams = data[: batch_size * batch_len].reshape(batch_size, batch_len)
    for i, (X, Y) in enumerate(corpus.sequential_minibatches(data, batch_size, num_steps)):
        j = i * num_steps
        assert np.array_equal(X.numpy(), streams[:, j : j + num_steps])
        assert np.array_equal(Y.numpy(), streams[:, j + 1 : j + num_steps + 1])
    assert i + 1 == (batch_len - 1) // num_steps


@pytest.mark.parametrize("scheme", ["random", "sequential"])
def test_minibatch_layout_matches_the_batches(scheme):
    data = np.arange(200)
    layout = corpus.minibatch_layout(len(data), 3, 8, scheme, seed=7)
    if scheme == "random":
        batches = corpus.random_minibatches(data, 3, 8, np.random.default_rng(7))
    else:
        batches = corpus.sequential_minibatches(data, 3, 8)
    expected = [
        (k, row, int(X[row, 0]), int(X[row, -1]) + 1)
        for k, (X, _) in enumerate(batches)
        for row in range(3)
    ]
    assert [tuple(r) for r in layout] == expected
    assert all(r.end - r.start == 8 for r in layout)
    with pytest.raises(ValueError):
        corpus.minibatch_layout(200, 3, 8, "shuffled")


def test_check_corpus_size():
    assert corpus.minimum_corpus_length(32, 35) == 32 * 36
    assert corpus.check_corpus_size(10_000, 32, 35) is None
    assert corpus.check_corpus_size(32 * 36, 32, 35) is None
    message = corpus.check_corpus_size(32 * 36 - 1, 32, 35)
    assert message is not None and "1,152" in message
    message = corpus.check_corpus_size(300, 32, 35)
    assert "300 characters" in message
    assert "batch size 8 with 35 steps" in message and "8 steps with batch size 32" in message
    assert "batch size 1 with 9 steps" in corpus.check_corpus_size(10, 32, 35)
    assert "at least 2" in corpus.check_corpus_size(1, 32, 35)


@pytest.mark.parametrize("batch_size, num_steps", [(32, 35), (8, 35), (32, 8), (1, 9), (5, 1)])
def test_minimum_corpus_length_is_exact_for_both_samplers(batch_size, num_steps):
    n = corpus.minimum_corpus_length(batch_size, num_steps)
    enough, short = np.zeros(n, dtype=np.int64), np.zeros(n - 1, dtype=np.int64)
    assert corpus.check_corpus_size(n, batch_size, num_steps) is None
    assert corpus.check_corpus_size(n - 1, batch_size, num_steps) is not None
    rng = np.random.default_rng(0)
    assert next(corpus.random_minibatches(enough, batch_size, num_steps, rng), None) is not None
    assert next(corpus.sequential_minibatches(enough, batch_size, num_steps), None) is not None
    assert next(corpus.sequential_minibatches(short, batch_size, num_steps), None) is None


@pytest.mark.parametrize("suggested", [(8, 35), (32, 8)])
def test_suggested_settings_fit(suggested):
    # check_corpus_size(300, 32, 35) suggests these two
    assert corpus.check_corpus_size(300, *suggested) is None


# --- perplexity ----------------------------------------------------------------------


def probabilities_by_hand(logits: list[list[float]]) -> list[list[float]]:
    """softmax in plain Python, independent of torch."""
    rows = []
    for row in logits:
        top = max(row)
        weights = [math.exp(v - top) for v in row]
        rows.append([w / sum(weights) for w in weights])
    return rows


@pytest.mark.parametrize("vocab_size,spread", [(2, 2), (27, 27), (27, 5), (1027, 1027), (1027, 1)])
def test_perplexity_is_the_number_of_equally_likely_choices(vocab_size, spread):
    """A model that spreads its belief evenly over ``spread`` of the classes, the target always among
    them, is as perplexed as a fair die with ``spread`` faces: uniform over V gives V, certain gives 1."""
    generator = torch.Generator().manual_seed(vocab_size + spread)
    targets = torch.randint(0, vocab_size, (64,), generator=generator)
    logits = torch.full((64, vocab_size), -1e4)
    for row, target in enumerate(targets.tolist()):
        allowed = [(target + k) % vocab_size for k in range(spread)]
        logits[row, allowed] = 3.0
    cross_entropy = F.cross_entropy(logits, targets).item()  # torch's loss, as training reports it
    assert corpus.perplexity(cross_entropy) == pytest.approx(spread, rel=1e-5)


def test_perplexity_is_the_inverse_geometric_mean_of_the_target_probabilities():
    logits = [[2.0, 0.5, -1.0], [0.0, 0.0, 3.0], [1.0, 1.0, 1.0], [-2.0, 4.0, 0.5]]
    targets = [0, 2, 1, 0]
    probs = probabilities_by_hand(logits)
    target_probs = [probs[i][t] for i, t in enumerate(targets)]
    expected = math.prod(target_probs) ** (-1 / len(targets))
    cross_entropy = F.cross_entropy(torch.tensor(logits), torch.tensor(targets)).item()
    assert corpus.perplexity(cross_entropy) == pytest.approx(expected, rel=1e-5)
    # the bad guess in the last row weighs: perplexity lies between the best and the worst 1/p
    assert 1 / max(target_probs) < corpus.perplexity(cross_entropy) < 1 / min(target_probs)


def test_perplexity_edge_cases():
    assert corpus.perplexity(0.0) == 1.0
    assert corpus.perplexity(1e6) == math.inf
    assert math.isnan(corpus.perplexity(float("nan")))
