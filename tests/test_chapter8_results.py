"""The worked results of Bishop ch. 8 that notebook 04 runs, each pinned with its numbers."""

import math
import tracemalloc

import pytest

import autodiff
from autodiff import Value, gradients, jacobian, jvp, vjp
from autodiff.value import ancestors
from nn import MLP, sse

X0 = [0.5, -0.3, 0.8]


def counted(f):
    """f, counting its calls in `.calls`."""

    def wrapper(*args):
        wrapper.calls += 1
        return f(*args)

    wrapper.calls = 0
    return wrapper


def nodes_made_by(action):
    before = Value(0.0).serial
    action()
    return Value(0.0).serial - before - 1


def softmax(*a):
    """y_k = exp(a_k) / Σ_j exp(a_j), from primitives (small logits: no shift needed)."""
    exps = [autodiff.exp(x) for x in a]
    total = autodiff.sum(exps)
    return [e / total for e in exps]


# --- 8.1.1: the single-layer network ---------------------------------------------------------


def test_single_layer_gradient_is_error_signal_times_input():
    # y_k = Σ_i w_ki x_i + b_k and E_n = ½ Σ_k (y_k - t_k)² give ∂E_n/∂w_ji = (y_j - t_j) x_i (8.4)
    model = MLP(3, [2], seed=0)
    t = [0.2, -0.7]
    y = model(X0)
    sse(y, t).backward()
    for j, unit in enumerate(model.layers[0].neurons):
        signal = y[j].data - t[j]
        assert [w.grad for w in unit.weights] == pytest.approx([signal * x for x in X0], rel=1e-15)
        assert unit.bias.grad == pytest.approx(signal, rel=1e-15)  # a bias sees the input 1


# --- 8.1.5: the Jacobian -------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_sigmoid_outputs_have_a_diagonal_jacobian(mode):
    a = [0.3, -1.2, 2.0]
    jac = jacobian(lambda *a: [autodiff.sigmoid(x) for x in a], mode=mode)(*a)
    for k in range(3):
        s = 1 / (1 + math.exp(-a[k]))
        for ell in range(3):  # (8.33): δ_kl σ'(a_l), exactly 0 off the diagonal
            assert jac[k][ell] == (pytest.approx(s * (1 - s), rel=1e-14) if k == ell else 0.0)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_softmax_jacobian_is_delta_y_minus_y_y(mode):
    a = [0.3, -1.2, 2.0]
    y = [p.data for p in softmax(*map(Value, a))]
    jac = jacobian(softmax, mode=mode)(*a)
    for k in range(3):
        expected = [(y[k] if k == ell else 0.0) - y[k] * y[ell] for ell in range(3)]  # (8.34)
        assert jac[k] == pytest.approx(expected, rel=1e-13, abs=1e-16)
    assert all(abs(sum(row[ell] for row in jac)) < 1e-15 for ell in range(3))  # Σ_k y_k = 1


def central_difference_jacobian(f, x, eps=1e-6):
    """J by (8.35): two forward passes per input, each giving a whole column."""
    columns = []
    for i in range(len(x)):
        up = f([xj + (eps if j == i else 0.0) for j, xj in enumerate(x)])
        down = f([xj - (eps if j == i else 0.0) for j, xj in enumerate(x)])
        columns.append([(u.data - d.data) / (2 * eps) for u, d in zip(up, down, strict=True)])
    return [list(row) for row in zip(*columns, strict=True)]


def test_network_jacobian_matches_central_differences_in_2d_forward_passes():
    model = MLP(3, [4, 2], seed=0)
    network = counted(model)
    numeric = central_difference_jacobian(network, X0)
    assert network.calls == 2 * len(X0)  # 2D forward passes
    exact = jacobian(lambda *x: model(list(x)))(*X0)
    for row_n, row_e in zip(numeric, exact, strict=True):
        assert row_n == pytest.approx(row_e, abs=1e-9)
    # each pass costs O(W) nodes, so the check costs 2D · O(W) = O(DW)
    one_pass = nodes_made_by(lambda: model(X0))
    assert nodes_made_by(lambda: central_difference_jacobian(model, X0)) == 2 * 3 * one_pass


def test_modular_chain_rule_through_a_modules_jacobian():
    # (8.27): ∂E/∂w = Σ_kj ∂E/∂y_k ∂y_k/∂z_j ∂z_j/∂w, with ∂y/∂z the middle module's Jacobian
    first = MLP(2, [3], activation="tanh", seed=1)  # z(x, w): the module whose weights we train
    middle = MLP(3, [2], activation="tanh", seed=2)  # y(z): a fixed module, seen through its J
    x, t = [0.4, -0.9], [0.1, 0.5]
    w = first.parameters()
    z = first(x)
    y = middle(z)
    error = sse(y, t)
    de_dy = [yk.data - tk for yk, tk in zip(y, t, strict=True)]
    dy_dz = jacobian(lambda *zs: middle(list(zs)))(*[zj.data for zj in z])
    dz_dw = [gradients(zj, w) for zj in z]
    by_modules = [
        sum(de_dy[k] * dy_dz[k][j] * dz_dw[j][m] for k in range(2) for j in range(3))
        for m in range(len(w))
    ]
    assert by_modules == pytest.approx(gradients(error, w), rel=1e-13, abs=1e-16)


# --- 8.2: J r in one forward pass, Jᵀ u in one reverse pass -----------------------------------


def test_jacobian_times_r_in_one_forward_pass():
    model = MLP(3, [4, 2], seed=0)
    network = counted(lambda *x: model(list(x)))
    r = [1.0, -2.0, 0.5]
    _, jr = jvp(network, X0, r)  # ẋ = r
    assert network.calls == 1
    jac = jacobian(lambda *x: model(list(x)))(*X0)
    expected = [sum(jac[k][i] * r[i] for i in range(3)) for k in range(2)]
    assert jr == pytest.approx(expected, rel=1e-13)


def test_jacobian_transpose_times_u_in_one_reverse_pass(monkeypatch):
    model = MLP(3, [4, 2], seed=0)
    network = counted(lambda *x: model(list(x)))
    passes = counted(autodiff.functional.adjoints)
    monkeypatch.setattr(autodiff.functional, "adjoints", passes)
    u = [0.7, -1.5]
    _, pullback = vjp(network, *X0)
    jtu = pullback(u)  # ȳ = u
    assert (network.calls, passes.calls) == (1, 1)
    monkeypatch.undo()
    jac = jacobian(lambda *x: model(list(x)))(*X0)
    expected = [sum(jac[k][i] * u[k] for k in range(2)) for i in range(3)]
    assert jtu == pytest.approx(expected, rel=1e-13)


# --- 8.2: what each mode keeps in memory ---------------------------------------------------------


def deep(x, steps):
    """A chain of `steps` operations: x ↦ tanh(x) · 0.9 + 0.05, repeated."""
    for _ in range(steps):
        x = autodiff.tanh(x) * 0.9 + 0.05
    return x


def test_reverse_mode_keeps_the_trace_and_forward_mode_does_not():
    y = deep(Value(0.3), 1000)
    assert len(ancestors(y)) == 3 * 1000 + 1  # every node stays reachable for the backward pass
    _, tangent = jvp(lambda x: deep(x, 1000), [0.3], [1.0])
    assert type(tangent) is float  # the answer holds no graph: nothing of the pass is kept


def peak_bytes(action):
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_reverse_mode_memory_grows_with_the_trace_forward_mode_memory_does_not():
    sizes = (1000, 2000)
    deep(Value(0.3), 2000).backward()  # a first run warms the interpreter's caches up
    reverse = [peak_bytes(lambda n=n: deep(Value(0.3), n).backward()) for n in sizes]
    forward = [peak_bytes(lambda n=n: jvp(lambda x: deep(x, n), [0.3], [1.0])) for n in sizes]
    # O(number of nodes): about 2; the sets and dicts of the pass grow in steps, which adds a bit
    assert 1.6 < reverse[1] / reverse[0] < 3.0
    assert max(forward) * 100 < reverse[0]  # O(1): a few tangents alive at a time, no trace
