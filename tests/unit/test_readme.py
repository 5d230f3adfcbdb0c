"""The README's set-up commands are the ones CI runs."""
import re

from tests.conftest import REPO_ROOT


def readme_commands() -> list[str]:
    text = (REPO_ROOT / "README.md").read_text()
    block = re.search(r"```bash\n(.*?)```", text, re.S).group(1)
    return [line.split("#")[0].strip() for line in block.strip().splitlines()]


def test_readme_opens_with_the_two_setup_commands():
    run_app, run_tests = readme_commands()
    assert run_app == "pip install -r requirements.txt && streamlit run app.py"
    assert run_tests.startswith("pip install -r requirements-dev.txt") and "pytest" in run_tests


def test_ci_runs_exactly_the_readme_test_command():
    ci_lines = [line.strip() for line in (REPO_ROOT / ".ci" / "run").read_text().splitlines()]
    assert readme_commands()[1] in ci_lines


def test_torch_is_pinned_to_the_cpu_build_on_disk():
    assert "torch==2.13.0" in (REPO_ROOT / "requirements.txt").read_text().splitlines()
