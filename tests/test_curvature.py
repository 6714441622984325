"""The exact Hessian of a sum-of-squares error and its outer-product approximation (8.1.6)."""

import math
import random

import pytest

from autodiff import Value
from autodiff.functional import gradients
from nn import (
    MLP,
    binary_cross_entropy_with_logits,
    exact_hessian,
    hinge,
    outer_product_hessian,
    sse,
)

X = [[0.5, -1.0], [1.0, 0.2], [-0.3, 0.8], [0.1, 0.4]]
T = [0.3, -0.2, 0.9, 0.1]


def difference(a, b):
    """‖a - b‖_F / ‖b‖_F for nested lists."""
    top = sum(
        (x - y) ** 2 for ra, rb in zip(a, b, strict=True) for x, y in zip(ra, rb, strict=True)
    )
    return math.sqrt(top / sum(y * y for rb in b for y in rb))


def assert_symmetric(h):
    for i, row in enumerate(h):
        for j, value in enumerate(row):
            assert value == pytest.approx(h[j][i], rel=1e-12, abs=1e-14)


def quadratic_form(h, v):
    return sum(v[i] * h[i][j] * v[j] for i in range(len(v)) for j in range(len(v)))


def outputs_of(model, x):
    out = model(x)
    return out if isinstance(out, list) else [out]


def test_linear_model_hessians_are_equal_and_in_closed_form():
    # y = w·x + b is linear in the parameters, so ∇∇y = 0 and (8.40) is exact:
    # H = Σ_n [x_n, 1][x_n, 1]ᵀ whatever the targets.
    model = MLP(2, [1], seed=0)
    exact = exact_hessian(model, X, T)
    outer = outer_product_hessian(model, X)
    expected = [
        [sum(a[i] * a[j] for a in ([*x, 1.0] for x in X)) for j in range(3)] for i in range(3)
    ]
    for h in (exact, outer):
        assert len(h) == 3
        for row, expected_row in zip(h, expected, strict=True):
            assert row == pytest.approx(expected_row, rel=1e-12, abs=1e-15)


def test_linear_model_with_several_outputs_hessians_are_equal():
    model = MLP(2, [3], seed=1)
    targets = [[0.1, 0.2, 0.3], [0.0, -1.0, 1.0], [0.5, 0.5, 0.5], [1.0, 0.0, -0.5]]
    exact = exact_hessian(model, X, targets)
    outer = outer_product_hessian(model, X)
    assert len(exact) == len(model.parameters()) == 9
    assert difference(exact, outer) < 1e-14


def test_deep_linear_network_is_not_linear_in_its_parameters():
    # Linear units, but y = W2 (W1 x + b1) + b2 multiplies parameters: ∇∇y ≠ 0.
    model = MLP(2, [2, 1], activation="linear", seed=0)
    assert difference(outer_product_hessian(model, X), exact_hessian(model, X, T)) > 0.05


def test_untrained_nonlinear_network_hessians_differ():
    model = MLP(2, [3, 1], activation="tanh", seed=0)
    exact = exact_hessian(model, X, T)
    outer = outer_product_hessian(model, X)
    assert_symmetric(exact)
    assert_symmetric(outer)
    assert difference(outer, exact) > 0.3


def test_at_zero_residual_the_approximation_is_exact():
    # A network that fits its targets exactly (as a well-trained one nearly does): y_n = t_n
    # makes the neglected term Σ (y - t) ∇∇y of (8.39) vanish.
    model = MLP(2, [3, 1], activation="tanh", seed=0)
    fitted = [model(x).data for x in X]
    assert difference(outer_product_hessian(model, X), exact_hessian(model, X, fitted)) < 1e-12


def test_gap_shrinks_in_proportion_to_the_residuals():
    model = MLP(2, [3, 1], activation="tanh", seed=0)
    fitted = [model(x).data for x in X]
    outer = outer_product_hessian(model, X)
    noise = [0.3, -0.2, 0.1, 0.25]
    gaps = [
        difference(
            exact_hessian(model, X, [t + scale * e for t, e in zip(fitted, noise, strict=True)]),
            outer,
        )
        for scale in (1e-1, 1e-2)
    ]
    assert gaps[1] / gaps[0] == pytest.approx(0.1, rel=1e-6)


def test_exact_minus_outer_is_the_residual_term_of_8_39():
    model = MLP(2, [2, 2], activation="sigmoid", seed=3)
    targets = [[0.2, -0.1], [0.4, 0.0], [1.0, 0.3], [-0.5, 0.6]]
    parameters = model.parameters()
    size = len(parameters)
    residual = [[0.0] * size for _ in range(size)]
    for x, t in zip(X, targets, strict=True):
        for y, target in zip(outputs_of(model, x), t, strict=True):
            first = gradients(y, parameters, create_graph=True)
            for i, g in enumerate(first):
                for j, d in enumerate(gradients(g, parameters)):
                    residual[i][j] += (y.data - target) * d
    exact = exact_hessian(model, X, targets)
    outer = outer_product_hessian(model, X)
    gap = [
        [e - o for e, o in zip(re, ro, strict=True)] for re, ro in zip(exact, outer, strict=True)
    ]
    assert difference(gap, residual) < 1e-12


def test_exact_hessian_matches_central_differences_of_the_gradient():
    model = MLP(2, [2, 1], activation="tanh", seed=2)
    parameters = model.parameters()

    def gradient():
        error = sum((sse(model(x), t) for x, t in zip(X, T, strict=True)), Value(0.0))
        return gradients(error, parameters)

    exact = exact_hessian(model, X, T)
    h = 1e-5
    for j, p in enumerate(parameters):
        p.data += h
        upper = gradient()
        p.data -= 2 * h
        lower = gradient()
        p.data += h
        column = [(u - lo) / (2 * h) for u, lo in zip(upper, lower, strict=True)]
        for i in range(len(parameters)):
            assert exact[i][j] == pytest.approx(column[i], abs=1e-8)


def test_outer_product_is_positive_semidefinite():
    model = MLP(2, [3, 1], activation="tanh", seed=0)
    outer = outer_product_hessian(model, X)
    rng = random.Random(0)
    for _ in range(20):
        v = [rng.gauss(0, 1) for _ in outer]
        assert quadratic_form(outer, v) >= -1e-12
    # Exactly: vᵀ H v = Σ_n (∇y_n · v)², so it matches a direct sum of squares.
    v = [rng.gauss(0, 1) for _ in outer]
    direct = sum(
        sum(g * vi for g, vi in zip(gradients(model(x), model.parameters()), v, strict=True)) ** 2
        for x in X
    )
    assert quadratic_form(outer, v) == pytest.approx(direct, rel=1e-12)


def test_hessians_leave_parameter_grads_alone():
    model = MLP(2, [2, 1], seed=0)
    for p in model.parameters():
        p.grad = 1.5
    exact_hessian(model, X, T)
    outer_product_hessian(model, X)
    assert all(p.grad == 1.5 for p in model.parameters())


def test_bad_data_raises():
    model = MLP(2, [1], seed=0)
    with pytest.raises(ValueError, match="4 targets"):
        exact_hessian(model, X, T[:3])
    with pytest.raises(ValueError, match="non-empty"):
        outer_product_hessian(model, [])
    with pytest.raises(ValueError, match="outputs but"):
        exact_hessian(model, X, [[1.0, 2.0]] * 4)
    with pytest.raises(TypeError, match="parameters"):
        outer_product_hessian(lambda x: x, X)


# --- the cross-entropy form (8.41) -----------------------------------------------------------

LABELS = [1, 0, 1, 0]


def sigmoid(a):
    return 1 / (1 + math.exp(-a))


def test_cross_entropy_outer_product_is_exact_for_logistic_regression():
    # The logit a = w·x + b is linear in the parameters, so ∇∇a = 0 and (8.41) is exact:
    # H = Σ_n y_n (1 - y_n) [x_n, 1][x_n, 1]ᵀ with y_n = σ(a_n).
    model = MLP(2, [1], seed=0)
    exact = exact_hessian(model, X, LABELS, loss=binary_cross_entropy_with_logits)
    outer = outer_product_hessian(model, X, loss=binary_cross_entropy_with_logits)
    ys = [sigmoid(model(x).data) for x in X]
    expected = [
        [
            sum(y * (1 - y) * a[i] * a[j] for y, a in zip(ys, ([*x, 1.0] for x in X)))
            for j in range(3)
        ]
        for i in range(3)
    ]
    for h in (exact, outer):
        for row, expected_row in zip(h, expected, strict=True):
            assert row == pytest.approx(expected_row, rel=1e-12, abs=1e-15)


def test_cross_entropy_gap_is_the_residual_term():
    # E_n = -[t ln y + (1 - t) ln(1 - y)], y = σ(a): ∇E_n = (y - t)∇a, so
    # H = Σ y(1 - y) ∇a ∇aᵀ + Σ (y - t) ∇∇a, and (8.41) drops the second sum.
    model = MLP(2, [3, 1], activation="tanh", seed=4)
    parameters = model.parameters()
    size = len(parameters)
    residual = [[0.0] * size for _ in range(size)]
    for x, t in zip(X, LABELS, strict=True):
        a = model(x)
        for i, g in enumerate(gradients(a, parameters, create_graph=True)):
            for j, d in enumerate(gradients(g, parameters)):
                residual[i][j] += (sigmoid(a.data) - t) * d
    exact = exact_hessian(model, X, LABELS, loss=binary_cross_entropy_with_logits)
    outer = outer_product_hessian(model, X, loss=binary_cross_entropy_with_logits)
    gap = [
        [e - o for e, o in zip(re, ro, strict=True)] for re, ro in zip(exact, outer, strict=True)
    ]
    assert difference(gap, residual) < 1e-12
    assert difference(outer, exact) > 0.1  # untrained: the dropped sum matters


def test_the_two_forms_weight_each_outer_product_differently():
    # For one data point, (8.41) is (8.40) on the logit scaled by y(1 - y).
    model = MLP(2, [3, 1], activation="tanh", seed=4)
    x = X[0]
    y = sigmoid(model(x).data)
    squares = outer_product_hessian(model, [x])
    cross_entropy = outer_product_hessian(model, [x], loss=binary_cross_entropy_with_logits)
    for row_s, row_c in zip(squares, cross_entropy, strict=True):
        assert [y * (1 - y) * s for s in row_s] == pytest.approx(row_c, rel=1e-12, abs=1e-16)


def test_outer_product_names_the_losses_it_knows():
    with pytest.raises(ValueError, match=r"nn.sse \(8.40\) or.*not 'hinge'"):
        outer_product_hessian(MLP(2, [1], seed=0), X, loss=hinge)


class ConstantOutput:
    """A model whose second output is a number: it depends on no parameter."""

    def __init__(self):
        self.w = Value(0.5)

    def parameters(self):
        return [self.w]

    def __call__(self, x):
        return [self.w * x[0], 3.0]


def test_a_number_among_the_outputs_adds_no_curvature():
    model = ConstantOutput()
    expected = pytest.approx(sum(x[0] ** 2 for x in X), rel=1e-15)  # Σ ∇y ∇yᵀ of y = w x1
    assert outer_product_hessian(model, X) == [[expected]]
    assert exact_hessian(model, X, [[0.0, 3.0]] * 4) == [[expected]]


@pytest.mark.parametrize("loss", [[sse], "sse", None])
def test_a_loss_that_is_not_a_function_is_a_type_error(loss):
    model = MLP(2, [1], seed=0)
    with pytest.raises(TypeError, match="loss must be a function"):
        outer_product_hessian(model, X, loss=loss)
    with pytest.raises(TypeError, match="loss must be a function"):
        exact_hessian(model, X, T, loss=loss)


# --- the diagonal approximation ----------------------------------------------------------------


def test_diagonal_approximation_leaves_out_most_of_notebook_4s_hessian():
    # Notebook 04's regression network (1 input, 4 tanh units, 12 points of sin πx), untrained:
    # 73% of ‖H‖²_F sits off the diagonal, so diag(H) is 85% off in the Frobenius norm.
    xs = [[-1 + 2 * n / 11] for n in range(12)]
    ts = [math.sin(math.pi * x) for (x,) in xs]
    h = exact_hessian(MLP(1, [4, 1], activation="tanh", seed=1), xs, ts)
    diagonal = [[e if i == j else 0.0 for j, e in enumerate(row)] for i, row in enumerate(h)]
    assert difference(diagonal, h) == pytest.approx(0.8544529188, rel=1e-9)  # ‖H - diag H‖/‖H‖
    assert difference(diagonal, h) ** 2 == pytest.approx(0.7300897905, rel=1e-9)  # the share
    # and for a linear model whose inputs are orthogonal over the data, H is diagonal itself
    orthogonal = [[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]]
    h_linear = exact_hessian(MLP(2, [1], seed=0), orthogonal, T)
    assert all(h_linear[i][j] == 0.0 for i in range(3) for j in range(3) if i != j)
