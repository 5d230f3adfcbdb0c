"""The package's layers: data → core → lessons → viz → ui. Checked by importing in a fresh interpreter."""
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
NON_UI_FILES = sorted(p for p in (REPO_ROOT / "rnnviz").rglob("*.py")
                      if "ui" not in p.relative_to(REPO_ROOT / "rnnviz").parts)


def modules_of(subpackage: str) -> list[str]:
    out = []
    for path in sorted((REPO_ROOT / "rnnviz").rglob("*.py")):
        parts = path.relative_to(REPO_ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if len(parts) > 1 and parts[1] == subpackage:
            out.append(".".join(parts))
    return out


def loaded_after_import(modules: list[str]) -> set[str]:
    code = ("import importlib, sys\n"
            f"for m in {modules!r}: importlib.import_module(m)\n"
            "print('\\n'.join(sorted({m.split('.')[0] for m in sys.modules})))")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    return set(result.stdout.split())


@pytest.mark.parametrize("layer", ["core", "data", "lessons"])
def test_core_data_and_lessons_import_without_streamlit_or_plotly(layer):
    modules = modules_of(layer)
    assert modules, f"no modules found under rnnviz/{layer}"
    loaded = loaded_after_import(modules + ["rnnviz.pretrain"])
    assert "streamlit" not in loaded and "plotly" not in loaded, sorted(loaded & {"streamlit", "plotly"})


def test_figure_builders_import_without_streamlit():
    modules = modules_of("viz")
    assert len(modules) >= 5
    loaded = loaded_after_import(modules)
    assert "plotly" in loaded  # the import really happened
    assert "streamlit" not in loaded


def test_only_rnnviz_ui_imports_streamlit():
    offenders = [str(p.relative_to(REPO_ROOT)) for p in NON_UI_FILES
                 if "import streamlit" in p.read_text() or "from streamlit" in p.read_text()]
    assert offenders == []
