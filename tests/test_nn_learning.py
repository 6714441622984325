"""Learning: the data sets, the training loop, XOR with and without a hidden layer, two moons."""

from __future__ import annotations

import itertools
import math

import pytest

from nn import (
    MLP,
    SGD,
    Adam,
    History,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    datasets,
    evaluate,
    hinge,
    sse,
    train,
)

# --- data -----------------------------------------------------------------------------------


def test_xor_is_the_four_corners_with_exclusive_or_labels():
    points, labels = datasets.xor()
    assert points == [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
    assert labels == [int(a) ^ int(b) for a, b in points]


def test_make_moons_shapes_types_and_class_split():
    points, labels = datasets.make_moons(101, noise=0.1, seed=3)
    assert len(points) == len(labels) == 101
    assert all(
        isinstance(p, list) and len(p) == 2 and all(type(v) is float for v in p) for p in points
    )
    assert all(type(label) is int for label in labels)
    # n // 2 points on the upper moon, the rest on the lower one
    assert (labels.count(0), labels.count(1)) == (50, 51)
    assert labels != sorted(labels)  # shuffled


def test_make_moons_is_deterministic_per_seed():
    assert datasets.make_moons(50, 0.2, seed=1) == datasets.make_moons(50, 0.2, seed=1)
    assert datasets.make_moons(50, 0.2, seed=1) != datasets.make_moons(50, 0.2, seed=2)


def test_noiseless_moons_lie_on_their_half_circles():
    points, labels = datasets.make_moons(40, noise=0.0, seed=0)
    for (x1, x2), label in zip(points, labels):
        if label == 0:  # (cos θ, sin θ)
            assert math.hypot(x1, x2) == pytest.approx(1.0) and x2 >= -1e-12
        else:  # (1 - cos θ, 1/2 - sin θ)
            assert math.hypot(x1 - 1.0, x2 - 0.5) == pytest.approx(1.0) and x2 <= 0.5 + 1e-12
    ends = sorted(tuple(round(v, 12) for v in p) for p in points)
    assert (-1.0, 0.0) in ends and (1.0, 0.0) in ends and (0.0, 0.5) in ends and (2.0, 0.5) in ends


def test_noise_has_the_requested_spread():
    clean, _ = datasets.make_moons(2000, noise=0.0, seed=5)
    noisy, _ = datasets.make_moons(2000, noise=0.1, seed=5)
    # Same seed, same shuffle: the difference is the noise alone.
    offsets = [n[i] - c[i] for n, c in zip(noisy, clean) for i in range(2)]
    spread = math.sqrt(sum(d * d for d in offsets) / len(offsets))
    assert spread == pytest.approx(0.1, rel=0.05)


@pytest.mark.parametrize(
    ("n", "noise", "error"),
    [
        (1, 0.1, ValueError),
        (0, 0.1, ValueError),
        (10.0, 0.1, TypeError),
        (10, -0.1, ValueError),
        (10, math.nan, ValueError),
    ],
)
def test_make_moons_rejects_bad_arguments(n, noise, error):
    with pytest.raises(error):
        datasets.make_moons(n, noise)


# --- the training loop ----------------------------------------------------------------------


def quiet_train(model, points, labels, loss, optimizer, **options):
    """nn.train without the progress bar, which would only clutter the test output."""
    return train(model, points, labels, loss=loss, optimizer=optimizer, progress=False, **options)


def test_train_records_one_loss_and_accuracy_per_epoch():
    points, labels = datasets.xor()
    model = MLP(2, [3, 1], seed=0)
    history = quiet_train(
        model,
        points,
        labels,
        binary_cross_entropy_with_logits,
        Adam(model.parameters(), lr=0.05),
        epochs=7,
    )
    assert isinstance(history, History)
    assert len(history.loss) == len(history.accuracy) == 7
    assert all(a in (0.0, 0.25, 0.5, 0.75, 1.0) for a in history.accuracy)


def test_first_epoch_loss_is_the_mean_error_before_any_update():
    points, labels = datasets.xor()
    model = MLP(2, [3, 1], seed=1)
    before = evaluate(model, points, labels, loss=sse)[0]
    history = quiet_train(model, points, labels, sse, SGD(model.parameters(), lr=0.1), epochs=1)
    assert history.loss == pytest.approx([before], rel=1e-12)
    assert history.accuracy == []  # sse has no rule for right and wrong


def test_full_batch_step_uses_the_mean_gradient_plus_the_l2_penalty():
    # One SGD step of train() equals w - η (∂/∂w (1/N) Σ_n E_n + 2 λ w), computed by hand here.
    points, labels = datasets.xor()
    model = MLP(2, [2, 1], seed=2)
    reference = MLP(2, [2, 1], seed=2)
    reference.zero_grad()
    for x, t in zip(points, labels):
        (sse(reference(x), t) / len(points)).backward()
    expected = [p.data - 0.5 * (p.grad + 2 * 0.01 * p.data) for p in reference.parameters()]
    quiet_train(model, points, labels, sse, SGD(model.parameters(), lr=0.5), epochs=1, l2=0.01)
    assert [p.data for p in model.parameters()] == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_minibatches_give_several_steps_per_epoch():
    points, labels = datasets.make_moons(20, seed=0)
    model = MLP(2, [4, 1], seed=0)
    optimizer = Adam(model.parameters(), lr=0.01)
    quiet_train(
        model, points, labels, binary_cross_entropy_with_logits, optimizer, epochs=2, batch_size=6
    )
    assert optimizer.t == 2 * 4  # ceil(20 / 6) = 4 steps per epoch


def test_progress_bar_shows_loss_and_accuracy(capsys):
    points, labels = datasets.xor()
    model = MLP(2, [2, 1], seed=0)
    train(
        model,
        points,
        labels,
        loss=binary_cross_entropy_with_logits,
        optimizer=Adam(model.parameters()),
        epochs=3,
    )
    shown = capsys.readouterr().err
    assert "3/3" in shown and "loss=" in shown and "accuracy=" in shown


def test_custom_correct_rule_is_used():
    points, labels = datasets.xor()
    model = MLP(2, [2, 1], seed=0)
    history = quiet_train(
        model,
        points,
        labels,
        sse,
        SGD(model.parameters(), lr=0.1),
        epochs=2,
        correct=lambda output, target: True,
    )
    assert history.accuracy == [1.0, 1.0]


def test_minibatch_epochs_visit_every_point_once_in_a_seeded_shuffled_order():
    points, _ = datasets.make_moons(8, noise=0.1, seed=0)
    targets = [n / 10 for n in range(8)]  # distinct, so the loss can tell which point it sees

    def run(seed):
        visited = []

        def recording_sse(output, target):
            visited.append(targets.index(target))
            return sse(output, target)

        model = MLP(2, [3, 1], seed=4)
        optimizer = SGD(model.parameters(), lr=0.1)
        options = {"epochs": 3, "batch_size": 1, "seed": seed}
        quiet_train(model, points, targets, recording_sse, optimizer, **options)
        return [visited[k : k + 8] for k in (0, 8, 16)], model

    orders, model = run(seed=3)
    assert all(sorted(order) == list(range(8)) for order in orders)
    assert orders[0] != list(range(8)) and len({tuple(order) for order in orders}) == 3
    assert run(seed=3)[0] == orders and run(seed=4)[0] != orders
    # Stochastic gradient descent, one point per step, in the visited order (Bishop (8.18)).
    reference = MLP(2, [3, 1], seed=4)
    for n in (n for order in orders for n in order):
        reference.zero_grad()
        sse(reference(points[n]), targets[n]).backward()
        for p in reference.parameters():
            p.data -= 0.1 * p.grad
    assert [p.data for p in model.parameters()] == pytest.approx(
        [p.data for p in reference.parameters()], rel=1e-12, abs=1e-15
    )


# Four points on a line and a unit y = h(x) (weight 1, bias 0): 3 of 4 are classified right.
LINE_POINTS = [[-2.0], [-1.0], [0.3], [2.0]]


def _unit_on_a_line(output_activation="linear"):
    model = MLP(1, [1], output_activation=output_activation, seed=0)
    model.load_state_dict({"nin": 1, "nouts": [1], "parameters": [1.0, 0.0]})
    return model


def test_minibatch_epoch_loss_and_accuracy_count_every_point_once():
    # With η = 0 the model never changes, so each epoch's numbers are evaluate()'s.
    points, labels = LINE_POINTS, [0, 0, 1, 1]
    model = _unit_on_a_line()  # logit a = x
    loss = binary_cross_entropy_with_logits
    expected = sum(math.log1p(math.exp(-abs(x))) for x in (-2.0, -1.0, 0.3, 2.0)) / 4  # all right
    assert evaluate(model, points, labels, loss=loss) == pytest.approx((expected, 1.0), rel=1e-12)
    history = quiet_train(
        model, points, labels, loss, SGD(model.parameters(), lr=0.0), epochs=3, batch_size=3
    )
    assert history.loss == pytest.approx([expected] * 3, rel=1e-12)
    assert history.accuracy == [1.0, 1.0, 1.0]


def test_evaluate_scores_a_logit_by_its_sign():
    # a = 0.3 > 0 means σ(a) > ½: class 1, right; a = 2 with t = 0 is the one mistake.
    labels = [0, 0, 1, 0]
    loss = sum(math.log1p(math.exp(-abs(a))) for a in (-2.0, -1.0, 0.3)) + math.log1p(math.e**2)
    result = evaluate(_unit_on_a_line(), LINE_POINTS, labels, loss=binary_cross_entropy_with_logits)
    assert result == pytest.approx((loss / 4, 0.75), rel=1e-12)


def test_evaluate_scores_a_probability_by_which_side_of_one_half_it_is():
    labels = [0, 0, 1, 0]
    model = _unit_on_a_line("sigmoid")  # p = σ(x)
    loss = sum(math.log1p(math.exp(-abs(a))) for a in (-2.0, -1.0, 0.3)) + math.log1p(math.e**2)
    result = evaluate(model, LINE_POINTS, labels, loss=binary_cross_entropy)
    assert result == pytest.approx((loss / 4, 0.75), rel=1e-12)


def test_evaluate_scores_a_hinge_classifier_by_the_sign_of_its_score():
    # E = relu(1 - t y): 0, 0, 0.7, 3 for y = -2, -1, 0.3, 2 and t = -1, -1, 1, -1.
    result = evaluate(_unit_on_a_line(), LINE_POINTS, [-1, -1, 1, -1], loss=hinge)
    assert result == pytest.approx((3.7 / 4, 0.75), rel=1e-12)


def test_evaluate_scores_softmax_logits_by_their_argmax():
    model = MLP(2, [3], seed=0)  # logits (x1, x2, 0)
    parameters = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0]
    model.load_state_dict({"nin": 2, "nouts": [3], "parameters": parameters})
    points, classes = [[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0], [2.0, 3.0]], [0, 1, 2, 0]
    losses = [
        math.log(sum(math.exp(a) for a in (*x, 0.0))) - [*x, 0.0][k]
        for x, k in zip(points, classes)
    ]
    result = evaluate(model, points, classes, loss=cross_entropy)
    assert result == pytest.approx((sum(losses) / 4, 0.75), rel=1e-12)


def test_evaluate_uses_a_custom_correct_rule():
    result = evaluate(
        _unit_on_a_line(), LINE_POINTS, [0, 0, 0, 0], loss=sse, correct=lambda y, t: y.data > 0
    )
    assert result == pytest.approx((0.5 * (4 + 1 + 0.09 + 4) / 4, 0.5), rel=1e-12)


def test_train_rejects_bad_arguments():
    points, labels = datasets.xor()
    model = MLP(2, [2, 1], seed=0)
    optimizer = SGD(model.parameters(), lr=0.1)
    common = {"loss": sse, "optimizer": optimizer, "progress": False}
    with pytest.raises(ValueError, match="4 inputs but 3 targets"):
        train(model, points, labels[:3], **common)
    with pytest.raises(ValueError, match="empty"):
        train(model, [], [], **common)
    with pytest.raises(ValueError, match="epochs"):
        train(model, points, labels, epochs=-1, **common)
    with pytest.raises(ValueError, match="batch_size"):
        train(model, points, labels, batch_size=0, **common)
    with pytest.raises(ValueError, match=r"l2 must be a finite number >= 0, got -1\.0"):
        train(model, points, labels, l2=-1.0, **common)
    for bad in (True, None, "0.1"):
        with pytest.raises(TypeError, match="l2 must be a number"):
            train(model, points, labels, l2=bad, **common)
    # hinge wants ±1 labels, not 0/1
    with pytest.raises(ValueError, match="target must be -1 or 1"):
        train(model, points, labels, loss=hinge, optimizer=optimizer, progress=False)


# --- what a hidden layer buys ---------------------------------------------------------------


def test_xor_is_learned_with_one_hidden_layer():
    points, labels = datasets.xor()
    model = MLP(2, [4, 1], activation="tanh", seed=0)
    history = quiet_train(
        model,
        points,
        labels,
        binary_cross_entropy_with_logits,
        Adam(model.parameters(), lr=0.1),
        epochs=200,
    )
    loss, accuracy = evaluate(model, points, labels, loss=binary_cross_entropy_with_logits)
    assert accuracy == 1.0
    assert loss < 0.05 < history.loss[0]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_xor_is_not_learned_without_a_hidden_layer(seed):
    points, labels = datasets.xor()
    model = MLP(2, [1], seed=seed)  # one linear unit: a straight decision boundary
    quiet_train(
        model,
        points,
        labels,
        binary_cross_entropy_with_logits,
        Adam(model.parameters(), lr=0.1),
        epochs=300,
    )
    assert evaluate(model, points, labels, loss=binary_cross_entropy_with_logits)[1] <= 0.75


def test_no_straight_line_separates_xor():
    # Minsky and Papert's point, checked over many lines w1 x1 + w2 x2 + b = 0: 3 of 4 at best.
    points, labels = datasets.xor()
    grid = [k / 4 for k in range(-8, 9)]
    best = max(
        sum((w1 * x1 + w2 * x2 + b > 0) == (t == 1) for (x1, x2), t in zip(points, labels))
        for w1, w2, b in itertools.product(grid, repeat=3)
    )
    assert best == 3


def test_two_moons_reach_95_percent_training_accuracy():
    points, labels = datasets.make_moons(100, noise=0.1, seed=0)
    model = MLP(2, [8, 8, 1], activation="tanh", seed=0)
    quiet_train(
        model,
        points,
        labels,
        binary_cross_entropy_with_logits,
        Adam(model.parameters(), lr=0.05),
        epochs=20,
        batch_size=10,
    )
    assert evaluate(model, points, labels, loss=binary_cross_entropy_with_logits)[1] >= 0.95
