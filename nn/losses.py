"""Per-data-point error functions E_n (Bishop (8.1)); sum or average them over a data set yourself.

Each takes the model's output as the model returns it (a Value, or a list of Values) and a target,
and returns a Value (a float for plain numbers). They are compositions of engine primitives with
no derivative rules of their own, written in forms that cannot overflow for any finite input.
"""

from __future__ import annotations

from typing import Any

import autodiff
from autodiff import Value
from autodiff.ops import as_int, is_real, to_float


def _data(x: Any) -> float:
    return x.data if isinstance(x, Value) else to_float(x, "output")


def _as_list(output: Any) -> list[Any]:
    return list(output) if isinstance(output, (list, tuple)) else [output]


def _single(output: Any, loss: str) -> Any:
    """The one output of a binary classifier: a Value, or a list holding one Value."""
    outputs = _as_list(output)
    if len(outputs) != 1:
        raise ValueError(f"{loss} takes one output, got {len(outputs)}")
    return outputs[0]


def _pairs(output: Any, target: Any, loss: str) -> list[tuple[Any, Any]]:
    """(y_k, t_k) for each output, checking that outputs and targets have the same length."""
    outputs, targets = _as_list(output), _as_list(target)
    if len(outputs) != len(targets):
        raise ValueError(f"{loss}: {len(outputs)} outputs but {len(targets)} targets")
    if not outputs:
        raise ValueError(f"{loss}: no outputs to compare with targets")
    return [(y, _target(t, loss)) for y, t in zip(outputs, targets)]


def _target(t: Any, loss: str) -> Any:
    """A regression target: a Value as it is, a number as a float."""
    if isinstance(t, Value):
        return t
    if not is_real(t):
        raise TypeError(f"{loss}: target must be a number, not {type(t).__name__}")
    return to_float(t, f"{loss}: target")


def _binary_target(target: Any, allowed: tuple[int, int], loss: str) -> int:
    # A label may be a bool (True is 1), numpy's too: an array of labels may hold np.bool_.
    if not is_real(target):
        raise TypeError(
            f"{loss}: target must be {allowed[0]} or {allowed[1]}, not {type(target).__name__}"
        )
    if target not in allowed:
        raise ValueError(f"{loss}: target must be {allowed[0]} or {allowed[1]}, got {target!r}")
    return int(target)


def sse(output: Any, target: Any) -> Value:
    """E_n = ½ Σ_k (y_k - t_k)², the sum-of-squares error (Bishop (8.17))."""
    squares = [(y - t) ** 2 for y, t in _pairs(output, target, "sse")]
    return 0.5 * (squares[0] if len(squares) == 1 else autodiff.sum(squares))


def mse(output: Any, target: Any) -> Value:
    """E_n = (1/K) Σ_k (y_k - t_k)², the mean of the squared errors over the K outputs."""
    squares = [(y - t) ** 2 for y, t in _pairs(output, target, "mse")]
    return squares[0] if len(squares) == 1 else autodiff.sum(squares) / len(squares)


def binary_cross_entropy(probability: Any, target: Any) -> Value:
    """E_n = -[t ln p + (1 - t) ln(1 - p)] for a probability p in [0, 1] and t in {0, 1}."""
    p = _single(probability, "binary_cross_entropy")
    t = _binary_target(target, (0, 1), "binary_cross_entropy")
    # NOTE: p itself is compared, not its number, so that a recorded program keeps the check
    # as a guard (autodiff.record): replayed at another point, p outside [0, 1] still raises.
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"binary_cross_entropy: probability must be in [0, 1], got {_data(p)!r}")
    # Only one term survives for t in {0, 1}, which also avoids 0 · ln 0.
    q = p if t == 1 else 1 - p  # the probability given to the true class
    if _data(q) == 0.0:
        # NOTE: ln 0 is -inf: a saturated probability on the wrong side has an infinite loss.
        raise ValueError(
            f"binary_cross_entropy: probability {_data(p)!r} for target {t} gives an infinite "
            "loss; use binary_cross_entropy_with_logits on the logit instead"
        )
    return -autodiff.log(q)


def binary_cross_entropy_with_logits(logit: Any, target: Any) -> Value:
    """E_n = -[t ln σ(a) + (1 - t) ln(1 - σ(a))] = softplus(a) - t a for a logit a, t in {0, 1}."""
    a = _single(logit, "binary_cross_entropy_with_logits")
    t = _binary_target(target, (0, 1), "binary_cross_entropy_with_logits")
    # NOTE: -ln σ(a) = softplus(-a) and -ln(1 - σ(a)) = softplus(a); softplus never overflows,
    # where ln(sigmoid(a)) would take the log of 0 once σ(a) rounds to 0.
    return autodiff.softplus(-a) if t == 1 else autodiff.softplus(a)


def cross_entropy(logits: Any, k: int) -> Value:
    """E_n = -ln softmax(a)_k = ln Σ_j exp(a_j) - a_k, from the logits a and the true class k."""
    a = _as_list(logits)
    index = as_int(k)  # np.int64 too: labels often come from an array
    if index is None:
        raise TypeError(f"cross_entropy: class index must be an int, not {type(k).__name__}")
    if not 0 <= index < len(a):
        raise ValueError(f"cross_entropy: class index {k} out of range for {len(a)} logits")
    # NOTE: log-sum-exp. Subtracting m = max_j a_j (a constant: the result does not depend on it)
    # makes every exponent <= 0, so exp cannot overflow and the sum is at least 1.
    m = max(_data(x) for x in a)
    shifted = [x - m for x in a]
    return autodiff.log(autodiff.sum([autodiff.exp(s) for s in shifted])) - shifted[index]


def hinge(score: Any, target: Any) -> Value:
    """E_n = max(0, 1 - t·y), the hinge loss of a score y for a label t in {-1, +1}."""
    y = _single(score, "hinge")
    t = _binary_target(target, (-1, 1), "hinge")
    return autodiff.relu(1 - y) if t == 1 else autodiff.relu(1 + y)
