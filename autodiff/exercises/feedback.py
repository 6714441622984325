"""What every exercise checker returns: one line of feedback per place, in the chapter's terms.

`Feedback` is truthy when every place is right, prints as text and shows as HTML in Jupyter.
`read_answer` and `read_number` turn whatever a student wrote (a number, a list, a function that
still raises NotImplementedError, None) into a value or a "not done yet", never a traceback;
`grade` turns one number into a line.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..ops import is_real
from ..value import Value

RIGHT = "right"
WRONG = "wrong"
NOT_DONE = "not done yet"
_MARKS = {RIGHT: "✓", WRONG: "✗", NOT_DONE: "…"}
_COLOURS = {RIGHT: "#1a7f37", WRONG: "#cf222e", NOT_DONE: "#9a6700"}


@dataclass(frozen=True)
class Line:
    """One place of an answer (a cell, a unit, an entry): its status and what to look at."""

    place: str
    status: str  # RIGHT, WRONG or NOT_DONE
    message: str = ""


class Feedback:
    """A checker's verdict, place by place: truthy when every place is right."""

    def __init__(self, title: str, lines: list[Line]) -> None:
        self.title = title
        self.lines = lines

    def __bool__(self) -> bool:
        return bool(self.lines) and all(line.status == RIGHT for line in self.lines)

    @property
    def wrong(self) -> list[str]:
        """The places whose answer is there but wrong."""
        return [line.place for line in self.lines if line.status == WRONG]

    @property
    def not_done(self) -> list[str]:
        """The places with no answer yet."""
        return [line.place for line in self.lines if line.status == NOT_DONE]

    @property
    def summary(self) -> str:
        """One sentence: all right, or how many places are wrong and how many not done."""
        if self:
            return f"all {len(self.lines)} right"
        if len(self.not_done) == len(self.lines):
            return "not done yet"
        parts = [f"{len(self.wrong)} wrong"] if self.wrong else []
        if self.not_done:
            parts.append(f"{len(self.not_done)} not done yet")
        right = len(self.lines) - len(self.wrong) - len(self.not_done)
        return f"{right} of {len(self.lines)} right; " + ", ".join(parts)

    def _shown(self) -> list[tuple[Line, bool]]:
        """The lines to show, each with whether it stands for several places: the right ones on
        one line, the plainly not-done ones on one line, each other place on its own."""
        right = [line.place for line in self.lines if line.status == RIGHT]
        plain = [
            line.place
            for line in self.lines
            if line.status == NOT_DONE and line.message in ("", NOT_DONE)
        ]
        shown = [(Line(", ".join(right), RIGHT, RIGHT), True)] if right else []
        shown += [(line, False) for line in self.lines if line.place not in right + plain]
        if plain:
            shown.append((Line(", ".join(plain), NOT_DONE, NOT_DONE), True))
        return shown

    def __str__(self) -> str:
        shown = self._shown()
        width = max((len(line.place) for line, group in shown if not group), default=0)
        rows = [
            f"  {_MARKS[line.status]} {line.status}: {line.place}"
            if group
            else f"  {_MARKS[line.status]} {line.place.ljust(width)}  {line.message}"
            for line, group in shown
        ]
        return "\n".join([f"{self.title}: {self.summary}", *rows])

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        """A table for Jupyter: a coloured mark, the place(s) and the message; all text escaped."""
        parts = [  # the title above the table, not a caption, which wraps at the table's width
            f'<div class="tracegrad-feedback"><div>{html.escape(self.title)}: '
            f"<b>{html.escape(self.summary)}</b></div>",
            "<table><tbody>",
        ]
        for line, group in self._shown():
            mark = f'<td style="color:{_COLOURS[line.status]}">{_MARKS[line.status]}</td>'
            place = f"<code>{html.escape(line.place)}</code>"
            if group:  # "right: v1, v2, v3" spans both columns, as in the text
                cells = f'<td colspan="2" style="text-align:left">{line.status}: {place}</td>'
            else:
                message = html.escape(line.message or line.status)
                cells = f'<td style="text-align:left;padding-right:1em">{place}</td>'
                cells += f'<td style="text-align:left">{message}</td>'
            parts.append(f"<tr>{mark}{cells}</tr>")
        parts.append("</tbody></table></div>")
        return "\n".join(parts)


class NotDoneError(Exception):
    """An answer that is not there yet (a stub, None, ...), or one that cannot be read."""

    def __init__(self, message: str = NOT_DONE) -> None:
        super().__init__(message)
        self.message = message


def read_answer(answer: Any) -> Any:
    """The student's answer: a function is called (its NotImplementedError means not done yet)."""
    if callable(answer) and not isinstance(answer, Value):
        try:
            answer = answer()
        except NotImplementedError:
            raise NotDoneError() from None
        except Exception as error:  # the student's code failed: say how, do not crash
            raise NotDoneError(f"your function raised {type(error).__name__}: {error}") from None
    if answer is None or answer is Ellipsis:
        raise NotDoneError()
    return answer


def read_number(answer: Any) -> float:
    """One number of an answer: a real number or a Value (its data); else NotDoneError."""
    if answer is None or answer is Ellipsis:
        raise NotDoneError()
    if isinstance(answer, Value):
        return answer.data
    if isinstance(answer, bool) or not is_real(answer):
        raise NotDoneError(f"expected a number, got {type(answer).__name__} {answer!r:.40}")
    number = float(answer)
    if not math.isfinite(number):
        raise NotDoneError(f"expected a finite number, got {number}")
    return number


def grade(
    place: str, entry: Any, expected: float, rtol: float, reveal: bool, hint: Callable[[float], str]
) -> Line:
    """One number of an answer: not done yet, right, or wrong with `hint(number)` as the reason."""
    try:
        number = read_number(entry)
    except NotDoneError as missing:
        return Line(place, NOT_DONE, missing.message)
    if close(number, expected, rtol):
        return Line(place, RIGHT)
    return Line(place, WRONG, hint(number) + should_be(expected, reveal))


def close(answer: float, expected: float, rtol: float) -> bool:
    """True when `answer` agrees with `expected` to a relative `rtol` (absolute near 0)."""
    return math.isclose(answer, expected, rel_tol=rtol, abs_tol=rtol * 1e-3)


def should_be(expected: float, reveal: bool) -> str:
    """ " (should be 2.718)" for the teacher; "" for the student, who is not told the number."""
    return f" (should be {expected:.6g})" if reveal else ""
