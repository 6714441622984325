"""Grade a student's own micrograd-style Value class against the engine: `check_engine`.

Each case builds one graph twice, with the student's class and with `autodiff.Value`, runs
`backward()` on both and compares the adjoints of the inputs. The student's code runs in a worker
thread with a time limit, so a stub, a RecursionError or a runaway loop is a row of the report.
"""

from __future__ import annotations

import functools
import html
import math
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..value import Value

#: The adjoint sum of reverse mode, Bishop (8.69): every hint refers to it.
ADJOINT_SUM = "v̄_i = Σ_j v̄_j ∂v_j/∂v_i (8.69)"
DEEP = 10_000  # chain length: ten times Python's default recursion limit
DOUBLINGS = 40  # deepest doubling graph y = y + y: 41 nodes, 2^40 paths
THREAD_STACK = 64 * 2**20  # bytes: recursion stops at the recursion limit, not a stack overflow


@dataclass(frozen=True)
class Case:
    """One graded graph: `build(cls)` returns (output, {name: input}); `hint` names the mistake."""

    name: str
    build: Callable[[type], tuple[Any, dict[str, Any]]]
    hint: str
    needs: tuple[str, ...] = ()  # optional methods the case calls, e.g. ("tanh",)
    passes: int = 1  # how many times backward() is called
    wrong_hint: str = ""  # for wrong numbers, when `hint` is about an error instead


@dataclass(frozen=True)
class CaseResult:
    """One row of the report: ok, WRONG, ERROR, SLOW, not run, not done yet or skipped."""

    case: str
    status: str
    where: str = ""  # the first wrong input ("a") or "f.data" for a wrong forward value
    expected: float | None = None
    yours: Any = None
    hint: str = ""

    @property
    def passed(self) -> bool:
        """True when the case passes or was skipped (an optional method is missing)."""
        return self.status in ("ok", "skipped")


class EngineReport:
    """What `check_engine` found: truthy when every case passes; a table as text and as HTML."""

    def __init__(self, class_name: str, results: list[CaseResult]) -> None:
        self.class_name = class_name
        self.results = results

    def __bool__(self) -> bool:
        return all(result.passed for result in self.results)

    def __repr__(self) -> str:
        return str(self)

    @property
    def summary(self) -> str:
        """One line: how many cases pass, or what to do first."""
        graded = [r for r in self.results if r.status != "skipped"]
        passed = sum(r.status == "ok" for r in graded)
        skipped = len(self.results) - len(graded)
        also = f" ({skipped} skipped)" if skipped else ""
        if graded and all(r.status == "not done yet" for r in graded):
            return f"check_engine({self.class_name}): not done yet: fill in the blanks{also}"
        verdict = "all pass" if self else f"{passed} of {len(graded)} pass"
        advice = "" if self else "; start at the first failing row"
        return f"check_engine({self.class_name}): {len(graded)} cases, {verdict}{also}{advice}"

    def _cells(self, result: CaseResult) -> list[str]:
        shown = [_number(result.expected), _number(result.yours)] if result.where else ["", ""]
        return [result.case, result.status, result.where, *shown]

    def __str__(self) -> str:
        headers = ["case", "result", "input", "expected", "yours"]
        rows = [self._cells(result) for result in self.results]
        widths = [max(len(row[k]) for row in [headers, *rows]) for k in range(len(headers))]
        lines = [self.summary, "  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip()]
        shown = ""
        for result, row in zip(self.results, rows):
            lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
            if result.hint and result.status != "ok" and result.hint != shown:
                lines.append(f"    hint: {result.hint}")  # once for a run of equal hints
                shown = result.hint
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        colours = {"ok": "#1a7f37", "skipped": "#6e7781", "not run": "#6e7781"}
        colours["not done yet"] = "#9a6700"
        head = "".join(
            f"<th>{text}</th>" for text in ["case", "result", "input", "expected", "yours", "hint"]
        )
        body = []
        for result in self.results:
            cells = [*self._cells(result), result.hint if result.status != "ok" else ""]
            colour = colours.get(result.status, "#cf222e")
            tds = [f"<td>{html.escape(cell)}</td>" for cell in cells]
            tds[0] = f'<td style="text-align:left;white-space:nowrap">{html.escape(cells[0])}</td>'
            tds[1] = f'<td style="color:{colour};font-weight:bold">{html.escape(cells[1])}</td>'
            tds[2] = f'<td style="white-space:nowrap">{html.escape(cells[2])}</td>'
            tds[5] = f'<td style="text-align:left">{html.escape(cells[5])}</td>'
            body.append(f"<tr>{''.join(tds)}</tr>")
        return (
            f"<table><caption>{html.escape(self.summary)}</caption>"
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
        )


def _number(x: Any) -> str:
    return f"{x:.10g}" if isinstance(x, float) else str(x)


# --- the cases ---------------------------------------------------------------------------


def _product_and_sum(cls: type) -> tuple[Any, dict[str, Any]]:
    a, b, c = cls(2.0), cls(-3.0), cls(10.0)
    return a * b + c, {"a": a, "b": b, "c": c}


def _numbers_either_side(cls: type) -> tuple[Any, dict[str, Any]]:
    a, b = cls(1.5), cls(-0.5)
    return (2.0 + a) * (3.0 * b) + 4.0, {"a": a, "b": b}


def _fan_out(cls: type) -> tuple[Any, dict[str, Any]]:
    a, b, c = cls(2.0), cls(-3.0), cls(5.0)
    return a * b + a * c, {"a": a, "b": b, "c": c}


def _same_input_added(cls: type) -> tuple[Any, dict[str, Any]]:
    a = cls(3.0)
    return a + a, {"a": a}


def _same_input_multiplied(cls: type) -> tuple[Any, dict[str, Any]]:
    x = cls(3.0)
    return x * x, {"x": x}


def _uneven_diamond(cls: type) -> tuple[Any, dict[str, Any]]:
    a, b = cls(0.5), cls(-1.5)
    x = a * b  # x reaches f along a short path and a long one
    short = x * 2.0
    long = ((x + 1.0) * 3.0 + 2.0) * 0.5
    return short + long, {"a": a, "b": b}


def _neuron(cls: type) -> tuple[Any, dict[str, Any]]:
    x, w, b = cls(0.8), cls(-1.2), cls(0.3)
    return (x * w + b).tanh(), {"x": x, "w": w, "b": b}


def _twice(cls: type) -> tuple[Any, dict[str, Any]]:
    a, b, c = cls(2.0), cls(-1.0), cls(0.5)
    return ((a * b + c) * 2.0 + 1.0) * 3.0, {"a": a, "b": b, "c": c}


def _deep_chain(cls: type) -> tuple[Any, dict[str, Any]]:
    a = cls(1.0)
    y = a
    for _ in range(DEEP):
        y = y * 1.0001
    return y, {"a": a}


CASES = [
    Case(
        "a * b + c",
        _product_and_sum,
        f"the local derivatives are ∂(u + v)/∂u = 1 and ∂(u·v)/∂u = v; backward() starts from "
        f"f̄ = 1 and gives each input {ADJOINT_SUM}",
    ),
    Case(
        "(2 + a) * (3 * b) + 4",
        _numbers_either_side,
        "a number on either side is a constant: 2 + a calls __radd__ and 3 * b calls __rmul__; "
        "∂(3b)/∂b = 3, and the constant itself gets no adjoint",
    ),
    Case(
        "fan-out: a * b + a * c",
        _fan_out,
        f"a has two children, so ā sums a term from each: {ADJOINT_SUM}. Add into parent.grad "
        "(+=); assigning (=) keeps only the last child's term",
    ),
    Case(
        "a + a",
        _same_input_added,
        "the same input twice in one operation counts twice (∂(a + a)/∂a = 1 + 1): keep the "
        "parents in order in a tuple or list, not a set or a dict, and add (+=) each term",
    ),
    Case(
        "x * x",
        _same_input_multiplied,
        "x * x has x as both parents, each with local derivative x, so x̄ = x + x: keep the "
        "parents in a tuple or list, not a set or a dict, and add (+=) each term",
    ),
    Case(
        "uneven diamond",
        _uneven_diamond,
        "x = a·b reaches f along paths of length 2 and 5. It may pass its adjoint on once, after "
        "all its children have added their terms: visit each node once, in reverse topological "
        f"order, not breadth first. {ADJOINT_SUM}",
    ),
    Case(
        "tanh(x * w + b)",
        _neuron,
        "∂tanh(u)/∂u = 1 − tanh²(u): use the node's own output, then the chain rule as for * and +",
        needs=("tanh",),
    ),
    Case(
        "backward() twice",
        _twice,
        "gradients over data points add, ∂E/∂w = Σ_n ∂E_n/∂w (8.14): each backward() must add "
        "exactly one more gradient to the inputs",
        passes=2,
    ),
    Case(
        f"deep chain ({DEEP:,} nodes)",
        _deep_chain,
        "a recursive topological sort needs one Python frame per node of depth (Python stops at "
        "sys.getrecursionlimit(), 1000 by default): build the order with a loop and a stack",
        wrong_hint="along a chain ā is the product of the local derivatives (here 10,000 "
        "factors 1.0001): the rows above use the same rules, so make them pass first",
    ),
]
DOUBLING = "doubling y = y + y"
ZERO_HINT = (
    "it stayed 0: no adjoint reached this input. backward() must add f̄ = 1 to the output's grad, "
    "then visit every node from the output back to the inputs (reversed topological order), "
    "each adding into its parents' grad"
)
DOUBLING_HINT = (
    "backward() should visit each node once; walking every path from the output costs 2^depth "
    f"here. Collect the nodes once (a 'visited' set), then apply {ADJOINT_SUM} once per node"
)


# --- running the student's code ----------------------------------------------------------


class _Stopped(BaseException):
    """Raised in a worker past its time limit (a BaseException: `except Exception` misses it)."""


@dataclass
class _Outcome:
    result: Any = None
    error: BaseException | None = None
    timed_out: bool = False


def _run_guarded(work: Callable[[], Any], time_limit: float) -> _Outcome:
    """Run `work` in a thread with a large stack; stop it after `time_limit` seconds."""
    outcome = _Outcome()
    done = threading.Event()  # set once `work` has returned or raised

    def target() -> None:
        try:
            outcome.result = work()
        except BaseException as error:  # every failure of student code becomes a row
            outcome.error = error
        finally:
            done.set()

    old_size = threading.stack_size()
    threading.stack_size(THREAD_STACK)
    try:
        worker = threading.Thread(target=target, name="check_engine", daemon=True)
        worker.start()
    finally:
        threading.stack_size(old_size)
    outcome.timed_out = not done.wait(time_limit)
    if outcome.timed_out:
        _stop(worker, done)
    worker.join(0.1)
    return outcome


def _stop(worker: threading.Thread, done: threading.Event) -> None:
    """Raise _Stopped in `worker` until its work gives up (a runaway loop stops)."""
    # NOTE: a stop can land where nobody catches it: in a callback the garbage collector runs
    # in that thread, or, sent just as the work gave up, in the thread's own clean-up after
    # `done`. Python would print it ("Exception ignored ...", "Exception in thread ..."), in a
    # notebook under the student's report; _Stopped is ours alone, so those prints drop it.
    _drop_stops_from_reports()
    for _ in range(10):
        _interrupt(worker)
        if done.wait(0.1):
            break


def _drop_stops_from_reports() -> None:
    """Make sys.unraisablehook and threading.excepthook pass over a _Stopped (once)."""
    report_unraisable, report_thread_error = sys.unraisablehook, threading.excepthook
    if getattr(report_unraisable, "drops_stops", False):
        return

    def unraisable_hook(unraisable: Any) -> None:
        if not isinstance(unraisable.exc_value, _Stopped):
            report_unraisable(unraisable)

    def thread_hook(args: Any) -> None:
        if not isinstance(args.exc_value, _Stopped):
            report_thread_error(args)

    unraisable_hook.drops_stops = thread_hook.drops_stops = True  # type: ignore[attr-defined]
    sys.unraisablehook, threading.excepthook = unraisable_hook, thread_hook


def _interrupt(worker: threading.Thread) -> None:
    """Raise _Stopped inside `worker` at its next Python instruction (a runaway loop stops)."""
    import ctypes

    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(worker.ident), ctypes.py_object(_Stopped)
    )


def _where(error: BaseException) -> str:
    """' (in backward, line 12)': the innermost frame of the student's code that raised."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename != __file__]
    if not frames:
        return ""
    frame = frames[-1]
    return f" (in {frame.name}, line {frame.lineno})"


def _error_row(case: str, outcome: _Outcome, time_limit: float, hint: str) -> CaseResult:
    """The row for a case whose student code raised or ran too long."""
    error = outcome.error
    if outcome.timed_out:
        hint = (
            f"did not finish in {time_limit:g} s: a loop that never ends (does every pass of "
            "it pop or advance?), or a search of a list for each node (`node in visited` with "
            "a list; use a set)"
        )
        return CaseResult(case, "SLOW", hint=hint)
    if isinstance(error, NotImplementedError):
        return CaseResult(case, "not done yet", hint=f"a blank is still a stub{_where(error)}")
    if isinstance(error, RecursionError):
        return CaseResult(case, "ERROR", hint=f"RecursionError{_where(error)}: {hint}")
    message = f"{type(error).__name__}: {error}{_where(error)}"
    if isinstance(error, AttributeError) and isinstance(error.obj, (int, float)):
        hint = "an operation returned a plain number: +, * and tanh() must each return a new node"
    return CaseResult(case, "ERROR", hint=f"{message}. {hint}")


def _as_float(x: Any, name: str) -> float:
    try:
        return float(x)
    except (TypeError, ValueError):
        raise TypeError(f"{name} should be a number, not {type(x).__name__}") from None


def _agrees(expected: float, yours: float) -> bool:
    return math.isclose(expected, yours, rel_tol=1e-9, abs_tol=1e-12)


@functools.cache
def _expected(case: Case) -> tuple[float, list[dict[str, float]]]:
    """The engine's f.data and input adjoints after each pass: the one source of right answers."""
    output, inputs = case.build(Value)
    grads = []
    for _ in range(case.passes):
        output.backward()
        grads.append({name: x.grad for name, x in inputs.items()})
    return output.data, grads


def _grade(case: Case, cls: type, time_limit: float) -> CaseResult:
    """Build the case with the engine (the expected numbers) and with `cls`, and compare."""
    missing = [name for name in case.needs if not callable(getattr(cls, name, None))]
    if missing:
        return CaseResult(case.name, "skipped", hint=f"{cls.__name__} has no {missing[0]}()")
    expected_value, expected_grads = _expected(case)

    def student() -> tuple[float, list[dict[str, float]]]:
        output, inputs = case.build(cls)
        value = _as_float(output.data, "f.data")
        grads = []
        for _ in range(case.passes):
            output.backward()
            grads.append({name: _as_float(x.grad, f"{name}.grad") for name, x in inputs.items()})
        return value, grads

    outcome = _run_guarded(student, time_limit)
    if outcome.error is not None or outcome.timed_out:
        return _error_row(case.name, outcome, time_limit, case.hint)
    value, grads = outcome.result
    if not _agrees(expected_value, value):
        hint = "the forward pass: f.data is wrong, so check what + and * compute"
        return CaseResult(case.name, "WRONG", "f.data", expected_value, value, hint)
    for done, (expected_pass, yours_pass) in enumerate(zip(expected_grads, grads), start=1):
        for name, expected in expected_pass.items():
            yours = yours_pass[name]
            if not _agrees(expected, yours):
                where = f"{name}.grad" + (f" after backward() #{done}" if case.passes > 1 else "")
                hint = _wrong_hint(case, done, expected, yours)
                return CaseResult(case.name, "WRONG", where, expected, yours, hint)
    return CaseResult(case.name, "ok")


def _wrong_hint(case: Case, done: int, expected: float, yours: float) -> str:
    """What a wrong adjoint after `done` calls of backward() says about the student's code."""
    if yours == 0:
        return ZERO_HINT
    if done == 1:
        if case.passes > 1:
            return "the first backward() is already wrong: make the rows above pass first"
        return case.wrong_hint or case.hint
    if _agrees(expected / 2, yours):
        return (
            "the second backward() replaced the first gradient instead of adding to it; "
            "gradients over data points add, ∂E/∂w = Σ_n ∂E_n/∂w (8.14)"
        )
    return (
        "the second backward() did not add exactly one more gradient: the inner nodes still held "
        "the first pass's adjoints and passed them on again. Start each pass from zero adjoints "
        "in the inner nodes (the inputs keep adding, as (8.14) sums per-point gradients)"
    )


def _grade_doubling(cls: type, time_limit: float) -> CaseResult:
    """y = y + y, one level deeper at a time: correct numbers, and time linear in the depth."""

    def student() -> tuple[list[float], int, float, float]:
        times: list[float] = []
        for depth in range(1, DOUBLINGS + 1):
            a = cls(1.0)
            y = a
            for _ in range(depth):
                y = y + y
            start = time.perf_counter()
            y.backward()
            times.append(time.perf_counter() - start)
            grad = _as_float(a.grad, "a.grad")
            if not _agrees(2.0**depth, grad):
                return times, depth, 2.0**depth, grad
            # A correct engine takes microseconds for these 41 nodes; stop long before 2^40 steps.
            # Two slow levels in a row, so that one pause of a busy machine does not stop it.
            slow = time_limit / 12
            growing = times[-1] > slow and times[-2:][0] > slow / 4
            if growing or sum(times) > time_limit:
                break
        return times, 0, 0.0, 0.0

    outcome = _run_guarded(student, 2 * time_limit)
    if outcome.error is not None or outcome.timed_out:
        return _error_row(DOUBLING, outcome, time_limit, DOUBLING_HINT)
    times, wrong_depth, expected, yours = outcome.result
    if wrong_depth:
        where = f"a.grad (depth {wrong_depth})"
        if yours == 0:
            hint = ZERO_HINT
        elif abs(yours) > abs(expected):
            hint = (
                "too large: some node passed its adjoint on more than once. List each node once "
                f"in the order (a 'visited' set) and apply {ADJOINT_SUM} once per node"
            )
        else:
            hint = (
                "y = y + y has y as both parents, and each counts (∂(y + y)/∂y = 1 + 1): keep "
                f"the parents in a tuple and add (+=) each term. {ADJOINT_SUM}"
            )
        return CaseResult(DOUBLING, "WRONG", where, expected, yours, hint)
    if len(times) == DOUBLINGS:
        return CaseResult(DOUBLING, "ok")
    depth = len(times)
    # The median of the last five level-to-level ratios: one pause of a busy machine hardly moves it
    ratios = sorted(later / earlier for earlier, later in zip(times[-6:-1], times[-5:]) if earlier)
    factor = ratios[len(ratios) // 2] if ratios else 0.0
    if depth > 5 and factor > 1.5:
        growth = f"exponential: backward() takes ×{factor:.1f} longer per level"
    else:
        growth = "too slow"
    hint = f"{growth} ({depth} levels: {times[-1]:.2f} s for {depth + 1} nodes). {DOUBLING_HINT}"
    return CaseResult(DOUBLING, "SLOW", hint=hint)


def check_engine(value_class: type, *, time_limit: float = 3.0) -> EngineReport:
    """Grade a micrograd-style class on graphs whose adjoints v̄_i = Σ_j v̄_j ∂v_j/∂v_i are known.

    `value_class(number)` must make a leaf; `+` and `*` must work between instances and with a
    number on either side; `.backward()`, `.data` and `.grad` as in micrograd; `.tanh()` is
    optional. Each case may run `time_limit` seconds; the whole check stays under a minute.
    """
    if not isinstance(value_class, type):
        raise TypeError(f"check_engine takes a class, not {type(value_class).__name__}")
    if not isinstance(time_limit, (int, float)) or not 0 < time_limit <= 5:
        raise ValueError(f"time_limit must be a number of seconds in (0, 5], not {time_limit!r}")
    if not callable(getattr(value_class, "backward", None)):
        hint = (
            f"{value_class.__name__} has no backward() method. Running the cell that defines "
            "the class again makes a new class without it: run the cell that adds backward too"
        )
        names = [*(case.name for case in CASES), DOUBLING]
        return EngineReport(
            value_class.__name__, [CaseResult(n, "ERROR", hint=hint) for n in names]
        )
    results: list[CaseResult] = []
    for case in [*CASES, None]:
        name = case.name if case else DOUBLING
        if any(result.status == "SLOW" for result in results):
            # A runaway loop would cost every case its full time limit: one is enough.
            hint = "a case above did not finish: make that one finish first"
            results.append(CaseResult(name, "not run", hint=hint))
        elif case is None:
            results.append(_grade_doubling(value_class, time_limit))
        else:
            results.append(_grade(case, value_class, time_limit))
    return EngineReport(value_class.__name__, results)
