"""The Hessian of an error over a data set, exact and in outer-product form (Bishop 8.1.6).

For E(w) = Σ_n ½ Σ_k (y_nk - t_nk)², Bishop (8.39) splits H = ∇∇E into Σ ∇y ∇yᵀ plus
Σ (y - t) ∇∇y; the outer-product (Levenberg–Marquardt) approximation (8.40) keeps the first sum
only, and (8.41) is its cross-entropy form for a sigmoid output unit. Both return W x W nested
lists of floats.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import autodiff
from autodiff import Value
from autodiff.functional import gradients

from .losses import binary_cross_entropy_with_logits, sse

Loss = Callable[[Any, Any], Value]


def exact_hessian(
    model: Any, inputs: Sequence[Any], targets: Sequence[Any], loss: Loss = sse
) -> list[list[float]]:
    """H_ij = ∂²E/∂w_i∂w_j for E = Σ_n loss(y_n, t_n), w = model.parameters() (8.37)."""
    _check_loss(loss)
    parameters = _parameters(model)
    inputs = _inputs(inputs)
    if not isinstance(targets, (list, tuple)):
        raise TypeError(f"targets must be a list or tuple, not {type(targets).__name__}")
    if len(targets) != len(inputs):
        raise ValueError(f"targets must be a list of {len(inputs)} targets, one per input")
    error = autodiff.sum([loss(model(x), t) for x, t in zip(inputs, targets, strict=True)])
    # 1. One reverse pass that builds a graph: ∇E as Values. 2. One more pass per row of H.
    gradient = gradients(error, parameters, create_graph=True)
    return [gradients(g, parameters) for g in gradient]


def outer_product_hessian(model: Any, inputs: Sequence[Any], loss: Loss = sse) -> list[list[float]]:
    """H ≈ Σ_n Σ_k c(y_nk) ∇y_nk ∇y_nkᵀ: the outer-product (Levenberg–Marquardt) approximation.

    With `loss=sse`, c = 1: Bishop's (8.40) (for linear output units y = a). With
    `loss=binary_cross_entropy_with_logits` the model's output is the logit a of a sigmoid
    output unit and c(a) = σ(a)(1 - σ(a)) = y(1 - y): the cross-entropy form (8.41). Either way
    it drops the term Σ (y - t) ∇∇a, the only place the targets enter, so it takes no targets
    and needs one reverse pass per output and data point.
    """
    weight = _CURVATURE_OF_LOSS.get(_check_loss(loss))
    if weight is None:
        raise ValueError(
            "outer_product_hessian: loss must be nn.sse (8.40) or "
            f"nn.binary_cross_entropy_with_logits (8.41), not {getattr(loss, '__name__', loss)!r}"
        )
    parameters = _parameters(model)
    size = len(parameters)
    result = [[0.0] * size for _ in range(size)]
    for x in _inputs(inputs):
        out = model(x)
        for y in out if isinstance(out, (list, tuple)) else [out]:
            g = gradients(y, parameters)  # all 0 for a number: it depends on no parameter
            c = weight(y.data if isinstance(y, Value) else y)
            for i in range(size):
                row, scaled = result[i], c * g[i]
                for j in range(size):
                    row[j] += scaled * g[j]
    return result


#: ∂²E_n/∂y² for each loss, as a function of the model's output y: the weight of ∇y ∇yᵀ.
_CURVATURE_OF_LOSS: dict[Loss, Callable[[float], float]] = {
    sse: lambda y: 1.0,
    # σ(a)(1 - σ(a)) written as σ(a)σ(-a), which does not round to 0 for a large logit a
    binary_cross_entropy_with_logits: lambda a: autodiff.sigmoid(a) * autodiff.sigmoid(-a),
}


def _check_loss(loss: Any) -> Loss:
    if not callable(loss):
        raise TypeError(f"loss must be a function such as nn.sse, not {type(loss).__name__}")
    return loss


def _parameters(model: Any) -> list[Value]:
    parameters = getattr(model, "parameters", None)
    if not callable(parameters):
        raise TypeError(f"model must have a parameters() method, {type(model).__name__} has none")
    parameters = list(parameters())
    if not parameters:
        raise ValueError("model has no parameters to differentiate by")
    return parameters


def _inputs(inputs: Sequence[Any]) -> Sequence[Any]:
    if not isinstance(inputs, (list, tuple)):
        raise TypeError(
            f"inputs must be a list or tuple of input vectors, not {type(inputs).__name__}"
        )
    if not inputs:
        raise ValueError("inputs must be a non-empty list of input vectors")
    return inputs
