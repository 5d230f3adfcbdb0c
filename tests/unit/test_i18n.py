"""Translations: every marked id is a literal, translated, with the same placeholders; catalogues are
tidy (no conflicts, nothing stale); the current language follows the context.

A translator runs this file after filling their area's .po (see rnnviz/i18n.py)."""
import threading
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from rnnviz import i18n
from rnnviz.i18n import N_, _, pgettext, translate, using
from tests.i18n_helpers import english_sentences

AREAS = ("shell", "sequence", "names", "charlm", "inside", "viz", "core")
PO_HEADER = 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'


def _listing(items):
    return "\n".join(items)


# --- the project's catalogues against its code ----------------------------------------------------

def test_every_area_has_a_valid_catalogue():
    names = {p.stem for p in i18n.catalogue_files("zh")}
    assert set(AREAS) <= names
    for path in i18n.catalogue_files("zh"):
        with path.open("rb") as f:
            read_po(f, abort_invalid=True)


def test_marked_strings_are_literal_ids():
    _uses, errors = i18n.extract()
    assert not errors, "translated strings must be literal ids with {named} placeholders:\n" + _listing(errors)


def test_every_marked_string_has_a_chinese_translation():
    missing = i18n.check()["untranslated"]
    assert not missing, ("untranslated (python -m rnnviz.i18n missing <files> prints them as .po):\n"
                         + _listing(missing))


def test_translations_keep_the_placeholders_of_their_id():
    assert not i18n.check()["placeholders"], _listing(i18n.check()["placeholders"])


def test_no_id_is_translated_twice_differently():
    assert not i18n.catalogue_conflicts("zh"), _listing(i18n.catalogue_conflicts("zh"))


def test_no_stale_catalogue_entries():
    stale = i18n.check()["stale"]
    assert not stale, "catalogue entries no code marks (delete them):\n" + _listing(stale)


def test_the_shell_speaks_chinese():
    with using("zh"):
        assert _("Train") == "训练"
        assert _("Home") == "首页"
        assert _("Open {title}", title=_("Sequence basics")) == "打开「序列基础」"


# --- the API ------------------------------------------------------------------------------------

def test_underscore_follows_using_and_restores_after():
    assert i18n.language() == "en"
    assert _("Train") == "Train"
    with using("zh"):
        assert i18n.language() == "zh"
        assert _("Train") == "训练"
        with using("en"):
            assert _("Train") == "Train"
        assert _("Train") == "训练"
    assert _("Train") == "Train"
    assert i18n.language() == "en"


def test_placeholders_are_filled_after_translating():
    msgid = "Paused automatically after {seconds:.0f} s of training; press Continue for more."
    assert _(msgid, seconds=12.4) == "Paused automatically after 12 s of training; press Continue for more."
    with using("zh"):
        assert _(msgid, seconds=12.4) == "已训练 12 秒，自动暂停；按“继续”接着训练。"
    assert _("Step {step} of {total}", step=3, total=9) == "Step 3 of 9"  # unknown ids pass through
    assert _("no {braces} filled without keywords") == "no {braces} filled without keywords"


def test_n_marks_and_translate_translates_later():
    label = N_("Training history (CSV)")
    assert label == "Training history (CSV)"
    with using("zh"):
        assert translate(label) == "训练历史（CSV）"
        assert translate("some data, not an id") == "some data, not an id"
        assert pgettext("no such context", "Train") == "Train"


def test_language_codes_are_normalised_and_checked():
    assert [i18n.normalise(c) for c in ("zh", "zh-CN", "zh_Hans_CN", "ZH-tw", "en-GB", "de", "", None)] == \
        ["zh", "zh", "zh", "zh", "en", None, None, None]
    with pytest.raises(ValueError):
        i18n.set_language("fr")
    with using("zh-CN"):
        assert i18n.language() == "zh"


def test_each_thread_has_its_own_language():
    barrier = threading.Barrier(2)
    seen = {}

    def worker(code):
        i18n.set_language(code)
        barrier.wait()  # both have set theirs before either reads
        seen[code] = (i18n.language(), _("Train"))

    threads = [threading.Thread(target=worker, args=(code,)) for code in ("zh", "en")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == {"zh": ("zh", "训练"), "en": ("en", "Train")}
    assert i18n.language() == "en"  # and the test's own thread is untouched


def test_the_fallback_answers_only_where_no_language_was_set():
    try:
        i18n.set_fallback(lambda: "zh")
        assert _("Train") == "训练"
        with using("en"):
            assert _("Train") == "Train"
        i18n.set_fallback(lambda: 1 / 0)  # a broken fallback means English, never an error
        assert _("Train") == "Train"
    finally:
        i18n.set_fallback(None)


def test_a_broken_translation_falls_back_to_the_english_format(monkeypatch):
    monkeypatch.setitem(i18n.catalogue("zh"), (None, "{n} apples"), "{m} 个苹果")
    with using("zh"):
        assert _("{n} apples", n=3) == "3 apples"


# --- the checks themselves, on made-up sources and catalogues ------------------------------------

@pytest.fixture
def locale_dir(tmp_path, monkeypatch):
    folder = tmp_path / "locale" / "zh" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path / "locale")
    i18n.reload_catalogues()
    yield folder
    i18n.reload_catalogues()


def _po(folder: Path, name: str, entries: dict[str, str]) -> None:
    body = "".join(f'msgid "{k}"\nmsgstr "{v}"\n\n' for k, v in entries.items())
    (folder / name).write_text(PO_HEADER + body, encoding="utf-8")


def test_a_conflict_between_two_area_files_is_found(locale_dir):
    _po(locale_dir, "a.po", {"Train": "训练", "Reset": "重置"})
    _po(locale_dir, "b.po", {"Train": "培训", "Reset": "重置"})  # the same translation twice is fine
    problems = i18n.catalogue_conflicts("zh")
    assert len(problems) == 1 and "'Train'" in problems[0] and "a.po" in problems[0] and "b.po" in problems[0]
    with pytest.warns(UserWarning, match="conflicting"):
        assert i18n.catalogue("zh")[(None, "Train")] == "训练"  # the first file wins, with a warning


def test_an_id_twice_in_one_file_is_found(locale_dir):
    (locale_dir / "a.po").write_text(PO_HEADER + 'msgid "Train"\nmsgstr "训练"\n\nmsgid "Train"\nmsgstr "培训"\n',
                                     encoding="utf-8")
    assert any("twice" in p for p in i18n.catalogue_conflicts("zh"))


def test_extraction_flags_non_literal_ids_and_wrong_keywords(tmp_path):
    source = tmp_path / "page.py"
    source.write_text(
        "from rnnviz.i18n import _, N_, pgettext\n"
        "name = 'x'\n"
        "_('Fine {n}', n=1)\n"
        "_(f'Hello {name}')\n"
        "_(name)\n"
        "_('Wrong {n}', m=1)\n"
        "_('Hello ' + name)\n"
        "pgettext('axis', 'Step')\n"
        "N_('Label')\n",
        encoding="utf-8",
    )
    uses, errors = i18n.extract([source])
    assert [(u.msgid, u.context) for u in uses] == [
        ("Fine {n}", None), ("Wrong {n}", None), ("Step", "axis"), ("Label", None)]
    assert len(errors) == 4, errors
    assert "f-string" in errors[0] and "not a string literal" in errors[1]
    assert "placeholders ['n'] but is given ['m']" in errors[2]


def test_extraction_flags_a_throwaway_underscore_in_a_translating_module(tmp_path):
    source = tmp_path / "page.py"
    source.write_text("from rnnviz.i18n import _\nx, _ = 1, 2\nprint(_('Train'))\n", encoding="utf-8")
    _uses, errors = i18n.extract([source])
    assert len(errors) == 1 and "shadows" in errors[0]


def test_placeholder_mismatch_and_stale_entries_are_found(locale_dir, tmp_path):
    source = tmp_path / "page.py"
    source.write_text("from rnnviz.i18n import _\n_('Step {step} of {total}', step=1, total=2)\n", encoding="utf-8")
    _po(locale_dir, "a.po", {"Step {step} of {total}": "第 {step} 步，共 {count} 步", "Old text": "旧"})
    monkeypatched = i18n.SOURCE_ROOTS
    try:
        i18n.SOURCE_ROOTS = (str(source),)
        problems = i18n.check()
    finally:
        i18n.SOURCE_ROOTS = monkeypatched
    assert len(problems["placeholders"]) == 1
    assert problems["stale"] == ["a.po: 'Old text'"]
    assert problems["untranslated"] == []


def test_missing_prints_paste_ready_po(locale_dir, tmp_path, capsys):
    source = tmp_path / "page.py"
    source.write_text('from rnnviz.i18n import _, pgettext\n_("Say \\"hi\\"\\nnow {n}", n=1)\n'
                      'pgettext("axis", "Step")\n_("Done")\n', encoding="utf-8")
    _po(locale_dir, "a.po", {"Done": "完成"})
    assert i18n.main(["missing", str(source)]) == 0
    printed = capsys.readouterr().out
    catalog = read_po(__import__("io").BytesIO((PO_HEADER + printed).encode()), abort_invalid=True)
    assert sorted((m.context or "", m.id) for m in catalog if m.id) == [("", 'Say "hi"\nnow {n}'), ("axis", "Step")]
    assert "page.py:2" in printed


# --- the helper the pages' tests use --------------------------------------------------------------

def test_english_sentences_finds_prose_and_ignores_code_latex_names_and_data():
    assert english_sentences(["Train for a few steps: the replay fills in.", "训练 press Continue 继续"]) == [
        "Train for a few steps the replay fills in"]
    assert english_sentences(["先训练几步，再按“继续”。"]) == []
    quiet = [
        "用 `nn.RNN(input_size, hidden_size, batch_first=True)` 读取序列",  # code
        "$h_t = \\tanh(x_t W_{xh} + h_{t-1} W_{hh} + b_h)$ 中的 W_hh",        # LaTeX, identifiers
        "周杰伦歌词 / Tiny Shakespeare 语料",                                    # a name
        "RNN、LSTM 和 GRU 的 softmax、top-k 采样",                               # acronyms, glossary terms
        "下载 tinyshakespeare.txt 或 https://example.org/a/long/path",            # files, URLs
        "Russian 91%",                                                            # a data label
        "<b>隐藏状态</b><br>h_t of unit 3",                                       # HTML; "of unit" is 2
        "生成：To be or not to be, that is the question",                          # allowed corpus text
    ]
    assert english_sentences(quiet, allow=["To be or not to be, that is the question"]) == []
    assert english_sentences(["Russian Polish Arabic"]) == ["Russian Polish Arabic"]
    assert english_sentences(["press Continue now"], min_words=4) == []
