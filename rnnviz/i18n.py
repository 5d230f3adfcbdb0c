"""Translations: every word of the app in English or Simplified Chinese (gettext style).

For translators and page authors
--------------------------------
Mark every user-facing string where it is used, with its English text as the message id::

    from rnnviz.i18n import _, N_

    st.button(_("Train"))
    st.caption(_("Step {step} of {total}", step=3, total=9))   # named placeholders, filled after translating
    LABELS = {"adam": N_("Adam optimizer")}                      # module level: mark only ...
    st.write(translate(LABELS[key]))                            # ... and translate where it is shown

- The first argument of ``_`` / ``N_`` / ``pgettext`` is always a string LITERAL (no f-string, no
  variable, no ``+``): the extraction test reads it from the source with ``ast``. Put values in
  ``{named}`` placeholders and pass them as keywords; never build a sentence from translated pieces
  (word order differs in Chinese). Literal braces (LaTeX) are fine in a string without keywords;
  a string with keywords needs them doubled (``{{`` ``}}``), as in ``str.format``.
- ``translate(text, **named)`` is ``_`` for a value that is not a literal (a constant marked with
  ``N_`` elsewhere, a label from a table). The checks do not see it, so mark the text with ``N_``.
- ``pgettext(context, msgid, **named)`` when one English text needs two Chinese ones
  ("Step" the button is 单步, "Step" on an axis is 训练步): ``pgettext("axis", "Step")``.
- Translate when drawing, not at import and not inside ``st.cache_*`` functions (a cached result
  would keep the language of the first visitor; pass ``language()`` as an argument if you must).
  ``_`` reads the current language from a ContextVar: a page run sets it at its start
  (``rnnviz.ui.choose_language`` in app.py), and Streamlit fragments and widget callbacks, which run
  in a fresh context, get it from the session through a fallback the ui layer installs. Code in a
  thread of its own (a training thread) sees English unless it runs ``with using(code):``.
- In a module that translates, ``_`` is the translation function: never use it as a throwaway name
  (``logits, _ = model(x)`` makes ``_`` a tensor there); the extraction test flags it.
- Keep code as code: ``nn.RNN``, ``batch_first``, ``h_t`` stay in backticks/LaTeX, untranslated.
  Use the terms of ``shared/GLOSSARY-zh.md`` exactly.

Catalogues: ``rnnviz/locale/zh/LC_MESSAGES/<area>.po``, one per area so translators never edit the
same file: shell (app.py, app_pages/home.py, rnnviz/ui), sequence, names, charlm, inside (the pages
and their lessons), viz (figure builders), core (core, data, lessons' shared error messages).
All ``*.po`` of a language are read (with babel) at first use and merged. An id may appear in two
files only with the same translation. Fuzzy entries count as untranslated.

Workflow for a translator::

    python -m rnnviz.i18n missing app_pages/names.py rnnviz/lessons/names   # untranslated ids, as .po
    # paste the output into rnnviz/locale/zh/LC_MESSAGES/names.po and fill each msgstr
    python -m pytest tests/unit/test_i18n.py                                   # every id translated,
                                                                               # placeholders equal, no stale entries
    python -m rnnviz.i18n check                                                # the same checks, as a listing

In AppTests, ``tests.i18n_helpers.english_sentences(page_texts(at))`` finds English left on a page
run with ``at.query_params["lang"] = "zh"``.

This module imports no streamlit (lessons and figure builders use it too).
"""
from __future__ import annotations

import ast
import contextvars
import re
import sys
import threading
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

DEFAULT_LANGUAGE = "en"
LANGUAGES = ("en", "zh")  # English is the message ids themselves: it has no catalogue
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN_DIR = "LC_MESSAGES"

# None: not set in this context, ask the fallback (the session's choice), else English.
_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("rnnviz_language", default=None)
_fallback: Callable[[], str | None] | None = None


def normalise(code: str | None) -> str | None:
    """'zh', 'zh-CN', 'zh_Hans_CN' -> 'zh'; 'en-GB' -> 'en'; anything else -> None."""
    if not code:
        return None
    base = re.split(r"[-_]", code.strip().lower(), maxsplit=1)[0]
    return base if base in LANGUAGES else None


def set_language(code: str) -> None:
    """Make ``code`` the language of this context (this script run or thread)."""
    lang = normalise(code)
    if lang is None:
        raise ValueError(f"unsupported language {code!r}; supported: {', '.join(LANGUAGES)}")
    _current.set(lang)


def language() -> str:
    """The current language: this context's, else the fallback's (the Streamlit session's), else 'en'."""
    lang = _current.get()
    if lang is None and _fallback is not None:
        try:
            lang = normalise(_fallback())
        except Exception:  # a fallback must never break a translation
            lang = None
    return lang or DEFAULT_LANGUAGE


def set_fallback(resolver: Callable[[], str | None] | None) -> None:
    """Where ``language()`` looks when this context set none (the ui layer: the session's choice)."""
    global _fallback
    _fallback = resolver


@contextmanager
def using(code: str) -> Iterator[None]:
    """Translate into ``code`` inside the block, then restore the previous language."""
    lang = normalise(code)
    if lang is None:
        raise ValueError(f"unsupported language {code!r}")
    token = _current.set(lang)
    try:
        yield
    finally:
        _current.reset(token)


# --- catalogues --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Entry:
    msgid: str
    msgstr: str
    context: str | None
    file: str
    line: int
    fuzzy: bool = False


_catalogues: dict[str, dict[tuple[str | None, str], str]] = {}
_load_lock = threading.Lock()


def catalogue_files(lang: str) -> list[Path]:
    return sorted((LOCALE_DIR / lang / DOMAIN_DIR).glob("*.po"))


def read_entries(lang: str) -> list[Entry]:
    """Every translated, non-fuzzy entry of every .po file of ``lang``, in file order."""
    return [e for path in catalogue_files(lang) for e in _read_file(path) if not e.fuzzy]


def _read_file(path: Path) -> list[Entry]:
    from babel.messages.pofile import read_po

    with path.open("rb") as f:
        catalog = read_po(f, locale=None, abort_invalid=True)
    return [Entry(m.id, m.string or "", m.context, path.name, getattr(m, "lineno", 0) or 0, m.fuzzy)
            for m in catalog if m.id and isinstance(m.id, str)]


def catalogue_conflicts(lang: str) -> list[str]:
    """Ids translated differently in two places (the catalogue must give one answer)."""
    seen: dict[tuple[str | None, str], Entry] = {}
    problems = []
    for path in catalogue_files(lang):  # babel merges an id repeated in one file: count the raw ids
        raw = len(re.findall(r"^msgid ", path.read_text(encoding="utf-8"), flags=re.M)) - 1  # minus the header
        parsed = sum(1 for e in _read_file(path))
        if raw != parsed:
            problems.append(f"{path.name}: {raw - parsed} message id(s) appear twice in the file")
    for entry in read_entries(lang):
        if not entry.msgstr:
            continue
        key = (entry.context, entry.msgid)
        first = seen.setdefault(key, entry)
        if first is not entry and first.msgstr != entry.msgstr:
            problems.append(f"{entry.msgid!r} (context {entry.context!r}): {first.msgstr!r} in {first.file}, "
                            f"{entry.msgstr!r} in {entry.file}")
    return problems


def catalogue(lang: str) -> dict[tuple[str | None, str], str]:
    """The merged translations of ``lang``, loaded once per process. On a conflict the first file
    (alphabetically) wins, with a warning; the tests fail on it."""
    cat = _catalogues.get(lang)
    if cat is not None:
        return cat
    with _load_lock:
        if lang not in _catalogues:
            merged: dict[tuple[str | None, str], str] = {}
            if lang != DEFAULT_LANGUAGE:
                for entry in read_entries(lang):
                    if entry.msgstr:
                        merged.setdefault((entry.context, entry.msgid), entry.msgstr)
                for problem in catalogue_conflicts(lang):
                    warnings.warn(f"rnnviz.i18n: conflicting translations: {problem}", stacklevel=2)
            _catalogues[lang] = merged
        return _catalogues[lang]


def reload_catalogues() -> None:
    """Forget loaded catalogues (tests, or a translator's running app)."""
    with _load_lock:
        _catalogues.clear()


def _lookup(context: str | None, msgid: str) -> str:
    lang = language()
    if lang == DEFAULT_LANGUAGE:
        return msgid
    return catalogue(lang).get((context, msgid)) or msgid


def _fill(text: str, msgid: str, named: dict) -> str:
    if not named:
        return text
    try:
        return text.format(**named)
    except (KeyError, IndexError, ValueError):  # a broken translation must not break the page
        return msgid.format(**named)


def _(msgid: str, **named) -> str:
    """``msgid`` in the current language, its ``{named}`` placeholders filled."""
    return _fill(_lookup(None, msgid), msgid, named)


def pgettext(context: str, msgid: str, **named) -> str:
    """``_`` with a context, for one English text that needs two translations."""
    return _fill(_lookup(context, msgid), msgid, named)


def translate(text: str, **named) -> str:
    """``_`` for a non-literal text (marked with ``N_`` where it is defined). Unknown text passes through."""
    return _fill(_lookup(None, text), text, named)


def N_(msgid: str) -> str:
    """Mark ``msgid`` for extraction; translate it later with ``translate``."""
    return msgid


# --- extraction and checks (tests, the ``missing`` command) --------------------------------------

REPO_ROOT = Path(__file__).resolve().parents[1]
SOURCE_ROOTS = ("app.py", "app_pages", "rnnviz")
MARKERS = {"_": 0, "N_": 0, "pgettext": 1}  # function name -> index of the msgid argument
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(![rsa])?(:[^{}]*)?\}")


@dataclass(frozen=True)
class Use:
    msgid: str
    context: str | None
    file: str
    line: int


def placeholders(text: str) -> set[str]:
    """The ``{name}`` / ``{name:spec}`` fields of ``text`` (doubled braces are literal)."""
    return {m.group(0) for m in _PLACEHOLDER.finditer(text.replace("{{", "").replace("}}", ""))}


def source_files(paths: Iterable[str | Path] | None = None) -> list[Path]:
    """The .py files under ``paths`` (default: app.py, app_pages/, rnnviz/)."""
    files = []
    for p in paths or SOURCE_ROOTS:
        path = Path(p)
        path = path if path.is_absolute() else REPO_ROOT / path
        files.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    return files


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def extract(paths: Iterable[str | Path] | None = None) -> tuple[list[Use], list[str]]:
    """Every marked string in the sources, and every marking that is not a literal id (errors)."""
    uses, errors = [], []
    for path in source_files(paths):
        name = _relative(path)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=name)
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in MARKERS):
                continue
            where = f"{name}:{node.lineno}"
            index = MARKERS[node.func.id]
            args = node.args
            if len(args) <= index or any(isinstance(a, ast.Starred) for a in args):
                errors.append(f"{where}: {node.func.id}() needs a literal message id")
                continue
            literal = [a for a in args[: index + 1] if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            if len(literal) != index + 1:
                kind = "an f-string" if isinstance(args[index], ast.JoinedStr) else "not a string literal"
                errors.append(f"{where}: the message id of {node.func.id}() is {kind}; use a literal "
                              "with {named} placeholders")
                continue
            msgid = args[index].value
            context = args[0].value if index == 1 else None
            if node.func.id == "N_" and (len(args) > 1 or node.keywords):
                errors.append(f"{where}: N_() takes only the message id")
            given = {k.arg for k in node.keywords}
            if node.func.id != "N_" and given and None not in given:
                wanted = {_PLACEHOLDER.match(p).group(1) for p in placeholders(msgid)}
                if given != wanted:
                    errors.append(f"{where}: {msgid!r} has placeholders {sorted(wanted)} but is given {sorted(given)}")
            if not msgid.strip():
                errors.append(f"{where}: empty message id")
            uses.append(Use(msgid, context, name, node.lineno))
        translates = any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "_"
                         for n in ast.walk(tree))
        shadows = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id == "_"
                   and isinstance(n.ctx, ast.Store)]
        if translates and shadows:
            errors.append(f"{name}:{shadows[0]}: assigns to `_`, which shadows the translation function "
                          "in a module that translates; name the throwaway value (e.g. `_unused`)")
    uses.sort(key=lambda u: (u.file, u.line))
    return uses, errors


def check(lang: str = "zh", paths: Iterable[str | Path] | None = None) -> dict[str, list[str]]:
    """The problems the tests fail on, by kind: non-literal ids, untranslated ids, placeholder
    mismatches, conflicting and stale catalogue entries."""
    uses, errors = extract(paths)
    translations = {(e.context, e.msgid): e for e in read_entries(lang) if e.msgstr.strip()}
    all_entries = read_entries(lang)
    used = {(u.context, u.msgid) for u in uses}
    missing = sorted({f"{u.file}:{u.line}: {u.msgid!r}" for u in uses if (u.context, u.msgid) not in translations})
    mismatched = sorted(
        f"{e.file}: {e.msgid!r} has {sorted(placeholders(e.msgid))}, its translation {sorted(placeholders(e.msgstr))}"
        for e in translations.values() if placeholders(e.msgid) != placeholders(e.msgstr)
    )
    stale = [] if paths else sorted(f"{e.file}: {e.msgid!r}" for e in all_entries
                                     if (e.context, e.msgid) not in used)
    return {"not literal": errors, "untranslated": missing, "placeholders": mismatched,
            "conflicts": catalogue_conflicts(lang), "stale": stale}


def _po_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t")
    lines = escaped.split("\n")
    if len(lines) == 1:
        return f'"{lines[0]}"'
    parts = [line + "\\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])
    return '""\n' + "\n".join(f'"{p}"' for p in parts)


def missing_po(paths: Iterable[str | Path] | None = None, lang: str = "zh") -> str:
    """The untranslated ids used in ``paths``, as .po entries with empty msgstr, ready to paste."""
    uses, _errors = extract(paths)
    translated = {(e.context, e.msgid) for e in read_entries(lang) if e.msgstr.strip()}
    where: dict[tuple[str | None, str], list[str]] = {}
    for u in uses:
        if (u.context, u.msgid) not in translated:
            where.setdefault((u.context, u.msgid), []).append(f"{u.file}:{u.line}")
    blocks = []
    for (context, msgid), places in where.items():
        block = [f"#: {' '.join(places)}"]
        if context is not None:
            block.append(f"msgctxt {_po_string(context)}")
        block += [f"msgid {_po_string(msgid)}", 'msgstr ""']
        blocks.append("\n".join(block))
    return "\n\n".join(blocks) + ("\n" if blocks else "")


def main(argv: list[str]) -> int:
    usage = "usage: python -m rnnviz.i18n missing [files or folders...] | check"
    if not argv or argv[0] not in ("missing", "check"):
        print(usage, file=sys.stderr)
        return 2
    if argv[0] == "missing":
        sys.stdout.write(missing_po(argv[1:] or None))
        return 0
    problems = check()
    for kind, items in problems.items():
        for item in items:
            print(f"{kind}: {item}")
    return 1 if any(problems.values()) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
