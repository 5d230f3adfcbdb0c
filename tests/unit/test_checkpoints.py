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
    ({"format": "rnnviz-checkpoint", "version": 1, "model_config": {}, "state_dict": {}}, "no input_size"),
    ({"format": "rnnviz-checkpoint", "version": 1, "model_config": {"input_size": 6, "output_size": "3"},
      "state_dict": {}}, r"output_size = '3'"),
    ({"format": "rnnviz-checkpoint", "version": 1, "model_config": {"input_size": 6, "output_size": 3,
                                                                    "hidden_size": 2.5}, "state_dict": {}}, "hidden_size"),
    ({"format": "rnnviz-checkpoint", "version": 1, "model_config": {"input_size": 6, "output_size": 3},
      "state_dict": {}}, "missing tensors"),
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


def _payload_bytes(payload) -> bytes:
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    return buffer.getvalue()


def _valid_payload(**config_changes):
    model = RecurrentModel(ModelConfig(6, 3, "gru", hidden_size=5))
    config = {"input_size": 6, "output_size": 3, "cell_type": "gru", "implementation": "fused", "hidden_size": 5,
              "num_layers": 1, "embedding_dim": None, "seed": 0, **config_changes}
    return {"format": "rnnviz-checkpoint", "version": 1, "model_config": config, "metadata": {},
            "state_dict": {k: v.clone() for k, v in model.state_dict().items()}}


def test_a_huge_model_description_is_refused_before_anything_is_built(monkeypatch):
    data = _payload_bytes(_valid_payload(input_size=10_000_000, output_size=10_000_000))
    assert len(data) < 10_000
    built = []
    monkeypatch.setattr(RecurrentModel, "__init__", lambda self, *a, **k: built.append(a) or 1 / 0)
    with pytest.raises(CheckpointError, match=r"cannot be used here: This model would have [\d,.]+ million weights.*"
                                              r"too large for this server"):
        load_checkpoint(data)
    assert built == []  # not even on the meta device


def test_every_tensor_is_checked_against_the_description():
    payload = _valid_payload()
    payload["state_dict"]["head.weight"] = torch.zeros(3, 6)  # (classes, hidden) should be (3, 5)
    with pytest.raises(CheckpointError, match=r"head\.weight has shape \(3, 6\).*implies \(3, 5\)"):
        load_checkpoint(_payload_bytes(payload))
    payload = _valid_payload()
    payload["state_dict"]["head.bias"] = payload["state_dict"]["head.bias"].double()
    with pytest.raises(CheckpointError, match=r"head\.bias .*float64.*float32"):
        load_checkpoint(_payload_bytes(payload))
    payload = _valid_payload()
    payload["state_dict"]["extra"] = torch.zeros(2)
    with pytest.raises(CheckpointError, match="unexpected tensors extra"):
        load_checkpoint(_payload_bytes(payload))
    payload = _valid_payload()
    payload["state_dict"]["head.bias"] = "not a tensor"
    with pytest.raises(CheckpointError, match="head.bias is not a plain tensor"):
        load_checkpoint(_payload_bytes(payload))


def test_a_deflated_record_is_refused_by_its_unpacked_size():
    """torch reads deflated records too: a 0.1 MB file could unpack to 400 MB before any check."""
    import zipfile

    payload = _valid_payload()
    payload["state_dict"]["head.bias"] = torch.zeros(30_000_000)  # 120 MB of zeros
    source, out = zipfile.ZipFile(io.BytesIO(_payload_bytes(payload))), io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            target.writestr(info.filename, source.read(info),
                            compress_type=zipfile.ZIP_DEFLATED if info.file_size > 1_000_000 else zipfile.ZIP_STORED)
    assert len(out.getvalue()) < 1_000_000
    with pytest.raises(CheckpointError, match=r"record .* would unpack to 120\.0 MB"):
        load_checkpoint(out.getvalue())


def test_size_limits_come_from_the_budget(tmp_path):
    from rnnviz.core.checkpoints import MAX_CHECKPOINT_BYTES
    from rnnviz.data.budget import MAX_ACTION_BYTES, MAX_MODEL_PARAMETERS

    assert 3 * MAX_CHECKPOINT_BYTES <= MAX_ACTION_BYTES
    assert MAX_CHECKPOINT_BYTES >= 4 * MAX_MODEL_PARAMETERS  # the largest allowed model can be shared
    big = tmp_path / "big.pt"
    with open(big, "wb") as handle:
        handle.truncate(MAX_CHECKPOINT_BYTES + 1)
    with pytest.raises(CheckpointError, match="too large to be an rnnviz checkpoint"):
        load_checkpoint(big)
    with pytest.raises(CheckpointError, match="too large to be an rnnviz checkpoint"):
        load_checkpoint(b"PK\x03\x04" + bytes(MAX_CHECKPOINT_BYTES))


@pytest.mark.parametrize("cell_type", ["rnn", "gru", "lstm"])
@pytest.mark.parametrize("implementation", ["fused", "cell", "scratch"])
def test_parameter_count_matches_the_models(cell_type, implementation):
    from rnnviz.core.models import parameter_count

    for embedding, layers in ((None, 1), (7, 3)):
        config = ModelConfig(11, 5, cell_type, implementation, hidden_size=6, num_layers=layers, embedding_dim=embedding)
        real = sum(p.numel() for p in RecurrentModel(config).parameters())
        counted = parameter_count(11, 5, 6, embedding, layers, cell_type)
        assert counted == real if implementation != "scratch" else real <= counted <= 1.1 * real
