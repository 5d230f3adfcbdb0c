"""What the model makes of a typed name, read through the transparent path."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from rnnviz.core.reading import reading
from rnnviz.core.trace import Trace, trace
from rnnviz.data.names import (
    LANGUAGES,
    NAME_ALPHABET,
    NormalisedName,
    encode_names,
    normalise_name,
)
from rnnviz.i18n import _
from rnnviz.lessons.names.config import MAX_NAME_CHARS, MAX_TYPED_CHARS

# --- typed names ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class NamePrediction:
    """What the model makes of one typed name (or why it cannot read it)."""

    raw: str
    cleaned: NormalisedName | None
    message: str | None  # set when there is nothing to predict: say why
    top: tuple[tuple[str, float], ...] = ()
    trace: Trace | None = None

    @property
    def ok(self) -> bool:
        return self.trace is not None

    @property
    def text(self) -> str:
        """The characters the model read."""
        return self.cleaned.kept if self.cleaned else ""

    @property
    def transliterated(self) -> bool:
        """True when unidecode rewrote some character into letters the model reads (Ś → S, 王 → Wang)."""
        if self.cleaned is None:
            return False
        return any(ord(c) > 127 and c not in self.cleaned.dropped_chars for c in self.raw)

    @property
    def probabilities(self) -> np.ndarray:
        """P(language) after the last character, (18,)."""
        return self.trace.probs[-1] if self.trace is not None else np.empty(0)


def check_typed_name(raw: str | None) -> tuple[NormalisedName | None, str | None]:
    """Clean a typed name; returns (cleaned, None) or (cleaned or None, a message saying what is wrong)."""
    raw = raw or ""
    if not raw.strip():
        return None, _("Type a surname (letters, spaces, apostrophes or hyphens) to see what the model thinks.")
    if len(raw) > MAX_TYPED_CHARS:
        return None, _("That is {length} characters; type at most {limit}. "
                       "(The longest surname in the data has 20 letters.)", length=len(raw), limit=MAX_TYPED_CHARS)
    cleaned = normalise_name(raw)
    if not cleaned.kept:
        dropped = " ".join(cleaned.dropped_chars) or raw.strip()
        return cleaned, _("Nothing is left to read: {dropped} cannot be written with the model's "
                          "{count} characters (a–z, A–Z and  .,:;-'). Try letters.", dropped=dropped,
                          count=len(NAME_ALPHABET))
    if len(cleaned.kept) > MAX_NAME_CHARS:
        return cleaned, _("That name is {length} characters long after cleaning; the model reads at "
                          "most {limit} (the longest surname in the data has 20).", length=len(cleaned.kept),
                          limit=MAX_NAME_CHARS)
    return cleaned, None


def predict_name(model: nn.Module, raw: str | None, top_k: int = 3) -> NamePrediction:
    """Clean ``raw``, run it through the transparent path and rank the languages."""
    raw = raw or ""
    cleaned, problem = check_typed_name(raw)
    if problem:
        return NamePrediction(raw, cleaned, problem)
    tokens, _lengths = encode_names([cleaned.kept])
    with reading(model, grad=True):  # the trace takes ∂L/∂h_t with autograd
        tr = trace(model, tokens[0])
    final = tr.probs[-1]
    order = np.argsort(-final, kind="stable")[:top_k]
    return NamePrediction(raw, cleaned, None, tuple((LANGUAGES[i], float(final[i])) for i in order), tr)


def top_prediction(model: nn.Module, raw: str | None) -> tuple[str, float] | None:
    """The single best language for a name, or None if it cannot be read (cheap: fast path only)."""
    cleaned, problem = check_typed_name(raw)
    if problem:
        return None
    tokens, lengths = encode_names([cleaned.kept])
    with reading(model):
        probs = torch.softmax(model.sequence_logits(tokens, lengths)[0], dim=-1)
    best = int(probs.argmax())
    return LANGUAGES[best], float(probs[best])




def beliefs_after_each_letter(model: nn.Module, raw: str) -> tuple[str, np.ndarray] | None:
    """(the letters read, P(language) if the name ended after each of them, (letters, 18)), on the
    fast path: the name's prefixes as one padded batch. None when the name cannot be read."""
    cleaned, problem = check_typed_name(raw)
    if problem:
        return None
    text = cleaned.kept
    tokens, _lengths = encode_names([text])
    prefixes = tokens.repeat(len(text), 1)
    lengths = torch.arange(1, len(text) + 1)
    with reading(model):
        return text, torch.softmax(model.sequence_logits(prefixes, lengths), dim=-1).numpy()
