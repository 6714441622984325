"""tracegrad's engine: scalar reverse-mode automatic differentiation on an evaluation trace.

`Value` is a node of the trace; `backward()` accumulates adjoints through it. `Dual` is forward
mode. The functions below work on Values, Duals and plain numbers alike.
"""

from .dual import Dual
from .ops import cos, exp, log, relu, sigmoid, sin, softplus, sqrt, tanh
from .value import Value, detect_anomaly, dot, no_grad, sum

__all__ = [
    "Dual",
    "Value",
    "cos",
    "detect_anomaly",
    "dot",
    "exp",
    "log",
    "no_grad",
    "relu",
    "sigmoid",
    "sin",
    "softplus",
    "sqrt",
    "sum",
    "tanh",
]
