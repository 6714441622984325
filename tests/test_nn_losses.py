"""nn.losses: values against closed forms, gradients against finite differences, no overflow."""

from __future__ import annotations

import math

import pytest

import autodiff
from autodiff import Value, ops
from autodiff.value import CustomOp, ancestors
from nn import losses
from nn.losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    hinge,
    mse,
    sse,
)


def _sigmoid(a: float) -> float:
    return 1.0 / (1.0 + math.exp(-a))


# --- values against closed forms ------------------------------------------------------------


def test_sse_is_half_the_sum_of_squares():
    assert sse(Value(3.0), 1.0).data == 2.0
    assert sse([Value(1.0), Value(-2.0)], [0.5, 1.0]).data == pytest.approx(0.5 * (0.25 + 9.0))


def test_mse_is_the_mean_of_squares():
    assert mse(Value(3.0), 1.0).data == 4.0
    assert mse([Value(1.0), Value(-2.0), Value(0.0)], [0.5, 1.0, 2.0]).data == pytest.approx(
        (0.25 + 9.0 + 4.0) / 3
    )


@pytest.mark.parametrize("p", [0.01, 0.3, 0.5, 0.99])
@pytest.mark.parametrize("t", [0, 1])
def test_binary_cross_entropy_is_minus_log_likelihood(p, t):
    expected = -(t * math.log(p) + (1 - t) * math.log(1 - p))
    assert binary_cross_entropy(Value(p), t).data == pytest.approx(expected, rel=1e-14)


@pytest.mark.parametrize("a", [-5.0, -0.3, 0.0, 2.0, 30.0])
@pytest.mark.parametrize("t", [0, 1])
def test_binary_cross_entropy_with_logits_equals_it_on_the_sigmoid(a, t):
    # -ln σ(a) = ln(1 + e^-a), -ln(1 - σ(a)) = a + ln(1 + e^-a): no cancellation in 1 - σ(a)
    expected = math.log1p(math.exp(-a)) + (0.0 if t == 1 else a)
    assert binary_cross_entropy_with_logits(Value(a), t).data == pytest.approx(expected, rel=1e-14)
    if abs(a) <= 5.0:  # where 1 - σ(a) keeps its digits, the naive formula agrees too
        p = _sigmoid(a)
        naive = -math.log(p) if t == 1 else -math.log(1.0 - p)
        assert binary_cross_entropy_with_logits(Value(a), t).data == pytest.approx(naive, rel=1e-12)


def test_cross_entropy_is_minus_log_softmax():
    logits = [0.5, -1.0, 2.0]
    total = sum(math.exp(a) for a in logits)
    for k in range(3):
        expected = -math.log(math.exp(logits[k]) / total)
        assert cross_entropy([Value(a) for a in logits], k).data == pytest.approx(
            expected, rel=1e-14
        )


@pytest.mark.parametrize(
    ("score", "t", "expected"), [(0.3, 1, 0.7), (0.3, -1, 1.3), (2.0, 1, 0.0), (-4.0, -1, 0.0)]
)
def test_hinge_is_relu_of_one_minus_margin(score, t, expected):
    assert hinge(Value(score), t).data == pytest.approx(expected, abs=1e-15)


def test_losses_accept_a_one_element_list_as_the_model_output():
    assert hinge([Value(0.3)], 1).data == hinge(Value(0.3), 1).data
    assert binary_cross_entropy_with_logits([Value(0.3)], 0).data == pytest.approx(
        binary_cross_entropy_with_logits(Value(0.3), 0).data
    )


# --- gradients against central differences --------------------------------------------------

CASES = {
    "sse": (lambda y1, y2: sse([y1, y2], [0.3, -1.0]), [0.8, 0.1]),
    "mse": (lambda y1, y2: mse([y1, y2], [0.3, -1.0]), [0.8, 0.1]),
    "bce t=1": (lambda p: binary_cross_entropy(p, 1), [0.3]),
    "bce t=0": (lambda p: binary_cross_entropy(p, 0), [0.3]),
    "bce logits t=1": (lambda a: binary_cross_entropy_with_logits(a, 1), [-0.7]),
    "bce logits t=0": (lambda a: binary_cross_entropy_with_logits(a, 0), [1.9]),
    "cross entropy": (lambda a, b, c: cross_entropy([a, b, c], 2), [0.2, -1.5, 0.9]),
    "hinge t=1": (lambda y: hinge(y, 1), [0.4]),
    "hinge t=-1": (lambda y: hinge(y, -1), [0.4]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_loss_gradients_match_central_differences(name):
    f, xs = CASES[name]
    assert autodiff.gradcheck(f, xs, raise_on_fail=True)


def test_cross_entropy_gradient_is_softmax_minus_one_hot():
    logits = [Value(0.2), Value(-1.5), Value(0.9)]
    cross_entropy(logits, 0).backward()
    total = sum(math.exp(a.data) for a in logits)
    for j, a in enumerate(logits):
        assert a.grad == pytest.approx(math.exp(a.data) / total - (j == 0), rel=1e-12)


def test_bce_with_logits_gradient_is_sigmoid_minus_target():
    for t in (0, 1):
        a = Value(0.8)
        binary_cross_entropy_with_logits(a, t).backward()
        assert a.grad == pytest.approx(_sigmoid(0.8) - t, rel=1e-12)


def test_losses_are_built_from_engine_primitives_only():
    a, b = Value(0.3), Value(-0.2)
    for error in (
        sse([a, b], [1.0, 0.0]),
        mse([a, b], [1.0, 0.0]),
        binary_cross_entropy(a, 1),
        binary_cross_entropy_with_logits(a, 0),
        cross_entropy([a, b], 1),
        hinge(a, -1),
    ):
        for node in ancestors(error):
            assert node._rule is None or (
                not isinstance(node._rule, CustomOp) and node._rule in ops.PRIMITIVES.values()
            )


# --- extreme inputs -------------------------------------------------------------------------


@pytest.mark.parametrize("a", [1000.0, -1000.0])
@pytest.mark.parametrize("t", [0, 1])
def test_bce_with_logits_does_not_overflow_at_1000(a, t):
    logit = Value(a)
    error = binary_cross_entropy_with_logits(logit, t)
    error.backward()
    wrong_side = (a > 0) != (t == 1)
    assert error.data == (1000.0 if wrong_side else 0.0)
    assert logit.grad == (1.0 if a > 0 else 0.0) - t  # σ(±1000) is 1 or 0 in floating point


def test_cross_entropy_does_not_overflow_at_plus_minus_1000():
    logits = [Value(1000.0), Value(-1000.0), Value(0.0)]
    error = cross_entropy(logits, 1)
    error.backward()
    assert error.data == 2000.0
    assert [a.grad for a in logits] == [1.0, -1.0, 0.0]
    assert cross_entropy([Value(1000.0), Value(1000.0)], 0).data == pytest.approx(math.log(2))


def test_cross_entropy_with_equal_large_negative_logits_is_log_k():
    assert cross_entropy([Value(-1000.0)] * 4, 3).data == pytest.approx(math.log(4))


def test_cross_entropy_does_not_overflow_when_the_largest_logit_is_not_first():
    logits = [Value(-1000.0), Value(0.0), Value(1000.0)]
    error = cross_entropy(logits, 2)
    error.backward()
    assert error.data == 0.0
    assert [a.grad for a in logits] == [0.0, 0.0, 0.0]
    assert cross_entropy([Value(-1000.0), Value(0.0), Value(1000.0)], 0).data == 2000.0


@pytest.mark.parametrize(("a", "t"), [(-40.0, 0), (40.0, 1), (-700.0, 0), (700.0, 1)])
def test_bce_with_logits_keeps_the_digits_of_a_tiny_loss(a, t):
    # The right side by a wide margin: E = ln(1 + e^-|a|) ≈ e^-|a|, and dE/da = σ(a) - t.
    # a + softplus(-a) or softplus(a) - a would cancel to 0 here.
    logit = Value(a)
    error = binary_cross_entropy_with_logits(logit, t)
    error.backward()
    assert error.data == pytest.approx(math.exp(-abs(a)), rel=1e-12, abs=0.0)
    assert logit.grad == pytest.approx(math.copysign(math.exp(-abs(a)), -a), rel=1e-12, abs=0.0)


def test_hinge_and_sse_stay_finite_at_1000():
    assert hinge(Value(-1000.0), 1).data == 1001.0
    assert sse(Value(1000.0), -1000.0).data == 2e6


def test_bce_at_exact_zero_or_one_on_the_right_side_is_zero():
    assert binary_cross_entropy(Value(1.0), 1).data == 0.0
    assert binary_cross_entropy(Value(0.0), 0).data == 0.0


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize("p", [-0.1, 1.5, math.nan])
def test_bce_rejects_probabilities_outside_zero_one(p):
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        binary_cross_entropy(Value(p), 1)


def test_bce_of_a_saturated_wrong_probability_is_an_error_not_infinity():
    with pytest.raises(ValueError, match=r"infinite loss.*with_logits"):
        binary_cross_entropy(Value(1.0), 0)


@pytest.mark.parametrize("loss", [binary_cross_entropy, binary_cross_entropy_with_logits])
@pytest.mark.parametrize(
    ("t", "error"), [(-1, ValueError), (0.5, ValueError), (2, ValueError), ("1", TypeError)]
)
def test_binary_losses_reject_targets_outside_zero_one(loss, t, error):
    with pytest.raises(error, match="target must be 0 or 1"):
        loss(Value(0.5), t)


@pytest.mark.parametrize("t", [0, 2, 0.5])
def test_hinge_rejects_targets_outside_plus_minus_one(t):
    with pytest.raises(ValueError, match="target must be -1 or 1"):
        hinge(Value(0.5), t)


def test_length_mismatch_is_an_error():
    with pytest.raises(ValueError, match="2 outputs but 3 targets"):
        sse([Value(1.0), Value(2.0)], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="takes one output, got 2"):
        hinge([Value(1.0), Value(2.0)], 1)
    for loss in (sse, mse):  # mse divided 0 by 0, sse quietly gave 0.0
        with pytest.raises(ValueError, match="no outputs"):
            loss([], [])


def test_cross_entropy_rejects_bad_class_indices():
    logits = [Value(0.0), Value(1.0)]
    with pytest.raises(ValueError, match="out of range"):
        cross_entropy(logits, 2)
    with pytest.raises(ValueError, match="out of range"):
        cross_entropy(logits, -1)
    with pytest.raises(TypeError, match="int"):
        cross_entropy(logits, 1.0)


def test_module_lists_the_six_losses():
    names = {
        "sse",
        "mse",
        "binary_cross_entropy",
        "binary_cross_entropy_with_logits",
        "cross_entropy",
        "hinge",
    }
    assert names <= set(dir(losses))
