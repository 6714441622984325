"""The Makefile installs per target: each target's stamp names an extra that pyproject.toml defines,
and `make demo` installs none of the test and notebook tools."""

import re
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

ROOT = Path(__file__).resolve().parent.parent
MAKEFILE = (ROOT / "Makefile").read_text(encoding="utf-8")
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
EXTRAS = PROJECT["optional-dependencies"]


def requirements(extra: str) -> set[str]:
    """Every distribution an extra pulls in, following tracegrad[...] references."""
    found = set()
    for item in EXTRAS[extra]:
        name = re.match(r"[A-Za-z0-9_.-]+", item).group(0)
        if name == "tracegrad":
            for inner in re.search(r"\[(.*)\]", item).group(1).split(","):
                found |= requirements(inner.strip())
        else:
            found.add(name)
    return found


def stamp_of(target: str) -> str:
    """The extra whose stamp the target depends on."""
    line = re.search(rf"^{target}:(.*)$", MAKEFILE, re.MULTILINE).group(1)
    return re.search(r"\.installed-(\w+)", line).group(1)


@pytest.mark.parametrize(
    "target", ["install", "demo", "test", "lab", "student", "notebooks", "lint"]
)
def test_each_target_installs_an_extra_that_exists(target):
    assert stamp_of(target) in EXTRAS


def test_demo_installs_only_what_the_demo_imports():
    assert requirements(stamp_of("demo")) == {"graphviz", "matplotlib", "tqdm"}


def test_the_test_and_lab_targets_have_their_tools():
    assert {"pytest", "hypothesis", "nbmake", "nbformat"} <= requirements(stamp_of("test"))
    assert "jupyterlab" in requirements(stamp_of("lab"))
    assert "nbformat" in requirements(stamp_of("student"))


def test_the_license_file_is_the_one_pyproject_names():
    assert PROJECT["license"] == "MIT"
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
