"""tracegrad's engine: scalar reverse-mode automatic differentiation on an evaluation trace.

`Value` is a node of the trace; `backward()` accumulates adjoints through it. `Dual` is forward
mode. The functions below work on Values, Duals and plain numbers alike.
"""

from .check import fd_error_curve, gradcheck, numerical_grad, plot_fd_error_curve
from .draw import backward_steps, draw_dot, draw_trace, show_backward
from .dual import Dual
from .explain import explain
from .functional import grad, gradients, hessian, hvp, jacobian, jvp, value_and_grad, vjp
from .ops import (
    acos,
    acosh,
    asin,
    asinh,
    atan,
    atanh,
    cos,
    cosh,
    erf,
    exp,
    expm1,
    log,
    log1p,
    log2,
    log10,
    maximum,
    minimum,
    relu,
    sigmoid,
    sign,
    sin,
    sinh,
    softplus,
    sqrt,
    tan,
    tanh,
)
from .program import Program, record
from .trace import trace
from .value import Value, detect_anomaly, dot, no_grad, sum  # noqa: A004 - autodiff.sum is API

__all__ = [
    "Dual",
    "Program",
    "Value",
    "acos",
    "acosh",
    "asin",
    "asinh",
    "atan",
    "atanh",
    "backward_steps",
    "cos",
    "cosh",
    "detect_anomaly",
    "dot",
    "draw_dot",
    "draw_trace",
    "erf",
    "exp",
    "explain",
    "expm1",
    "fd_error_curve",
    "grad",
    "gradcheck",
    "gradients",
    "hessian",
    "hvp",
    "jacobian",
    "jvp",
    "log",
    "log1p",
    "log2",
    "log10",
    "maximum",
    "minimum",
    "no_grad",
    "numerical_grad",
    "plot_fd_error_curve",
    "record",
    "relu",
    "show_backward",
    "sigmoid",
    "sign",
    "sin",
    "sinh",
    "softplus",
    "sqrt",
    "sum",
    "tan",
    "tanh",
    "trace",
    "value_and_grad",
    "vjp",
]
