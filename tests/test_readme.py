"""The README's examples run as printed: each number in a comment and each output block is checked.

Each ```python block runs, in order, in one namespace (a later block may use an earlier one's `f`).
A statement whose comment starts with a number, list or tuple is evaluated and compared with it to
the digits shown ("..." marks a truncated number); a plain ``` block that follows a python block is
what that block prints.
"""

import ast
import contextlib
import io
import math
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```\n", re.MULTILINE | re.DOTALL)
NUMBER = re.compile(r"-?\d+(?:\.(\d+))?(?:e([-+]?\d+))?(\.\.\.)?")
SHOWN = re.compile(r"[\[(]*-?\d")  # a comment that starts with a number, a list or a tuple


def readme_blocks() -> list[tuple[str, str, str | None]]:
    """(python code, where, the output block after it or None) for each python block."""
    text = README.read_text(encoding="utf-8")
    fences = list(FENCE.finditer(text))
    blocks = []
    for k, fence in enumerate(fences):
        if fence.group(1) != "python":
            continue
        follows = fences[k + 1] if k + 1 < len(fences) else None
        output = None
        if follows and follows.group(1) == "" and follows.start() == fence.end():
            output = follows.group(2)
        line = text.count("\n", 0, fence.start()) + 1
        blocks.append((fence.group(2), f"README.md:{line}", output))
    return blocks


def flat_numbers(value) -> list[float]:
    """The numbers in a result, in order: a float, a list or tuple of them (nested), a Value."""
    if isinstance(value, (list, tuple)):
        return [x for item in value for x in flat_numbers(item)]
    return [float(getattr(value, "data", value))]


def assert_matches_shown(actual, comment: str, where: str) -> None:
    """Each number shown in the comment's leading literal agrees with the result to its digits."""
    literal = re.match(r"[\[\]()\s,.\d+eE-]+", comment).group(0)
    shown = list(NUMBER.finditer(literal))
    values = flat_numbers(actual)
    assert len(values) == len(shown), f"{where}: {actual!r} against '# {comment}'"
    for value, number in zip(values, shown):
        decimals = len(number.group(1) or "") - int(number.group(2) or 0)
        unit = 10.0**-decimals
        expected = float(number.group(0).removesuffix("..."))
        if number.group(3):  # truncated: the shown digits are a prefix of the value's
            agrees = 0 <= abs(value) - abs(expected) < unit and (value < 0) == (expected < 0)
        else:  # rounded: within half a unit of the last digit shown
            agrees = abs(value - expected) <= unit / 2 * 1.000001
        assert agrees, f"{where}: {value!r} is not the {number.group(0)} the README shows"


def run_block(code: str, where: str, namespace: dict) -> tuple[str, int]:
    """Run the block statement by statement; check commented results. (stdout, results checked)"""
    lines = code.splitlines()
    printed = io.StringIO()
    checked = 0
    with contextlib.redirect_stdout(printed):
        for statement in ast.parse(code).body:
            source = ast.get_source_segment(code, statement)
            comment = lines[statement.end_lineno - 1].partition("#")[2].strip()
            if not (isinstance(statement, ast.Expr) and SHOWN.match(comment)):
                exec(compile(source, where, "exec"), namespace)
                continue
            expression = statement.value
            is_print = (
                isinstance(expression, ast.Call) and getattr(expression.func, "id", "") == "print"
            )
            if is_print:
                expression = expression.args[0]
            result = eval(compile(ast.Expression(expression), where, "eval"), namespace)
            if is_print:
                print(result)
            assert_matches_shown(result, comment, f"{where} line {statement.end_lineno}")
            checked += 1
    return printed.getvalue(), checked


def test_the_readme_examples_give_the_numbers_and_tables_shown():
    namespace: dict = {}
    blocks = readme_blocks()
    assert len(blocks) >= 5
    checked = 0
    for code, where, output in blocks:
        printed, count = run_block(code, where, namespace)
        checked += count
        if output is not None:
            assert printed == output, f"{where}: the block prints\n{printed}"
    assert checked >= 11  # the commented results above are all read, not skipped


def test_the_readmes_links_point_to_files_in_the_repository():
    targets = re.findall(r"\]\(([^)#:]+)\)", README.read_text(encoding="utf-8"))
    assert "BENCHMARKS.md" in targets and "LICENSE" in targets
    for target in targets:
        assert (README.parent / target).is_file(), target


@pytest.mark.parametrize(
    ("actual", "comment", "passes"),
    [
        (2.387574478008472, "2.387574478008472", True),
        (1.031260909618964, "1.031260909618963", False),
        (0.27336, "0.2733...", True),
        (0.27346, "0.2733...", False),
        (0.27336, "0.2734...", False),
        (-0.27336, "-0.2733...", True),
        (0.529251, "0.52925", True),
        (0.52926, "0.52925", False),
        ([[3.0, 2.0], [1.0, 1.0]], "[[3.0, 2.0], [1.0, 1.0]]", True),
        ([[3.0, 2.0], [1.0, 1.5]], "[[3.0, 2.0], [1.0, 1.0]]", False),
        ((1.5585, 3.7979), "(1.5585, 3.7979), forward mode", True),
        (4.440892098500626e-16, "4.4e-16", True),
        (1e-6, "4.4e-16", False),
        ([1.0], "(1.0, 2.0)", False),
        (-math.pi, "-3.14 = -pi", True),
    ],
)
def test_shown_numbers_are_compared_to_their_digits(actual, comment, passes):
    if passes:
        assert_matches_shown(actual, comment, "example")
    else:
        with pytest.raises(AssertionError):
            assert_matches_shown(actual, comment, "example")
