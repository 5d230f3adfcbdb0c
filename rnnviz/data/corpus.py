"""Text corpora for character language models (Dive into Deep Learning, ch. 8).

Built-in corpora (Jay Chou lyrics, Tiny Shakespeare) are found, in order, in
``$RNNVIZ_CORPORA_DIR`` (a folder holding ``jaychou_lyrics.txt`` /
``tinyshakespeare.txt``), in ``<cache>/corpora/``, or downloaded; every copy is
checked against its sha256 before use. ``$RNNVIZ_CORPUS_BASE_URL`` replaces the
download location: each source is then fetched from
``<base>/<file name of its canonical URL>`` (``jaychou_lyrics.txt.zip``,
``input.txt``), i.e. from a mirror that keeps the original file names.

Minibatch sampling follows the book (zh v1 ``data_iter_random`` and
``data_iter_consecutive``) exactly, so numbers can be compared with it.
"""
from __future__ import annotations

import hashlib
import math
import os
import re
import tempfile
import urllib.parse
from collections import Counter
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Iterator, Literal, Mapping, NamedTuple, Sequence

import numpy as np
import torch

from ..i18n import N_, _, translate
from .budget import MAX_CORPUS_CHARS, MAX_UPLOAD_BYTES, MAX_UPLOAD_MB
from .archives import ExtractZipMember
from .download import (
    DatasetError,
    ProgressCallback,
    cache_dir,
    decode_utf8_text,
    download_file,
    format_bytes,
    sha256_of_file,
)

CORPORA_DIR_ENV = "RNNVIZ_CORPORA_DIR"
CORPUS_BASE_URL_ENV = "RNNVIZ_CORPUS_BASE_URL"
__all__ = ["MAX_CORPUS_CHARS", "MAX_UPLOAD_BYTES", "MAX_UPLOAD_MB"]  # re-exported: the pages' upload limit


class CorpusError(DatasetError):
    """A corpus (built-in or uploaded) cannot be used; the message says why."""


@dataclass(frozen=True)
class CorpusSource:
    """Where a built-in corpus comes from and how to check it.

    ``sha256`` is always of the text file itself; for zipped sources the
    archive is checked too (``zip_sha256``) and ``zip_member`` is read from it.
    """

    name: str
    title: str
    filename: str
    url: str
    sha256: str
    zip_sha256: str | None = None
    zip_member: str | None = None
    newlines_to_spaces: bool = False  # how the book prepares the lyrics
    max_download_bytes: int = 20_000_000


BUILTIN_CORPORA: tuple[CorpusSource, ...] = (
    CorpusSource(
        name="jaychou_lyrics",
        title="Jay Chou lyrics (Dive into Deep Learning, Chinese edition)",
        filename="jaychou_lyrics.txt",
        url="https://raw.githubusercontent.com/d2l-ai/d2l-zh/v1.0.0/data/jaychou_lyrics.txt.zip",
        sha256="f0cab49f5d00e736c7201a0e2aa9c8dd72da1940c9491b309e4cc657be0faa48",
        zip_sha256="3cfedd7d174111cdad5a27eaffaa6a2432a2842cf2590a03dd8a97610ea07043",
        zip_member="jaychou_lyrics.txt",
        newlines_to_spaces=True,
    ),
    CorpusSource(
        name="tinyshakespeare",
        title="Tiny Shakespeare (Karpathy's char-rnn)",
        filename="tinyshakespeare.txt",
        url="https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",
        sha256="86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
    ),
)


def corpus_source(name: str) -> CorpusSource:
    """The built-in source called ``name`` (``jaychou_lyrics`` or ``tinyshakespeare``)."""
    for source in BUILTIN_CORPORA:
        if source.name == name:
            return source
    known = ", ".join(s.name for s in BUILTIN_CORPORA)
    raise ValueError(f"unknown corpus {name!r}; built-in corpora are: {known}")


def download_url(source: CorpusSource) -> str:
    """The URL to fetch ``source`` from, honouring ``$RNNVIZ_CORPUS_BASE_URL``."""
    base = os.environ.get(CORPUS_BASE_URL_ENV, "").strip()
    if not base:
        return source.url
    remote_name = PurePosixPath(urllib.parse.urlparse(source.url).path).name
    return f"{base.rstrip('/')}/{remote_name}"


def ensure_corpus_file(source: CorpusSource, progress: ProgressCallback | None = None) -> Path:
    """Path to a checksum-verified copy of ``source``'s text file, downloading if needed."""
    configured = os.environ.get(CORPORA_DIR_ENV, "").strip()
    if configured:
        path = Path(configured).expanduser() / source.filename
        if not path.is_file():
            raise CorpusError(_("{file} is not in {folder} (set by {variable}).", file=source.filename,
                                folder=str(path.parent), variable=CORPORA_DIR_ENV))
        _check_file_sha(path, source)
        return path
    cached = cache_dir() / "corpora" / source.filename
    url = download_url(source)
    if source.zip_member is None:
        # Pooch's cache: a copy with the right sha256 is used, anything else is (re)downloaded.
        return download_file(
            url, cached, sha256=source.sha256, progress=progress, max_bytes=source.max_download_bytes
        )
    if cached.is_file():
        if sha256_of_file(cached) == source.sha256:
            return cached
        cached.unlink(missing_ok=True)  # damaged: fetch a fresh copy
    cached.parent.mkdir(parents=True, exist_ok=True)
    # A private folder per call, so two sessions downloading at once cannot clash; the
    # archive is checked against its own sha256, then the text inside against the text's.
    with tempfile.TemporaryDirectory(dir=cached.parent, prefix=".download.") as tmp:
        return download_file(
            url,
            Path(tmp) / PurePosixPath(urllib.parse.urlparse(url).path).name,
            sha256=source.zip_sha256,
            progress=progress,
            max_bytes=source.max_download_bytes,
            processor=ExtractZipMember(
                source.zip_member, cached, check=lambda data: _check_bytes_sha(data, source)
            ),
        )


def load_builtin_corpus(
    name: str, progress: ProgressCallback | None = None, *, first_n_chars: int | None = None
) -> str:
    """The text of a built-in corpus, prepared as its source prepares it.

    The lyrics get "\\n" and "\\r" replaced by spaces, as in the book;
    ``first_n_chars=10_000`` then gives the book's 10,000-character corpus
    (1,027 distinct characters).
    """
    source = corpus_source(name)
    path = ensure_corpus_file(source, progress)
    text = decode_utf8_text(path.read_bytes(), label=source.filename)
    if source.newlines_to_spaces:
        text = text.replace("\n", " ").replace("\r", " ")
    return text if first_n_chars is None else text[:first_n_chars]


def _check_file_sha(path: Path, source: CorpusSource) -> None:
    actual = sha256_of_file(path)
    if actual != source.sha256:
        raise CorpusError(_sha_mismatch_message(str(path), source.sha256, actual))


def _check_bytes_sha(data: bytes, source: CorpusSource) -> None:
    actual = hashlib.sha256(data).hexdigest()
    if actual != source.sha256:
        raise CorpusError(_sha_mismatch_message(source.filename, source.sha256, actual))


def _sha_mismatch_message(what: str, expected: str, actual: str) -> str:
    return _(
        "{what} does not match the expected checksum (sha256 {expected}…, got {actual}…): it is not the original "
        "file, or it was damaged.", what=what, expected=expected[:12], actual=actual[:12]
    )


# --- uploaded text ---------------------------------------------------------------

_BINARY_SIGNATURES = (  # the kinds are marked for translation: show them with translate()
    (b"\x89PNG\r\n\x1a\n", N_("a PNG image")),
    (b"\xff\xd8\xff", N_("a JPEG image")),
    (b"GIF8", N_("a GIF image")),
    (b"%PDF", N_("a PDF document")),
    (b"PK\x03\x04", N_("a zip archive (or a Word/Excel file)")),
    (b"\x1f\x8b", N_("a gzip archive")),
)
# C0/C1 control characters other than tab, newline, vertical tab, form feed, carriage return.
_CONTROL_CHARS = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f]")
_MAX_CONTROL_SHARE = 0.01
# Bytes that never occur in text, whatever its encoding: C0 controls but tab, newlines, form feed, escape.
_NON_TEXT_BYTES = bytes(set(range(32)) - {9, 10, 11, 12, 13, 27}) + b"\x7f"
_SNIFF_BYTES = 64 * 1024


def decode_uploaded_text(data: bytes, *, max_bytes: int = MAX_UPLOAD_BYTES) -> str:
    """Decode an uploaded file as UTF-8 text (a BOM is fine) or raise :class:`CorpusError`.

    Rejects files over ``max_bytes``, known binary formats, NUL bytes and other
    binary content, bytes that are not UTF-8 (naming the first one and its position,
    and recognising Latin-1 / Windows-1252 text), text that is more than 1% control
    characters and texts longer than :data:`MAX_CORPUS_CHARS`. Windows line ends
    become "\\n", so a file gives the same vocabulary whichever system saved it.
    Every check runs before the text is copied.
    """
    if len(data) > max_bytes:
        raise CorpusError(_(
            "This file is {size}; the limit is {limit}. Upload a shorter text.",
            size=format_bytes(len(data)), limit=format_bytes(max_bytes)
        ))
    if not data:
        raise CorpusError(_("This file is empty."))
    for signature, kind in _BINARY_SIGNATURES:
        if data.startswith(signature):
            raise CorpusError(_("This looks like {kind}, not a text file. Upload plain UTF-8 text.",
                                kind=translate(kind)))
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise CorpusError(_("This file is UTF-16 text; save it as UTF-8 and upload it again."))
    nul = data.find(b"\x00")
    if nul >= 0:
        raise CorpusError(_("This looks like a binary file, not text (a NUL byte at position {position}).",
                            position=nul))
    try:
        text = decode_utf8_text(data, label=_("This file"))
    except DatasetError as exc:
        raise CorpusError(_not_utf8_message(data, str(exc))) from None
    n_control, allowed = 0, _MAX_CONTROL_SHARE * len(text)
    for _match in _CONTROL_CHARS.finditer(text):  # counted, not collected: stops soon in a binary file
        n_control += 1
        if n_control > allowed:
            raise CorpusError(_(
                "This looks like a binary file, not text (more than 1% of its characters are control "
                "characters). Upload plain UTF-8 text."
            ))
    if len(text) > MAX_CORPUS_CHARS:
        raise CorpusError(_(
            "This text has {n} characters; the limit is {limit}. Upload a shorter text "
            "(Tiny Shakespeare has 1,115,394).", n=f"{len(text):,}", limit=f"{MAX_CORPUS_CHARS:,}"
        ))
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    if not text.strip():
        raise CorpusError(_("This file contains only spaces and line breaks; there is nothing to learn."))
    return text


def _not_utf8_message(data: bytes, problem: str) -> str:
    """Why bytes that are not UTF-8 were refused: binary content, Latin-1 text, or another encoding."""
    sample = data[:_SNIFF_BYTES]
    non_text = len(sample) - len(sample.translate(None, _NON_TEXT_BYTES))
    if non_text > _MAX_CONTROL_SHARE * len(sample):
        bad = _first_bad_byte(data)
        if bad is None:
            return _("This looks like a binary file, not text ({count} of its first {total} bytes are control "
                     "codes). Upload plain UTF-8 text.", count=f"{non_text:,}", total=f"{len(sample):,}")
        return _("This looks like a binary file, not text (byte {byte} at position {position} is not UTF-8; "
                 "{count} of its first {total} bytes are control codes). Upload plain UTF-8 text.",
                 byte=f"0x{bad[0]:02x}", position=bad[1], count=f"{non_text:,}", total=f"{len(sample):,}")
    if _looks_like_latin1(sample):
        return _("{problem} It looks like Latin-1 (Windows-1252) text: open it in an editor and save it as "
                 "UTF-8, then upload it again.", problem=problem)
    return _("{problem} It may be in another encoding (such as GBK or Big5 for Chinese): open it in an editor "
             "and save it as UTF-8, then upload it again.", problem=problem)


def _first_bad_byte(data: bytes) -> tuple[int, int] | None:
    """The first byte that is not UTF-8 and its position (after a BOM, as decode_utf8_text counts)."""
    offset = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    try:
        data[offset:].decode("utf-8")
    except UnicodeDecodeError as exc:
        return data[offset + exc.start], offset + exc.start
    return None


def _looks_like_latin1(sample: bytes) -> bool:
    """Windows-1252 decodes it, and its non-ASCII bytes mostly stand alone ("café"), unlike the
    byte pairs of GBK, Big5 or Shift-JIS."""
    try:
        sample.decode("cp1252")
    except UnicodeDecodeError:
        return False
    high = [i for i, byte in enumerate(sample) if byte >= 0x80]
    alone = sum(1 for i in high if (i + 1 >= len(sample) or sample[i + 1] < 0x80) and (i == 0 or sample[i - 1] < 0x80))
    return alone >= 0.7 * len(high)


# --- vocabulary ----------------------------------------------------------------------


@dataclass(frozen=True)
class Vocab:
    """Characters of a text and their indices.

    Characters are sorted by code point, so a text always gets the same
    indices, independent of hash seeds or frequency ties; ``counts[i]`` is how
    often ``index_to_char[i]`` occurs, for charts that want frequency order.
    """

    index_to_char: tuple[str, ...]
    char_to_index: Mapping[str, int]
    counts: tuple[int, ...]

    def __len__(self) -> int:
        return len(self.index_to_char)


def build_vocab(text: str) -> Vocab:
    """The vocabulary of ``text`` (one index per distinct character)."""
    counter = Counter(text)
    chars = tuple(sorted(counter))
    return Vocab(chars, {c: i for i, c in enumerate(chars)}, tuple(counter[c] for c in chars))


def encode(text: str, vocab: Vocab) -> np.ndarray:
    """``text`` as an int64 array of vocabulary indices; unknown characters raise CorpusError."""
    try:
        return np.fromiter((vocab.char_to_index[c] for c in text), dtype=np.int64, count=len(text))
    except KeyError:
        unknown = sorted({c for c in text if c not in vocab.char_to_index})
        raise CorpusError(_(
            "These characters are not in the vocabulary: {chars}", chars=", ".join(repr(c) for c in unknown)
        )) from None


def decode(indices: Sequence[int] | np.ndarray | torch.Tensor, vocab: Vocab) -> str:
    """Inverse of :func:`encode`."""
    return "".join(vocab.index_to_char[int(i)] for i in indices)


def split_train_validation(indices, validation_fraction: float = 0.1):
    """``(train, validation)``: the head and the last ``validation_fraction`` of a sequence.

    A tail rather than a random sample, because neighbouring characters are
    strongly related: validation text must not interleave with training text.
    """
    if not 0 < validation_fraction < 1:
        raise ValueError(f"validation_fraction must be between 0 and 1, got {validation_fraction}")
    n = len(indices)
    if n < 2:
        raise ValueError("need at least 2 elements to split off a validation part")
    n_validation = min(max(int(round(n * validation_fraction)), 1), n - 1)
    return indices[: n - n_validation], indices[n - n_validation :]


# --- minibatches ---------------------------------------------------------------------

Scheme = Literal["random", "sequential"]


class MinibatchRow(NamedTuple):
    """Row ``row`` of minibatch ``batch_index`` reads X = corpus[start:end] (Y is one further)."""

    batch_index: int
    row: int
    start: int
    end: int


def random_minibatches(
    corpus_indices: Sequence[int] | np.ndarray,
    batch_size: int,
    num_steps: int,
    rng: np.random.Generator,
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """The book's random sampling: ``(X, Y)`` LongTensors of shape ``(batch_size, num_steps)``.

    The corpus is cut into ``(len - 1) // num_steps`` non-overlapping
    subsequences, which are visited in random order, ``batch_size`` per
    minibatch; ``Y`` is ``X`` shifted one character on. Leftovers are dropped.
    """
    corpus = _as_index_array(corpus_indices)
    starts = _random_starts(len(corpus), batch_size, num_steps, rng)
    yield from _batches_at(corpus, starts, num_steps)


def sequential_minibatches(
    corpus_indices: Sequence[int] | np.ndarray,
    batch_size: int,
    num_steps: int,
    offset: int = 0,
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """The book's sequential (consecutive) sampling.

    After skipping ``offset`` characters the corpus is cut into
    ``batch_size`` equally long parallel streams, one per row; minibatch
    ``k + 1`` continues each row exactly where minibatch ``k`` stopped, so the
    hidden state can be carried over from one minibatch to the next.
    """
    corpus = _as_index_array(corpus_indices)
    starts = _sequential_starts(len(corpus), batch_size, num_steps, offset)
    yield from _batches_at(corpus, starts, num_steps)


def minibatch_layout(
    corpus_len: int,
    batch_size: int,
    num_steps: int,
    scheme: Scheme = "random",
    seed: int = 0,
    *,
    offset: int = 0,
) -> list[MinibatchRow]:
    """Which corpus range every minibatch row covers, for drawing the sampling schemes.

    Matches :func:`random_minibatches` with ``np.random.default_rng(seed)`` and
    :func:`sequential_minibatches` with ``offset`` (``seed`` is unused there).
    """
    if scheme == "random":
        starts = _random_starts(corpus_len, batch_size, num_steps, np.random.default_rng(seed))
    elif scheme == "sequential":
        starts = _sequential_starts(corpus_len, batch_size, num_steps, offset)
    else:
        raise ValueError(f"scheme must be 'random' or 'sequential', got {scheme!r}")
    return [
        MinibatchRow(k, row, int(start), int(start) + num_steps)
        for k, batch_starts in enumerate(starts)
        for row, start in enumerate(batch_starts)
    ]


def minimum_corpus_length(batch_size: int, num_steps: int) -> int:
    """Fewest characters that give one minibatch in both schemes.

    Random needs ``batch_size * num_steps + 1`` (targets are one further);
    sequential needs each of the ``batch_size`` streams to hold
    ``num_steps + 1`` characters, which is never less.
    """
    _check_shape_args(batch_size, num_steps)
    return batch_size * (num_steps + 1)


def check_corpus_size(n_chars: int, batch_size: int, num_steps: int, *, training_part: bool = False) -> str | None:
    """None if ``n_chars`` give at least one minibatch in both schemes, else advice (about "the
    training part (the first 90%)" rather than "the text" with ``training_part``)."""
    needed = minimum_corpus_length(batch_size, num_steps)
    if n_chars >= needed:
        return None
    if n_chars < 2:
        if training_part:
            if n_chars == 1:
                return _("The training part (the first 90%) has 1 character; at least 2 are needed (one to read, "
                         "one to predict).")
            return _("The training part (the first 90%) has {n} characters; at least 2 are needed (one to read, "
                     "one to predict).", n=n_chars)
        if n_chars == 1:
            return _("The text has 1 character; at least 2 are needed (one to read, one to predict).")
        return _("The text has {n} characters; at least 2 are needed (one to read, one to predict).", n=n_chars)
    suggestions = []
    if n_chars // (num_steps + 1) >= 1:
        suggestions.append(_("batch size {batch} with {steps} steps", batch=n_chars // (num_steps + 1),
                             steps=num_steps))
    if n_chars // batch_size - 1 >= 1:
        suggestions.append(_("{steps} steps with batch size {batch}", steps=n_chars // batch_size - 1,
                             batch=batch_size))
    if not suggestions:
        suggestions.append(_("batch size {batch} with {steps} steps", batch=1, steps=min(num_steps, n_chars - 1)))
    suggestion = (suggestions[0] if len(suggestions) == 1
                  else _("{first} or {second}", first=suggestions[0], second=suggestions[1]))
    named = dict(n=f"{n_chars:,}", batch=batch_size, steps=num_steps, needed=f"{needed:,}", suggestion=suggestion)
    if training_part:
        return _("The training part (the first 90%) has {n} characters, but one minibatch of {batch} rows × "
                 "{steps} steps needs at least {needed}. Use a longer text, or try {suggestion}.", **named)
    return _("The text has {n} characters, but one minibatch of {batch} rows × {steps} steps needs at least "
             "{needed}. Use a longer text, or try {suggestion}.", **named)


def perplexity(mean_cross_entropy: float) -> float:
    """``exp`` of the mean cross-entropy (in nats); ``inf`` instead of an overflow."""
    try:
        return math.exp(mean_cross_entropy)
    except OverflowError:
        return math.inf


def _check_shape_args(batch_size: int, num_steps: int) -> None:
    if batch_size < 1 or num_steps < 1:
        raise ValueError(f"batch_size and num_steps must be ≥ 1, got {batch_size} and {num_steps}")


def _as_index_array(corpus_indices) -> np.ndarray:
    if isinstance(corpus_indices, torch.Tensor):
        corpus_indices = corpus_indices.cpu().numpy()
    return np.asarray(corpus_indices, dtype=np.int64)


def _random_starts(n: int, batch_size: int, num_steps: int, rng: np.random.Generator) -> np.ndarray:
    """Start of X for each (minibatch, row), as in the book's ``data_iter_random``."""
    _check_shape_args(batch_size, num_steps)
    num_examples = max(n - 1, 0) // num_steps  # minus 1: Y needs one more character
    epoch_size = num_examples // batch_size
    example_order = rng.permutation(num_examples)
    return example_order[: epoch_size * batch_size].reshape(epoch_size, batch_size) * num_steps


def _sequential_starts(n: int, batch_size: int, num_steps: int, offset: int) -> np.ndarray:
    """Start of X for each (minibatch, row), as in the book's ``data_iter_consecutive``."""
    _check_shape_args(batch_size, num_steps)
    if not 0 <= offset <= max(n - 1, 0):
        raise ValueError(f"offset must be between 0 and {max(n - 1, 0)}, got {offset}")
    stream_len = (n - offset) // batch_size
    epoch_size = max(stream_len - 1, 0) // num_steps
    row_starts = offset + np.arange(batch_size) * stream_len
    return row_starts[None, :] + (np.arange(epoch_size) * num_steps)[:, None]


def _batches_at(
    corpus: np.ndarray, starts: np.ndarray, num_steps: int
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    steps = np.arange(num_steps)
    for batch_starts in starts:
        positions = batch_starts[:, None] + steps
        yield torch.from_numpy(corpus[positions]), torch.from_numpy(corpus[positions + 1])
