"""Bishop's Algorithm 8.1 (backpropagation) written out by hand, in plain floats, for an `MLP`.

No graph and no engine: the forward pass (8.5), (8.6), the output errors, the backward recursion
(8.13) and the derivatives (8.10), for one data point and the sum-of-squares error (8.17). It is the
oracle the engine is tested against: its δ_j must equal the adjoint of each pre-activation node.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import autodiff
from autodiff.ops import to_float

from .module import MLP, _input_vector


def _h(activation: str, a: float) -> float:
    """The activation function h(a) of a unit (8.6)."""
    if activation == "linear":
        return a
    return getattr(autodiff, activation)(a)  # tanh, sigmoid or relu of a float is a float


def _h_prime(activation: str, a: float, z: float) -> float:
    """h'(a), written with z = h(a) where the textbook does."""
    if activation == "tanh":
        return 1.0 - z * z  # (8.16)
    if activation == "sigmoid":
        return z * (1.0 - z)  # σ' = σ(1 - σ)
    if activation == "relu":
        return 1.0 if a > 0.0 else 0.0  # NOTE: relu'(0) = 0, the engine's (and PyTorch's) choice
    return 1.0  # linear


@dataclass
class Backprop:
    """The numbers Algorithm 8.1 computes for one data point, layer by layer (layer 1 first)."""

    error: float  # E_n = ½ Σ_k (y_k - t_k)²
    preactivations: list[list[float]]  # a_j of every unit
    activations: list[list[float]]  # z_j = h(a_j) of every unit; the last list is y
    deltas: list[list[float]]  # δ_j = ∂E_n/∂a_j of every unit
    grads: list[float]  # ∂E_n/∂w, aligned with model.parameters()


def backprop(model: MLP, x: Any, t: Any) -> Backprop:
    """∂E_n/∂w for E_n = ½ Σ_k (y_k - t_k)² by Algorithm 8.1: forward, output δ, backward δ, δ z."""
    weights = [[[w.data for w in unit.weights] for unit in layer.neurons] for layer in model.layers]
    biases = [[unit.bias.data for unit in layer.neurons] for layer in model.layers]
    kinds = [layer.activation for layer in model.layers]
    inputs = [to_float(xi, f"x[{i}]") for i, xi in enumerate(_input_vector(x, model.nin))]
    given = t if isinstance(t, (list, tuple)) else [t]
    targets = [to_float(tk, f"t[{k}]") for k, tk in enumerate(given)]
    if len(targets) != model.nouts[-1]:
        raise ValueError(f"backprop: {model.nouts[-1]} outputs but {len(targets)} targets")

    # 1. Forward propagation, layer by layer: a_j = Σ_i w_ji z_i + b_j (8.5), z_j = h(a_j) (8.6).
    #    zs[l] holds the z_i that feed layer l; zs[0] is the input vector x.
    zs = [inputs]
    preactivations = []
    for layer_weights, layer_biases, kind in zip(weights, biases, kinds):
        z_in = zs[-1]
        a = [
            sum(w_ji * z_i for w_ji, z_i in zip(w_j, z_in)) + b_j
            for w_j, b_j in zip(layer_weights, layer_biases)
        ]
        preactivations.append(a)
        zs.append([_h(kind, a_j) for a_j in a])
    y = zs[-1]
    error = 0.5 * sum((y_k - t_k) ** 2 for y_k, t_k in zip(y, targets))  # (8.17)

    # 2. Error evaluation at the outputs: δ_k = ∂E_n/∂a_k = (y_k - t_k) h'(a_k),
    #    which is δ_k = y_k - t_k (8.11) for linear output units.
    deltas = [[] for _ in weights]
    deltas[-1] = [
        (y_k - t_k) * _h_prime(kinds[-1], a_k, y_k)
        for y_k, t_k, a_k in zip(y, targets, preactivations[-1])
    ]

    # 3. Backward propagation, in reverse order: δ_j = h'(a_j) Σ_k w_kj δ_k (8.13), where k runs
    #    over the units of the next layer (the sum is over the first index of w_kj).
    for layer in range(len(weights) - 2, -1, -1):
        w_above, delta_above = weights[layer + 1], deltas[layer + 1]
        deltas[layer] = [
            _h_prime(kinds[layer], a_j, z_j)
            * sum(w_k[j] * delta_k for w_k, delta_k in zip(w_above, delta_above))
            for j, (a_j, z_j) in enumerate(zip(preactivations[layer], zs[layer + 1]))
        ]

    # 4. Derivatives: ∂E_n/∂w_ji = δ_j z_i (8.10), and ∂E_n/∂b_j = δ_j (a bias is a weight from
    #    a unit fixed at z = 1).
    #    Listed as model.parameters() lists them: layer by layer, unit by unit, weights then bias.
    grads = [
        d
        for delta, z_in in zip(deltas, zs)
        for delta_j in delta
        for d in [*(delta_j * z_i for z_i in z_in), delta_j]
    ]
    return Backprop(error, preactivations, zs[1:], deltas, grads)
