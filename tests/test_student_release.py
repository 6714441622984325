"""`make student`: every notebook with solutions gets a student version, and that version runs.

The student version of each marked notebook is executed top to bottom: the only errors allowed are
the stubs' own NotImplementedError, and each check reports "not done yet" instead of a traceback.
(The teacher versions, solutions in, run under nbmake with the rest of the notebooks.)
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
spec = importlib.util.spec_from_file_location("release", NOTEBOOKS / "release.py")
release = importlib.util.module_from_spec(spec)
spec.loader.exec_module(release)

MARKED = [p for p in sorted(NOTEBOOKS.glob("*.ipynb")) if release.BEGIN in p.read_text("utf-8")]


def test_a_solution_becomes_a_stub_at_its_indentation():
    teacher = (
        "def f(x):\n    y = 2 * x\n    ### BEGIN SOLUTION\n    return y + 1\n    ### END SOLUTION"
    )
    assert release.strip_solutions(teacher) == (
        "def f(x):\n    y = 2 * x\n    # YOUR CODE HERE\n    raise NotImplementedError()"
    )
    assert release.strip_solutions("a\n### BEGIN SOLUTION\nb\n### END SOLUTION\nc", "markdown") == (
        "a\nYOUR ANSWER HERE\nc"
    )
    assert release.strip_solutions("no markers\n") == "no markers\n"


@pytest.mark.parametrize(
    "source",
    [
        "### BEGIN SOLUTION\nx = 1",
        "x = 1\n### END SOLUTION",
        "### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION",
    ],
)
def test_unbalanced_markers_are_refused(source):
    with pytest.raises(ValueError, match="SOLUTION"):
        release.strip_solutions(source)


def test_make_student_writes_every_marked_notebook_stubbed_and_cleared(tmp_path):
    assert NOTEBOOKS / "00_build_your_own.ipynb" in MARKED
    written = release.release(sorted(NOTEBOOKS.glob("*.ipynb")), tmp_path)
    assert [path.name for path in written] == [path.name for path in MARKED]
    for path in written:
        notebook = nbformat.read(path, as_version=4)
        text = path.read_text("utf-8")
        assert "SOLUTION" not in text and "NotImplementedError" in text
        code = [cell for cell in notebook.cells if cell.cell_type == "code"]
        assert all(cell.outputs == [] and cell.execution_count is None for cell in code)


@pytest.fixture(scope="module", params=[path.name for path in MARKED])
def executed_student_version(request, tmp_path_factory):
    out = tmp_path_factory.mktemp("student")
    (path,) = release.release([NOTEBOOKS / request.param], out)
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook, timeout=300, kernel_name="python3", allow_errors=True,
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )  # fmt: skip
    client.execute()
    return notebook


def test_the_student_version_runs_and_every_check_says_not_done_yet(executed_student_version):
    for cell in executed_student_version.cells:
        if cell.cell_type != "code":
            continue
        for output in cell.outputs:
            if output.output_type == "error":  # only a stub's own cell may raise, and only it
                assert output.ename == "NotImplementedError", (cell.source, output.evalue)
                assert "raise NotImplementedError()" in cell.source
            text = output.get("text", "") + output.get("data", {}).get("text/plain", "")
            assert "Traceback" not in text, cell.source
        if re.search(r"\bcheck_\w+\(", cell.source):  # check_engine, check_trace, ...
            assert "not done yet" in str(cell.outputs), cell.source


@pytest.mark.parametrize("path", MARKED, ids=[path.stem for path in MARKED])
def test_the_teacher_version_as_saved_passes_its_checks(path):
    notebook = nbformat.read(path, as_version=4)
    checks = [cell for cell in notebook.cells if "check_engine(" in cell.source]
    for cell in checks:
        assert "all pass" in str(cell.outputs), cell.source
