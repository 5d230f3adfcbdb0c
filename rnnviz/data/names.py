"""The surnames → nationality dataset of the PyTorch "classifying names" tutorial.

Where the 18 ``Language.txt`` files come from, in order:

1. ``$RNNVIZ_NAMES_DIR``: a local folder holding them (used as it is, after validation);
2. ``<cache>/names/`` if an earlier download left a valid copy there;
3. otherwise ``data.zip`` is downloaded from ``$RNNVIZ_NAMES_URL`` (default
   :data:`NAMES_URL`) and its ``data/names/*.txt`` are extracted into the cache.

Names are transliterated to ASCII with unidecode ("Ślusàrski" → "Slusarski",
"王小明" → "Wang Xiao Ming") and reduced to :data:`NAME_ALPHABET`; whatever is
dropped on the way is reported, so the app can show it rather than hide it.
"""
from __future__ import annotations

import os
import string
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Mapping, Sequence

import numpy as np
import torch
from unidecode import unidecode

from rnnviz.i18n import N_, _, translate

from .budget import MAX_NAME_CHARS, MAX_NAMES, MAX_NAMES_TEXT_BYTES, MAX_NAMES_ZIP_BYTES
from .archives import ExtractZip, read_zip_members
from .download import (
    DatasetError,
    ProgressCallback,
    cache_dir,
    decode_utf8_text,
    download_file,
    format_bytes,
)

NAMES_URL = "https://download.pytorch.org/tutorial/data.zip"
NAMES_DIR_ENV = "RNNVIZ_NAMES_DIR"
NAMES_URL_ENV = "RNNVIZ_NAMES_URL"

LANGUAGES: tuple[str, ...] = (
    "Arabic", "Chinese", "Czech", "Dutch", "English", "French", "German", "Greek", "Irish",
    "Italian", "Japanese", "Korean", "Polish", "Portuguese", "Russian", "Scottish", "Spanish",
    "Vietnamese",
)

# The 18 languages stay English keys (files, checkpoints, labels); these are their display labels.
LANGUAGE_LABELS: dict[str, str] = {
    "Arabic": N_("Arabic"), "Chinese": N_("Chinese"), "Czech": N_("Czech"), "Dutch": N_("Dutch"),
    "English": N_("English"), "French": N_("French"), "German": N_("German"), "Greek": N_("Greek"),
    "Irish": N_("Irish"), "Italian": N_("Italian"), "Japanese": N_("Japanese"), "Korean": N_("Korean"),
    "Polish": N_("Polish"), "Portuguese": N_("Portuguese"), "Russian": N_("Russian"), "Scottish": N_("Scottish"),
    "Spanish": N_("Spanish"), "Vietnamese": N_("Vietnamese"),
}


def language_label(name: str) -> str:
    """One of the 18 language keys as the current language shows it ("Russian" → 俄语); other text as is."""
    return translate(LANGUAGE_LABELS[name]) if name in LANGUAGE_LABELS else name

NAME_ALPHABET = string.ascii_letters + " .,:;-'"
"""The 59 characters a name may contain after cleaning (the tutorial's ``all_letters``)."""
PAD_INDEX = 0
"""Index 0 is reserved for padding, so characters are numbered 1..59."""
PAD_LABEL = "<pad>"
NAME_VOCAB_SIZE = len(NAME_ALPHABET) + 1

MAX_UPLOAD_ZIP_BYTES = MAX_NAMES_ZIP_BYTES
_DROPPED_EXAMPLES_KEPT = 5


# --- characters ---------------------------------------------------------------


def char_to_index(alphabet: str = NAME_ALPHABET) -> dict[str, int]:
    """``{char: index}`` with indices 1..len(alphabet) (0 is padding)."""
    return {char: i + 1 for i, char in enumerate(alphabet)}


def index_to_char(alphabet: str = NAME_ALPHABET) -> list[str]:
    """``[PAD_LABEL, alphabet[0], alphabet[1], ...]``: the inverse of :func:`char_to_index`."""
    return [PAD_LABEL, *alphabet]


@dataclass(frozen=True)
class NormalisedName:
    """One raw name and what the model will actually see of it.

    ``dropped_chars`` are the original characters (distinct, in order of first
    appearance) that did not fully survive: unidecode turned them into nothing
    (e.g. an emoji) or into characters outside the alphabet (e.g. "/").
    """

    original: str
    transliterated: str
    kept: str
    dropped_chars: tuple[str, ...]

    @property
    def lost_characters(self) -> bool:
        return bool(self.dropped_chars)


def normalise_name(raw: str, alphabet: str = NAME_ALPHABET) -> NormalisedName:
    """Transliterate ``raw`` with unidecode and keep only ``alphabet`` characters."""
    allowed = set(alphabet)
    transliterated = unidecode(raw).strip()
    kept = "".join(char for char in transliterated if char in allowed).strip()
    dropped: dict[str, None] = {}  # an ordered set
    for char in raw:
        # unidecode works character by character, so this attributes every loss
        # to the original character that caused it (an emoji maps to "").
        ascii_form = unidecode(char)
        if char.isspace():
            continue
        if not ascii_form or any(c not in allowed for c in ascii_form):
            dropped[char] = None
    return NormalisedName(raw, transliterated, kept, tuple(dropped))


def encode_names(
    names: Sequence[str], alphabet: str = NAME_ALPHABET
) -> tuple[torch.Tensor, torch.Tensor]:
    """Encode names as a padded ``(batch, max_len)`` LongTensor and their lengths.

    Characters map to 1..len(alphabet); shorter names are padded with
    :data:`PAD_INDEX` on the right. Names must be non-empty and use only
    ``alphabet`` (run :func:`normalise_name` on user input first).
    """
    lookup = char_to_index(alphabet)
    lengths = [len(name) for name in names]
    padded = torch.full((len(names), max(lengths, default=0)), PAD_INDEX, dtype=torch.long)
    for row, name in enumerate(names):
        if not name:
            raise ValueError(f"name {row} is empty; an RNN needs at least one character")
        try:
            padded[row, : len(name)] = torch.tensor([lookup[c] for c in name], dtype=torch.long)
        except KeyError as exc:
            raise ValueError(
                f"name {name!r} contains {exc.args[0]!r}, which is not in the alphabet"
            ) from None
    return padded, torch.tensor(lengths, dtype=torch.long)


# --- finding and validating the files ----------------------------------------


def is_language_file(member_name: str) -> bool:
    """True for ``.../<Language>.txt`` of one of the 18 languages.

    Skips the ``__MACOSX/`` folder and ``._*`` files that macOS adds to zips.
    """
    path = PurePosixPath(member_name)
    if "__MACOSX" in path.parts or path.name.startswith("."):
        return False
    return path.suffix == ".txt" and path.stem in LANGUAGES


def validate_names_dir(path: Path) -> Path:
    """Check ``path`` holds exactly the 18 non-empty UTF-8 ``Language.txt`` files.

    Returns ``path``; raises :class:`DatasetError` naming what is wrong.
    """
    path = Path(path)
    if not path.is_dir():
        raise DatasetError(_("The names folder {path} does not exist.", path=path))
    found = [p for p in path.iterdir() if p.is_file() and p.suffix == ".txt" and not p.name.startswith(".")]
    total = sum(p.stat().st_size for p in found)
    if total > MAX_NAMES_TEXT_BYTES:
        raise DatasetError(_("The names files in {path} hold {size}; the limit is {limit}.", path=path,
                               size=format_bytes(total), limit=format_bytes(MAX_NAMES_TEXT_BYTES)))
    _decode_language_files({p.name: p.read_bytes() for p in found}, where=str(path))
    return path


def ensure_names_dir(progress: ProgressCallback | None = None) -> Path:
    """A folder with the 18 validated ``Language.txt`` files, downloading if needed."""
    configured = os.environ.get(NAMES_DIR_ENV, "").strip()
    if configured:
        return validate_names_dir(Path(configured).expanduser())
    cached = cache_dir() / "names"
    if cached.is_dir():
        try:
            return validate_names_dir(cached)
        except DatasetError:
            pass  # a damaged cache is simply fetched again (and replaced atomically)
    url = os.environ.get(NAMES_URL_ENV, "").strip() or NAMES_URL
    cached.parent.mkdir(parents=True, exist_ok=True)
    # A private folder per call, so two sessions downloading at once cannot clash. The
    # tutorial publishes no checksum for data.zip: its content is validated instead.
    with tempfile.TemporaryDirectory(dir=cached.parent, prefix=".names-download.") as tmp:
        download_file(
            url,
            Path(tmp) / "data.zip",
            progress=progress,
            processor=ExtractZip(
                cached,
                member_filter=is_language_file,
                flatten=True,
                validate=validate_names_dir,
                max_total_bytes=MAX_NAMES_TEXT_BYTES,
            ),
        )
    return cached


# --- the dataset ----------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class NamesDataset:
    """All names, cleaned, with their language labels and a report of the cleaning.

    ``names[i]`` is in language ``languages[labels[i]]``. Nothing is
    deduplicated (same semantics as the tutorial); ``duplicates_across_languages``
    counts distinct cleaned names that appear under more than one language,
    which caps the accuracy any model can reach.
    """

    names: tuple[str, ...]
    labels: np.ndarray
    languages: tuple[str, ...]
    counts: Mapping[str, int]
    names_with_dropped_chars: int
    dropped_examples: tuple[NormalisedName, ...]
    empty_after_cleaning: int
    duplicates_across_languages: int

    def __len__(self) -> int:
        return len(self.names)


def load_names(path: Path | None = None) -> NamesDataset:
    """Load and clean the dataset from a folder (default: :func:`ensure_names_dir`)."""
    folder = ensure_names_dir() if path is None else Path(path)
    validate_names_dir(folder)
    texts = {lang: (folder / f"{lang}.txt").read_text(encoding="utf-8") for lang in LANGUAGES}
    return _build_dataset(texts)


def load_names_from_zip(uploaded: bytes, *, max_bytes: int = MAX_UPLOAD_ZIP_BYTES) -> NamesDataset:
    """Load the dataset from an uploaded zip holding the 18 ``Language.txt`` anywhere in it."""
    if len(uploaded) > max_bytes:
        raise DatasetError(_("The zip is {size}; the limit is {limit}.", size=format_bytes(len(uploaded)),
                               limit=format_bytes(max_bytes)))
    members = read_zip_members(
        uploaded, member_filter=is_language_file, max_total_bytes=MAX_NAMES_TEXT_BYTES
    )
    files: dict[str, bytes] = {}
    for member, data in members.items():
        file_name = PurePosixPath(member).name
        if file_name in files:
            raise DatasetError(_("The zip holds {file} twice; keep only one copy.", file=file_name))
        files[file_name] = data
    return _build_dataset(_decode_language_files(files, where=_("the zip")))


def _decode_language_files(files: Mapping[str, bytes], *, where: str) -> dict[str, str]:
    """Check the file set is exactly the 18 languages, each non-empty UTF-8 text."""
    expected = {f"{lang}.txt" for lang in LANGUAGES}
    missing = sorted(expected - files.keys())
    unexpected = sorted(files.keys() - expected)
    if missing:
        raise DatasetError(_("{where} is missing {count} of the 18 language files: {files}.", where=where,
                               count=len(missing), files=", ".join(missing)))
    if unexpected:
        raise DatasetError(_("{where} has files that are not one of the 18 languages: {files}.", where=where,
                               files=", ".join(unexpected)))
    total = sum(len(files[f"{lang}.txt"]) for lang in LANGUAGES)
    if total > MAX_NAMES_TEXT_BYTES:
        raise DatasetError(_("The 18 language files in {where} hold {size}; the limit is {limit} (the tutorial's "
                               "hold 0.2 MB).", where=where, size=format_bytes(total),
                               limit=format_bytes(MAX_NAMES_TEXT_BYTES)))
    lines = sum(files[f"{lang}.txt"].count(b"\n") + 1 for lang in LANGUAGES)
    if lines > MAX_NAMES:
        raise DatasetError(_("The 18 language files in {where} have {lines:,} lines; the limit is {limit:,} names "
                               "(the tutorial has 20,074).", where=where, lines=lines, limit=MAX_NAMES))
    texts = {}
    for lang in LANGUAGES:
        data = files[f"{lang}.txt"]
        text = decode_utf8_text(data, label=_("{file} in {where}", file=f"{lang}.txt", where=where))
        if not text.strip():
            raise DatasetError(_("{file} in {where} is empty.", file=f"{lang}.txt", where=where))
        texts[lang] = text
    return texts


def _build_dataset(texts: Mapping[str, str]) -> NamesDataset:
    names: list[str] = []
    labels: list[int] = []
    counts: Counter[str] = Counter()
    dropped_examples: list[NormalisedName] = []
    names_with_dropped = 0
    empty = 0
    languages_of_name: dict[str, set[int]] = defaultdict(set)
    for label, lang in enumerate(LANGUAGES):
        for number, line in enumerate(texts[lang].splitlines(), start=1):
            if not line.strip():
                continue
            cleaned = None if len(line) > MAX_NAME_CHARS else normalise_name(line)
            if cleaned is None or len(cleaned.kept) > MAX_NAME_CHARS:  # unidecode may lengthen a name
                raise DatasetError(_("Line {number:,} of {file} is {length:,} characters long; a name may have at "
                                     "most {limit} (one name per line).", number=number, file=f"{lang}.txt",
                                     length=len(line), limit=MAX_NAME_CHARS))
            if cleaned.lost_characters:
                names_with_dropped += 1
                if len(dropped_examples) < _DROPPED_EXAMPLES_KEPT:
                    dropped_examples.append(cleaned)
            if not cleaned.kept:
                empty += 1  # excluded: an empty sequence cannot be fed to an RNN
                continue
            names.append(cleaned.kept)
            labels.append(label)
            counts[lang] += 1
            languages_of_name[cleaned.kept].add(label)
    return NamesDataset(
        names=tuple(names),
        labels=np.asarray(labels, dtype=np.int64),
        languages=LANGUAGES,
        counts={lang: counts[lang] for lang in LANGUAGES},
        names_with_dropped_chars=names_with_dropped,
        dropped_examples=tuple(dropped_examples),
        empty_after_cleaning=empty,
        duplicates_across_languages=sum(1 for s in languages_of_name.values() if len(s) > 1),
    )


# --- splitting -------------------------------------------------------------------


def stratified_split(
    labels: Sequence[int] | np.ndarray, test_fraction: float = 0.1, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Split example indices into ``(train_idx, test_idx)``, class by class, row by row.

    Each class gives ``round(test_fraction * n)`` examples to the test set,
    but at least one when it has two or more examples and always keeps at
    least one for training. Deterministic for a seed; both arrays come back sorted.

    It knows nothing of duplicates, so on the names it leaks: a name listed
    twice can be trained on and tested on. The lesson splits with
    :func:`grouped_split`; this row split is kept to measure that leak.
    """
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be between 0 and 1, got {test_fraction}")
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    test_parts = []
    for cls in np.unique(labels):
        members = np.flatnonzero(labels == cls)
        n = len(members)
        n_test = int(round(test_fraction * n))
        if n >= 2:
            n_test = min(max(n_test, 1), n - 1)
        else:
            n_test = 0
        test_parts.append(rng.permutation(members)[:n_test])
    test_idx = np.sort(np.concatenate(test_parts)) if test_parts else np.empty(0, dtype=np.int64)
    is_test = np.zeros(len(labels), dtype=bool)
    is_test[test_idx] = True
    return np.flatnonzero(~is_test), test_idx.astype(np.int64)


def grouped_split(
    names: Sequence[str], labels: Sequence[int] | np.ndarray, test_fraction: float = 0.1, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Split row indices into ``(train_idx, test_idx)`` by name: every copy of a name on one side.

    A *group* is one distinct name (the cleaned text the model reads), with all
    its rows, whatever their languages. Languages are visited from the one with
    the fewest distinct names up; each holds out ``round(test_fraction * d)`` of
    its ``d`` distinct names (at least one, and at least one kept for training,
    when ``d >= 2``), counting names an earlier language already held out, and
    drawing the rest at random from its names not yet placed. Its names not
    drawn are placed in training, so a later language cannot take them away.
    A held-out name takes all its rows (under every language) with it, so no
    name is ever both trained on and tested on. Deterministic for a seed; both
    arrays come back sorted.
    """
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be between 0 and 1, got {test_fraction}")
    labels = np.asarray(labels)
    if len(names) != len(labels):
        raise ValueError(f"{len(names)} names but {len(labels)} labels")
    rows_of: dict[str, list[int]] = defaultdict(list)
    names_of_class: dict[int, dict[str, None]] = defaultdict(dict)  # ordered sets, in order of appearance
    for row, (name, label) in enumerate(zip(names, labels.tolist())):
        rows_of[name].append(row)
        names_of_class[label][name] = None
    rng = np.random.default_rng(seed)
    held_out: dict[str, bool] = {}  # name -> True (test) / False (train), once placed
    for cls in sorted(names_of_class, key=lambda c: (len(names_of_class[c]), c)):
        members = list(names_of_class[cls])
        d = len(members)
        target = int(round(test_fraction * d))
        target = min(max(target, 1), d - 1) if d >= 2 else 0
        already = sum(held_out.get(name, False) for name in members)
        free = [name for name in members if name not in held_out]
        drawn = set(rng.permutation(len(free))[: max(target - already, 0)].tolist())
        for i, name in enumerate(free):
            held_out[name] = i in drawn
    test_rows = [row for name, rows in rows_of.items() if held_out[name] for row in rows]
    is_test = np.zeros(len(labels), dtype=bool)
    is_test[test_rows] = True
    return np.flatnonzero(~is_test), np.flatnonzero(is_test)
