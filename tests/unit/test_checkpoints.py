"""Checkpoints: round trip, and refusal of corrupt, foreign or malicious files."""
import io
import json
import os
import pickle

import pytest
import torch

from rnnviz.core.checkpoints import CheckpointError, load_checkpoint, save_checkpoint
from rnnviz.core.models import ModelConfig, RecurrentModel


class Boom:
    """Unpickling this would run code; weights_only loading must refuse it."""

    def __reduce__(self):
        return (os.system, ("echo pwned > /tmp/rnnviz_pwned",))


@pytest.mark.parametrize("cell_type,implementation,embedding", [
    ("rnn", "scratch", None), ("gru", "fused", 4), ("lstm", "cell", None)])
def test_round_trip_gives_the_same_model_and_a_readable_manifest(tmp_path, cell_type, implementation, embedding):
    model = RecurrentModel(ModelConfig(6, 3, cell_type, implementation, hidden_size=5, num_layers=2,
                                       embedding_dim=embedding, seed=2))
    path = save_checkpoint(model, tmp_path / "m.pt", {"task": "test", "labels": ["a", "b", "c"], "torch": torch.__version__})
    loaded = load_checkpoint(path)
    assert loaded.model.config == model.config
    tokens = torch.tensor([[0, 5, 2, 3]])
    torch.testing.assert_close(loaded.model(tokens)[0], model(tokens)[0])
    assert loaded.metadata["labels"] == ["a", "b", "c"] and loaded.metadata["torch"] == str(torch.__version__)
    manifest = json.loads((tmp_path / "m.json").read_text())
    assert manifest["task"] == "test" and manifest["model_config"]["cell_type"] == cell_type
    assert oct(path.stat().st_mode & 0o777) == "0o644"
    assert load_checkpoint(path.read_bytes()).model.config == model.config


def test_pickled_objects_are_never_executed(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"format": "rnnviz-checkpoint", "version": 1, "payload": Boom()}, path)
    with pytest.raises(CheckpointError, match="refuse"):
        load_checkpoint(path)
    assert not os.path.exists("/tmp/rnnviz_pwned")
    with pytest.raises(CheckpointError):
        load_checkpoint(pickle.dumps(Boom()))


@pytest.mark.parametrize("payload,message", [
    ({"weights": torch.zeros(3)}, "not an rnnviz checkpoint"),
    ({"format": "rnnviz-checkpoint", "version": 99}, "version"),
    ({"format": "rnnviz-checkpoint", "version": 1, "model_config": {}, "state_dict": {}}, "do not fit"),
])
def test_foreign_or_malformed_checkpoints_are_rejected_with_a_message(payload, message):
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(buffer.getvalue())


def test_wrong_shapes_and_nan_weights_are_rejected(tmp_path):
    model = RecurrentModel(ModelConfig(6, 3, "gru", hidden_size=5))
    path = save_checkpoint(model, tmp_path / "m.pt", {})
    payload = torch.load(path, weights_only=True)
    payload["model_config"]["hidden_size"] = 7
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    with pytest.raises(CheckpointError, match="do not fit"):
        load_checkpoint(buffer.getvalue())
    payload["model_config"]["hidden_size"] = 5
    payload["state_dict"]["head.bias"][0] = float("nan")
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    with pytest.raises(CheckpointError, match="NaN"):
        load_checkpoint(buffer.getvalue())


def test_garbage_and_missing_files(tmp_path):
    with pytest.raises(CheckpointError):
        load_checkpoint(b"\x00\x01 definitely not a checkpoint")
    with pytest.raises(CheckpointError, match="not found"):
        load_checkpoint(tmp_path / "missing.pt")
