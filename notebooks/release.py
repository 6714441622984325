"""Write the student release of the notebooks (`make student`): solutions out, outputs cleared.

Every notebook here with a solution between `### BEGIN SOLUTION` and `### END SOLUTION` (nbgrader's
markers) is copied to out/student/ with each solution replaced by a stub: in a code cell
`raise NotImplementedError()` at the marker's indentation, in a markdown cell "YOUR ANSWER HERE".
A stub at the top level of a cell raises when the cell runs, so later cells must not need its names.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
HERE = Path(__file__).resolve().parent


def strip_solutions(source: str, cell_type: str = "code") -> str:
    """The cell's source with each marked solution replaced by a stub (ValueError if unbalanced)."""
    kept: list[str] = []
    inside = False
    for line in source.split("\n"):
        marker = line.strip()
        if marker == BEGIN:
            if inside:
                raise ValueError(f"{BEGIN!r} inside a solution: close the first with {END!r}")
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            if cell_type == "code":
                kept += [f"{indent}# YOUR CODE HERE", f"{indent}raise NotImplementedError()"]
            else:
                kept.append(f"{indent}YOUR ANSWER HERE")
        elif marker == END:
            if not inside:
                raise ValueError(f"{END!r} without {BEGIN!r}")
            inside = False
        elif not inside:
            kept.append(line)
    if inside:
        raise ValueError(f"{BEGIN!r} without {END!r}")
    return "\n".join(kept)


def has_solutions(notebook: nbformat.NotebookNode) -> bool:
    """True when some cell holds a marked solution."""
    return any(BEGIN in cell.source for cell in notebook.cells)


def student_version(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy with every solution stubbed and every output and execution count cleared."""
    student = nbformat.from_dict(notebook)
    for cell in student.cells:
        cell.source = strip_solutions(cell.source, cell.cell_type)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
            cell.metadata.pop("execution", None)
    return student


def release(notebooks: list[Path], out: Path) -> list[Path]:
    """Write the student version of each notebook that has solutions into `out`; their paths."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sorted(notebooks):
        notebook = nbformat.read(path, as_version=4)
        if has_solutions(notebook):
            try:
                student = student_version(notebook)
            except ValueError as error:
                raise ValueError(f"{path.name}: {error}") from None
            nbformat.write(student, out / path.name)
            written.append(out / path.name)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: notebooks/*.ipynb")
    parser.add_argument("--out", type=Path, default=HERE.parent / "out" / "student")
    args = parser.parse_args(argv)
    written = release(args.notebooks or sorted(HERE.glob("*.ipynb")), args.out)
    for path in written:
        print(f"wrote {path}")
    if not written:
        print("no notebook has a ### BEGIN SOLUTION marker", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
