"""The table of primitives: each operation's forward function next to its local derivatives.

Every primitive is one `Primitive` entry: `value(*args)` computes the result on floats and
`local_grads(*args, out)` returns ∂out/∂arg for each argument. The same `local_grads` drives
reverse mode (Value.backward), forward mode (Dual) and higher-order derivatives: it is written
with arithmetic and the module functions below only, so it works unchanged when `args` and `out`
are Values, which makes the derivatives themselves differentiable.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import numbers
import operator
import sys
from collections.abc import Callable, Iterator
from fractions import Fraction
from typing import Any


class Mode:
    """The switches of one thread or asyncio task: `no_grad()`, `detect_anomaly()`, and whether a
    reverse-mode transform is running the user's function (then inner transforms build graphs)."""

    __slots__ = ("recording", "detect_anomaly", "in_transform")

    def __init__(
        self, recording: bool = True, detect_anomaly: bool = False, in_transform: bool = False
    ) -> None:
        self.recording = recording
        self.detect_anomaly = detect_anomaly
        self.in_transform = in_transform


#: The switches where nothing was entered. Operations check `current_mode() is DEFAULT_MODE`
#: first: one identity test, cheaper than reading the two switches.
DEFAULT_MODE = Mode()
# NOTE: a context variable, as `decimal.localcontext` uses: each thread starts from the default
# and each asyncio task from a copy of its creator's, so a `with no_grad():` in one thread or
# task never changes what another records, and leaving it restores exactly what was there.
_mode: contextvars.ContextVar[Mode] = contextvars.ContextVar("tracegrad_mode", default=DEFAULT_MODE)
current_mode = _mode.get


@contextlib.contextmanager
def mode(**switches: bool) -> Iterator[None]:
    """Inside, the current thread's or task's switches are changed as given; restored on exit."""
    now = current_mode()
    changed = Mode(now.recording, now.detect_anomaly, now.in_transform)
    for name, value in switches.items():
        setattr(changed, name, value)
    token = _mode.set(changed)
    try:
        yield
    finally:
        _mode.reset(token)


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
    if exponent == 0 and (base == 0 or not isinstance(b, ComparesPrimal)):
        # NOTE: a^0 = 1 has slope 0 at every a, where b·a^(b-1) would be 0 · inf (a = 0 or a
        # tiny a such as 5e-324) or 0 · nan (a = nan). A Value exponent keeps the product form,
        # whose derivative with respect to b (a^(b-1) at b = 0) a second pass needs.
        d_base: Any = 0.0
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
    return math.sin(x) if math.isfinite(x) else math.nan  # IEEE: sin(±inf) is nan, no error


def _cos(x: float) -> float:
    """cos x;  d/dx = -sin x."""
    return math.cos(x) if math.isfinite(x) else math.nan


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


# --- more of Python's math functions ---------------------------------------------------------

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _tan(x: float) -> float:
    """tan x;  d/dx = 1 + tan² x."""
    return math.tan(x) if math.isfinite(x) else math.nan  # IEEE: tan(±inf) is nan


def _sinh(x: float) -> float:
    """sinh x;  d/dx = cosh x."""
    try:
        return math.sinh(x)
    except OverflowError:
        return math.copysign(math.inf, x)  # NOTE: IEEE overflow, as exp does


def _cosh(x: float) -> float:
    """cosh x;  d/dx = sinh x."""
    try:
        return math.cosh(x)
    except OverflowError:
        return math.inf


def _asin(x: float) -> float:
    """arcsin x for -1 ≤ x ≤ 1;  d/dx = 1/√(1 - x²), infinite at ±1."""
    if x < -1.0 or x > 1.0:
        raise ValueError(f"asin: argument must be in [-1, 1], got {x!r}")
    return math.asin(x)


def _acos(x: float) -> float:
    """arccos x for -1 ≤ x ≤ 1;  d/dx = -1/√(1 - x²), infinite at ±1."""
    if x < -1.0 or x > 1.0:
        raise ValueError(f"acos: argument must be in [-1, 1], got {x!r}")
    return math.acos(x)


def _arcsine_slope(x: Any) -> Any:
    """1/√(1 - x²), written (1 - x)(1 + x) to keep its digits near ±1; inf at ±1."""
    if abs(_number(x)) == 1.0:
        return math.inf
    return 1.0 / sqrt((1.0 - x) * (1.0 + x))


def _atan(x: float) -> float:
    """arctan x;  d/dx = 1/(1 + x²)."""
    return math.atan(x)


def _asinh(x: float) -> float:
    """arsinh x;  d/dx = 1/√(x² + 1)."""
    return math.asinh(x)


def _acosh(x: float) -> float:
    """arcosh x for x ≥ 1;  d/dx = 1/√(x² - 1), infinite at 1."""
    if x < 1.0:
        raise ValueError(f"acosh: argument must be at least 1, got {x!r}")
    return math.acosh(x)


def _acosh_grads(x: Any, out: Any) -> tuple:
    # x² - 1 written (x - 1)(x + 1), which keeps its digits near 1.
    return (math.inf if _number(x) == 1.0 else 1.0 / sqrt((x - 1.0) * (x + 1.0)),)


def _atanh(x: float) -> float:
    """artanh x for -1 < x < 1;  d/dx = 1/(1 - x²)."""
    if x <= -1.0 or x >= 1.0:
        raise ValueError(f"atanh: argument must be in (-1, 1), got {x!r}")
    return math.atanh(x)


def _log1p(x: float) -> float:
    """ln(1 + x) for x > -1, exact for small x;  d/dx = 1/(1 + x)."""
    if x <= -1.0:
        raise ValueError(f"log1p: argument must be greater than -1, got {x!r}")
    return math.log1p(x)


def _expm1(x: float) -> float:
    """e^x - 1, exact for small x;  d/dx = e^x."""
    try:
        return math.expm1(x)
    except OverflowError:
        return math.inf  # NOTE: IEEE overflow, as exp does


def _log2(x: float) -> float:
    """log₂ x for x > 0;  d/dx = 1/(x ln 2)."""
    if x <= 0:
        raise ValueError(f"log2: argument must be positive, got {x!r}")
    return math.log2(x)


def _log10(x: float) -> float:
    """log₁₀ x for x > 0;  d/dx = 1/(x ln 10)."""
    if x <= 0:
        raise ValueError(f"log10: argument must be positive, got {x!r}")
    return math.log10(x)


def _erf(x: float) -> float:
    """erf x = (2/√π) ∫₀ˣ e^(-t²) dt;  d/dx = (2/√π) e^(-x²)."""
    return math.erf(x)


def _sign(x: float) -> float:
    """sign x: -1, 0 or 1 (nan for nan);  d/dx = 0, also at 0 (PyTorch's convention)."""
    if x > 0:
        return 1.0
    if x < 0:
        return -1.0
    return x  # 0.0, -0.0 or nan


def _mod(a: float, b: float) -> float:
    """a mod b = a - b·⌊a/b⌋, with the sign of b (Python's %);  ∂/∂a = 1, ∂/∂b = -⌊a/b⌋."""
    if b == 0:
        raise ZeroDivisionError(f"modulo by zero: {a!r} % {b!r}")
    return a % b


def _mod_grads(a: Any, b: Any, out: Any) -> tuple:
    # Python's // is the ⌊a/b⌋ that % uses (math.floor(a / b) can differ by rounding, and
    # raises on inf). It is piecewise constant, so a float serves higher orders too.
    return (1.0, -(_number(a) // _number(b)))


def _maximum(a: float, b: float) -> float:
    """max(a, b), nan if either is;  ∂/∂a = 1 if a > b, 0 if a < b, ½ at a tie (∂/∂b alike)."""
    if a > b:
        return a
    if b > a:
        return b
    return a if a == b else math.nan


def _minimum(a: float, b: float) -> float:
    """min(a, b), nan if either is;  ∂/∂a = 1 if a < b, 0 if a > b, ½ at a tie (∂/∂b alike)."""
    if a < b:
        return a
    if b < a:
        return b
    return a if a == b else math.nan


# NOTE: at a tie the adjoint is split equally between the two inputs, as PyTorch's max does.
_HALF_HALF = (0.5, 0.5)
_ONE_ZERO = (1.0, 0.0)
_ZERO_ONE = (0.0, 1.0)


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
TAN = Primitive("tan", "tan({0})", _tan, lambda x, out: (1.0 + out * out,))
SINH = Primitive("sinh", "sinh({0})", _sinh, lambda x, out: (cosh(x),))
COSH = Primitive("cosh", "cosh({0})", _cosh, lambda x, out: (sinh(x),))
ASIN = Primitive("asin", "asin({0})", _asin, lambda x, out: (_arcsine_slope(x),))
ACOS = Primitive("acos", "acos({0})", _acos, lambda x, out: (-_arcsine_slope(x),))
ATAN = Primitive("atan", "atan({0})", _atan, lambda x, out: (1.0 / (1.0 + x * x),))
ASINH = Primitive("asinh", "asinh({0})", _asinh, lambda x, out: (1.0 / sqrt(x * x + 1.0),))
ACOSH = Primitive("acosh", "acosh({0})", _acosh, _acosh_grads)
ATANH = Primitive("atanh", "atanh({0})", _atanh, lambda x, out: (1.0 / ((1.0 - x) * (1.0 + x)),))
LOG1P = Primitive("log1p", "log1p({0})", _log1p, lambda x, out: (1.0 / (1.0 + x),))
EXPM1 = Primitive("expm1", "expm1({0})", _expm1, lambda x, out: (exp(x),))
LOG2 = Primitive("log2", "log2({0})", _log2, lambda x, out: (1.0 / (x * _LN2),))
LOG10 = Primitive("log10", "log10({0})", _log10, lambda x, out: (1.0 / (x * _LN10),))
ERF = Primitive("erf", "erf({0})", _erf, lambda x, out: (_TWO_OVER_SQRT_PI * exp(-(x * x)),))
SIGN = Primitive("sign", "sign({0})", _sign, lambda x, out: (0.0,))
MOD = Primitive("%", "{0} % {1}", _mod, _mod_grads)
MAXIMUM = Primitive(
    "maximum",
    "maximum({0}, {1})",
    _maximum,
    lambda a, b, out: _ONE_ZERO if a > b else _ZERO_ONE if b > a else _HALF_HALF,
)
MINIMUM = Primitive(
    "minimum",
    "minimum({0}, {1})",
    _minimum,
    lambda a, b, out: _ONE_ZERO if a < b else _ZERO_ONE if b < a else _HALF_HALF,
)

#: Functions of two arguments, `autodiff.maximum(a, b)` and `autodiff.minimum(a, b)`.
BINARY_FUNCTIONS = (MAXIMUM, MINIMUM)
BINARY = (ADD, SUB, MUL, DIV, POW, MOD, *BINARY_FUNCTIONS)
#: Primitives that are also methods of Value and Dual and functions of this package.
FUNCTIONS = (
    *(EXP, LOG, SIN, COS, TANH, SIGMOID, RELU, SOFTPLUS, SQRT),
    *(TAN, SINH, COSH, ASIN, ACOS, ATAN, ASINH, ACOSH, ATANH),
    *(LOG1P, EXPM1, LOG2, LOG10, ERF, SIGN),
)
UNARY = (NEG, POS, ABS, *FUNCTIONS)
NARY = (DOT, SUM)
PRIMITIVES = {prim.name: prim for prim in (*BINARY, *UNARY, *NARY)}


def is_real(x: Any) -> bool:
    """True for the numbers a node accepts as data or constant (int, float, bool, numpy reals)."""
    return type(x) is float or type(x) is int or isinstance(x, numbers.Real) or is_numpy_bool(x)


def to_float(x: Any, name: str) -> float:
    """A real number as a float; one beyond the largest float (10**400, say) is a ValueError."""
    try:
        number = float(x)
    except OverflowError:  # Python's message names neither the argument nor the number
        number = None
    # NOTE: numpy's long double 1e4000 converts to inf silently, where 10**400 raises.
    if number is None or (number - number != 0.0 and x == x and x != number):
        raise ValueError(f"{name} does not fit in a float (its size is beyond 1.8e308)")
    return number


def as_int(x: Any) -> int | None:
    """x as a Python int if it is an integer (numpy's too, through `__index__`), else None.

    A bool is no count or index, and a float is not exact (2.0 is refused)."""
    if isinstance(x, bool) or is_numpy_bool(x):
        return None
    try:
        return operator.index(x)
    except TypeError:
        return None


def limit(name: str, value: Any) -> int | None:
    """A display limit such as `max_nodes`: a positive int, or None for no limit."""
    if value is None:
        return None
    number = as_int(value)
    if number is None:
        raise TypeError(f"{name} must be an int or None, not {type(value).__name__}")
    if number < 1:
        raise ValueError(f"{name} must be a positive int or None, got {number}")
    return number


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
comparison_observer: contextvars.ContextVar[Callable[..., None] | None] = contextvars.ContextVar(
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

    argument = f"{prim.name}() argument"  # built once: rules call these functions on floats

    def function(x: Any) -> Any:
        if is_real(x):
            return prim.value(to_float(x, argument))
        apply = getattr(type(x), "_apply", None)
        if apply is None:
            raise TypeError(
                f"{prim.name}() takes a Value, a Dual or a real number, not {type(x).__name__}"
            )
        return apply(prim, (x,))

    function.__name__ = function.__qualname__ = prim.name
    function.__doc__ = prim.doc
    return function


def _binary_function(prim: Primitive) -> Callable[[Any, Any], Any]:
    """The module function for a `prim` of two arguments, which may be of different kinds."""

    def function(a: Any, b: Any) -> Any:
        if is_real(a) and is_real(b):
            return prim.value(
                to_float(a, f"{prim.name}() argument a"), to_float(b, f"{prim.name}() argument b")
            )
        # A Value's or a Dual's own _apply takes the other argument as a number, a Value or a Dual.
        apply = getattr(type(a), "_apply", None) or getattr(type(b), "_apply", None)
        result = NotImplemented if apply is None else apply(prim, (a, b))
        if result is NotImplemented:
            kinds = f"{type(a).__name__} and {type(b).__name__}"
            raise TypeError(f"{prim.name}() takes Values, Duals or real numbers, not {kinds}")
        return result

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
tan = _function(TAN)
sinh = _function(SINH)
cosh = _function(COSH)
asin = _function(ASIN)
acos = _function(ACOS)
atan = _function(ATAN)
asinh = _function(ASINH)
acosh = _function(ACOSH)
atanh = _function(ATANH)
log1p = _function(LOG1P)
expm1 = _function(EXPM1)
log2 = _function(LOG2)
log10 = _function(LOG10)
erf = _function(ERF)
sign = _function(SIGN)
maximum = _binary_function(MAXIMUM)
minimum = _binary_function(MINIMUM)
