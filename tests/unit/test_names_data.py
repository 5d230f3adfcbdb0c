"""The names dataset: cleaning, counts, validation, splitting and encoding."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from rnnviz.data import names
from rnnviz.data.download import DatasetError

try:
    from ._http import build_zip, names_zip_members
except ImportError:  # tests/unit is not a package
    from _http import build_zip, names_zip_members

# What the shared copy of the tutorial data really holds (the tutorial's text
# quotes 20,074 names / 9,408 Russian for an older version of the archive).
TOTAL_NAMES = 20_050
RUSSIAN_NAMES = 9_384


@pytest.fixture(scope="module")
def names_dir(shared_data: Path) -> Path:
    return shared_data / "names"


@pytest.fixture(scope="module")
def dataset(names_dir: Path) -> names.NamesDataset:
    return names.load_names(names_dir)


def _copy_names(names_dir: Path, dest: Path) -> Path:
    """A writable copy in tmp_path, for tests that break one file (never inside the project)."""
    shutil.copytree(names_dir, dest)
    return dest


def test_alphabet_and_vocabulary_size():
    assert len(names.NAME_ALPHABET) == 59
    assert len(set(names.NAME_ALPHABET)) == 59
    assert names.NAME_VOCAB_SIZE == 60
    to_index = names.char_to_index()
    assert min(to_index.values()) == 1 and max(to_index.values()) == 59
    to_char = names.index_to_char()
    assert to_char[names.PAD_INDEX] == names.PAD_LABEL
    assert all(to_char[i] == c for c, i in to_index.items())


def test_languages_are_the_18_sorted():
    assert len(names.LANGUAGES) == 18
    assert list(names.LANGUAGES) == sorted(names.LANGUAGES)
    assert names.LANGUAGES[0] == "Arabic" and names.LANGUAGES[-1] == "Vietnamese"


@pytest.mark.parametrize(
    "raw, kept, dropped",
    [
        ("Ślusàrski", "Slusarski", ()),
        ("王小明", "Wang Xiao Ming", ()),
        ("Ωμέγα", "Omega", ()),
        ("Nguyễn", "Nguyen", ()),
        ("O'Neill", "O'Neill", ()),
        ("Smith😀", "Smith", ("😀",)),
        ("Maxa/B", "MaxaB", ("/",)),
        ("R2-D2", "R-D", ("2",)),
        ("", "", ()),
        ("😀🎉", "", ("😀", "🎉")),
    ],
)
def test_normalise_name(raw, kept, dropped):
    result = names.normalise_name(raw)
    assert result.original == raw
    assert result.kept == kept
    assert result.dropped_chars == dropped
    assert set(result.kept) <= set(names.NAME_ALPHABET)


def test_chinese_name_is_transliterated_with_spaces_stripped():
    result = names.normalise_name("王小明")
    assert result.transliterated == "Wang Xiao Ming"  # unidecode gives a trailing space
    assert not result.lost_characters


def test_counts_match_the_shared_data(dataset):
    assert len(dataset) == TOTAL_NAMES
    assert dataset.counts["Russian"] == RUSSIAN_NAMES
    assert sum(dataset.counts.values()) == TOTAL_NAMES
    assert dataset.languages == names.LANGUAGES
    assert set(dataset.counts) == set(names.LANGUAGES)
    assert np.bincount(dataset.labels, minlength=18).tolist() == [
        dataset.counts[lang] for lang in names.LANGUAGES
    ]
    assert dataset.labels.dtype == np.int64


def test_cleaning_report(dataset):
    assert all(set(name) <= set(names.NAME_ALPHABET) and name for name in dataset.names)
    assert dataset.empty_after_cleaning == 0
    # The data is nearly clean: one name ("Maxa/B") contains a character outside the alphabet.
    assert dataset.names_with_dropped_chars == 1
    assert [(e.original, e.dropped_chars) for e in dataset.dropped_examples] == [("Maxa/B", ("/",))]
    assert dataset.duplicates_across_languages == 477
    # Accented names survive as ASCII: the tutorial's "Ślusàrski" example.
    assert "Slusarski" in dataset.names


def test_empty_names_are_excluded_and_counted(tmp_path, names_dir):
    folder = _copy_names(names_dir, tmp_path / "names")
    with open(folder / "Korean.txt", "a", encoding="utf-8") as handle:
        handle.write("😀\n🎉🎉\nKim😀\n")
    data = names.load_names(folder)
    assert data.empty_after_cleaning == 2
    assert data.counts["Korean"] == 94 + 1
    assert data.names_with_dropped_chars == 1 + 3
    assert len(data) == TOTAL_NAMES + 1


def test_validate_rejects_missing_extra_empty_and_non_utf8(tmp_path, names_dir):
    folder = _copy_names(names_dir, tmp_path / "names")
    names.validate_names_dir(folder)

    (folder / "Greek.txt").unlink()
    with pytest.raises(DatasetError, match="missing 1 of the 18 language files: Greek.txt"):
        names.validate_names_dir(folder)
    shutil.copy(names_dir / "Greek.txt", folder / "Greek.txt")

    (folder / "Klingon.txt").write_text("Worf\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="Klingon.txt"):
        names.validate_names_dir(folder)
    (folder / "Klingon.txt").unlink()

    (folder / "Irish.txt").write_text("\n  \n", encoding="utf-8")
    with pytest.raises(DatasetError, match="Irish.txt .* is empty"):
        names.validate_names_dir(folder)

    (folder / "Irish.txt").write_bytes(b"Murphy\nM\xfcller\n")
    with pytest.raises(DatasetError, match=r"Irish.txt .* not UTF-8 text \(byte 0xfc at position 8\)"):
        names.validate_names_dir(folder)


def test_load_names_from_uploaded_zip(names_dir):
    uploaded = build_zip(
        {**names_zip_members(names_dir, prefix="my upload/nested/"), "README.md": b"hi"}
    )
    data = names.load_names_from_zip(uploaded)
    assert len(data) == TOTAL_NAMES
    assert data.counts["Russian"] == RUSSIAN_NAMES


def test_load_names_from_zip_rejects_bad_uploads(names_dir):
    members = names_zip_members(names_dir, prefix="")
    with pytest.raises(DatasetError, match="limit"):
        names.load_names_from_zip(build_zip(members), max_bytes=1000)
    with pytest.raises(DatasetError, match="not a readable zip"):
        names.load_names_from_zip(b"PK\x03\x04 definitely not a zip")
    with pytest.raises(DatasetError, match="missing 1 .*Vietnamese.txt"):
        names.load_names_from_zip(build_zip({k: v for k, v in members.items() if "Viet" not in k}))
    with pytest.raises(DatasetError, match="Arabic.txt twice"):
        names.load_names_from_zip(build_zip({**members, "copy/Arabic.txt": members["Arabic.txt"]}))


def _distinct_names_per_language(names_dir: Path) -> dict[str, set[str]]:
    """Each language file's names as the model reads them, straight from the files."""
    return {lang: {kept for line in (names_dir / f"{lang}.txt").read_text(encoding="utf-8").splitlines()
                   if (kept := names.normalise_name(line).kept)}
            for lang in names.LANGUAGES}


def _names_of(dataset: names.NamesDataset, idx: np.ndarray) -> set[str]:
    return {dataset.names[i] for i in idx}


def test_the_files_repeat_names_so_a_row_split_leaks(names_dir, dataset):
    # The reason for splitting by name, read off the files: Arabic lists about 108 names 2,000 times.
    arabic_lines = [line.strip() for line in (names_dir / "Arabic.txt").read_text(encoding="utf-8").splitlines()
                    if line.strip()]
    assert len(arabic_lines) == 2000 and len(set(arabic_lines)) < 120
    # ... so a row-by-row split holds out rows whose very name (and language) is trained on.
    train, test = names.stratified_split(dataset.labels, test_fraction=0.1, seed=0)
    trained_pairs = {(dataset.names[i], dataset.labels[i]) for i in train}
    leaked = [i for i in test if (dataset.names[i], dataset.labels[i]) in trained_pairs]
    assert len(leaked) > 0.05 * len(test)
    arabic = names.LANGUAGES.index("Arabic")
    assert all(i in set(leaked) for i in test if dataset.labels[i] == arabic)


def test_grouped_split_never_puts_a_name_on_both_sides(names_dir, dataset):
    train, test = names.grouped_split(dataset.names, dataset.labels, test_fraction=0.1, seed=0)
    assert np.array_equal(np.sort(np.concatenate([train, test])), np.arange(len(dataset)))
    train_names, test_names = _names_of(dataset, train), _names_of(dataset, test)
    assert not train_names & test_names
    # every copy of a held-out name, under every language, is held out with it
    for name in test_names:
        assert all(i in set(test) for i in np.flatnonzero(np.asarray(dataset.names, dtype=object) == name)), name
    # about 10% of the distinct names held out, and about 10% of the rows with them
    all_names = set(dataset.names)
    assert len(test_names) / len(all_names) == pytest.approx(0.1, abs=0.005)
    assert 0.08 < len(test) / len(dataset) < 0.12
    # every language on both sides, with about 10% of its distinct names (as its file lists them) held out
    per_language = _distinct_names_per_language(names_dir)
    for label, lang in enumerate(names.LANGUAGES):
        held_out = {dataset.names[i] for i in test if dataset.labels[i] == label}
        trained = {dataset.names[i] for i in train if dataset.labels[i] == label}
        assert held_out and trained, lang
        assert held_out | trained == per_language[lang], lang
        assert abs(len(held_out) - 0.1 * len(per_language[lang])) <= 1, lang


def test_grouped_split_is_reproducible_from_its_seed(dataset):
    _, test = names.grouped_split(dataset.names, dataset.labels, test_fraction=0.1, seed=0)
    _, again = names.grouped_split(dataset.names, dataset.labels, test_fraction=0.1, seed=0)
    _, other = names.grouped_split(dataset.names, dataset.labels, test_fraction=0.1, seed=1)
    assert _names_of(dataset, test) == _names_of(dataset, again)
    assert _names_of(dataset, test) != _names_of(dataset, other)


def test_grouped_split_keeps_a_name_of_several_languages_on_one_side():
    # "Smith" is in both languages and twice in one; "Solo" is the only name of language 2.
    names_ = ["Smith", "Smith", "Jones", "Brown", "Green", "Smith", "Muller", "Weber", "Solo"]
    labels = np.array([0, 0, 0, 0, 0, 1, 1, 1, 2])
    for seed in range(30):
        train, test = names.grouped_split(names_, labels, test_fraction=0.3, seed=seed)
        assert sorted(np.concatenate([train, test]).tolist()) == list(range(len(names_)))
        smith_sides = {i in set(test) for i, name in enumerate(names_) if name == "Smith"}
        assert len(smith_sides) == 1, seed
        assert {names_[i] for i in train}.isdisjoint(names_[i] for i in test)
        assert 8 in set(train)  # a language with a single name cannot be tested
        for label in (0, 1):
            assert label in labels[test] and label in labels[train], seed
    with pytest.raises(ValueError):
        names.grouped_split(names_, labels, test_fraction=1.0)
    with pytest.raises(ValueError):
        names.grouped_split(names_[:-1], labels)


def test_stratified_split_small_classes():
    labels = np.array([0, 0, 1, 2, 2, 2])  # class 1 has one example: it cannot be tested
    train, test = names.stratified_split(labels, test_fraction=0.1, seed=3)
    assert sorted(labels[test].tolist()) == [0, 2]
    assert sorted(labels[train].tolist()) == [0, 1, 2, 2]
    with pytest.raises(ValueError):
        names.stratified_split(labels, test_fraction=1.0)


def test_encode_names_pads_with_zero():
    padded, lengths = names.encode_names(["Ab", "c", "O'Neill"])
    assert padded.dtype == torch.long and lengths.dtype == torch.long
    assert padded.shape == (3, 7)
    assert lengths.tolist() == [2, 1, 7]
    to_index = names.char_to_index()
    assert padded[0].tolist() == [to_index["A"], to_index["b"], 0, 0, 0, 0, 0]
    assert padded[1, 0].item() == to_index["c"] and (padded[1, 1:] == names.PAD_INDEX).all()
    to_char = names.index_to_char()
    assert "".join(to_char[i] for i in padded[2].tolist()) == "O'Neill"
    assert int(padded.max()) < names.NAME_VOCAB_SIZE


def test_encode_names_rejects_empty_and_unknown():
    with pytest.raises(ValueError, match="empty"):
        names.encode_names(["Ok", ""])
    with pytest.raises(ValueError, match="'/'"):
        names.encode_names(["Maxa/B"])
