"""The table of primitives: each operation's forward function next to its local derivatives.

Every primitive is one `Primitive` entry: `value(*args)` computes the result on floats and
`local_grads(*args, out)` returns ∂out/∂arg for each argument. The same `local_grads` drives
reverse mode (Value.backward), forward mode (Dual) and higher-order derivatives: it is written
with arithmetic and the module functions below only, so it works unchanged when `args` and `out`
are Values, which makes the derivatives themselves differentiable.
"""

from __future__ import annotations

import math
import numbers
import operator
import sys
from collections.abc import Callable
from contextvars import ContextVar
from fractions import Fraction
from typing import Any


class Mode:
    """Engine-wide switches set by `no_grad()` and `detect_anomaly()` (not thread-local)."""

    recording = True
    detect_anomaly = False


class Primitive:
    """One operation: its name, how to print it, its forward function and its local derivatives."""

    __slots__ = ("name", "notation", "value", "local_grads", "doc")

    def __init__(
        self,
        name: str,
        notation: str,
        value: Callable[..., float],
        local_grads: Callable[..., tuple],
    ) -> None:
        self.name = name
        self.notation = notation  # "{0} * {1}", "exp({0})": used by `op` and the trace's equations
        self.value = value
        self.local_grads = local_grads
        self.doc = value.__doc__  # the one-line math summary, shared by the method and function

    def __repr__(self) -> str:
        return f"Primitive({self.name!r})"


def _number(x: Any) -> float:
    """The float behind a number, a Value or a Dual (rules that branch on a value use it)."""
    while isinstance(x, ComparesPrimal):  # a Dual's primal may be a Value or an outer Dual
        x = x.primal_value()
    return x


def _is_integer(x: float) -> bool:
    return math.isfinite(x) and x == int(x)


# --- binary arithmetic -----------------------------------------------------------------------


def _add(a: float, b: float) -> float:
    """a + b;  ∂/∂a = 1, ∂/∂b = 1."""
    return a + b


_ONE_ONE = (1.0, 1.0)
_ONE_MINUS_ONE = (1.0, -1.0)


def _sub(a: float, b: float) -> float:
    """a - b;  ∂/∂a = 1, ∂/∂b = -1."""
    return a - b


def _mul(a: float, b: float) -> float:
    """a · b;  ∂/∂a = b, ∂/∂b = a."""
    return a * b


def _div(a: float, b: float) -> float:
    """a / b;  ∂/∂a = 1/b, ∂/∂b = -a/b² = -out/b."""
    if b == 0:
        raise ZeroDivisionError(f"division by zero: {a!r} / {b!r}")
    return a / b


def _pow(a: float, b: float) -> float:
    """a ** b;  ∂/∂a = b·a^(b-1), ∂/∂b = a^b·ln a (0 at a = 0, as in PyTorch)."""
    if a < 0 and not _is_integer(b):
        # NOTE: Python would return a complex number here; a real engine must refuse.
        raise ValueError(f"pow: negative base {a!r} with non-integer exponent {b!r}")
    if a == 0 and b < 0:
        raise ZeroDivisionError(f"pow: zero base with negative exponent {b!r}")
    return _ieee_pow(a, b)


def _ieee_pow(a: float, b: float) -> float:
    """a ** b with IEEE overflow to ±inf (Python raises OverflowError instead)."""
    try:
        return a**b
    except OverflowError:
        odd_power_of_negative = a < 0 and _is_integer(b) and int(b) % 2 == 1
        return -math.inf if odd_power_of_negative else math.inf


def _pow_grads(a: Any, b: Any, out: Any) -> tuple:
    base, exponent = _number(a), _number(b)
    if exponent == 0 and base == 0:
        d_base: Any = 0.0  # PyTorch's slope of a^0 at a = 0, where b·a^(b-1) would be 0 · inf
    elif base == 0 and exponent < 1:
        d_base = math.inf  # NOTE: the slope of a^b at 0 is infinite for 0 < b < 1
    else:
        d_base = b * (_ieee_pow(a, b - 1) if is_real(a) and is_real(b) else a ** (b - 1))
    if base > 0:
        d_exponent: Any = out * log(a)
    elif base == 0:
        d_exponent = 0.0
    else:
        # a^b is not a real function of b for a < 0. The nan is made from `out` so that, in a
        # graph, the second derivatives through it are nan too, not those of a constant (0).
        d_exponent = out * math.nan
    return (d_base, d_exponent)


# --- unary functions -------------------------------------------------------------------------


def _neg(x: float) -> float:
    """-x;  d/dx = -1."""
    return -x


def _pos(x: float) -> float:
    """+x;  d/dx = 1."""
    return x


def _abs(x: float) -> float:
    """|x|;  d/dx = sign(x), and 0 at x = 0 (PyTorch's convention)."""
    return abs(x)


def _abs_grads(x: Any, out: Any) -> tuple:
    # NOTE: abs'(0) = 0, the subgradient PyTorch picks.
    return (1.0 if x > 0 else -1.0 if x < 0 else 0.0,)


def _exp(x: float) -> float:
    """exp(x);  d/dx = exp(x) = out."""
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf  # NOTE: IEEE overflow; Python raises OverflowError above x ≈ 709.78


def _log(x: float) -> float:
    """ln x for x > 0;  d/dx = 1/x."""
    if x <= 0:
        raise ValueError(f"log: argument must be positive, got {x!r}")
    return math.log(x)


def _sqrt(x: float) -> float:
    """√x for x ≥ 0;  d/dx = 1/(2√x), infinite at 0."""
    if x < 0:
        raise ValueError(f"sqrt: argument must be non-negative, got {x!r}")
    return math.sqrt(x)


def _sqrt_grads(x: Any, out: Any) -> tuple:
    return (math.inf if _number(out) == 0 else 0.5 / out,)


def _sin(x: float) -> float:
    """sin x;  d/dx = cos x."""
    return math.sin(x)


def _cos(x: float) -> float:
    """cos x;  d/dx = -sin x."""
    return math.cos(x)


def _tanh(x: float) -> float:
    """tanh x;  d/dx = 1 - tanh² x (Bishop's hidden unit, (8.19))."""
    return math.tanh(x)


def _sigmoid(x: float) -> float:
    """σ(x) = 1 / (1 + e^-x);  d/dx = σ(x)(1 - σ(x))."""
    # NOTE: exp of a positive number can overflow; each branch only exponentiates -|x|.
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def _relu(x: float) -> float:
    """max(x, 0);  d/dx = 1 for x > 0, else 0 (relu'(0) = 0, as in PyTorch)."""
    return 0.0 if x <= 0 else x  # written so that relu(nan) is nan, not 0


def _softplus(x: float) -> float:
    """ln(1 + e^x), Bishop's soft ReLU;  d/dx = σ(x)."""
    # NOTE: max(x, 0) + ln(1 + e^-|x|) equals ln(1 + e^x) and never overflows.
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


# --- n-ary nodes -----------------------------------------------------------------------------


def _dot(*args: float) -> float:
    """Σ_i w_i x_i + b, args = (w_1..w_n, x_1..x_n, b): a unit's pre-activation (8.5)."""
    n = len(args) // 2
    return sum(map(operator.mul, args, args[n:-1]), args[-1])  # map stops after the n weights


def _dot_grads(*args: Any) -> tuple:
    # ∂/∂w_i = x_i, ∂/∂x_i = w_i, ∂/∂b = 1; `args` ends with the output, which is not needed.
    n = (len(args) - 2) // 2
    return (*args[n : 2 * n], *args[:n], 1.0)


def _sum(*args: float) -> float:
    """Σ_i v_i;  ∂/∂v_i = 1."""
    if len(args) <= 2:
        return sum(args)
    try:
        return math.fsum(args)  # exactly rounded, whatever the order of the terms
    except (OverflowError, ValueError):
        return _sum_where_fsum_gives_up(args)


def _sum_where_fsum_gives_up(args: tuple[float, ...]) -> float:
    """The sum when fsum raises: on inf - inf, and when a partial sum passes the largest float."""
    if not all(map(math.isfinite, args)):
        # IEEE: the infinities and nans alone decide (nan, or the infinity of the one sign).
        return sum(x for x in args if not math.isfinite(x))
    # NOTE: exact rational arithmetic, slow but rare, gives the exactly rounded sum however
    # large its partial sums grow, or ±inf if the sum itself is beyond the largest float.
    exact = sum(map(Fraction, args))
    try:
        return float(exact)
    except OverflowError:
        return math.inf if exact > 0 else -math.inf


ADD = Primitive("+", "{0} + {1}", _add, lambda a, b, out: _ONE_ONE)
SUB = Primitive("-", "{0} - {1}", _sub, lambda a, b, out: _ONE_MINUS_ONE)
MUL = Primitive("*", "{0} * {1}", _mul, lambda a, b, out: (b, a))
DIV = Primitive("/", "{0} / {1}", _div, lambda a, b, out: (1.0 / b, -out / b))
POW = Primitive("**", "{0} ** {1}", _pow, _pow_grads)
NEG = Primitive("neg", "-{0}", _neg, lambda x, out: (-1.0,))
POS = Primitive("pos", "+{0}", _pos, lambda x, out: (1.0,))
ABS = Primitive("abs", "abs({0})", _abs, _abs_grads)
EXP = Primitive("exp", "exp({0})", _exp, lambda x, out: (out,))
LOG = Primitive("log", "log({0})", _log, lambda x, out: (1.0 / x,))
SQRT = Primitive("sqrt", "sqrt({0})", _sqrt, _sqrt_grads)
SIN = Primitive("sin", "sin({0})", _sin, lambda x, out: (cos(x),))
COS = Primitive("cos", "cos({0})", _cos, lambda x, out: (-sin(x),))
TANH = Primitive("tanh", "tanh({0})", _tanh, lambda x, out: (1.0 - out * out,))
SIGMOID = Primitive("sigmoid", "sigmoid({0})", _sigmoid, lambda x, out: (out * (1.0 - out),))
RELU = Primitive("relu", "relu({0})", _relu, lambda x, out: (1.0 if x > 0 else 0.0,))
SOFTPLUS = Primitive("softplus", "softplus({0})", _softplus, lambda x, out: (sigmoid(x),))
DOT = Primitive("dot", "dot", _dot, _dot_grads)
SUM = Primitive("sum", "sum", _sum, lambda *args: (1.0,) * (len(args) - 1))

BINARY = (ADD, SUB, MUL, DIV, POW)
#: Primitives that are also methods of Value and Dual and functions of this package.
FUNCTIONS = (EXP, LOG, SIN, COS, TANH, SIGMOID, RELU, SOFTPLUS, SQRT)
UNARY = (NEG, POS, ABS, *FUNCTIONS)
NARY = (DOT, SUM)
PRIMITIVES = {prim.name: prim for prim in (*BINARY, *UNARY, *NARY)}


def is_real(x: Any) -> bool:
    """True for the numbers a node accepts as data or constant (int, float, bool, numpy reals)."""
    return type(x) is float or type(x) is int or isinstance(x, numbers.Real) or is_numpy_bool(x)


def is_numpy_bool(x: Any) -> bool:
    """True for numpy's bool, the one numpy scalar that is not registered as a numbers.Real."""
    # NOTE: no numpy import (the engine needs only the standard library): if numpy was never
    # imported, x cannot be one of its scalars.
    numpy = sys.modules.get("numpy")
    return numpy is not None and isinstance(x, numpy.bool_)


class ComparesPrimal:
    """Mixin for Value and Dual: < <= > >= compare primal values, for control flow in user
    code; == and hash stay identity-based, so nodes can be dict keys and set members."""

    __slots__ = ()

    def primal_value(self) -> float:
        raise NotImplementedError

    def __lt__(self, other: Any) -> bool:
        return _compare(operator.lt, self, other)

    def __le__(self, other: Any) -> bool:
        return _compare(operator.le, self, other)

    def __gt__(self, other: Any) -> bool:
        return _compare(operator.gt, self, other)

    def __ge__(self, other: Any) -> bool:
        return _compare(operator.ge, self, other)

    __eq__ = object.__eq__
    __hash__ = object.__hash__


#: While `autodiff.record` runs f, called as observer(relation, this, other, outcome) after each
#: comparison, which the program keeps as a guard; None otherwise.
comparison_observer: ContextVar[Callable[..., None] | None] = ContextVar(
    "comparison_observer", default=None
)


def _compare(relation: Callable[[Any, Any], bool], this: ComparesPrimal, other: Any) -> Any:
    # bool(): a numpy scalar on either side would otherwise make the answer a numpy bool.
    if isinstance(other, ComparesPrimal):
        outcome = bool(relation(_number(this), _number(other)))
    elif is_real(other):
        outcome = bool(relation(_number(this), other))
    else:
        return NotImplemented
    observer = comparison_observer.get()
    if observer is not None:
        observer(relation, this, other, outcome)
    return outcome


def _function(prim: Primitive) -> Callable[[Any], Any]:
    """The module function for `prim`: a number gives a float, a Value or Dual its own kind."""

    def function(x: Any) -> Any:
        if is_real(x):
            return prim.value(float(x))
        apply = getattr(type(x), "_apply", None)
        if apply is None:
            raise TypeError(
                f"{prim.name}() takes a Value, a Dual or a real number, not {type(x).__name__}"
            )
        return apply(prim, (x,))

    function.__name__ = function.__qualname__ = prim.name
    function.__doc__ = prim.doc
    return function


exp = _function(EXP)
log = _function(LOG)
sin = _function(SIN)
cos = _function(COS)
tanh = _function(TANH)
sigmoid = _function(SIGMOID)
relu = _function(RELU)
softplus = _function(SOFTPLUS)
sqrt = _function(SQRT)
