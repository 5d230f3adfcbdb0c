"""Hostile uploads: each gets a clear message, and none costs the server more than one action's budget.

Every vector below is something a student can hand the app (a text, a zip, a checkpoint).
It runs in a child process, so its memory can be measured without the test runner's own:
the child imports everything and warms torch up, builds the hostile input, hands freed heap
back to the system (``malloc_trim``), resets its peak-RSS mark (``/proc/self/clear_refs``),
runs the action and reads the peak back (``VmHWM``). RSS counts torch's allocator as well as
Python's (tracemalloc sees only the latter), so a tensor built before a size check shows up
here. Where the kernel cannot reset the mark (not Linux), the tests are skipped rather than
measured wrongly: ``ru_maxrss`` would include the peak of building the input.

Run ``python -m tests.unit.test_hostile_inputs`` to print the numbers.
"""
from __future__ import annotations

import io
import json
import os
import random
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Callable

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_NAMES = REPO_ROOT.parent / "shared" / "data" / "names"
MB = 1_000_000
BUDGET = 100 * MB  # what one student action may cost (rnnviz.data.budget.MAX_ACTION_BYTES)


# --- the vectors (each returns the action to measure; building the input is not measured) ----------------


def _cjk_text(n_chars: int, n_distinct: int, seed: int = 0) -> bytes:
    rng = random.Random(seed)
    alphabet = [chr(0x4E00 + i) for i in range(n_distinct)]
    chars = alphabet + [rng.choice(alphabet) for _ in range(n_chars - n_distinct)]
    return "".join(chars).encode("utf-8")


def _charlm_lesson_from_upload(data: bytes, **settings) -> Callable[[], object]:
    from rnnviz.lessons.charlm.config import CharLMConfig
    from rnnviz.lessons.charlm.corpora import custom_corpus
    from rnnviz.lessons.charlm.lesson import CharLMLesson

    def action():
        lesson = CharLMLesson(CharLMConfig(corpus=custom_corpus(data, "upload.txt"), **settings))
        lesson.trainer.run_steps(2)  # press Train: the optimizer's state appears at the first step
        lesson.update_monitors(force=True)
        return lesson

    return action


def vector_huge_vocabulary() -> Callable[[], object]:
    """600 kB of text with 4,000 distinct characters, the default one-hot RNN (hidden 256, 32 × 35)."""
    return _charlm_lesson_from_upload(_cjk_text(200_000, 4_000))


def vector_huge_vocabulary_small_batches() -> Callable[[], object]:
    """The same text with minibatches the refusal suggests: trains, and validates in bounded chunks."""
    return _charlm_lesson_from_upload(_cjk_text(200_000, 4_000), batch_size=8)


def vector_huge_vocabulary_big_model() -> Callable[[], object]:
    """The same text with the largest model the page offers: a 2-layer LSTM, hidden 512, one-hot."""
    return _charlm_lesson_from_upload(_cjk_text(200_000, 4_000), preset="lstm", hidden_size=512, num_layers=2)


def vector_too_many_distinct_characters() -> Callable[[], object]:
    return _charlm_lesson_from_upload(_cjk_text(200_000, 12_000))


def vector_very_long_corpus() -> Callable[[], object]:
    """An upload at the byte limit, all ASCII: as many characters as bytes."""
    from rnnviz.data.corpus import MAX_UPLOAD_BYTES

    rng = random.Random(1)
    words = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(1, 9))) for _ in range(5000)]
    text = " ".join(rng.choice(words) for _ in range(MAX_UPLOAD_BYTES // 5)).encode()[:MAX_UPLOAD_BYTES]
    return _charlm_lesson_from_upload(text)


def _checkpoint_bytes(model_config: dict, state_dict: dict, *, deflate: bool = False) -> bytes:
    import torch

    buffer = io.BytesIO()
    torch.save({"format": "rnnviz-checkpoint", "version": 1, "model_config": model_config,
                "metadata": {"task": "names"}, "state_dict": state_dict}, buffer)
    if not deflate:
        return buffer.getvalue()
    # Rewrite the archive with its big records deflated: torch reads those too.
    source, out = zipfile.ZipFile(io.BytesIO(buffer.getvalue())), io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            packed = info.file_size > MB
            target.writestr(info.filename, source.read(info),
                            compress_type=zipfile.ZIP_DEFLATED if packed else zipfile.ZIP_STORED)
    return out.getvalue()


def vector_inflated_checkpoint_header() -> Callable[[], object]:
    """1.6 kB: a model description with enormous vocabularies and no weights at all."""
    from rnnviz.core.checkpoints import load_checkpoint

    data = _checkpoint_bytes({"input_size": 500_000, "output_size": 500_000, "cell_type": "gru",
                              "implementation": "fused", "hidden_size": 64, "num_layers": 1}, {})
    assert len(data) < 3_000
    return lambda: load_checkpoint(data)


def vector_checkpoint_tensor_disagrees_with_config() -> Callable[[], object]:
    """A tiny model description whose 'head.bias' is a 400 MB tensor, deflated to 0.4 MB."""
    import torch

    from rnnviz.core.checkpoints import load_checkpoint
    from rnnviz.core.models import ModelConfig, RecurrentModel

    model = RecurrentModel(ModelConfig(6, 3, "gru", hidden_size=5))
    state = {k: v.clone() for k, v in model.state_dict().items()}
    state["head.bias"] = torch.zeros(100_000_000)
    config = {"input_size": 6, "output_size": 3, "cell_type": "gru", "implementation": "fused", "hidden_size": 5}
    data = _checkpoint_bytes(config, state, deflate=True)
    del state
    assert len(data) < 1_000_000
    return lambda: load_checkpoint(data)


def vector_checkpoint_extra_tensor() -> Callable[[], object]:
    """A valid small model plus an unexpected 20 MB tensor (within the file size limit)."""
    import torch

    from rnnviz.core.checkpoints import load_checkpoint
    from rnnviz.core.models import ModelConfig, RecurrentModel

    model = RecurrentModel(ModelConfig(6, 3, "gru", hidden_size=5))
    state = {k: v.clone() for k, v in model.state_dict().items()}
    state["head.extra"] = torch.zeros(5_000_000)
    config = {"input_size": 6, "output_size": 3, "cell_type": "gru", "implementation": "fused", "hidden_size": 5}
    data = _checkpoint_bytes(config, state)
    return lambda: load_checkpoint(data)


def _names_zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _real_names_members() -> dict[str, bytes]:
    return {f"data/names/{p.name}": p.read_bytes() for p in sorted(SHARED_NAMES.glob("*.txt"))}


def vector_zip_bomb() -> Callable[[], object]:
    """A names zip of 0.1 MB whose Arabic.txt unpacks to 45 MB of names (honest sizes)."""
    from rnnviz.data.names import load_names_from_zip

    members = _real_names_members()
    members["data/names/Arabic.txt"] = b"Nasser\n" * (45 * MB // 7)
    data = _names_zip(members)
    assert len(data) < 1 * MB
    return lambda: load_names_from_zip(data)


def vector_zip_many_members() -> Callable[[], object]:
    """A 10 MB zip with 100,000 empty members: its directory alone is bigger than the data."""
    from rnnviz.data.names import load_names_from_zip

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for i in range(100_000):
            archive.writestr(f"{i}", b"")
    data = buffer.getvalue()
    return lambda: load_names_from_zip(data)


def vector_zip_path_escape() -> Callable[[], object]:
    from rnnviz.data.names import load_names_from_zip

    members = _real_names_members()
    members["../../etc/evil.txt"] = b"pwned"
    data = _names_zip(members)
    return lambda: load_names_from_zip(data)


def vector_binary_file() -> Callable[[], object]:
    """5 MB of random bytes with no NUL and no known signature, uploaded as a .txt."""
    data = bytes((b % 255) + 1 for b in random.Random(2).randbytes(5 * MB))
    return _charlm_lesson_from_upload(data)


def vector_control_characters() -> Callable[[], object]:
    """Valid UTF-8, but nearly all control characters (a binary file in disguise)."""
    return _charlm_lesson_from_upload(b"ab" + b"\x01\x02\x1b" * (5 * MB // 3 - 1))


def vector_latin1_text() -> Callable[[], object]:
    text = "Le cœur a ses raisons que la raison ne connaît point. " * 80_000
    return _charlm_lesson_from_upload(text.encode("cp1252"))


VECTORS: dict[str, Callable[[], Callable[[], object]]] = {
    name.removeprefix("vector_"): obj for name, obj in globals().items() if name.startswith("vector_")
}


# --- measuring, in a child process --------------------------------------------------------------------


def _status_bytes(key: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    raise KeyError(key)


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def _release_freed_memory() -> None:
    """Collect garbage and hand freed heap back to the system, so that reusing it is not free."""
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def _warm_up() -> None:
    """Touch what every vector touches, so lazily loaded code is not counted as the vector's."""
    import torch

    from rnnviz.core.models import ModelConfig, RecurrentModel
    from rnnviz.lessons.charlm import config, corpora, lesson  # noqa: F401

    torch.set_num_threads(1)
    model = RecurrentModel(ModelConfig(5, 5, "gru", hidden_size=4))
    optimizer = torch.optim.Adam(model.parameters())
    logits, _ = model(torch.zeros(2, 3, dtype=torch.long))
    logits.sum().backward()
    optimizer.step()


def _child(names: list[str]) -> None:
    _warm_up()
    results = {}
    for name in names:
        action = VECTORS[name]()
        _release_freed_memory()
        if not _reset_peak():
            raise SystemExit("cannot reset the peak RSS mark")
        base = _status_bytes("VmRSS")
        error = None
        try:
            action()
        except Exception as exc:  # the message is what we check
            error = {"type": type(exc).__name__, "message": str(exc)}
        results[name] = {"extra_bytes": _status_bytes("VmHWM") - base, "error": error}
        del action
    print("RESULTS " + json.dumps(results))


def measure_all(names: list[str], timeout: float = 600) -> dict:
    """Run the vectors in one child process; ``{name: {"extra_bytes": ..., "error": ...}}``."""
    env = {**os.environ, "RNNVIZ_TORCH_THREADS": "1", "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", f"from tests.unit.test_hostile_inputs import _child; _child({names!r})"],
                          cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULTS ")]
    if done.returncode != 0 or not lines:
        raise AssertionError(f"the measuring child failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(lines[-1].removeprefix("RESULTS "))


@pytest.fixture(scope="module")
def measured() -> dict:
    if not SHARED_NAMES.is_dir():
        pytest.fail(f"shared names data not found at {SHARED_NAMES}")
    try:
        _status_bytes("VmHWM")
        resettable = _reset_peak()
    except (OSError, KeyError):
        resettable = False
    if not resettable:
        pytest.skip("peak memory cannot be measured here: needs Linux's /proc/self/clear_refs and VmHWM")
    return measure_all(list(VECTORS))


# --- the tests ------------------------------------------------------------------------------------------


def _check(measured: dict, name: str, message: str | None, error_type: str | None = None) -> dict:
    result = measured[name]
    extra = result["extra_bytes"]
    assert extra < BUDGET, f"{name} cost {extra / MB:.0f} MB (budget {BUDGET / MB:.0f} MB); result: {result}"
    if message is None:
        assert result["error"] is None, f"{name} was refused: {result['error']}"
    else:
        assert result["error"] is not None, f"{name} was accepted, but should have been refused"
        assert re.search(message, result["error"]["message"]), result["error"]
        if error_type is not None:
            assert result["error"]["type"] == error_type
    return result


def test_huge_vocabulary_is_refused_with_advice_before_building_the_model(measured):
    _check(measured, "huge_vocabulary", r"would need about 1\d\d MB.*at most \d+ MB.*4,000 distinct characters needs "
                                        r"4\.5 million scores.*batch × steps at most \d+ here", "ValueError")


def test_huge_vocabulary_with_small_batches_trains_and_validates_within_budget(measured):
    _check(measured, "huge_vocabulary_small_batches", None)


def test_huge_vocabulary_with_the_biggest_model_is_refused_before_building_it(measured):
    _check(measured, "huge_vocabulary_big_model", r"4,000 inputs.*too large for this server.*(embedding|smaller)",
           "ValueError")


def test_too_many_distinct_characters(measured):
    _check(measured, "too_many_distinct_characters", r"12,000 distinct characters; the limit is 5,000")


def test_very_long_corpus(measured):
    _check(measured, "very_long_corpus", r"characters; the limit is [\d,]+\. Upload a shorter text")


def test_inflated_checkpoint_header(measured):
    _check(measured, "inflated_checkpoint_header", r"too large for this server", "CheckpointError")


def test_checkpoint_tensor_disagrees_with_its_config(measured):
    _check(measured, "checkpoint_tensor_disagrees_with_config", r"(unpack|larger|too large)", "CheckpointError")


def test_checkpoint_with_an_unexpected_tensor(measured):
    _check(measured, "checkpoint_extra_tensor", r"head\.extra", "CheckpointError")


def test_zip_bomb(measured):
    _check(measured, "zip_bomb", r"Arabic\.txt.*(unpack|limit)", "DatasetError")


def test_zip_with_too_many_members(measured):
    _check(measured, "zip_many_members", r"100,000 (files|entries|members).*limit", "DatasetError")


def test_zip_with_path_escape(measured):
    _check(measured, "zip_path_escape", r"unsafe file path \('\.\./\.\./etc/evil\.txt'\)", "DatasetError")


def test_binary_file(measured):
    _check(measured, "binary_file", r"looks like a binary file", "CorpusError")


def test_binary_file_in_valid_utf8(measured):
    _check(measured, "control_characters", r"looks like a binary file.*control characters", "CorpusError")


def test_latin1_text(measured):
    _check(measured, "latin1_text", r"not UTF-8 text \(byte 0x9c at position 4\).*Latin-1.*save it as UTF-8",
           "CorpusError")


if __name__ == "__main__":  # python -m tests.unit.test_hostile_inputs [vector ...]
    chosen = sys.argv[1:] or list(VECTORS)
    for vector, outcome in measure_all(chosen).items():
        error = outcome["error"]
        print(f"{vector:45s} {outcome['extra_bytes'] / MB:8.1f} MB  "
              f"{'accepted' if error is None else error['type'] + ': ' + error['message'][:150]}")
