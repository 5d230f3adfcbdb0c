"""Save and load small pretrained models, safely.

A checkpoint is one ``.pt`` file holding only tensors and plain data (loaded
with ``weights_only=True``, so no pickled object is ever executed), plus a
human-readable ``<name>.json`` manifest beside it with the same metadata.
"""
from __future__ import annotations

import dataclasses
import io
import json
import os
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import torch

from rnnviz.core.models import MAX_PARAMETERS, ModelConfig, RecurrentModel
from rnnviz.data.budget import MAX_CHECKPOINT_BYTES, MAX_CHECKPOINT_METADATA_BYTES, MAX_CHECKPOINT_RECORDS
from rnnviz.data.archives import zip_members
from rnnviz.data.download import DatasetError
from rnnviz.i18n import _

FORMAT = "rnnviz-checkpoint"
VERSION = 1
CHECKPOINT_DIR = Path(__file__).resolve().parents[2] / "checkpoints"


class CheckpointError(Exception):
    """A checkpoint that cannot be used; the message says why in plain words."""


@dataclasses.dataclass(frozen=True)
class Checkpoint:
    model: RecurrentModel
    metadata: dict[str, Any]  # task, vocabulary, labels, metrics, date, ...


def save_checkpoint(model: RecurrentModel, path: Path, metadata: dict[str, Any]) -> Path:
    """Write ``path`` (.pt) and its manifest (.json) atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # A JSON round trip fails early on anything that is not plain data, and turns str
    # subclasses (torch.__version__ is one) into plain str, which weights_only loading accepts.
    metadata = json.loads(json.dumps({"saved_on": date.today().isoformat(), **metadata}))
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "model_config": dataclasses.asdict(model.config),
        "metadata": metadata,
        "state_dict": {k: v.detach().clone() for k, v in model.state_dict().items()},
    }
    _atomic_write(path, lambda f: torch.save(payload, f))
    manifest = {"file": path.name, "model_config": payload["model_config"], **metadata}
    _atomic_write(path.with_suffix(".json"), lambda f: f.write(json.dumps(manifest, indent=2, ensure_ascii=False).encode()))
    return path


def load_checkpoint(source: Path | bytes) -> Checkpoint:
    """Load and validate a checkpoint from a path or uploaded bytes.

    Every size is checked before it costs memory: the file's, then each record of the
    archive torch reads (a record may be deflated, so a small file can unpack to gigabytes),
    then the model description's (its weights are counted, not built), then every tensor's
    shape against the model the description implies (built on the meta device, which
    allocates nothing). Only then is the real model built and the weights copied in.
    """
    data = _read_source(source)
    _check_archive(data)
    try:
        payload = torch.load(io.BytesIO(data), weights_only=True, map_location="cpu")
    except Exception as err:  # torch raises many kinds for corrupt or foreign files
        raise CheckpointError(_(
            "This is not a readable rnnviz checkpoint (it is corrupt, or a pickle with objects "
            "we refuse to load): {error}", error=type(err).__name__)
        ) from err
    finally:
        del data
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(_("This file is a PyTorch file but not an rnnviz checkpoint."))
    if payload.get("version") != VERSION:
        raise CheckpointError(_("Checkpoint version {version!r} is not supported (expected {expected}).",
                                version=payload.get("version"), expected=VERSION))
    raw_config, state_dict = payload.get("model_config"), payload.get("state_dict")
    if not isinstance(raw_config, dict) or not isinstance(state_dict, dict):
        raise CheckpointError(_("The checkpoint lacks its model description or its weights."))
    config = _model_config(raw_config)
    _check_state_dict(state_dict, config)
    try:
        model = RecurrentModel(config)
        model.load_state_dict(state_dict, strict=True)
    except (TypeError, ValueError, RuntimeError) as err:
        raise CheckpointError(_("The checkpoint's weights do not fit its model description: {error}",
                                error=err)) from err
    metadata = payload.get("metadata") if isinstance(payload.get("metadata"), dict) else {}
    model.eval()
    return Checkpoint(model=model, metadata=metadata)


def _read_source(source: Path | bytes) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        size, name = len(source), None
    else:
        try:
            size, name = Path(source).stat().st_size, Path(source).name
        except FileNotFoundError as err:
            raise CheckpointError(_("Checkpoint not found: {path}", path=source)) from err
        except OSError as err:
            raise CheckpointError(_("Cannot read the checkpoint {path}: {error}", path=source, error=err)) from err
    if size > MAX_CHECKPOINT_BYTES:
        sizes = dict(size=size / 1e6, limit=MAX_CHECKPOINT_BYTES / 1e6, weights=MAX_PARAMETERS / 1e6)
        if name is None:
            raise CheckpointError(_(
                "That file is {size:,.1f} MB, too large to be an rnnviz checkpoint (at most "
                "{limit:,.0f} MB: a model of {weights:.2f} million weights).", **sizes))
        raise CheckpointError(_(
            "{name} is {size:,.1f} MB, too large to be an rnnviz checkpoint (at most "
            "{limit:,.0f} MB: a model of {weights:.2f} million weights).", name=name, **sizes))
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    return Path(source).read_bytes()


def _check_archive(data: bytes) -> None:
    """The checkpoint is a zip (torch's format) whose records unpack to no more than the budget allows."""
    if not data.startswith(b"PK\x03\x04"):
        raise CheckpointError(_("This is not a readable rnnviz checkpoint (it is not a PyTorch zip archive)."))
    try:
        records = zip_members(data, max_members=MAX_CHECKPOINT_RECORDS)
    except DatasetError as err:
        raise CheckpointError(_("This is not a readable rnnviz checkpoint: {error}", error=err)) from None
    unpacked = 0
    for info in records:
        limit = MAX_CHECKPOINT_METADATA_BYTES if info.filename.endswith(".pkl") else MAX_CHECKPOINT_BYTES
        if info.file_size > limit:
            raise CheckpointError(_(
                "The checkpoint's record {record} would unpack to {size:,.1f} MB, more than "
                "the {limit:,.0f} MB a record of an rnnviz checkpoint may have; refusing to load it.",
                record=info.filename, size=info.file_size / 1e6, limit=limit / 1e6))
        unpacked += info.file_size
    if unpacked > MAX_CHECKPOINT_BYTES:
        raise CheckpointError(_(
            "The checkpoint would unpack to {size:,.1f} MB, more than an rnnviz checkpoint may "
            "(at most {limit:,.0f} MB); refusing to load it.", size=unpacked / 1e6, limit=MAX_CHECKPOINT_BYTES / 1e6))


_WHOLE_NUMBERS = ("input_size", "output_size", "hidden_size", "num_layers", "seed")


def _model_config(raw_config: dict) -> ModelConfig:
    """The model description, checked (types, then sizes: its weights are counted) without building anything."""
    known = {f.name for f in dataclasses.fields(ModelConfig)}
    values = {k: v for k, v in raw_config.items() if k in known}
    for key in ("input_size", "output_size"):
        if key not in values:
            raise CheckpointError(_("The checkpoint's model description has no {key}.", key=key))
    for key, value in values.items():
        if key in _WHOLE_NUMBERS or (key == "embedding_dim" and value is not None):
            ok = isinstance(value, int) and not isinstance(value, bool)
        else:
            ok = key not in ("cell_type", "implementation") or isinstance(value, str)
        if not ok:
            raise CheckpointError(_("The checkpoint's model description has {key} = {value!r}, which is not valid.",
                                    key=key, value=value))
    config = ModelConfig(**values)
    try:
        config.validate()
    except ValueError as err:
        raise CheckpointError(_("The checkpoint's model description cannot be used here: {error}", error=err)) from err
    return config


def _check_state_dict(state_dict: dict, config: ModelConfig) -> None:
    """Every tensor has exactly the name, shape and type the description implies, and finite values."""
    with torch.device("meta"):  # shapes only: nothing is allocated
        expected = {name: tensor for name, tensor in RecurrentModel(config).state_dict().items()}
    unexpected = sorted(str(k) for k in state_dict if k not in expected)
    missing = sorted(k for k in expected if k not in state_dict)
    if unexpected or missing:
        def listing(names: list[str]) -> str:
            return ", ".join(names[:5]) + ("…" if len(names) > 5 else "")

        if unexpected and missing:
            raise CheckpointError(_(
                "The checkpoint's weights do not fit its model description: unexpected tensors {unexpected}; "
                "missing tensors {missing}.", unexpected=listing(unexpected), missing=listing(missing)))
        if unexpected:
            raise CheckpointError(_("The checkpoint's weights do not fit its model description: "
                                    "unexpected tensors {unexpected}.", unexpected=listing(unexpected)))
        raise CheckpointError(_("The checkpoint's weights do not fit its model description: "
                                "missing tensors {missing}.", missing=listing(missing)))
    for name, want in expected.items():
        got = state_dict[name]
        if not isinstance(got, torch.Tensor) or got.layout != torch.strided or got.is_quantized:
            raise CheckpointError(_("The checkpoint's {name} is not a plain tensor.", name=name))
        if tuple(got.shape) != tuple(want.shape) or got.dtype != want.dtype:
            raise CheckpointError(_(
                "The checkpoint's weights do not fit its model description: {name} has shape "
                "{shape} ({dtype}), but the description implies {expected_shape} ({expected_dtype}).",
                name=name, shape=tuple(got.shape), dtype=got.dtype, expected_shape=tuple(want.shape),
                expected_dtype=want.dtype))
        if not bool(torch.isfinite(got).all()):
            raise CheckpointError(_("The checkpoint's weights contain NaN or infinite values (in {name}).", name=name))


def _atomic_write(path: Path, write) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.chmod(tmp, 0o644)  # mkstemp makes files private; checkpoints are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
