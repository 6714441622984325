"""Finite differences as an independent oracle for autodiff gradients (Bishop 8.1.4).

`numerical_grad` perturbs one input at a time, by forward (8.24) or central (8.25) differences;
`gradcheck` sets them beside the reverse-mode gradient under a stated tolerance; `fd_error_curve`
and `plot_fd_error_curve` give and draw the data of Bishop's Figure 8.2.
"""

from __future__ import annotations

import inspect
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .functional import grad
from .ops import is_real, to_float
from .value import Value

#: Machine epsilon of a float, 2^-52 ≈ 2.2e-16.
MACHINE_EPSILON = sys.float_info.epsilon


# --- numerical differentiation ---------------------------------------------------------------


@dataclass(frozen=True)
class _Difference:
    """One divided difference: its value, the step really taken, and the size of f around it."""

    derivative: float
    step: float
    scale: float  # max |f| over the points used, for the rounding term of the tolerance


def numerical_grad(
    f: Callable[..., Any], xs: Sequence[Any], eps: float = 1e-6, method: str = "central"
) -> list[float]:
    """∂f/∂x_i ≈ (f(x + h e_i) - f(x - h e_i)) / 2h (8.25), or (f(x + h e_i) - f(x)) / h (8.24).

    The step is relative to the input: h = eps · max(1, |x_i|), so a large input still moves by
    a representable amount. f is called with Values (plain leaves) and its output's data is used.
    """
    return [d.derivative for d in _differences(f, xs, eps, method)]


def _differences(f: Callable[..., Any], xs: Sequence[Any], eps: float, method: str) -> list:
    if method not in ("central", "forward"):
        raise ValueError(f"method must be 'central' or 'forward', not {method!r}")
    eps = _number("eps", eps)
    if not 0 < eps < math.inf:
        raise ValueError(f"eps must be a positive finite number, got {eps!r}")
    point = _point(xs)
    central = method == "central"
    centre = 0.0 if central else _evaluate(f, point)
    result = []
    for i, x in enumerate(point):
        # 1. The step, relative to |x|, so that a large input still moves by many units of rounding.
        h = eps * max(1.0, abs(x))
        upper = x + h
        lower = x - h if central else x
        if upper == x:
            raise ValueError(f"eps={eps!r} is too small: x[{i}] + h rounds back to x[{i}] = {x!r}")
        f_upper = _evaluate(f, [*point[:i], upper, *point[i + 1 :]])
        f_lower = _evaluate(f, [*point[:i], lower, *point[i + 1 :]]) if central else centre
        # 2. NOTE: x ± h is rounded to a float; dividing by upper - lower, the distance between
        #    the points really used, instead of by 2h or h, keeps that rounding out of the result.
        spread = upper - lower
        derivative = (f_upper - f_lower) / spread
        step = spread / 2 if central else spread
        result.append(_Difference(derivative, step, max(abs(f_upper), abs(f_lower))))
    return result


def _point(xs: Sequence[Any]) -> list[float]:
    """The inputs as floats, after checking they are a non-empty list or tuple of real numbers."""
    if not isinstance(xs, (list, tuple)):
        raise TypeError(f"xs must be a list or tuple of real numbers, not {type(xs).__name__}")
    if not xs:
        raise ValueError("xs must hold at least one input")
    for i, x in enumerate(xs):
        if not is_real(x):
            raise TypeError(f"xs[{i}] must be a real number, not {type(x).__name__}")
    return [to_float(x, f"xs[{i}]") for i, x in enumerate(xs)]


def _number(name: str, x: Any) -> float:
    """A step size or tolerance as a float: TypeError for a non-number, ValueError if too large."""
    if isinstance(x, bool) or not is_real(x):
        raise TypeError(f"{name} must be a real number, not {type(x).__name__}")
    return to_float(x, name)


def _evaluate(f: Callable[..., Any], point: list[float]) -> float:
    """f at a point, called with fresh leaf Values; its output as a float."""
    out = f(*map(Value, point))
    if isinstance(out, Value):
        return out.data
    if is_real(out):
        return to_float(out, "the output of f")
    raise TypeError(f"f must return a Value or a real number, not {type(out).__name__}")


# --- gradcheck -------------------------------------------------------------------------------


@dataclass(frozen=True)
class GradcheckRow:
    """One input of a gradient check: autodiff beside central differences."""

    index: int
    name: str
    analytic: float
    numeric: float
    abs_error: float
    rel_error: float
    tolerance: float  # the largest abs_error allowed for this input
    ok: bool
    # False when the rounding of f alone could exceed atol + rtol·|derivative|: the difference
    # quotient cannot tell a right derivative from a wrong one at this eps, so the row fails.
    resolved: bool = True


@dataclass(frozen=True)
class GradcheckResult:
    """The rows of a gradient check; truthy when every partial derivative agrees."""

    inputs: list[GradcheckRow]
    eps: float
    atol: float
    rtol: float

    def __bool__(self) -> bool:
        return all(row.ok for row in self.inputs)

    def __str__(self) -> str:
        count = len(self.inputs)
        disagree = sum(row.resolved and not row.ok for row in self.inputs)
        unresolved = sum(not row.resolved for row in self.inputs)
        problems = [f"{disagree} of {count} inputs disagree"] if disagree else []
        if unresolved:
            problems.append(
                f"{unresolved} of {count} cannot be checked at this eps (the rounding of f "
                "swamps its differences; try a larger eps)"
            )
        verdict = "FAILED: " + "; ".join(problems) if problems else "ok"
        header = (
            f"gradcheck {verdict} (central differences, eps={self.eps:g}, "
            f"atol={self.atol:g}, rtol={self.rtol:g})"
        )
        cells = [("input", "analytic", "numeric", "abs error", "rel error", "allowed", "ok")]
        for row in self.inputs:
            cells.append(
                (
                    row.name,
                    f"{row.analytic:.12g}",
                    f"{row.numeric:.12g}",
                    f"{row.abs_error:.2e}",
                    f"{row.rel_error:.2e}",
                    f"{row.tolerance:.2e}",
                    "ok" if row.ok else "FAIL" if row.resolved else "UNSURE",
                )
            )
        widths = [max(len(line[k]) for line in cells) for k in range(len(cells[0]))]
        lines = [
            "  ".join(
                [line[0].ljust(widths[0])]
                + [c.rjust(w) for c, w in zip(line[1:], widths[1:], strict=True)]
            )
            for line in cells
        ]
        return "\n".join([header, *lines])


def gradcheck(
    f: Callable[..., Any],
    xs: Sequence[Any],
    eps: float = 1e-6,
    atol: float = 1e-6,
    rtol: float = 1e-4,
    raise_on_fail: bool = False,
) -> GradcheckResult:
    """Compare ∂f/∂x_i by reverse mode with central differences (8.25) for every input.

    Input i passes when |analytic - numeric| ≤ atol + rtol·max(|analytic|, |numeric|) +
    4·ε_machine·|f|/h_i. The last term is the rounding error of the central difference: each
    evaluation of f near x is trusted to about 4 ε_machine·|f| (a few roundings), and the
    difference of two such values divided by 2h_i can then be off by 4 ε_machine·|f|/h_i. When
    that term is larger than atol + rtol·max(...) itself, the differences cannot resolve the
    derivative to the tolerance asked for: the row is marked UNSURE and fails rather than pass a
    derivative it could not check (a larger eps usually helps). The truncation error h²|f'''|/6 is
    1e-13·|f'''| at the default step, far below atol. With `raise_on_fail`, a failure raises
    AssertionError carrying the table.
    """
    atol, rtol = _number("atol", atol), _number("rtol", rtol)
    for name, tolerance in (("atol", atol), ("rtol", rtol)):
        if not 0 <= tolerance < math.inf:
            raise ValueError(f"{name} must be a non-negative finite number, got {tolerance!r}")
    if not isinstance(raise_on_fail, bool):
        raise TypeError(f"raise_on_fail must be True or False, not {raise_on_fail!r}")
    numeric = _differences(f, xs, eps, "central")
    analytic = grad(f, argnums=tuple(range(len(xs))))(*xs)
    names = _input_names(f, len(xs))
    rows = []
    for i, (a, n) in enumerate(zip(analytic, numeric, strict=True)):
        abs_error = abs(a - n.derivative)
        size = max(abs(a), abs(n.derivative))
        asked = atol + rtol * size
        rounding = 4 * MACHINE_EPSILON * n.scale / n.step
        tolerance = asked + rounding
        rel_error = abs_error / size if size else 0.0
        resolved = rounding <= asked
        # NOTE: an infinite derivative makes the tolerance infinite too, and NaN compares false
        # either way; an error that is not finite is a failure whatever the tolerance says.
        ok = resolved and math.isfinite(abs_error) and abs_error <= tolerance
        rows.append(
            GradcheckRow(
                i, names[i], a, n.derivative, abs_error, rel_error, tolerance, ok, resolved
            )
        )
    result = GradcheckResult(rows, float(eps), float(atol), float(rtol))
    if raise_on_fail and not result:
        raise AssertionError(str(result))
    return result


def _input_names(f: Callable[..., Any], count: int) -> list[str]:
    """f's positional parameter names where it has them ("x", "y"), else x[0], x[1], ..."""
    try:
        parameters = inspect.signature(f).parameters.values()
    except (TypeError, ValueError):  # some callables have no signature
        parameters = []
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    names = [p.name for p in parameters if p.kind in positional]
    return [names[i] if i < len(names) else f"x[{i}]" for i in range(count)]


# --- Figure 8.2 ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FdErrorRow:
    """One step size of Figure 8.2: the largest error of forward and of central differences."""

    eps: float
    forward: float
    central: float


def fd_error_curve(
    f: Callable[..., Any], xs: Sequence[Any], eps_values: Sequence[float]
) -> list[FdErrorRow]:
    """Per eps: max_i |numeric_i - autodiff_i| for forward (8.24) and central (8.25) differences."""
    point = _point(xs)
    exact = grad(f, argnums=tuple(range(len(point))))(*point)
    rows = []
    for eps in eps_values:
        errors = []
        for method in ("forward", "central"):
            numeric = numerical_grad(f, point, eps, method)
            gaps = [abs(n - a) for n, a in zip(numeric, exact, strict=True)]
            # NOTE: max() would keep or drop a nan depending on where it stands in the list
            errors.append(math.nan if any(map(math.isnan, gaps)) else max(gaps))
        rows.append(FdErrorRow(float(eps), *errors))
    return rows


GUIDE_BELOW = 5.0  # how far below the data plot_fd_error_curve draws its reference slopes


def plot_fd_error_curve(rows: Sequence[FdErrorRow], ax: Any = None) -> Any:
    """Draw Figure 8.2 from `fd_error_curve` rows on log-log axes, with reference slopes 1 and 2.

    Needs matplotlib (imported here, only when no `ax` is given); returns the Axes.
    """
    if not rows:
        raise ValueError("plot_fd_error_curve: no rows to draw")
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(6, 4.5))
    steps = [row.eps for row in rows]
    curves = (
        ("forward differences (8.24)", [row.forward for row in rows], "tab:red", 1),
        ("central differences (8.25)", [row.central for row in rows], "tab:blue", 2),
    )
    largest = max(range(len(rows)), key=steps.__getitem__)
    # The reference lines stop at the smallest error drawn, so they never stretch the y-axis.
    floor = min((e for _, errors, _, _ in curves for e in errors if e > 0), default=0.0)
    for label, errors, colour, slope in curves:
        ax.loglog(steps, errors, "o-", color=colour, markersize=3, label=label)
        # A line ∝ eps^slope parallel to the curve's truncation part: anchored at the largest
        # step, where truncation error dominates, and drawn a factor below the curve so that a
        # curve which follows it exactly (central differences do) does not hide it.
        anchor = errors[largest] / GUIDE_BELOW
        if anchor > 0:
            line = [(eps, anchor * (eps / steps[largest]) ** slope) for eps in steps]
            shown = [(eps, error) for eps, error in line if error >= floor]
            ax.loglog(*zip(*shown), "--", color=colour, alpha=0.5, label=f"slope {slope}")
    ax.set_xlabel("step size ε")
    ax.set_ylabel("largest |numerical − autodiff| derivative")
    ax.set_title("Finite-difference error (Bishop Fig. 8.2)")
    ax.legend(loc="upper center", fontsize="small")  # above the bottom of the V: empty there
    return ax
