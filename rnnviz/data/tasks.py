"""Toy sequence tasks of the first lesson, as tensors.

Every task is a handful of (input string, target string) pairs of equal length:
the model reads the input one character at a time and must emit the target
character at each step. Shorter examples are right-padded; padded steps are not
scored (IGNORE_INDEX), and because padding comes *after* the real characters a
left-to-right RNN's outputs on the real steps are unaffected by it.
"""
from __future__ import annotations

import string
import unicodedata
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from rnnviz.core.trace import IGNORE_INDEX
from rnnviz.i18n import N_, _

ALPHABET = string.ascii_lowercase
MAX_CUSTOM_LENGTH = 40
MAX_CUSTOM_VOCAB = 60


@dataclass(frozen=True)
class ToyTask:
    key: str
    title: str
    vocab: tuple[str, ...]
    inputs: tuple[str, ...]
    targets: tuple[str, ...]
    description: str = ""

    @property
    def display_input(self) -> str:
        """The example the page shows (the first, the longest)."""
        return self.inputs[0]

    @property
    def display_target(self) -> str:
        return self.targets[0]

    @property
    def char_to_index(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.vocab)}

    def encode(self, text: str) -> list[int]:
        lookup = self.char_to_index
        return [lookup[c] for c in text]

    def decode(self, indices) -> str:
        return "".join(self.vocab[int(i)] for i in indices)

    def tensors(self) -> tuple[Tensor, Tensor]:
        """(inputs, targets), both (examples, longest) LongTensors; padding is not scored."""
        steps = max(len(s) for s in self.inputs)
        x = torch.zeros(len(self.inputs), steps, dtype=torch.long)
        y = torch.full((len(self.inputs), steps), IGNORE_INDEX, dtype=torch.long)
        for row, (inp, tgt) in enumerate(zip(self.inputs, self.targets)):
            x[row, : len(inp)] = torch.tensor(self.encode(inp))
            y[row, : len(tgt)] = torch.tensor(self.encode(tgt))
        return x, y


def _vocab_in_order(*texts: str) -> tuple[str, ...]:
    """Distinct characters in order of first appearance (so "hello" gives h, e, l, o)."""
    return tuple(dict.fromkeys("".join(texts)))


def alphabet_task() -> ToyTask:
    # Every suffix of the alphabet: each letter is seen both at the start of a
    # sequence (so 'm' typed alone gives 'n') and after its predecessors.
    inputs = tuple(ALPHABET[i:25] for i in range(25))
    targets = tuple(ALPHABET[i + 1 : 26] for i in range(25))
    return ToyTask(
        key="alphabet",
        title=N_("Alphabet: next letter"),
        vocab=tuple(ALPHABET),
        inputs=inputs,
        targets=targets,
        description=N_("Read a…y and predict the next letter at every step (a→b, m→n). "
                       "Trained on the alphabet started from every letter."),
    )


def pair_task(key: str, title: str, source: str, target: str, description: str = "") -> ToyTask:
    return ToyTask(key, title, _vocab_in_order(source, target), (source,), (target,), description)


def builtin_tasks() -> dict[str, ToyTask]:
    return {
        "alphabet": alphabet_task(),
        "ohlol": pair_task(
            "ohlol", "hello → ohlol", "hello", "ohlol",
            N_("The classic exercise: one-hot h, e, l, o in, a different letter out at each step."),
        ),
        "elloh": pair_task(
            "elloh", "hello → elloh", "hello", "elloh",
            N_("Predict the next letter of 'hello' (and wrap around): the two l's need different outputs, "
               "so the model must remember what came before."),
        ),
    }


def validate_custom_pair(source: str, target: str) -> str | None:
    """Return a message explaining what is wrong with a typed pair, or None if it is usable."""
    if not source or not target:
        return _("Type both an input and a target string.")
    if len(source) > MAX_CUSTOM_LENGTH or len(target) > MAX_CUSTOM_LENGTH:
        return _("Keep each string to at most {limit} characters (a toy task should train in seconds).",
                 limit=MAX_CUSTOM_LENGTH)
    if len(source) != len(target):
        return _("The input has {source} characters and the target {target}: the model emits one "
                 "output per input character, so they must be the same length.",
                 source=len(source), target=len(target))
    for text in (source, target):
        for ch in text:
            if unicodedata.category(ch).startswith("C"):
                return _("Character {char!r} (U+{code:04X}) is a control or invisible character; use visible text.",
                         char=ch, code=ord(ch))
    if len(_vocab_in_order(source, target)) > MAX_CUSTOM_VOCAB:
        return _("Use at most {limit} distinct characters.", limit=MAX_CUSTOM_VOCAB)
    return None


def custom_task(source: str, target: str) -> ToyTask:
    problem = validate_custom_pair(source, target)
    if problem:
        raise ValueError(problem)
    return pair_task("custom", f"{source} → {target}", source, target, N_("Your own pair of strings."))


# -- the generalisation lesson ------------------------------------------------

def alphabet_windows(window: int) -> list[tuple[str, str]]:
    """All (input, target) windows of ``window`` letters: ('abc', 'bcd'), ('bcd', 'cde'), ..."""
    if not 1 <= window <= 25:
        raise ValueError(_("The window must be between 1 and 25 letters."))
    return [(ALPHABET[i : i + window], ALPHABET[i + 1 : i + window + 1]) for i in range(26 - window)]


SPLIT_MODES = {
    "random": N_("random windows (their letter pairs also appear in training windows)"),
    "tail": N_("the end of the alphabet (letter pairs the model never saw)"),
}


def split_windows(
    windows: list[tuple[str, str]], held_out_fraction: float, seed: int, mode: str = "random"
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Split into (training windows, held-out windows); both non-empty.

    "random" holds out a random subset; "tail" holds out the last windows, so
    the model is asked about transitions (like y→z) it was never trained on.
    """
    if len(windows) < 2:
        raise ValueError(_("Need at least two windows to hold some out."))
    if mode not in SPLIT_MODES:
        raise ValueError(_("Split mode must be one of {modes}.", modes=", ".join(SPLIT_MODES)))
    n_held = min(len(windows) - 1, max(1, round(held_out_fraction * len(windows))))
    if mode == "tail":
        order = np.arange(len(windows))[::-1]
    else:
        order = np.random.default_rng(seed).permutation(len(windows))
    held = sorted(order[:n_held])
    train = sorted(order[n_held:])
    return [windows[i] for i in train], [windows[i] for i in held]


def windows_task(key: str, windows: list[tuple[str, str]]) -> ToyTask:
    return ToyTask(
        key, f"{len(windows)} alphabet windows", tuple(ALPHABET),
        tuple(w[0] for w in windows), tuple(w[1] for w in windows),
    )
