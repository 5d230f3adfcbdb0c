"""Texts to learn: the lyrics, Tiny Shakespeare, one language's surnames, or a student's own text."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rnnviz.data.corpus import (
    MAX_CORPUS_CHARS,
    CorpusError,
    Vocab,
    build_vocab,
    decode_uploaded_text,
    encode,
    load_builtin_corpus,
    split_train_validation,
)
from rnnviz.data.download import ProgressCallback
from rnnviz.i18n import N_, _, translate
from rnnviz.lessons.charlm.limits import (
    LYRICS_BOOK_CHARS,
    MAX_PASTED_CHARS,
    MAX_VOCAB,
    MIN_CORPUS_CHARS,
    VALIDATION_FRACTION,
)
from rnnviz.data.names import LANGUAGE_LABELS, language_label  # noqa: F401 (re-exported)

# --- corpora ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CorpusText:
    """A text to learn. Two corpora are the same when their ``key`` is (the text is not compared)."""

    key: str  # "jaychou_lyrics:10000", "names:English", "upload:<sha>" ...
    title: str
    text: str = field(compare=False, repr=False)
    prefixes: tuple[str, ...] = field(default=(), compare=False)  # what the samples continue
    source_name: str = field(default="", compare=False, repr=False)  # custom: the file's name, or "pasted text"

    def shown_title(self) -> str:
        """``title`` in the current language (``title`` itself stays English: it is built once and
        shared by every session, and the pretraining command prints it)."""
        return shown_corpus_title(self.key, len(self.text), self.title, n_lines=self.text.count("\n"),
                                  source_name=self.source_name)


def shown_corpus_title(key: str, n_chars: int, fallback: str, n_lines: int = 0, source_name: str = "") -> str:
    """The title of the corpus ``key`` of ``n_chars`` characters, in the current language."""
    kind, _sep, rest = key.partition(":")
    n = f"{n_chars:,}"
    if kind == "jaychou_lyrics":
        return _("Jay Chou lyrics (all)") if rest == "all" else _("Jay Chou lyrics (first {n} characters)", n=n)
    if kind == "tinyshakespeare":
        return _("Tiny Shakespeare (all)") if rest == "all" else _("Tiny Shakespeare (first {n} characters)", n=n)
    if kind == "names":
        return _("{language} surnames ({count} names, one per line)", language=language_label(rest),
                 count=f"{n_lines:,}")
    if kind == "custom" and source_name:
        return _("{name} ({n} characters)", name=translate(source_name), n=n)
    return fallback


def lyrics_corpus(first_n_chars: int | None = LYRICS_BOOK_CHARS, progress: ProgressCallback | None = None) -> CorpusText:
    """Jay Chou lyrics as the book prepares them (newlines → spaces), optionally the first N characters."""
    text = load_builtin_corpus("jaychou_lyrics", progress, first_n_chars=first_n_chars)
    span = "all" if first_n_chars is None else f"first {len(text):,} characters"
    return CorpusText(f"jaychou_lyrics:{first_n_chars or 'all'}", f"Jay Chou lyrics ({span})", text, ("分开", "不分开"))


def shakespeare_corpus(first_n_chars: int | None = None, progress: ProgressCallback | None = None) -> CorpusText:
    text = load_builtin_corpus("tinyshakespeare", progress, first_n_chars=first_n_chars)
    span = "all" if first_n_chars is None else f"first {len(text):,} characters"
    return CorpusText(f"tinyshakespeare:{first_n_chars or 'all'}", f"Tiny Shakespeare ({span})", text,
                      ("ROMEO:", "The "))


def names_corpus(language: str, names_dir: Path | None = None, seed: int = 0) -> CorpusText:
    """The surnames of one language, one per line, in a fixed shuffled order.

    Shuffled because the files are sorted: otherwise the validation tail would be
    the surnames starting with the last letters of the alphabet.
    """
    from rnnviz.data import names

    if language not in names.LANGUAGES:
        raise CorpusError(_("Unknown language {language}; choose one of {choices}.", language=repr(language),
                            choices=", ".join(names.LANGUAGES)))
    dataset = names.load_names(names_dir)
    label = names.LANGUAGES.index(language)
    chosen = [name for name, lab in zip(dataset.names, dataset.labels) if lab == label]
    order = np.random.default_rng(seed).permutation(len(chosen))
    lines = [chosen[i] for i in order]
    text = "\n".join(lines) + "\n"
    initials = [c for c, _count in sorted(_counts(name[0] for name in lines).items(), key=lambda kv: -kv[1])[:2]]
    return CorpusText(f"names:{language}", f"{language} surnames ({len(lines):,} names, one per line)", text,
                      tuple(initials))


YOUR_TEXT, PASTED_TEXT = N_("your text"), N_("pasted text")  # the names of a custom text without a file name


def custom_corpus(data: bytes | str, name: str = YOUR_TEXT) -> CorpusText:
    """Uploaded bytes (decoded strictly as UTF-8) or pasted text, checked like an upload."""
    if isinstance(data, (bytes, bytearray)):
        text = decode_uploaded_text(bytes(data))
    else:
        if len(data) > MAX_PASTED_CHARS:
            raise CorpusError(_("The pasted text has {n} characters; the limit is {limit}. "
                                "Paste a shorter text or upload a file.",
                                n=f"{len(data):,}", limit=f"{MAX_PASTED_CHARS:,}"))
        text = decode_uploaded_text(data.encode("utf-8"), max_bytes=4 * MAX_PASTED_CHARS)
    text = text.replace("\r", "\n")
    if len(text) < MIN_CORPUS_CHARS:
        raise CorpusError(_("The text has only {n} characters; a language model needs at least "
                            "{minimum} (and learns something from a few thousand).",
                            n=len(text), minimum=MIN_CORPUS_CHARS))
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    frequent = max(_counts(c for c in text if not c.isspace()).items(), key=lambda kv: kv[1], default=(text[0], 0))[0]
    prefixes = tuple(dict.fromkeys(p for p in (text[:2], frequent) if p.strip()))
    return CorpusText(f"custom:{digest}", f"{name} ({len(text):,} characters)", text, prefixes or (text[:1],),
                      source_name=name)


def _counts(items) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in items:
        out[item] = out.get(item, 0) + 1
    return out


@dataclass(frozen=True, eq=False)
class PreparedCorpus:
    """A corpus as the model sees it: vocabulary, indices, training head and validation tail."""

    corpus: CorpusText
    vocab: Vocab
    train: np.ndarray
    validation: np.ndarray

    @classmethod
    def from_corpus(cls, corpus: CorpusText) -> "PreparedCorpus":
        text = corpus.text
        if len(text) < MIN_CORPUS_CHARS:
            raise CorpusError(_("The text has only {n} characters; at least {minimum} are needed.",
                                n=len(text), minimum=MIN_CORPUS_CHARS))
        if len(text) > MAX_CORPUS_CHARS:  # checked before its indices (8 bytes a character) exist
            raise CorpusError(_("The text has {n} characters; the limit is {limit}. Use a shorter text.",
                                n=f"{len(text):,}", limit=f"{MAX_CORPUS_CHARS:,}"))
        vocab = build_vocab(text)
        if len(vocab) > MAX_VOCAB:
            raise CorpusError(_("This text has {n} distinct characters; the limit is {limit}. "
                                "Use a shorter or less varied text.", n=f"{len(vocab):,}", limit=f"{MAX_VOCAB:,}"))
        train, validation = split_train_validation(encode(text, vocab), VALIDATION_FRACTION)
        return cls(corpus, vocab, train, validation)

    @property
    def n_chars(self) -> int:
        return len(self.train) + len(self.validation)

    def text_of(self, indices: np.ndarray) -> str:
        return "".join(self.vocab.index_to_char[int(i)] for i in indices)




# --- what a student picked in the sidebar -----------------------------------------------------------------

CORPUS_SOURCES: dict[str, str] = {  # labels marked for translation: show them with translate()
    "lyrics": N_("Jay Chou lyrics (the book's corpus)"),
    "shakespeare": N_("Tiny Shakespeare"),
    "names": N_("Surnames of one language"),
    "custom": N_("Your own text (upload or paste)"),
}


@dataclass(frozen=True)
class CorpusChoice:
    """A corpus as chosen in the sidebar, before it is loaded (a built-in may need a download)."""

    source: str  # a key of CORPUS_SOURCES
    first_n_chars: int | None = None  # lyrics / Shakespeare: None for all
    language: str = "English"  # names
    uploaded: bytes | None = field(default=None, repr=False)  # custom: an uploaded file wins over pasted text
    uploaded_name: str = ""
    pasted: str = field(default="", repr=False)

    @property
    def ready(self) -> bool:
        """False while a custom corpus has no text yet."""
        return self.source != "custom" or self.uploaded is not None or bool(self.pasted.strip())

    @property
    def key(self) -> str | None:
        """The corpus key, known before loading for a built-in corpus (None for a custom text:
        its key is the text's checksum, known only once decoded)."""
        if self.source == "lyrics":
            return f"jaychou_lyrics:{self.first_n_chars or 'all'}"
        if self.source == "shakespeare":
            return f"tinyshakespeare:{self.first_n_chars or 'all'}"
        if self.source == "names":
            return f"names:{self.language}"
        return None

    def load(self, progress: ProgressCallback | None = None) -> CorpusText:
        if self.source == "lyrics":
            return lyrics_corpus(self.first_n_chars, progress)
        if self.source == "shakespeare":
            return shakespeare_corpus(self.first_n_chars, progress)
        if self.source == "names":
            return names_corpus(self.language)
        if self.uploaded is not None:
            return custom_corpus(self.uploaded, self.uploaded_name or YOUR_TEXT)
        if self.pasted.strip():
            return custom_corpus(self.pasted, PASTED_TEXT)
        raise CorpusError(_("Upload a UTF-8 text file or paste some text to train on it."))


def corpus_for(choice: CorpusChoice, current: CorpusText | None,
               progress: ProgressCallback | None = None) -> CorpusText:
    """The corpus for ``choice``: ``current`` (the session's copy) when it is the same text, so a
    rerun neither reloads nor restarts the lesson; else loaded, which may download."""
    if current is not None and choice.key is not None and current.key == choice.key:
        return current
    corpus = choice.load(progress)
    return current if current is not None and current.key == corpus.key else corpus
