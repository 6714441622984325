"""The teaching notebooks as committed: all there, each code cell explained and executed.

`make test` also runs every notebook top to bottom (nbmake); these checks cover what a run cannot:
the saved file itself, which is what readers see on GitHub.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
EXPECTED = [
    "00_build_your_own",
    "01_evaluation_trace",
    "02_backprop_network",
    "03_checking_gradients",
    "04_jacobian_hessian",
    "05_autodiff_vs_symbolic",
    "06_exercises_trace",
    "07_exercises_backprop",
    "08_exercises_derivatives",
]


NAMES = sorted(path.stem for path in NOTEBOOKS.glob("*.ipynb"))


def test_the_chapters_notebooks_are_there_and_numbered():
    assert set(EXPECTED) <= set(NAMES)
    assert all(re.fullmatch(r"\d\d_[a-z0-9_]+", name) for name in NAMES), NAMES


@pytest.fixture(params=NAMES)
def notebook(request):
    return nbformat.read(NOTEBOOKS / f"{request.param}.ipynb", as_version=4)


def test_opens_with_a_numbered_title(notebook):
    first = notebook.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# ")


def test_every_code_cell_follows_a_markdown_cell(notebook):
    for before, cell in zip(notebook.cells, notebook.cells[1:]):
        if cell.cell_type == "code":
            assert before.cell_type == "markdown", cell.source[:80]


def test_saved_with_outputs_from_one_clean_run(notebook):
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    # Executed top to bottom in one kernel: execution counts 1, 2, 3, ...
    assert [cell.execution_count for cell in code] == list(range(1, len(code) + 1))
    outputs = [output for cell in code for output in cell.outputs]
    assert outputs, "saved without outputs"
    assert not [output for output in outputs if output.output_type == "error"]
