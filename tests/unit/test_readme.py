"""The README's set-up commands are the ones CI runs, and the torch it names is the one pinned."""
import re

import torch

from tests.conftest import REPO_ROOT

README = (REPO_ROOT / "README.md").read_text()


def readme_commands() -> list[str]:
    """The lines of the README's first code block (before any comment)."""
    first_block = re.search(r"```(\w*)\n(.*?)```", README, re.S)
    assert first_block.group(1) == "bash", "the README's first code block is not the bash set-up block"
    return [line.split("#")[0].strip() for line in first_block.group(2).strip().splitlines()]


def requirement_lines(name: str) -> list[str]:
    lines = (REPO_ROOT / name).read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def test_readme_opens_with_exactly_the_two_setup_commands():
    assert readme_commands() == [
        "pip install -r requirements.txt && streamlit run app.py",
        "pip install -r requirements-dev.txt && python -m pytest",
    ]
    # and nothing but the title and the tagline comes before them
    before = README[: README.index("```bash")]
    assert [line for line in before.splitlines() if line.strip()][0] == "# rnnviz"
    assert "```" not in before


def test_ci_ends_by_running_exactly_the_readme_test_command():
    ci_commands = [line.strip() for line in (REPO_ROOT / ".ci" / "run").read_text().splitlines()
                   if line.strip() and not line.lstrip().startswith("#")]
    assert ci_commands[0] == "set -euo pipefail"  # a failing install fails CI
    assert ci_commands[-1] == readme_commands()[1]
    assert sum("pytest" in line for line in ci_commands) == 1  # no other, different test run


def test_requirements_pin_torch_to_exactly_2_13_0():
    runtime = requirement_lines("requirements.txt")
    torch_lines = [line for line in runtime if re.match(r"torch\b", line)]
    assert torch_lines == ["torch==2.13.0"]
    # the dev requirements add to the runtime ones and never pin torch differently
    dev = requirement_lines("requirements-dev.txt")
    assert "-r requirements.txt" in dev
    assert not [line for line in dev if re.match(r"torch\b", line)]


def test_requirements_name_the_cpu_wheel_index_so_cloud_needs_no_edit():
    """Community Cloud installs requirements.txt as is: the CPU index must be in the file itself,
    before the torch pin it serves, and the README must not ask for an edit."""
    lines = requirement_lines("requirements.txt")
    index = "--extra-index-url https://download.pytorch.org/whl/cpu"
    assert index in lines
    pinned = next(line for line in lines if line.startswith("torch=="))
    assert lines.index(index) < lines.index(pinned)
    version = pinned.removeprefix("torch==")
    assert f"`torch=={version}`" in README and f"{version}+cpu" in README
    assert "Nothing needs\nediting" in README or "Nothing needs editing" in README


def test_the_installed_torch_is_the_pinned_version():
    """What `pip install -r requirements.txt` gave (a local build label such as +cpu satisfies the pin)."""
    pinned = next(line for line in requirement_lines("requirements.txt") if line.startswith("torch=="))
    assert torch.__version__.split("+")[0] == pinned.removeprefix("torch==")
