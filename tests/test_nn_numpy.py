"""numpy scalars work in nn wherever Python's numbers do; a 1-input model takes a bare Dual."""

from __future__ import annotations

import json

import numpy as np
import pytest

import autodiff
from autodiff import Value
from nn import (
    MLP,
    SGD,
    Adam,
    Layer,
    Neuron,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    datasets,
    hinge,
    train,
)

# --- integers: sizes, counts, class indices and seeds -------------------------------------------


@pytest.mark.parametrize("k", [np.int64(1), np.int32(1), np.uint8(1)])
def test_cross_entropy_takes_a_numpy_class_index(k):
    logits = [Value(0.5), Value(-1.0), Value(2.0)]
    assert cross_entropy(logits, k).data == cross_entropy(logits, 1).data


@pytest.mark.parametrize("k", [np.float64(1.0), np.True_, "1", None])
def test_cross_entropy_still_rejects_non_integer_class_indices(k):
    with pytest.raises(TypeError, match="class index must be an int"):
        cross_entropy([Value(0.0), Value(1.0)], k)


def test_cross_entropy_range_check_applies_to_numpy_indices():
    with pytest.raises(ValueError, match="out of range"):
        cross_entropy([Value(0.0), Value(1.0)], np.int64(2))


POINTS = [[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.5, 0.5]]
CLASSES = [0, 1, 2, 1, 0]
COUNTS = {"epochs": 3, "batch_size": 2, "seed": 7}


def _train_three_classes(points, labels, counts):
    model = MLP(2, [4, 3], seed=0)
    optimizer = SGD(model.parameters(), lr=0.1)
    history = train(
        model, points, labels, loss=cross_entropy, optimizer=optimizer, progress=False, **counts
    )
    return history, model.state_dict()


def test_train_with_cross_entropy_takes_numpy_labels():
    expected = _train_three_classes(POINTS, CLASSES, COUNTS)
    assert _train_three_classes(np.array(POINTS), np.array(CLASSES), COUNTS) == expected


@pytest.mark.parametrize("name", sorted(COUNTS))
def test_train_takes_numpy_counts_and_seed(name):
    expected = _train_three_classes(POINTS, CLASSES, COUNTS)
    counts = {**COUNTS, name: np.int64(COUNTS[name])}
    assert _train_three_classes(POINTS, CLASSES, counts) == expected


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        (0, ValueError),
        (np.int64(0), ValueError),
        (2.5, TypeError),
        (np.float64(2.0), TypeError),
        (True, TypeError),
        (np.True_, TypeError),
        ("2", TypeError),
    ],
)
def test_train_still_rejects_bad_batch_sizes(bad, error):
    model = MLP(2, [1], seed=0)
    with pytest.raises(error, match="batch_size must be a positive int"):
        train(
            model,
            [[0.0, 0.0]],
            [0.0],
            loss=cross_entropy,
            optimizer=SGD(model.parameters(), lr=0.1),
            batch_size=bad,
            progress=False,
        )


def test_sizes_take_numpy_ints():
    model = MLP(np.int64(2), [np.int32(3), np.int64(1)], seed=0)
    assert model.state_dict() == MLP(2, [3, 1], seed=0).state_dict()
    # The sizes are stored as Python ints, so the state stays JSON-safe.
    assert json.loads(json.dumps(model.state_dict())) == model.state_dict()
    assert MLP(2, np.array([3, 1]), seed=0).nouts == [3, 1]
    assert Layer(np.int64(2), np.int64(3), seed=0).state_dict() == Layer(2, 3, seed=0).state_dict()
    assert Neuron(np.int64(2), seed=0).state_dict() == Neuron(2, seed=0).state_dict()


def test_seeds_take_numpy_ints():
    assert MLP(2, [3, 1], seed=np.int64(5)).state_dict() == MLP(2, [3, 1], seed=5).state_dict()
    assert Neuron(2, seed=np.int64(5)).state_dict() == Neuron(2, seed=5).state_dict()


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        (np.int64(0), ValueError),
        (np.int64(-1), ValueError),
        (np.float64(2.0), TypeError),
        (np.True_, TypeError),
        (None, TypeError),
    ],
)
def test_bad_numpy_sizes_are_still_errors(bad, error):
    with pytest.raises(error, match="positive int"):
        MLP(bad, [1])
    with pytest.raises(error, match="positive int"):
        MLP(2, [bad, 1])


def test_nouts_must_still_be_a_list_of_sizes():
    with pytest.raises(TypeError, match="list of layer sizes"):
        MLP(2, np.int64(3))
    with pytest.raises(ValueError, match="non-empty list"):
        MLP(2, np.array([], dtype=int))


def test_make_moons_takes_numpy_ints():
    assert datasets.make_moons(np.int64(10), seed=np.int64(3)) == datasets.make_moons(10, seed=3)


# --- reals: learning rates and other hyperparameters -------------------------------------------


def _one_sgd_step(**rates):
    w = Value(1.0)
    optimizer = SGD([w], **rates)
    for _ in range(2):  # the second step uses the momentum buffer
        w.grad = 0.5
        optimizer.step()
    return w.data


def test_sgd_takes_numpy_reals():
    got = _one_sgd_step(lr=np.float32(0.1), momentum=np.float64(0.9))
    assert got == _one_sgd_step(lr=float(np.float32(0.1)), momentum=0.9)
    assert type(SGD([Value(1.0)], lr=np.float32(0.1)).lr) is float


def test_adam_takes_numpy_reals():
    optimizer = Adam(
        [Value(1.0)],
        lr=np.float32(0.01),
        betas=(np.float64(0.9), np.float32(0.99)),
        eps=np.float64(1e-8),
    )
    assert optimizer.lr == float(np.float32(0.01))
    assert optimizer.betas == (0.9, float(np.float32(0.99)))
    assert optimizer.eps == 1e-8
    assert all(type(x) is float for x in (optimizer.lr, *optimizer.betas, optimizer.eps))


@pytest.mark.parametrize("bad", ["0.1", None, True, np.True_])
def test_optimisers_still_reject_non_numbers(bad):
    with pytest.raises(TypeError, match="lr must be a number"):
        SGD([Value(1.0)], lr=bad)
    with pytest.raises(TypeError, match="eps must be a number"):
        Adam([Value(1.0)], eps=bad)


# --- 0/1 and ±1 labels --------------------------------------------------------------------------


@pytest.mark.parametrize("loss", [binary_cross_entropy, binary_cross_entropy_with_logits])
@pytest.mark.parametrize(
    ("t", "same_as"),
    [(np.True_, 1), (np.False_, 0), (np.int64(1), 1), (np.uint8(0), 0), (np.float64(1.0), 1)],
)
def test_binary_losses_take_numpy_labels(loss, t, same_as):
    assert loss(Value(0.25), t).data == loss(Value(0.25), same_as).data


@pytest.mark.parametrize("loss", [binary_cross_entropy, binary_cross_entropy_with_logits])
@pytest.mark.parametrize("t", [np.int64(2), np.float64(0.5), np.int64(-1)])
def test_binary_losses_still_reject_other_numpy_labels(loss, t):
    with pytest.raises(ValueError, match="target must be 0 or 1"):
        loss(Value(0.5), t)


def test_hinge_takes_numpy_labels():
    assert hinge(Value(0.25), np.int64(-1)).data == hinge(Value(0.25), -1).data
    assert hinge(Value(0.25), np.True_).data == hinge(Value(0.25), 1).data
    with pytest.raises(ValueError, match="target must be -1 or 1"):
        hinge(Value(0.25), np.False_)


# --- a 1-input model under forward mode ---------------------------------------------------------


@pytest.mark.parametrize("nouts", [[3, 1], [3, 2]])
def test_forward_jacobian_of_a_one_input_model_equals_reverse(nouts):
    model = MLP(1, nouts, seed=0)
    forward = autodiff.jacobian(model, mode="forward")(0.5)
    reverse = autodiff.jacobian(model)(0.5)
    assert np.allclose(forward, reverse, rtol=0.0, atol=1e-12)
    assert np.shape(forward) == np.shape(reverse)


def test_a_one_input_model_takes_a_bare_dual_or_value():
    model = MLP(1, [3, 1], seed=0)
    out = model(autodiff.Dual(0.5, 1.0))
    assert isinstance(out, autodiff.Dual)
    # The weights are Values, so the Dual's parts are nodes of a graph (forward over reverse).
    assert out.primal.data == model(0.5).data == model(Value(0.5)).data
    assert out.tangent.data == pytest.approx(autodiff.grad(model)(0.5), rel=0.0, abs=1e-12)


def test_forward_jacobian_of_a_two_input_model_equals_reverse():
    model = MLP(2, [3, 2], seed=0)

    def f(a, b):
        return model([a, b])

    forward = autodiff.jacobian(f, mode="forward")(0.5, -1.0)
    reverse = autodiff.jacobian(f)(0.5, -1.0)
    assert np.allclose(forward, reverse, rtol=0.0, atol=1e-12)
    assert np.shape(forward) == (2, 2)
