"""The names → nationality lesson: packed sequences, the tutorial RNN, training, evaluation,
typed names, checkpoints and the pretraining command."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from rnnviz.core.checkpoints import CheckpointError, save_checkpoint
from rnnviz.core.models import (
    ModelConfig,
    RecurrentModel,
    TutorialConfig,
    TutorialRNN,
    check_lengths,
    last_step,
)
from rnnviz.core.trace import trace
from rnnviz.data import names
from rnnviz.viz import evaluation
from rnnviz.lessons.names import (
    DEFAULT_CHECKPOINT,
    EXAMPLES,
    MAX_NAME_CHARS,
    NamesConfig,
    NamesData,
    NamesLesson,
    ShuffledBatches,
    check_typed_name,
    checkpoint_bytes,
    evaluate,
    load_names_checkpoint,
    predict_name,
    score,
)

# Three names of different lengths, right-padded with 0.
TOKENS = torch.tensor([[3, 1, 4, 1, 5], [2, 7, 0, 0, 0], [6, 0, 0, 0, 0]])
LENGTHS = torch.tensor([5, 2, 1])


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Two OpenMP threads on a busy two-core machine can be 10x slower than one; these models are tiny."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def data(shared_data: Path) -> NamesData:
    return NamesData.from_dataset(names.load_names(shared_data / "names"), source="test")


@pytest.fixture(scope="module")
def trained(data: NamesData) -> NamesLesson:
    """The page's default model after 150 steps (about 1 epoch)."""
    lesson = NamesLesson(NamesConfig(), data)
    assert lesson.trainer.run_steps(150) == 150
    return lesson


def model(cell: str, implementation: str, layers: int = 1, embedding: int | None = None) -> RecurrentModel:
    return RecurrentModel(ModelConfig(input_size=8, output_size=4, cell_type=cell, implementation=implementation,
                                      hidden_size=5, num_layers=layers, embedding_dim=embedding, seed=3))


# --- packed sequences: fast path, loops and the transparent path agree -------------------------------

@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
@pytest.mark.parametrize("implementation,layers,embedding", [("fused", 1, None), ("fused", 2, 3),
                                                             ("cell", 2, None), ("scratch", 1, 3)])
def test_padded_batch_equals_each_name_alone(cell, implementation, layers, embedding):
    m = model(cell, implementation, layers, embedding)
    logits, final = m(TOKENS, lengths=LENGTHS)
    per_sequence = m.sequence_logits(TOKENS, LENGTHS)
    for b, n in enumerate(LENGTHS.tolist()):
        alone, alone_final = m(TOKENS[b : b + 1, :n])
        torch.testing.assert_close(logits[b, :n], alone[0], atol=1e-5, rtol=0)
        torch.testing.assert_close(per_sequence[b], alone[0, -1], atol=1e-5, rtol=0)
        for state, state_alone in zip(final, alone_final):
            torch.testing.assert_close(state[:, b], state_alone[:, 0], atol=1e-5, rtol=0)
        # the transparent path reads the same weights and ends where the packed batch ends
        tr = trace(m, TOKENS[b, :n])
        torch.testing.assert_close(torch.from_numpy(tr.logits[-1]), per_sequence[b].detach(), atol=1e-5, rtol=0)
        # padded steps carry a zero hidden state, so their logits are the head's bias
        _, bias = m.head_params()
        for t in range(n, TOKENS.shape[1]):
            torch.testing.assert_close(logits[b, t], bias, atol=1e-6, rtol=0)
    torch.testing.assert_close(last_step(logits, LENGTHS), per_sequence, atol=1e-5, rtol=0)


def test_packed_gradients_ignore_padding():
    """Changing what sits in the padding changes nothing, forward or backward."""
    m = model("gru", "fused", 1, 3)
    other = TOKENS.clone()
    other[1, 2:] = 5
    a = m.sequence_logits(TOKENS, LENGTHS)
    b = m.sequence_logits(other, LENGTHS)
    torch.testing.assert_close(a, b)
    grads = []
    for tokens in (TOKENS, other):
        m.zero_grad()
        m.sequence_logits(tokens, LENGTHS).sum().backward()
        grads.append(m.rnn.weight_hh_l0.grad.clone())
    torch.testing.assert_close(grads[0], grads[1])


def test_forward_without_lengths_is_unchanged():
    m = model("lstm", "fused", 2)
    full = torch.full((3,), TOKENS.shape[1])
    torch.testing.assert_close(m(TOKENS)[0], m(TOKENS, lengths=full)[0], atol=1e-6, rtol=0)
    torch.testing.assert_close(m.sequence_logits(TOKENS), m(TOKENS)[0][:, -1], atol=1e-6, rtol=0)


@pytest.mark.parametrize("bad", [torch.tensor([5, 2]), torch.tensor([5, 0, 1]), torch.tensor([6, 2, 1])])
def test_bad_lengths_are_rejected(bad):
    with pytest.raises(ValueError):
        check_lengths(bad, TOKENS)
    with pytest.raises(ValueError):
        model("gru", "fused").sequence_logits(TOKENS, bad)


# --- the tutorial's RNN ----------------------------------------------------------------------------------

class LiteralTutorialRNN(nn.Module):
    """The tutorial's module as it is written there (plus the sigmoid the issue asks for)."""

    def __init__(self, input_size, hidden_size, output_size):
        super().__init__()
        self.i2h = nn.Linear(input_size + hidden_size, hidden_size)
        self.i2o = nn.Linear(input_size + hidden_size, output_size)

    def forward(self, x, hidden):
        combined = torch.cat((x, hidden), 1)
        return self.i2o(combined), torch.sigmoid(self.i2h(combined))


def test_tutorial_rnn_matches_the_tutorial_module():
    ours = TutorialRNN(TutorialConfig(input_size=8, output_size=4, hidden_size=6, seed=1))
    literal = LiteralTutorialRNN(8, 6, 4)
    with torch.no_grad():
        literal.i2h.weight.copy_(torch.cat([ours.W_xh, ours.W_hh]).T)
        literal.i2h.bias.copy_(ours.b_h)
        literal.i2o.weight.copy_(torch.cat([ours.W_xq, ours.W_hq]).T)
        literal.i2o.bias.copy_(ours.b_q)
    name = [3, 1, 4, 1, 5]
    hidden = torch.zeros(1, 6)
    for letter in name:
        output, hidden = literal(torch.nn.functional.one_hot(torch.tensor([letter]), 8).float(), hidden)
    logits, final = ours(torch.tensor([name]))
    torch.testing.assert_close(logits[0, -1], output[0], atol=1e-6, rtol=0)
    torch.testing.assert_close(final[0][0, 0], hidden[0], atol=1e-6, rtol=0)


def test_tutorial_rnn_batched_trace_and_gradients():
    m = TutorialRNN(TutorialConfig(input_size=8, output_size=4, hidden_size=5, embedding_dim=3, seed=2))
    per_sequence = m.sequence_logits(TOKENS, LENGTHS)
    for b, n in enumerate(LENGTHS.tolist()):
        torch.testing.assert_close(per_sequence[b], m(TOKENS[b : b + 1, :n])[0][0, -1], atol=1e-6, rtol=0)
        tr = trace(m, TOKENS[b, :n], targets=[2], loss_on="last")
        torch.testing.assert_close(torch.from_numpy(tr.logits[-1]), per_sequence[b].detach(), atol=1e-5, rtol=0)
        assert tr.hidden_states.shape == (1, n, 5)
        assert ((tr.hidden_states >= 0) & (tr.hidden_states <= 1)).all()  # sigmoid
        # the output at the last step reads h_{T-1}, never h_T: its gradient is exactly zero
        assert np.all(tr.grad_hidden[0, -1] == 0)
        if n > 1:
            assert np.abs(tr.grad_hidden[0, -2]).sum() > 0


# --- data and batches --------------------------------------------------------------------------------------

def _cleaned_names_in_files(names_dir: Path) -> dict[str, list[str]]:
    """language → every line of its file as the model reads it (duplicates kept), straight from the files."""
    return {lang: [kept for line in (names_dir / f"{lang}.txt").read_text(encoding="utf-8").splitlines()
                   if (kept := names.normalise_name(line).kept)]
            for lang in names.LANGUAGES}


def test_names_data_encoding_and_split(data):
    ds = data.dataset
    assert data.n_train + data.n_test == len(ds) == data.tokens.shape[0]
    assert not set(data.train_idx) & set(data.test_idx)
    train_names = {ds.names[i] for i in data.train_idx}
    test_names = {ds.names[i] for i in data.test_idx}
    assert not train_names & test_names  # the held-out names are never trained on
    assert len(test_names) == pytest.approx(0.1 * len(set(ds.names)), rel=0.05)
    i = ds.names.index("Nakamura")
    assert data.lengths[i] == 8
    assert "".join(names.index_to_char()[int(c)] for c in data.tokens[i, :8]) == "Nakamura"
    assert (data.tokens[i, 8:] == names.PAD_INDEX).all()
    assert data.majority_language == "Russian"
    assert 0.45 < data.majority_rate < 0.49
    counts = data.split_counts()
    assert sum(a + b for a, b in counts.values()) == len(ds)
    assert all(a >= 1 and b >= 1 for a, b in counts.values())  # every language is trained on and tested


def test_split_summary_matches_the_files(data, shared_data):
    files = _cleaned_names_in_files(shared_data / "names")
    rows = [(name, lang) for lang, lines in files.items() for name in lines]
    distinct = {name for name, _ in rows}
    languages_of: dict[str, set[str]] = {}
    for name, lang in rows:
        languages_of.setdefault(name, set()).add(lang)
    several = {name for name, langs in languages_of.items() if len(langs) > 1}
    ds, summary = data.dataset, data.summary
    assert summary.rows == len(rows) and summary.distinct_names == len(distinct)
    assert summary.duplicate_rows == len(rows) - len(distinct) > 0
    assert summary.names_in_several_languages == len(several) == ds.duplicates_across_languages
    assert summary.rows_in_several_languages == sum(name in several for name, _ in rows)
    assert summary.distinct_per_language == {lang: len(set(lines)) for lang, lines in files.items()}
    assert summary.distinct_per_language["Arabic"] < 0.1 * len(files["Arabic"])  # 2,000 lines, ~108 names
    train_names = {ds.names[i] for i in data.train_idx}
    test_names = {ds.names[i] for i in data.test_idx}
    assert (summary.train_rows, summary.test_rows) == (data.n_train, data.n_test)
    assert (summary.train_names, summary.test_names) == (len(train_names), len(test_names))
    assert summary.names_on_both_sides == 0
    assert summary.copies_held_out == data.n_test - len(test_names)
    assert summary.test_names_per_language == {
        lang: len({ds.names[i] for i in data.test_idx if ds.labels[i] == label})
        for label, lang in enumerate(names.LANGUAGES)}
    # what a row-by-row split of the same data would have done
    row_train, row_test = names.stratified_split(ds.labels, 0.1, 0)
    row_train_pairs = {(ds.names[i], ds.labels[i]) for i in row_train}
    assert summary.row_split_test_rows == len(row_test)
    assert summary.row_split_same_label == sum((ds.names[i], ds.labels[i]) in row_train_pairs for i in row_test)
    assert summary.row_split_seen == sum(ds.names[i] in {ds.names[j] for j in row_train} for i in row_test)
    assert summary.row_split_same_label > 0.05 * len(row_test)
    # the README quotes these facts about the data
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert f"{len(rows):,} lines but only {len(distinct):,} distinct names" in readme
    assert f"(Arabic: {len(files['Arabic']):,} lines, {len(set(files['Arabic'])):,} names)" in readme
    assert f"{summary.row_split_same_label:,} of the {len(row_test):,} held-out lines" in readme


def test_batches_cover_each_training_name_once_per_epoch(data):
    batches = ShuffledBatches(data, batch_size=1000, seed=4)
    seen = []
    while batches.names_seen < data.n_train:
        tokens, labels = batches()
        assert tokens.shape[0] == labels.shape[0] <= 1000
        assert (tokens[:, -1] != names.PAD_INDEX).any()  # trimmed to the longest name in the batch
        seen.append(labels)
    assert batches.epoch == 1 and batches.epochs_done == pytest.approx(1.0)
    train_labels = np.sort(data.dataset.labels[data.train_idx])
    assert np.array_equal(np.sort(torch.cat(seen).numpy()), train_labels)
    again = ShuffledBatches(data, batch_size=1000, seed=4)
    assert torch.equal(again()[0], ShuffledBatches(data, 1000, 4)()[0])
    assert not torch.equal(again()[0], ShuffledBatches(data, 1000, 5)()[0])


# --- scores ------------------------------------------------------------------------------------------------

def test_score_by_hand():
    # true: three of class 0, one of class 1, none of class 2
    s = score(predicted=[0, 0, 1, 0], true=[0, 0, 0, 1], n_classes=3)
    assert s.accuracy == pytest.approx(0.5)
    assert s.per_language[0] == pytest.approx(2 / 3) and s.per_language[1] == 0.0
    assert math.isnan(s.per_language[2])
    assert s.balanced_accuracy == pytest.approx((2 / 3 + 0) / 2)
    assert s.confusion.tolist() == [[2, 1, 0], [1, 0, 0], [0, 0, 0]]


# --- training learns and is scored on a schedule -------------------------------------------------------------

def test_short_training_learns_well_above_the_majority_rate(trained, data):
    evaluation = trained.evaluate_if_due(force=True)
    assert evaluation.step == 150
    assert evaluation.test.n == data.n_test
    assert evaluation.test.accuracy > data.majority_rate + 0.2
    assert evaluation.test.balanced_accuracy > 0.2  # guessing gives 1/18
    assert evaluation.test.confusion.sum() == data.n_test
    # one epoch is 141 batches (the last one has 126 names), then 9 of the next epoch
    assert trained.batches.names_seen == data.n_train + (150 - math.ceil(data.n_train / 128)) * 128
    assert trained.names_per_second > 0
    assert not trained.trainer.stopped


def test_evaluation_is_scheduled_by_training_time(data):
    lesson = NamesLesson(NamesConfig(hidden_size=16, embedding_dim=8), data)
    first = lesson.evaluate_if_due()
    assert first is not None and first.step == 0
    lesson.trainer.run_steps(2)
    lesson.trainer.train_seconds = first.train_seconds + 0.1  # pretend: little training time passed
    assert lesson.evaluate_if_due() is first  # not due yet
    assert lesson.evaluate_if_due(force=True).step == 2  # a pause forces it
    lesson.trainer.run_steps(1)
    lesson.trainer.train_seconds += 0.6
    assert lesson.evaluate_if_due().step == 3
    assert [e.step for e in lesson.evaluations] == [0, 2, 3]
    assert lesson.evaluate_if_due(force=True) is lesson.evaluations[-1]  # same step: no new work


def test_apply_keeps_the_model_for_training_settings_and_rebuilds_for_architecture(data):
    lesson = NamesLesson(NamesConfig(hidden_size=16, embedding_dim=8), data)
    lesson.trainer.run_steps(1)
    same = lesson.apply(lesson.config.with_(learning_rate=0.01, batch_size=7, dropout=0.2))
    assert same is lesson and same.step_count == 1
    assert lesson.trainer.optimizer.param_groups[0]["lr"] == 0.01
    assert lesson.batches().__getitem__(0).shape[0] == 7
    fresh = lesson.apply(lesson.config.with_(hidden_size=32))
    assert fresh is not lesson and fresh.step_count == 0 and fresh.data is data
    assert lesson.reset().step_count == 0


@pytest.mark.parametrize("changes, message", [
    (dict(cell="transformer"), "cell"),
    (dict(cell="tutorial", num_layers=2), "one layer"),
    (dict(batch_size=0), "batch size"),
    (dict(dropout=1.5), "Dropout"),
    (dict(learning_rate=-1.0), "Learning rate"),
    (dict(hidden_size=0), "Hidden size"),
])
def test_config_rejects_bad_values_with_a_message(changes, message):
    with pytest.raises(ValueError, match=message):
        NamesConfig(**changes).validate()


@pytest.mark.parametrize("cell", ["tutorial", "rnn", "lstm"])
def test_every_cell_trains_through_the_lesson(cell, data):
    lesson = NamesLesson(NamesConfig(cell=cell, hidden_size=16, embedding_dim=None, batch_size=64), data)
    before = evaluate(lesson.model, data).loss
    lesson.trainer.run_steps(25)
    assert not lesson.trainer.stopped
    assert evaluate(lesson.model, data).loss < before


def test_without_data_there_is_no_trainer_but_predictions_work():
    lesson = NamesLesson(NamesConfig(hidden_size=8, embedding_dim=4))
    assert not lesson.can_train and lesson.trainer is None and lesson.evaluate_if_due() is None
    model, which = lesson.answering_model()
    assert which == "untrained"
    assert lesson.predict("Smith").ok


# --- typed names ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, fragment", [
    ("", "Type a surname"),
    ("   \t ", "Type a surname"),
    (None, "Type a surname"),
    ("a" * 101, "at most 100"),
    ("Abcdefghij" * 5, f"at most {MAX_NAME_CHARS}"),
    ("😀🎉", "Nothing is left to read"),
    ("///", "Nothing is left to read"),
])
def test_unreadable_names_get_a_message(trained, raw, fragment):
    prediction = predict_name(trained.model, raw)
    assert not prediction.ok and fragment in prediction.message
    assert prediction.top == ()


@pytest.mark.parametrize("raw, read_as, transliterated, dropped", [
    ("Nakamura", "Nakamura", False, ()),
    ("  O'Brien ", "O'Brien", False, ()),
    ("Ślusàrski", "Slusarski", True, ()),
    ("王小明", "Wang Xiao Ming", True, ()),
    ("Ωμέγα", "Omega", True, ()),
    ("Ng😀uyen", "Nguyen", False, ("😀",)),
])
def test_typed_names_are_cleaned_and_read(trained, raw, read_as, transliterated, dropped):
    prediction = predict_name(trained.model, raw)
    assert prediction.ok, prediction.message
    assert prediction.text == read_as
    assert prediction.transliterated == transliterated
    assert prediction.cleaned.dropped_chars == dropped
    assert prediction.trace.probs.shape == (len(read_as), 18)
    probabilities = [p for _, p in prediction.top]
    assert len(prediction.top) == 3 and probabilities == sorted(probabilities, reverse=True)
    assert len({language for language, _ in prediction.top}) == 3
    # the transparent path's last column is the fast path's answer
    tokens, lengths = names.encode_names([read_as])
    with torch.no_grad():
        fast = torch.softmax(trained.model.sequence_logits(tokens, lengths)[0], -1).numpy()
    np.testing.assert_allclose(prediction.probabilities, fast, atol=1e-5)
    assert prediction.top[0] == (names.LANGUAGES[int(fast.argmax())], pytest.approx(float(fast.max()), abs=1e-5))


def test_check_typed_name_accepts_the_longest_allowed_name():
    cleaned, problem = check_typed_name("A" * MAX_NAME_CHARS)
    assert problem is None and cleaned.kept == "A" * MAX_NAME_CHARS


def test_examples_marked_unseen_are_not_in_the_data(shared_data):
    """Checked against every language file, after cleaning: what the model would read."""
    in_files = {name for lines in _cleaned_names_in_files(shared_data / "names").values() for name in lines}
    in_files_any_case = {name.casefold() for name in in_files}
    for example in EXAMPLES:
        cleaned, problem = check_typed_name(example.name)
        assert problem is None, example
        if example.in_data:
            assert cleaned.kept in in_files, example
        else:
            assert cleaned.kept not in in_files, example
            assert cleaned.kept.casefold() not in in_files_any_case, example
    assert sum(not e.in_data for e in EXAMPLES) >= 3
    assert any(names.normalise_name(e.name).kept != e.name for e in EXAMPLES if not e.in_data)  # one is transliterated


# --- checkpoints ------------------------------------------------------------------------------------------

def test_checkpoint_round_trip(trained, tmp_path):
    blob = checkpoint_bytes(trained, training_command="test")
    checkpoint = load_names_checkpoint(blob)
    meta = checkpoint.metadata
    assert meta["task"] == "names" and meta["labels"] == list(names.LANGUAGES)
    assert meta["vocabulary"] == names.index_to_char() and meta["steps"] == 150
    assert meta["test_accuracy"] == pytest.approx(evaluate(trained.model, trained.data).accuracy, abs=1e-4)
    assert not checkpoint.model.training
    tokens, lengths = names.encode_names(["Dostoevsky", "Li"])
    with torch.no_grad():
        torch.testing.assert_close(checkpoint.model.sequence_logits(tokens, lengths),
                                   trained.model.sequence_logits(tokens, lengths))
    # and from a file, as the page loads the shipped one
    path = tmp_path / "names_copy.pt"
    path.write_bytes(blob)
    assert load_names_checkpoint(path).metadata["steps"] == 150
    # the tutorial RNN cannot be saved, and says so
    with pytest.raises(CheckpointError, match="tutorial"):
        checkpoint_bytes(NamesLesson(NamesConfig(cell="tutorial", hidden_size=4), trained.data))


def test_malformed_checkpoints_are_rejected_with_a_message(trained, tmp_path):
    blob = checkpoint_bytes(trained)
    with pytest.raises(CheckpointError, match="not a readable"):
        load_names_checkpoint(b"not a checkpoint at all")
    with pytest.raises(CheckpointError):
        load_names_checkpoint(blob[: len(blob) // 2])  # truncated upload
    with pytest.raises(CheckpointError, match="not found"):
        load_names_checkpoint(tmp_path / "missing.pt")
    other = RecurrentModel(ModelConfig(input_size=60, output_size=18, cell_type="gru", hidden_size=4))
    save_checkpoint(other, tmp_path / "lm.pt", {"task": "charlm"})
    with pytest.raises(CheckpointError, match="not names"):
        load_names_checkpoint(tmp_path / "lm.pt")
    save_checkpoint(other, tmp_path / "labels.pt", {"task": "names", "labels": ["A", "B"],
                                                    "vocabulary": names.index_to_char()})
    with pytest.raises(CheckpointError, match="languages"):
        load_names_checkpoint(tmp_path / "labels.pt")
    small = RecurrentModel(ModelConfig(input_size=30, output_size=18, cell_type="gru", hidden_size=4))
    save_checkpoint(small, tmp_path / "vocab.pt", {"task": "names", "labels": list(names.LANGUAGES),
                                                   "vocabulary": names.index_to_char()})
    with pytest.raises(CheckpointError, match="input and output sizes"):
        load_names_checkpoint(tmp_path / "vocab.pt")


def test_shipped_checkpoint_is_small_documented_and_as_good_as_it_says(data):
    assert DEFAULT_CHECKPOINT.exists(), "train it with: python -m rnnviz.pretrain names"
    assert DEFAULT_CHECKPOINT.stat().st_size < 2_000_000
    checkpoint = load_names_checkpoint(DEFAULT_CHECKPOINT)
    manifest = json.loads(DEFAULT_CHECKPOINT.with_suffix(".json").read_text())
    for key in ("task", "vocabulary", "labels", "test_accuracy", "balanced_accuracy", "date", "training_command"):
        assert key in checkpoint.metadata and key in manifest, key
    assert manifest["training_command"].startswith("python -m rnnviz.pretrain names")
    # scored on names it never saw: the manifest says how the split was made, and it is the lesson's split
    split = manifest["split"]
    assert split["by"] == "cleaned name" and split["names_on_both_sides"] == 0
    assert manifest["test_names"] == data.n_test and split["test_rows"] == data.n_test
    assert split["test_names"] == len({data.dataset.names[i] for i in data.test_idx})
    assert manifest["train_names"] == data.n_train
    scores = evaluate(checkpoint.model, data)
    assert scores.accuracy == pytest.approx(manifest["test_accuracy"], abs=1e-3)
    assert scores.balanced_accuracy == pytest.approx(manifest["balanced_accuracy"], abs=1e-3)
    assert scores.accuracy >= 0.75 and scores.balanced_accuracy >= 0.45  # honest: on names never trained on
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert f"**{manifest['test_accuracy']:.1%}**" in readme  # the README quotes the shipped numbers
    assert f"**{manifest['balanced_accuracy']:.1%}** balanced accuracy" in readme
    assert predict_name(checkpoint.model, "Dostoevsky").top[0][0] == "Russian"
    assert predict_name(checkpoint.model, "Nakamura").top[0][0] == "Japanese"


# --- the pretraining command ------------------------------------------------------------------------------

def test_pretrain_command_writes_a_loadable_checkpoint(shared_data, tmp_path, capsys):
    from rnnviz import pretrain

    out = tmp_path / "names_tiny.pt"
    argv = ["names", "--hidden-size", "8", "--embedding-dim", "4", "--epochs", "0.05",
            "--names-dir", str(shared_data / "names"), "--out", str(out)]
    assert pretrain.main(argv) == 0
    checkpoint = load_names_checkpoint(out)
    assert checkpoint.metadata["training_command"] == "python -m rnnviz.pretrain " + " ".join(argv)
    assert checkpoint.model.config.hidden_size == 8
    assert json.loads(out.with_suffix(".json").read_text())["steps"] == 7  # ceil(0.05 * 141)
    assert "test accuracy" in capsys.readouterr().out
    assert set(pretrain.SUBCOMMANDS) >= {"names"}
    assert pretrain.main(["names", "--cell", "tutorial", "--out", str(tmp_path / "t.pt"),
                          "--names-dir", str(shared_data / "names")]) == 2
    assert pretrain.main(["names", "--names-dir", str(tmp_path / "nowhere"), "--out", str(out)]) == 2


# --- this lesson's figures ------------------------------------------------------------------------------------

def test_figures_have_titles_axes_and_the_data(trained, data):
    trained.evaluate_if_due(force=True)
    fig = evaluation.accuracy_figure(trained.evaluations, data.majority_rate, data.majority_language)
    assert "held-out" in fig.layout.title.text
    assert fig.layout.xaxis.title.text == "training step" and fig.layout.yaxis.title.text == "accuracy"
    test_trace = next(t for t in fig.data if t.name == "test accuracy")
    # rounded to 4 decimals (the hover shows 0.1%): what a reader can see
    assert list(test_trace.y) == pytest.approx([e.test.accuracy for e in trained.evaluations], abs=5e-5)
    assert any("Russian" in t.name for t in fig.data)
    empty = evaluation.accuracy_figure([])
    assert "Press Train" in empty.layout.annotations[0].text
    counts = evaluation.class_counts_figure(data.split_counts())
    assert list(counts.data[0].y) == list(names.LANGUAGES)
    assert sum(counts.data[0].x) == len(data.dataset)
    assert "Russian alone is 47%" in counts.layout.title.subtitle.text


def test_training_with_dropout_is_repeatable_and_dropout_is_off_for_evaluation(data):
    def run():
        lesson = NamesLesson(NamesConfig(hidden_size=16, embedding_dim=8, dropout=0.5), data)
        lesson.trainer.run_steps(3)
        return lesson

    first, second = run(), run()
    assert first.trainer.history.losses == second.trainer.history.losses
    for a, b in zip(first.model.parameters(), second.model.parameters()):
        assert torch.equal(a, b)
    tokens, lengths = names.encode_names(["Nakamura", "Li"])
    m = first.model
    m.train()
    dropped = [m.sequence_logits(tokens, lengths, dropout=0.5) for _ in range(2)]
    assert not torch.equal(dropped[0], dropped[1])  # masks differ from call to call
    m.eval()
    assert torch.equal(m.sequence_logits(tokens, lengths, dropout=0.5), m.sequence_logits(tokens, lengths))
