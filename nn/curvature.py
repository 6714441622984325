"""The Hessian of a sum-of-squares error over a data set, exact and in outer-product form.

For E(w) = Σ_n ½ Σ_k (y_nk - t_nk)², Bishop (8.39) splits H = ∇∇E into Σ ∇y ∇yᵀ plus
Σ (y - t) ∇∇y. `exact_hessian` keeps both terms; `outer_product_hessian` keeps the first only,
the Levenberg–Marquardt approximation (8.40), which is close when the residuals y - t are small
(a trained network) and can be far off otherwise. Both return W x W nested lists of floats.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import autodiff
from autodiff import Value
from autodiff.functional import gradients

from .losses import sse


def exact_hessian(model: Any, inputs: Sequence[Any], targets: Sequence[Any]) -> list[list[float]]:
    """H_ij = ∂²E/∂w_i∂w_j for E = Σ_n ½ Σ_k (y_nk - t_nk)², w = model.parameters() (8.39)."""
    parameters = _parameters(model)
    inputs = _inputs(inputs)
    if not isinstance(targets, (list, tuple)):
        raise TypeError(f"targets must be a list or tuple, not {type(targets).__name__}")
    if len(targets) != len(inputs):
        raise ValueError(f"targets must be a list of {len(inputs)} targets, one per input")
    error = autodiff.sum([sse(model(x), t) for x, t in zip(inputs, targets, strict=True)])
    # 1. One reverse pass that builds a graph: ∇E as Values. 2. One more pass per row of H.
    gradient = gradients(error, parameters, create_graph=True)
    return [gradients(g, parameters) for g in gradient]


def outer_product_hessian(model: Any, inputs: Sequence[Any]) -> list[list[float]]:
    """H ≈ Σ_n Σ_k ∇y_nk ∇y_nkᵀ: the outer-product (Levenberg–Marquardt) approximation (8.40).

    It needs first derivatives only, one reverse pass per output and data point, and no targets:
    the dropped term Σ (y - t) ∇∇y is the only place they enter. For linear output units y = a,
    so this is Bishop's Σ ∇a ∇aᵀ; for other output activations it is the same Gauss–Newton form.
    """
    parameters = _parameters(model)
    size = len(parameters)
    result = [[0.0] * size for _ in range(size)]
    for x in _inputs(inputs):
        out = model(x)
        for y in out if isinstance(out, (list, tuple)) else [out]:
            g = gradients(y, parameters)
            for i in range(size):
                row = result[i]
                for j in range(size):
                    row[j] += g[i] * g[j]
    return result


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
