"""nn.textbook.backprop (Algorithm 8.1 by hand) equals the engine: δ_j is the adjoint of a_j."""

from __future__ import annotations

import pytest

from nn import MLP, sse, textbook

X = [0.7, -1.2, 0.3]


def _engine(model, x, t):
    """The engine's answer: backward through E_n = sse, then the adjoints of the pre-activations."""
    model.zero_grad()
    error = sse(model(x), t)
    error.backward()
    deltas = [[n.preactivation.grad for n in layer.neurons] for layer in model.layers]
    return error.data, deltas, [p.grad for p in model.parameters()]


def _assert_same(result, engine):
    error, deltas, grads = engine
    assert result.error == pytest.approx(error, rel=1e-12)
    assert [len(d) for d in result.deltas] == [len(d) for d in deltas]
    for mine, theirs in zip(result.deltas, deltas):
        assert mine == pytest.approx(theirs, rel=1e-10, abs=1e-14)
    assert len(result.grads) == len(grads)
    assert result.grads == pytest.approx(grads, rel=1e-10, abs=1e-14)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize(
    ("activation", "output_activation"),
    [("tanh", "linear"), ("sigmoid", "sigmoid"), ("relu", "linear"), ("tanh", "tanh")],
)
@pytest.mark.parametrize("nouts", [[4, 2], [5, 3, 1]])
def test_deltas_are_the_adjoints_of_the_preactivation_nodes(
    seed, activation, output_activation, nouts
):
    model = MLP(3, nouts, activation=activation, output_activation=output_activation, seed=seed)
    t = [0.5, -0.5][: nouts[-1]] if nouts[-1] > 1 else 0.25
    _assert_same(textbook.backprop(model, X, t), _engine(model, X, t))


def test_bishop_8_1_3_tanh_hidden_linear_output():
    # Bishop 8.1.3: δ_k = y_k - t_k, δ_j = (1 - z_j²) Σ_k w_kj δ_k,
    # ∂E/∂w_ji = δ_j x_i, ∂E/∂w_kj = δ_k z_j.
    model = MLP(3, [4, 2], activation="tanh", output_activation="linear", seed=5)
    t = [1.0, -0.5]
    result = textbook.backprop(model, X, t)
    model(X)  # the forward pass whose z's the closed forms use
    y = [n.output.data for n in model.layers[1].neurons]
    z = [n.output.data for n in model.layers[0].neurons]
    delta_k = [y_k - t_k for y_k, t_k in zip(y, t)]
    w2 = [[w.data for w in n.weights] for n in model.layers[1].neurons]
    delta_j = [(1 - z[j] ** 2) * sum(w2[k][j] * delta_k[k] for k in range(2)) for j in range(4)]
    assert result.deltas[1] == pytest.approx(delta_k, rel=1e-12)
    assert result.deltas[0] == pytest.approx(delta_j, rel=1e-12)
    first_unit_grads = result.grads[:4]  # w_00, w_01, w_02, b_0 of hidden unit 0
    assert first_unit_grads == pytest.approx(
        [delta_j[0] * xi for xi in X] + [delta_j[0]], rel=1e-12
    )
    _assert_same(result, _engine(model, X, t))


def test_classic_sigmoid_deltas():
    # Sigmoid units throughout: δ_k = (y_k - t_k) y_k (1 - y_k), δ_j = z_j (1 - z_j) Σ_k w_kj δ_k.
    model = MLP(3, [3, 2], activation="sigmoid", output_activation="sigmoid", seed=6)
    t = [1.0, 0.0]
    result = textbook.backprop(model, X, t)
    model(X)  # the forward pass whose z's the closed forms use
    y = [n.output.data for n in model.layers[1].neurons]
    z = [n.output.data for n in model.layers[0].neurons]
    delta_k = [(y[k] - t[k]) * y[k] * (1 - y[k]) for k in range(2)]
    w2 = [[w.data for w in n.weights] for n in model.layers[1].neurons]
    delta_j = [z[j] * (1 - z[j]) * sum(w2[k][j] * delta_k[k] for k in range(2)) for j in range(3)]
    assert result.deltas[1] == pytest.approx(delta_k, rel=1e-12)
    assert result.deltas[0] == pytest.approx(delta_j, rel=1e-12)
    _assert_same(result, _engine(model, X, t))


def test_relu_unit_at_exactly_zero_passes_no_error_back():
    # relu'(0) = 0 in the engine, so by hand too: a unit with a_j = 0 has δ_j = 0.
    model = MLP(3, [2, 1], activation="relu", seed=1)
    silent = model.layers[0].neurons[0]
    for p in silent.parameters():
        p.data = 0.0
    result = textbook.backprop(model, X, 1.0)
    assert result.preactivations[0][0] == 0.0
    assert result.deltas[0][0] == 0.0
    _assert_same(result, _engine(model, X, 1.0))
    assert silent.preactivation.grad == 0.0


def test_forward_numbers_match_the_model():
    model = MLP(3, [4, 1], seed=2)
    result = textbook.backprop(model, X, 0.0)
    y = model(X)
    assert result.activations[-1] == pytest.approx([y.data], rel=1e-14)
    for layer, a, z in zip(model.layers, result.preactivations, result.activations):
        assert a == pytest.approx([n.preactivation.data for n in layer.neurons], rel=1e-14)
        assert z == pytest.approx([n.output.data for n in layer.neurons], rel=1e-14)


def test_batch_gradient_is_the_sum_over_points():
    # Bishop (8.14): ∂E/∂w = Σ_n ∂E_n/∂w; backward twice accumulates the same sum.
    model = MLP(3, [3, 1], seed=4)
    points = [(X, 0.5), ([0.1, 0.2, -0.9], -1.0)]
    model.zero_grad()
    for x, t in points:
        sse(model(x), t).backward()
    summed = [sum(g) for g in zip(*(textbook.backprop(model, x, t).grads for x, t in points))]
    assert summed == pytest.approx([p.grad for p in model.parameters()], rel=1e-10, abs=1e-14)


def test_targets_and_inputs_may_be_tuples():
    model = MLP(3, [3, 2], seed=7)
    t = (0.25, -0.75)
    result = textbook.backprop(model, tuple(X), t)
    assert result.grads == textbook.backprop(model, X, list(t)).grads
    _assert_same(result, _engine(model, X, list(t)))


def test_a_one_input_network_takes_a_bare_number_as_the_model_does():
    model = MLP(1, [3, 1], seed=2)
    result = textbook.backprop(model, 0.5, 0.25)
    assert result.grads == textbook.backprop(model, [0.5], [0.25]).grads
    _assert_same(result, _engine(model, 0.5, 0.25))


def test_wrong_lengths_are_errors():
    model = MLP(3, [2, 2], seed=0)
    with pytest.raises(ValueError, match="expected 3 inputs"):
        textbook.backprop(model, [1.0, 2.0], [0.0, 0.0])
    with pytest.raises(ValueError, match="2 outputs but 1 targets"):
        textbook.backprop(model, X, 0.0)
