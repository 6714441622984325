"""nn.SGD and nn.Adam: PyTorch's update rules, checked step by step against hand-worked numbers."""

from __future__ import annotations

import math

import pytest

from autodiff import Value
from nn import MLP, SGD, Adam, sse


def _run(optimizer, parameter, grads):
    """Take one step per gradient in `grads`, recording the parameter after each."""
    path = []
    for g in grads:
        parameter.grad = g
        optimizer.step()
        path.append(parameter.data)
    return path


def test_sgd_without_momentum_steps_down_the_gradient():
    w = Value(1.0)
    assert _run(SGD([w], lr=0.1), w, [0.5, -2.0]) == pytest.approx([0.95, 1.15], abs=1e-15)


def test_sgd_momentum_matches_hand_computed_steps():
    # PyTorch: b1 = g1; b_t = μ b_{t-1} + g_t; w ← w - η b_t. With μ = 0.9, η = 0.1:
    # b1 = 0.5            w1 = 1 - 0.05       = 0.95
    # b2 = 0.45 - 2 = -1.55   w2 = 0.95 + 0.155  = 1.105
    # b3 = -1.395 + 1 = -0.395  w3 = 1.105 + 0.0395 = 1.1445
    w = Value(1.0)
    path = _run(SGD([w], lr=0.1, momentum=0.9), w, [0.5, -2.0, 1.0])
    assert path == pytest.approx([0.95, 1.105, 1.1445], abs=1e-12)


def test_sgd_momentum_keeps_one_buffer_per_parameter():
    # μ = 0.5, η = 0.1. a: g = 1 then 0, so b = 1 then 0.5: a = -0.1 - 0.05.
    # b: g = -2 then 4, so b = -2 then -1 + 4 = 3: b = 0.2 - 0.3.
    a, b = Value(0.0), Value(0.0)
    optimizer = SGD([a, b], lr=0.1, momentum=0.5)
    a.grad, b.grad = 1.0, -2.0
    optimizer.step()
    a.grad, b.grad = 0.0, 4.0
    optimizer.step()
    assert a.data == pytest.approx(-0.15, abs=1e-15)
    assert b.data == pytest.approx(-0.1, abs=1e-15)
    assert optimizer.buffers == pytest.approx([0.5, 3.0], abs=1e-15)


def test_adam_matches_hand_computed_steps():
    # β1 = 0.9, β2 = 0.999, ε = 1e-8, η = 0.1, w0 = 1, g1 = 0.5, g2 = -0.25.
    # Step 1: m = 0.05, v = 0.00025; m̂ = 0.05/0.1 = 0.5, v̂ = 0.00025/0.001 = 0.25:
    #   w1 = 1 - 0.1 · 0.5/(0.5 + 1e-8)
    # Step 2: m = 0.045 - 0.025 = 0.02, v = 0.00024975 + 0.0000625 = 0.00031225;
    #   m̂ = 0.02/0.19, v̂ = 0.00031225/0.001999:  w2 = w1 - 0.1 · m̂/(√v̂ + 1e-8)
    w1 = 1.0 - 0.1 * 0.5 / (0.5 + 1e-8)
    w2 = w1 - 0.1 * (0.02 / 0.19) / (math.sqrt(0.00031225 / 0.001999) + 1e-8)
    w = Value(1.0)
    optimizer = Adam([w], lr=0.1)
    assert _run(optimizer, w, [0.5, -0.25]) == pytest.approx([w1, w2], abs=1e-12)
    assert optimizer.t == 2
    assert optimizer.m == pytest.approx([0.02], abs=1e-15)
    assert optimizer.v == pytest.approx([0.00031225], abs=1e-15)


def test_adam_first_step_has_size_lr_whatever_the_gradient_scale():
    # Bias correction makes m̂/√v̂ = g/|g| on step 1: the first move is η in the direction of -g.
    for g in (1e-6, 3.0, -250.0):
        w = Value(0.0)
        (step,) = _run(Adam([w], lr=0.01, eps=1e-300), w, [g])
        assert step == pytest.approx(-0.01 * math.copysign(1.0, g), rel=1e-12)


def test_adam_defaults_are_pytorchs():
    # lr = 1e-3, betas = (0.9, 0.999), eps = 1e-8: step 1 moves by η g / (|g| + ε).
    w = Value(1.0)
    optimizer = Adam([w])
    assert (optimizer.lr, optimizer.betas, optimizer.eps) == (1e-3, (0.9, 0.999), 1e-8)
    assert _run(optimizer, w, [0.5]) == pytest.approx([1.0 - 1e-3 * 0.5 / (0.5 + 1e-8)], abs=1e-15)


def test_adam_keeps_state_per_parameter():
    a, b = Value(0.0), Value(0.0)
    optimizer = Adam([a, b], lr=0.1, betas=(0.5, 0.75), eps=1e-300)
    a.grad, b.grad = 2.0, -1.0
    optimizer.step()
    a.grad, b.grad = 0.0, -1.0
    optimizer.step()
    # a, step 1: m = 1, v = 1, m̂ = 1/0.5 = 2, v̂ = 1/0.25 = 4: a = -0.1 · 2/2 = -0.1.
    #    step 2: m = 0.5, v = 0.75, m̂ = 0.5/0.75, v̂ = 0.75/0.4375.
    # b: m̂ = -1 and v̂ = 1 on both steps: b = 0.1 + 0.1.
    assert a.data == pytest.approx(-0.1 - 0.1 * (0.5 / 0.75) / math.sqrt(0.75 / 0.4375), abs=1e-12)
    assert b.data == pytest.approx(0.2, abs=1e-12)


def test_zero_grad_clears_the_gradients_of_its_parameters():
    model = MLP(2, [3, 1], seed=0)
    optimizer = SGD(model.parameters(), lr=0.1)
    sse(model([1.0, 2.0]), 0.0).backward()
    optimizer.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


def test_a_step_lowers_the_error_of_a_small_network():
    model = MLP(2, [3, 1], seed=0)
    for optimizer in (
        SGD(model.parameters(), lr=0.05, momentum=0.9),
        Adam(model.parameters(), lr=0.01),
    ):
        before = sse(model([1.0, 2.0]), 0.0)
        optimizer.zero_grad()
        before.backward()
        optimizer.step()
        assert sse(model([1.0, 2.0]), 0.0).data < before.data


# --- bad arguments --------------------------------------------------------------------------


@pytest.mark.parametrize("make", [lambda ps: SGD(ps, lr=0.1), lambda ps: Adam(ps)])
def test_parameters_must_be_distinct_values(make):
    w = Value(1.0)
    with pytest.raises(ValueError, match="empty"):
        make([])
    with pytest.raises(TypeError, match="parameter 1 is a float"):
        make([w, 2.0])
    with pytest.raises(ValueError, match="parameter 1 appears more than once"):
        make([w, w])


def test_bad_hyperparameters_are_errors():
    w = [Value(1.0)]
    with pytest.raises(ValueError, match="lr"):
        SGD(w, lr=-0.1)
    with pytest.raises(ValueError, match="momentum"):
        SGD(w, lr=0.1, momentum=-0.5)
    with pytest.raises(TypeError, match="lr must be a number"):
        SGD(w, lr="0.1")
    with pytest.raises(ValueError, match="beta1"):
        Adam(w, betas=(1.0, 0.999))
    with pytest.raises(ValueError, match="beta2"):
        Adam(w, betas=(0.9, -0.1))
    with pytest.raises(ValueError, match="pair"):
        Adam(w, betas=(0.9,))
    with pytest.raises(ValueError, match="eps"):
        Adam(w, eps=-1e-8)
    for bad in (math.inf, math.nan):
        with pytest.raises(ValueError, match="lr must be a finite number >= 0"):
            SGD(w, lr=bad)
