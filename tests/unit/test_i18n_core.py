"""The core's messages (training stops, checkpoints, downloads, zips) in Chinese, and unchanged in English.

Each message is triggered for real, under ``using("zh")``: it must contain Chinese and no English
sentence (tests.i18n_helpers.english_sentences). Under English the texts are those the other tests
and the pages know.
"""
import contextvars
import io
import re
import socket
import threading
import zipfile

import pytest
import torch
from torch import nn

from rnnviz import i18n
from rnnviz.core.checkpoints import CheckpointError, load_checkpoint, save_checkpoint
from rnnviz.core.models import ModelConfig, RecurrentModel
from rnnviz.core.train import TrainConfig, Trainer
from rnnviz.data.archives import extract_zip_atomically
from rnnviz.data.download import DatasetError, download_file, format_bytes
from rnnviz.i18n import using
from tests.i18n_helpers import english_sentences
from tests.unit._http import Route, serve
from tests.unit.test_train import ohlol_trainer

CJK = re.compile(r"[\u4e00-\u9fff]")


def assert_chinese(message: str) -> None:
    assert CJK.search(message), message
    assert english_sentences([message]) == [], message


# --- training stops ----------------------------------------------------------------------------------

def diverging_trainer(learning_rate: float = 100.0) -> Trainer:
    """A one-weight regression: with a learning rate this large, each SGD step multiplies the weight by
    about -200, so the loss overflows to infinity within a few dozen steps."""
    model = nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        model.weight.fill_(1.0)
    x, y = torch.ones(4, 1), torch.zeros(4, 1)

    def mse(m, inputs, targets):
        return ((m(inputs) - targets) ** 2).mean(), {}

    return Trainer(model, TrainConfig("sgd", learning_rate), next_batch=lambda: (x, y), loss_fn=mse)


def nan_trainer() -> Trainer:
    trainer, _task = ohlol_trainer()
    with torch.no_grad():
        trainer.model.head.weight.fill_(float("inf"))  # inf - inf in the logits: a NaN loss
    return trainer


def nan_gradient_trainer() -> Trainer:
    trainer, _task = ohlol_trainer()

    def sqrt_at_zero_loss(model, inputs, targets):  # finite (zero) loss, NaN gradient
        total = sum(p.sum() for p in model.parameters())
        return (total - total.detach()).abs().sqrt(), {"accuracy": 0.0}

    trainer.loss_fn = sqrt_at_zero_loss
    return trainer


def test_a_huge_learning_rate_stops_training_with_a_chinese_reason():
    with using("zh"):
        trainer = diverging_trainer()
        done = trainer.run_steps(200)
        assert trainer.stopped and done < 200
        reason = trainer.stop_reason
    assert_chinese(reason)
    assert f"第 {done + 1} 个训练步" in reason and "无穷大" in reason and "学习率" in reason and "“重置”" in reason


@pytest.mark.parametrize("make, words", [
    (nan_trainer, ("损失", "NaN", "学习率", "梯度裁剪")),
    (nan_gradient_trainer, ("梯度范数", "NaN", "梯度爆炸", "梯度裁剪")),
])
def test_nan_loss_and_nan_gradient_reasons_in_chinese(make, words):
    trainer = make()
    with using("zh"):
        assert trainer.step() is None
        reason = trainer.stop_reason
    assert_chinese(reason)
    assert all(word in reason for word in words), reason


def test_stop_reasons_in_english_are_unchanged():
    trainer = nan_trainer()
    trainer.step()
    assert trainer.stop_reason == (
        "The loss became NaN (not a number) at step 1, so training stopped. The learning rate is probably too "
        "high for this model: lower it (or turn on gradient clipping) and press Reset.")
    trainer = nan_gradient_trainer()
    trainer.step()
    assert trainer.stop_reason == (
        "The gradient norm became NaN (not a number) at step 1 (it exploded), so training stopped before the "
        "weights were ruined. Turn on gradient clipping or lower the learning rate, then press Reset.")
    trainer = diverging_trainer()
    done = trainer.run_steps(200)
    assert trainer.stop_reason.startswith(f"The loss became infinite at step {done + 1}, so training stopped.")


def test_the_stop_reason_speaks_the_language_of_whoever_reads_it():
    """Stopped in a tick, read later by the page: a switch of language in between is followed."""
    trainer = nan_trainer()
    with using("en"):
        trainer.step()
    with using("zh"):
        assert_chinese(trainer.stop_reason)
    assert trainer.stop_reason.startswith("The loss became NaN")
    trainer.stop_reason = None
    assert not trainer.stopped and trainer.step() is None and trainer.stopped


def test_a_training_tick_in_a_fresh_context_gets_the_sessions_language():
    """A Streamlit fragment tick runs in a fresh context: the ui layer's fallback gives the session's
    language (here a stand-in), so the reason the tick shows is Chinese."""
    seen = []

    def tick():
        trainer = nan_trainer()
        trainer.run_for(1.0)
        seen.append(trainer.stop_reason)

    i18n.set_fallback(lambda: "zh")
    try:
        contextvars.Context().run(tick)
        thread = threading.Thread(target=tick)  # a thread starts with an empty context too
        thread.start()
        thread.join()
    finally:
        i18n.set_fallback(None)
    assert len(seen) == 2
    for reason in seen:
        assert_chinese(reason)


def test_bad_training_and_model_settings_in_chinese():
    bad = [
        lambda: TrainConfig("sgd", 1000.0).validate(),
        lambda: TrainConfig("rmsprop", 0.1).validate(),
        lambda: TrainConfig("sgd", 0.1, clip_threshold=-1.0).validate(),
        lambda: ModelConfig(6, 3, hidden_size=5000).validate(),
        lambda: ModelConfig(6, 3, num_layers=9).validate(),
        lambda: ModelConfig(1_000_000, 1_000_000, hidden_size=64).validate(),
    ]
    for make in bad:
        with using("zh"), pytest.raises(ValueError) as zh:
            make()
        assert_chinese(str(zh.value))
        with pytest.raises(ValueError) as en:
            make()
        assert not CJK.search(str(en.value))
    with pytest.raises(ValueError, match=r"^Learning rate must be above 0 and at most 100\.$"):
        TrainConfig("sgd", 1000.0).validate()
    with using("zh"), pytest.raises(ValueError, match=r"^学习率必须大于 0 且不超过 100。$"):
        TrainConfig("sgd", 1000.0).validate()


# --- checkpoints ------------------------------------------------------------------------------------

def _saved_bytes(tmp_path, **metadata) -> bytes:
    model = RecurrentModel(ModelConfig(6, 3, "gru", hidden_size=5))
    return save_checkpoint(model, tmp_path / "m.pt", metadata).read_bytes()


def _torch_bytes(payload) -> bytes:
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    return buffer.getvalue()


def _rezipped(data: bytes, replace: dict[str, bytes] | None = None, deflate_above: int | None = None) -> bytes:
    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            body = (replace or {}).get(info.filename.rsplit("/", 1)[-1], source.read(info))
            deflate = deflate_above is not None and len(body) > deflate_above
            target.writestr(info.filename, body, compress_type=zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED)
    return out.getvalue()


def _checkpoint_message(source) -> tuple[str, str]:
    """The CheckpointError's message in Chinese, then in English."""
    with using("zh"), pytest.raises(CheckpointError) as zh:
        load_checkpoint(source)
    with pytest.raises(CheckpointError) as en:
        load_checkpoint(source)
    return str(zh.value), str(en.value)


def test_a_corrupt_checkpoint_in_chinese(tmp_path):
    corrupt = _rezipped(_saved_bytes(tmp_path), replace={"data.pkl": b"\x80\x02 this is no pickle"})
    zh, en = _checkpoint_message(corrupt)
    assert_chinese(zh)
    assert "rnnviz 检查点" in zh and "已损坏" in zh
    assert en.startswith("This is not a readable rnnviz checkpoint (it is corrupt, or a pickle with objects we "
                         "refuse to load): ")
    zh, en = _checkpoint_message(b"\x00\x01 definitely not a checkpoint")
    assert_chinese(zh)
    assert en == "This is not a readable rnnviz checkpoint (it is not a PyTorch zip archive)."


def test_a_checkpoint_of_another_kind_in_chinese(tmp_path):
    zh, en = _checkpoint_message(_torch_bytes({"weights": torch.zeros(3)}))
    assert_chinese(zh)
    assert en == "This file is a PyTorch file but not an rnnviz checkpoint."
    zh, en = _checkpoint_message(_torch_bytes({"format": "rnnviz-checkpoint", "version": 99}))
    assert_chinese(zh)
    assert en == "Checkpoint version 99 is not supported (expected 1)."
    model = RecurrentModel(ModelConfig(6, 3, "gru", hidden_size=5))
    payload = {"format": "rnnviz-checkpoint", "version": 1, "metadata": {},
               "model_config": {"input_size": 6, "output_size": 3, "cell_type": "gru", "hidden_size": 7},
               "state_dict": {k: v.clone() for k, v in model.state_dict().items()}}
    zh, en = _checkpoint_message(_torch_bytes(payload))
    assert_chinese(zh)
    assert "形状" in zh and en.startswith("The checkpoint's weights do not fit its model description: ")
    payload["model_config"]["hidden_size"] = 5
    payload["state_dict"]["head.bias"][0] = float("nan")
    zh, en = _checkpoint_message(_torch_bytes(payload))
    assert_chinese(zh)
    assert en == "The checkpoint's weights contain NaN or infinite values (in head.bias)."


def test_an_inflated_checkpoint_in_chinese(tmp_path):
    model = RecurrentModel(ModelConfig(6, 3, "gru", hidden_size=5))
    payload = {"format": "rnnviz-checkpoint", "version": 1, "model_config": {"input_size": 6, "output_size": 3},
               "metadata": {}, "state_dict": {**model.state_dict(), "head.bias": torch.zeros(7_000_000)}}
    inflated = _rezipped(_torch_bytes(payload), deflate_above=1_000_000)  # 28 MB of zeros, packed small
    assert len(inflated) < 1_000_000
    zh, en = _checkpoint_message(inflated)
    assert_chinese(zh)
    assert "28.0 MB" in zh and "拒绝加载" in zh
    assert re.fullmatch(r"The checkpoint's record \S+ would unpack to 28\.0 MB, more than the 26 MB a record of an "
                        r"rnnviz checkpoint may have; refusing to load it\.", en), en
    zh, en = _checkpoint_message(b"PK\x03\x04" + bytes(27_000_000))
    assert_chinese(zh)
    assert en.startswith("That file is 27.0 MB, too large to be an rnnviz checkpoint (at most 26 MB")


def test_a_missing_checkpoint_in_chinese(tmp_path):
    zh, en = _checkpoint_message(tmp_path / "missing.pt")
    assert_chinese(zh)
    assert en == f"Checkpoint not found: {tmp_path / 'missing.pt'}"


# --- downloads and zips ----------------------------------------------------------------------------------

def _download_message(url: str, dest, **options) -> tuple[str, str]:
    with using("zh"), pytest.raises(DatasetError) as zh:
        download_file(url, dest, **options)
    with pytest.raises(DatasetError) as en:
        download_file(url, dest, **options)
    return str(zh.value), str(en.value)


def test_an_unreachable_server_in_chinese(tmp_path):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    zh, en = _download_message(f"http://127.0.0.1:{port}/data.zip", tmp_path / "data.zip", timeout=5, retries=0)
    assert_chinese(zh)
    assert f"127.0.0.1:{port}" in zh and "网络连接" in zh
    assert en == (f"Could not download data.zip: cannot reach 127.0.0.1:{port}. Check the internet connection and "
                  "try again, or point the app at a local copy (see README, Data).")
    assert list(tmp_path.iterdir()) == []


def test_a_checksum_mismatch_in_chinese(tmp_path):
    with serve({"/f.txt": Route(b"some bytes")}) as server:
        zh, en = _download_message(server.url("/f.txt"), tmp_path / "f.txt", sha256="0" * 64, retries=0)
    assert_chinese(zh)
    assert "校验和不匹配" in zh and "000000000000…" in zh
    assert re.fullmatch(r"f\.txt was downloaded but its checksum does not match \(expected sha256 0{12}…, got "
                        r"[0-9a-f]{12}…\)\. The file may have changed on the server or been corrupted on the way; "
                        r"try again\.", en), en
    assert list(tmp_path.iterdir()) == []


def test_a_download_over_the_limit_and_a_server_error_in_chinese(tmp_path):
    with serve({"/big.bin": Route(bytes(5000))}) as server:
        zh, en = _download_message(server.url("/big.bin"), tmp_path / "big.bin", max_bytes=900, retries=0)
        assert_chinese(zh)
        assert en == "big.bin is 5.0 kB, more than the limit of 900 bytes; refusing to download it."
        zh, en = _download_message(server.url("/missing.bin"), tmp_path / "missing.bin", retries=0)
        assert_chinese(zh)
        assert en.startswith("Could not download missing.bin: the server answered 404")


def test_a_zip_with_a_path_escape_in_chinese(tmp_path):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("ok.txt", b"fine")
        zf.writestr(zipfile.ZipInfo("../evil.txt"), b"pwned")
    with using("zh"), pytest.raises(DatasetError) as zh:
        extract_zip_atomically(archive, tmp_path / "out")
    assert_chinese(str(zh.value))
    assert "'../evil.txt'" in str(zh.value) and "拒绝解压" in str(zh.value)
    with pytest.raises(DatasetError) as en:
        extract_zip_atomically(archive, tmp_path / "out")
    assert str(en.value) == ("The archive contains an unsafe file path ('../evil.txt') that points outside its "
                             "folder; refusing to extract it.")
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "out").exists()


def test_a_zip_bomb_and_a_broken_zip_in_chinese(tmp_path):
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("zeros.txt", bytes(5_000_000))
    with using("zh"), pytest.raises(DatasetError) as zh:
        extract_zip_atomically(bomb.getvalue(), tmp_path / "out")
    assert_chinese(str(zh.value))
    assert "zip 炸弹" in str(zh.value)
    with using("zh"), pytest.raises(DatasetError) as zh:
        extract_zip_atomically(b"PK\x03\x04" + bytes(100), tmp_path / "out")
    assert CJK.search(str(zh.value))  # the detail in parentheses is Python's own (English) reason


def test_sizes_in_chinese():
    assert format_bytes(512) == "512 bytes" and format_bytes(1_234_567) == "1.2 MB"
    with using("zh"):
        assert format_bytes(512) == "512 字节" and format_bytes(1_234_567) == "1.2 MB"
