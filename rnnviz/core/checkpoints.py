"""Save and load small pretrained models, safely.

A checkpoint is one ``.pt`` file holding only tensors and plain data (loaded
with ``weights_only=True``, so no pickled object is ever executed), plus a
human-readable ``<name>.json`` manifest beside it with the same metadata.
"""
from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import torch

from rnnviz.core.models import ModelConfig, RecurrentModel

FORMAT = "rnnviz-checkpoint"
VERSION = 1
CHECKPOINT_DIR = Path(__file__).resolve().parents[2] / "checkpoints"
MAX_CHECKPOINT_BYTES = 50_000_000


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
    """Load and validate a checkpoint from a path or uploaded bytes."""
    import io

    try:
        if isinstance(source, (bytes, bytearray)):
            if len(source) > MAX_CHECKPOINT_BYTES:
                raise CheckpointError("That file is too large to be an rnnviz checkpoint.")
            payload = torch.load(io.BytesIO(source), weights_only=True, map_location="cpu")
        else:
            if Path(source).stat().st_size > MAX_CHECKPOINT_BYTES:
                raise CheckpointError(f"{Path(source).name} is too large to be an rnnviz checkpoint.")
            payload = torch.load(source, weights_only=True, map_location="cpu")
    except CheckpointError:
        raise
    except FileNotFoundError as err:
        raise CheckpointError(f"Checkpoint not found: {source}") from err
    except Exception as err:  # torch raises many kinds for corrupt or foreign files
        raise CheckpointError(
            "This is not a readable rnnviz checkpoint (it is corrupt, or a pickle with objects "
            f"we refuse to load): {type(err).__name__}"
        ) from err
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError("This file is a PyTorch file but not an rnnviz checkpoint.")
    if payload.get("version") != VERSION:
        raise CheckpointError(f"Checkpoint version {payload.get('version')!r} is not supported (expected {VERSION}).")
    raw_config, state_dict = payload.get("model_config"), payload.get("state_dict")
    if not isinstance(raw_config, dict) or not isinstance(state_dict, dict):
        raise CheckpointError("The checkpoint lacks its model description or its weights.")
    known = {f.name for f in dataclasses.fields(ModelConfig)}
    try:
        config = ModelConfig(**{k: v for k, v in raw_config.items() if k in known})
        model = RecurrentModel(config)
        model.load_state_dict(state_dict, strict=True)
    except (TypeError, ValueError, RuntimeError) as err:
        raise CheckpointError(f"The checkpoint's weights do not fit its model description: {err}") from err
    if not all(torch.isfinite(p).all() for p in model.parameters()):
        raise CheckpointError("The checkpoint's weights contain NaN or infinite values.")
    metadata = payload.get("metadata") if isinstance(payload.get("metadata"), dict) else {}
    model.eval()
    return Checkpoint(model=model, metadata=metadata)


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
