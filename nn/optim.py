"""Gradient-descent optimisers with PyTorch's update rules: `SGD` (with momentum) and `Adam`.

`step()` reads each parameter's `grad` (∂E/∂w after a backward pass) and changes its `data`;
`zero_grad()` clears the gradients before the next pass, since backward passes accumulate.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from autodiff import Value
from autodiff.ops import is_real, to_float

from ._args import rate


class Optimizer:
    """The parameters an optimiser updates, checked once: a non-empty list of distinct Values."""

    def __init__(self, params: Iterable[Value]) -> None:
        self.params = list(params)
        if not self.params:
            raise ValueError("optimizer got an empty parameter list")
        seen: set[Value] = set()
        for index, parameter in enumerate(self.params):
            if not isinstance(parameter, Value):
                raise TypeError(f"parameter {index} is a {type(parameter).__name__}, not a Value")
            if parameter in seen:
                raise ValueError(f"parameter {index} appears more than once")
            seen.add(parameter)

    def zero_grad(self) -> None:
        """Set ∂E/∂w = 0 on every parameter."""
        for parameter in self.params:
            parameter.grad = 0.0

    def _grads(self) -> list[float]:
        """Every parameter's grad, checked before a step changes anything (all or nothing)."""
        grads = []
        for index, parameter in enumerate(self.params):
            g = parameter.grad
            if not is_real(g):
                raise TypeError(
                    f"parameter {index} has a grad of type {type(g).__name__}, not a number; "
                    "nothing was changed"
                )
            grads.append(to_float(g, f"the grad of parameter {index}"))
        return grads


class SGD(Optimizer):
    """w ← w - η b with b ← μ b + ∂E/∂w (b = ∂E/∂w on the first step; plain descent when μ = 0)."""

    def __init__(self, params: Iterable[Value], lr: float, momentum: float = 0.0) -> None:
        super().__init__(params)
        self.lr = rate("lr", lr)
        self.momentum = rate("momentum", momentum)
        self.buffers: list[float] | None = None  # the momentum buffers b, made on the first step

    def step(self) -> None:
        """One update of every parameter from its current grad."""
        lr, momentum = self.lr, self.momentum
        grads = self._grads()
        if momentum == 0.0:
            for parameter, g in zip(self.params, grads):
                parameter.data -= lr * g
            return
        if self.buffers is None:  # first step: b = g, as in PyTorch
            self.buffers = grads
        else:
            self.buffers = [momentum * b + g for b, g in zip(self.buffers, grads)]
        for parameter, buffer in zip(self.params, self.buffers):
            parameter.data -= lr * buffer


class Adam(Optimizer):
    """w ← w - η m̂ / (√v̂ + ε), m̂ and v̂ the bias-corrected running means of g and g² (Adam)."""

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        super().__init__(params)
        self.lr = rate("lr", lr)
        if not isinstance(betas, (tuple, list)):
            raise TypeError(f"betas must be a pair (beta1, beta2), not {type(betas).__name__}")
        if len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        self.betas = (rate("beta1", betas[0], 1.0), rate("beta2", betas[1], 1.0))
        # NOTE: eps > 0, so the update never divides 0 by 0 (a parameter whose grads were all 0).
        self.eps = rate("eps", eps, positive=True)
        self.t = 0  # steps taken
        self.m = [0.0] * len(self.params)  # running mean of g
        self.v = [0.0] * len(self.params)  # running mean of g²

    def step(self) -> None:
        """One update of every parameter from its current grad."""
        beta1, beta2 = self.betas
        grads = self._grads()
        self.t += 1
        # The running means start at 0, so early on they are biased towards 0 by these factors.
        correction1 = 1.0 - beta1**self.t
        correction2 = 1.0 - beta2**self.t
        for i, (parameter, g) in enumerate(zip(self.params, grads)):
            self.m[i] = m = beta1 * self.m[i] + (1.0 - beta1) * g
            self.v[i] = v = beta2 * self.v[i] + (1.0 - beta2) * g * g
            m_hat = m / correction1
            v_hat = v / correction2
            parameter.data -= self.lr * m_hat / (math.sqrt(v_hat) + self.eps)
