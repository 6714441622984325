"""Exercises graded by the engine: checkers that name the wrong node, cell or case.

Each checker computes the expected answer with the engine itself and returns a `Feedback`
(truthy when all is right; text, or HTML in Jupyter) that hides the expected numbers unless
`reveal=True`. The network exercises (δ's, Jacobian and Hessian entries) are in `nn.exercises`.
"""

from .checkers import check_finite_differences, check_grads, check_local_derivative, check_trace
from .feedback import Feedback

__all__ = [
    "Feedback",
    "check_finite_differences",
    "check_grads",
    "check_local_derivative",
    "check_trace",
]
