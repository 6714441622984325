"""Exercises graded by the engine itself: a student's answer is checked against tracegrad's numbers.

`check_engine(value_class)` grades a student's own micrograd-style Value class case by case; the
other checkers grade a filled-in trace, predicted grads, a new primitive's local derivative and
finite differences, naming the wrong place and hiding the expected number unless `reveal=True`.
The network exercises (δ's, ∂E/∂W, Jacobian and Hessian entries) are in `nn.exercises`.
"""

from .checkers import check_finite_differences, check_grads, check_local_derivative, check_trace
from .engine import EngineReport, check_engine
from .feedback import Feedback

__all__ = [
    "EngineReport",
    "Feedback",
    "check_engine",
    "check_finite_differences",
    "check_grads",
    "check_local_derivative",
    "check_trace",
]
