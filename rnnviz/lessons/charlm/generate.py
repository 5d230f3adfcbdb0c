"""Generation (greedy, temperature, top-k), recording the softmax and h_t at every step."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
from torch import Tensor

from rnnviz.core.models import RecurrentModel
from rnnviz.core.unroll import IncrementalUnroll, explicit_stepper
from rnnviz.i18n import N_, _
from rnnviz.data.corpus import (
    Vocab,
    encode,
)
from rnnviz.lessons.charlm.limits import (
    MAX_GENERATE,
    MAX_PREFIX_CHARS,
    MAX_TEMPERATURE,
    MIN_TEMPERATURE,
    SAMPLE_CHARS,
)

# --- generation ----------------------------------------------------------------------------------------------

GENERATION_METHODS: dict[str, str] = {  # labels marked for translation: show them with translate()
    "greedy": N_("Greedy: always the most likely character"),
    "temperature": N_("Sample with a temperature"),
    "top_k": N_("Sample from the top k (with the temperature)"),
}


@dataclass(frozen=True)
class GenerationConfig:
    num_chars: int = 50
    method: str = "greedy"
    temperature: float = 1.0
    top_k: int = 5
    seed: int = 0

    def validate(self) -> None:
        if self.method not in GENERATION_METHODS:
            raise ValueError(_("The method must be one of {choices}, not {method}.",
                               choices=", ".join(GENERATION_METHODS), method=repr(self.method)))
        if not 1 <= self.num_chars <= MAX_GENERATE:
            raise ValueError(_("Generate between 1 and {limit} characters, not {value}.", limit=MAX_GENERATE,
                               value=self.num_chars))
        if not (MIN_TEMPERATURE <= self.temperature <= MAX_TEMPERATURE):
            raise ValueError(_("The temperature must be between {low} and {high}, not {value}.",
                               low=MIN_TEMPERATURE, high=MAX_TEMPERATURE, value=self.temperature))
        if self.top_k < 1:
            raise ValueError(_("k must be at least 1, not {value}.", value=self.top_k))


@dataclass(frozen=True)
class PrefixCheck:
    """What of a typed prefix the model can read: ``used`` (known characters) and ``unknown`` ones."""

    typed: str
    used: str
    unknown: tuple[str, ...]

    @property
    def message(self) -> str | None:
        if not self.typed:
            return _("Type a prefix for the model to continue.")
        if not self.unknown:
            return None
        names = ", ".join(f"“{_visible(c)}”" for c in self.unknown)
        if not self.used:
            return _("None of the prefix's characters are in the model's vocabulary ({names}), so there is "
                     "nothing to continue. Type characters that occur in the corpus.", names=names)
        return _("Not in the model's vocabulary, so left out of the prefix: {names}. The model continues "
                 "“{used}”.", names=names, used=self.used)


def _visible(char: str) -> str:
    if char == " ":
        return _("space")
    if char == "\n":
        return _("newline")
    if char == "\t":
        return _("tab")
    return char


def check_prefix(prefix: str, vocab: Vocab) -> PrefixCheck:
    prefix = (prefix or "")[:MAX_PREFIX_CHARS]
    used = "".join(c for c in prefix if c in vocab.char_to_index)
    unknown = tuple(dict.fromkeys(c for c in prefix if c not in vocab.char_to_index))
    return PrefixCheck(prefix, used, unknown)


def sampling_distribution(logits: Tensor, method: str, temperature: float = 1.0, top_k: int = 5) -> Tensor:
    """The distribution the next character is drawn from (1-D, sums to 1).

    greedy: the model's softmax (the argmax is taken, nothing is drawn);
    temperature: softmax(logits / T); top_k: softmax(logits / T) over the k most
    likely characters, zero elsewhere.
    """
    if method == "greedy":
        return torch.softmax(logits, dim=-1)
    scaled = logits / temperature
    if method == "top_k":
        k = min(int(top_k), scaled.numel())
        kept = torch.topk(scaled, k)
        masked = torch.full_like(scaled, -math.inf)
        masked[kept.indices] = kept.values
        scaled = masked
    return torch.softmax(scaled, dim=-1)


@dataclass(frozen=True, eq=False)
class Generation:
    """A prefix, its continuation and everything recorded while generating it.

    Step i produced ``continuation[i]`` after reading ``read_chars[i]`` (the last
    prefix character, then each generated one): ``model_probs[i]`` is the model's
    softmax there, ``sampling_probs[i]`` the distribution actually drawn from
    (after temperature / top-k), ``chosen[i]`` the index drawn. ``hidden`` holds
    h_t (layers, len(prefix + continuation), hidden) after reading each character.
    """

    prefix_check: PrefixCheck
    config: GenerationConfig
    vocab: tuple[str, ...]
    continuation: str
    chosen: np.ndarray
    model_probs: np.ndarray
    sampling_probs: np.ndarray
    hidden: np.ndarray

    @property
    def prefix(self) -> str:
        return self.prefix_check.used

    @property
    def text(self) -> str:
        return self.prefix + self.continuation

    @property
    def read_chars(self) -> list[str]:
        return list(self.text[len(self.prefix) - 1: len(self.text) - 1])

    def top_candidates(self, k: int, include_chosen: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The k most likely characters at every step (by the model's softmax, most likely first) as
        (indices, sampling probabilities, model probabilities), each (steps, k).

        Ordering by the model keeps ties in order: top-k sampling gives every character after the
        k-th probability 0, but they are still the model's next candidates. With ``include_chosen``
        a chosen character outside the k takes the last slot, so a view can always show it.
        """
        k = min(k, self.model_probs.shape[1])
        order = np.argsort(-self.model_probs, axis=1, kind="stable")[:, :k].copy()
        if include_chosen:
            for t, chosen in enumerate(self.chosen):
                if chosen not in order[t]:
                    order[t, -1] = chosen
        return (order, np.take_along_axis(self.sampling_probs, order, axis=1),
                np.take_along_axis(self.model_probs, order, axis=1))

    def chosen_rank(self) -> np.ndarray:
        """Rank (0 = the model's most likely) of the chosen character at every step."""
        chosen_p = self.model_probs[np.arange(len(self.chosen)), self.chosen]
        return (self.model_probs > chosen_p[:, None]).sum(axis=1)

    def unit_activations(self, unit: int, layer: int = -1) -> np.ndarray:
        """h_t[unit] after reading each character of prefix + continuation."""
        if not 0 <= unit < self.hidden.shape[2]:
            raise ValueError(f"Pick a hidden unit between 0 and {self.hidden.shape[2] - 1}.")
        return self.hidden[layer, :, unit]

    def most_active_units(self, n: int, layer: int = -1) -> np.ndarray:
        """The n units whose activation varies most over the text (by standard deviation), most first."""
        spread = self.hidden[layer].std(axis=0)
        return np.argsort(-spread, kind="stable")[: min(n, len(spread))]


class StepReader:
    """Reads one character at a time through the explicit cell equations (:mod:`rnnviz.cells`).

    An :class:`rnnviz.core.unroll.IncrementalUnroll` with the model's own weights
    (``model.layer_params``, detached: no autograd graph) and none of the per-call overhead of
    the fused kernels: a one-character step is a handful of small matrix products, which is
    what generation needs. Every h_t is kept.
    """

    def __init__(self, model: RecurrentModel):
        with torch.no_grad():
            self.unroll = IncrementalUnroll(model, stepper=explicit_stepper(model, detach=True))

    def read(self, index: int) -> Tensor:
        """Feed character ``index``; returns the logits for the next character (1-D)."""
        with torch.no_grad():
            return self.unroll.feed(torch.tensor([int(index)]))[0]

    def read_all(self, indices) -> Tensor:
        logits = None
        for index in indices:
            logits = self.read(int(index))
        return logits

    def hidden_states(self) -> np.ndarray:
        """(layers, steps, hidden), the layout of :class:`rnnviz.trace.Trace`."""
        return self.unroll.hidden_states()[:, 0].numpy()


def generate(model: RecurrentModel, vocab: Vocab, prefix: str, config: GenerationConfig = GenerationConfig()) -> Generation:
    """Continue ``prefix`` for ``config.num_chars`` characters.

    The model reads the prefix, then each character it chose, through the explicit
    cell equations with its own weights (:class:`StepReader`), recording the softmax
    and the hidden state at every step. Unknown prefix characters are left out (see
    :class:`PrefixCheck`); a prefix with no known character raises ValueError.
    """
    config.validate()
    check = check_prefix(prefix, vocab)
    if not check.used:
        raise ValueError(check.message or _("The prefix is empty."))
    generator = torch.Generator().manual_seed(int(config.seed))
    reader = StepReader(model)
    logits = reader.read_all(encode(check.used, vocab))
    chosen: list[int] = []
    model_probs, sampling_probs = [], []
    for i in range(config.num_chars):
        dist = sampling_distribution(logits, config.method, config.temperature, config.top_k)
        if config.method == "greedy":
            index = int(torch.argmax(logits))
        else:
            index = int(torch.multinomial(dist, 1, generator=generator))
        chosen.append(index)
        model_probs.append(torch.softmax(logits, dim=-1).numpy())
        sampling_probs.append(dist.numpy())
        logits = reader.read(index)  # also records h_t after the last generated character
    return Generation(
        prefix_check=check, config=config, vocab=vocab.index_to_char,
        continuation="".join(vocab.index_to_char[i] for i in chosen), chosen=np.asarray(chosen, dtype=np.int64),
        model_probs=np.stack(model_probs), sampling_probs=np.stack(sampling_probs), hidden=reader.hidden_states(),
    )


def greedy_continuation(model: RecurrentModel, vocab: Vocab, prefix: str, num_chars: int = SAMPLE_CHARS) -> str:
    """The book's ``predict_rnn``: the most likely character, ``num_chars`` times."""
    check = check_prefix(prefix, vocab)
    if not check.used:
        return ""
    reader = StepReader(model)
    logits = reader.read_all(encode(check.used, vocab))
    out: list[int] = []
    for _step in range(num_chars):
        out.append(int(torch.argmax(logits)))
        logits = reader.read(out[-1])
    return "".join(vocab.index_to_char[i] for i in out)


def vocab_from_chars(chars: Sequence[str]) -> Vocab:
    """A :class:`Vocab` from an ``index_to_char`` list (e.g. a checkpoint's), counts unknown (0)."""
    chars = tuple(chars)
    if len(set(chars)) != len(chars) or not all(isinstance(c, str) and len(c) == 1 for c in chars):
        raise ValueError(_("A vocabulary must be a list of distinct single characters."))
    return Vocab(chars, {c: i for i, c in enumerate(chars)}, (0,) * len(chars))


