"""Whole-function transforms against closed forms, finite differences, and each other."""

import itertools
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autodiff
from autodiff import (
    Dual,
    Value,
    grad,
    gradients,
    hessian,
    hvp,
    jacobian,
    jvp,
    numerical_grad,
    value_and_grad,
    vjp,
)


def close(a, b, rel=1e-12, abs_=1e-12):
    return abs(a - b) <= abs_ + rel * max(abs(a), abs(b))


def assert_matrix_close(a, b, rel=1e-12, abs_=1e-12):
    assert len(a) == len(b)
    for row_a, row_b in zip(a, b, strict=True):
        assert len(row_a) == len(row_b)
        for x, y in zip(row_a, row_b, strict=True):
            assert close(x, y, rel, abs_), (a, b)


def bishop(x1, x2):
    """Bishop (8.49): f = x1 x2 + exp(x1 x2) - sin(x2)."""
    return x1 * x2 + (x1 * x2).exp() - x2.sin()


def bishop_two_outputs(x1, x2):
    """Bishop's two-output example: f1 of (8.49) and f2 = (x1 x2 - sin x2) exp(x1 x2)."""
    v3 = x1 * x2
    v4 = x2.sin()
    v5 = v3.exp()
    v6 = v3 - v4
    return [v5 + v6, v5 * v6]


def rosenbrock(x, y, z):
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2 + (1 - y) ** 2 + 100 * (z - y * y) ** 2


def mixed(x, y, z):
    return (x * y).tanh() * z.sigmoid() + (y / (1 + z * z)).sin() + x.softplus() * z


def custom_erf(x, derivative=None):
    """A user-defined primitive: erf(x), local derivative 2/√π exp(-x²) unless told otherwise."""
    if derivative is None:
        derivative = 2 / math.sqrt(math.pi) * math.exp(-(x.data**2))
    return Value(math.erf(x.data), parents=(x,), local_grads=(derivative,), op="erf")


# --- gradients -------------------------------------------------------------------------------


def test_gradients_are_floats_and_zero_for_unreached_inputs():
    x, y, z = Value(2.0), Value(3.0), Value(5.0)
    out = x * y + x.sin()
    result = gradients(out, [x, y, z])
    assert all(type(g) is float for g in result)
    assert result == [3.0 + math.cos(2.0), 2.0, 0.0]


def test_gradients_touch_no_grad():
    x, y = Value(2.0), Value(3.0)
    out = x * y + x
    x.grad, y.grad, out.grad = 7.0, -1.0, 0.5
    assert gradients(out, [x, y]) == [4.0, 2.0]
    assert [g.data for g in gradients(out, [x, y], create_graph=True)] == [4.0, 2.0]
    assert (x.grad, y.grad, out.grad) == (7.0, -1.0, 0.5)
    out.backward()  # and backward() adds this pass's adjoints to them
    assert (x.grad, y.grad, out.grad) == (11.0, 1.0, 1.5)


def test_gradients_with_create_graph_always_returns_values():
    x, y, z = Value(2.0), Value(3.0), Value(4.0)
    result = gradients(x + y, [x, y, z], create_graph=True)
    assert all(isinstance(g, Value) for g in result)
    assert [g.data for g in result] == [1.0, 1.0, 0.0]


def test_gradients_with_create_graph_can_be_differentiated_again():
    x = Value(0.7)
    (first,) = gradients(x**3, [x], create_graph=True)  # 3x²
    (second,) = gradients(first, [x], create_graph=True)  # 6x
    (third,) = gradients(second, [x])  # 6
    assert close(first.data, 3 * 0.7**2) and close(second.data, 6 * 0.7) and close(third, 6.0)


def test_gradients_of_a_constant_output_are_zero():
    x = Value(1.0)
    assert gradients(3.0, [x]) == [0.0]
    (g,) = gradients(3.0, [x], create_graph=True)
    assert isinstance(g, Value) and g.data == 0.0


def test_gradients_rejects_bad_arguments():
    x = Value(1.0)
    with pytest.raises(TypeError, match="list or tuple"):
        gradients(x * 2, x)
    with pytest.raises(TypeError, match=r"inputs\[1\] must be a Value"):
        gradients(x * 2, [x, 2.0])
    with pytest.raises(TypeError, match="output must be a Value"):
        gradients("x", [x])


def test_create_graph_through_a_float_custom_op_raises_naming_it():
    x = Value(0.3)
    out = custom_erf(x * 2)
    assert gradients(out, [x]) == pytest.approx([4 / math.sqrt(math.pi) * math.exp(-0.36)])
    with pytest.raises(RuntimeError, match="erf"):
        gradients(out, [x], create_graph=True)
    with pytest.raises(RuntimeError, match="erf"):
        grad(grad(custom_erf))(0.3)


def test_custom_op_with_value_local_grads_differentiates_twice():
    def erf(x):
        slope = 2 / math.sqrt(math.pi) * (-x * x).exp()  # a Value: differentiable again
        return Value(math.erf(x.data), parents=(x,), local_grads=(slope,), op="erf")

    x = 0.4
    expected = -2 * x * 2 / math.sqrt(math.pi) * math.exp(-x * x)  # erf''(x) = -2x erf'(x)
    assert close(grad(grad(erf))(x), expected)


def test_create_graph_needs_every_custom_local_derivative_as_a_value():
    x, y = Value(0.5), Value(2.0)
    out = Value(1.0, parents=(x, y), local_grads=(x * 2, 3.0), op="half")  # one float among them
    assert gradients(out, [x, y]) == [1.0, 3.0]
    with pytest.raises(RuntimeError, match="half"):
        gradients(out, [x, y], create_graph=True)


# --- grad and value_and_grad -----------------------------------------------------------------

# (name, f, f', f'', f''') with the derivatives in closed form.
CLOSED_FORMS = [
    ("sin", lambda x: x.sin(), math.cos, lambda x: -math.sin(x), lambda x: -math.cos(x)),
    ("cos", lambda x: x.cos(), lambda x: -math.sin(x), lambda x: -math.cos(x), math.sin),
    ("exp", lambda x: x.exp(), math.exp, math.exp, math.exp),
    ("log", lambda x: x.log(), lambda x: 1 / x, lambda x: -1 / x**2, lambda x: 2 / x**3),
    ("cube", lambda x: x**3, lambda x: 3 * x**2, lambda x: 6 * x, lambda x: 6.0),
    ("reciprocal", lambda x: 1 / x, lambda x: -1 / x**2, lambda x: 2 / x**3, lambda x: -6 / x**4),
    (
        "sqrt",
        lambda x: x.sqrt(),
        lambda x: 0.5 * x**-0.5,
        lambda x: -0.25 * x**-1.5,
        lambda x: 0.375 * x**-2.5,
    ),
    (
        "tanh",
        lambda x: x.tanh(),
        lambda x: 1 - math.tanh(x) ** 2,
        lambda x: -2 * math.tanh(x) * (1 - math.tanh(x) ** 2),
        lambda x: -2 * (1 - math.tanh(x) ** 2) * (1 - 3 * math.tanh(x) ** 2),
    ),
    (
        "sigmoid",
        lambda x: x.sigmoid(),
        lambda x: _s(x) * (1 - _s(x)),
        lambda x: _s(x) * (1 - _s(x)) * (1 - 2 * _s(x)),
        lambda x: _s(x) * (1 - _s(x)) * (1 - 6 * _s(x) + 6 * _s(x) ** 2),
    ),
    (
        "softplus",
        lambda x: x.softplus(),
        lambda x: _s(x),
        lambda x: _s(x) * (1 - _s(x)),
        lambda x: _s(x) * (1 - _s(x)) * (1 - 2 * _s(x)),
    ),
    ("x to the x", lambda x: x**x, lambda x: x**x * (math.log(x) + 1), None, None),
]


def _s(x):
    return 1 / (1 + math.exp(-x))


@pytest.mark.parametrize("point", [0.3, 1.7])
@pytest.mark.parametrize(
    ("name", "f", "d1", "d2", "d3"), CLOSED_FORMS, ids=[c[0] for c in CLOSED_FORMS]
)
def test_first_second_third_derivatives_match_closed_forms(name, f, d1, d2, d3, point):
    assert close(grad(f)(point), d1(point))
    if d2 is not None:
        assert close(grad(grad(f))(point), d2(point))
        assert close(grad(grad(grad(f)))(point), d3(point), rel=1e-11)


def test_fourth_derivative_of_sin_nests_four_times():
    assert close(grad(grad(grad(grad(autodiff.sin))))(0.9), math.sin(0.9))


def test_grad_returns_floats_and_value_and_grad_the_value_too():
    g = grad(bishop, argnums=(0, 1))(1.5, 0.5)
    assert isinstance(g, tuple) and all(type(d) is float for d in g)
    e = math.exp(0.75)
    assert close(g[0], 0.5 + 0.5 * e) and close(g[1], 1.5 + 1.5 * e - math.cos(0.5))
    value, d1 = value_and_grad(bishop)(1.5, 0.5)
    assert type(value) is float and close(value, 0.75 + e - math.sin(0.5))
    assert d1 == g[0]


def test_grad_argnums_picks_partial_derivatives_and_passes_other_arguments_through():
    def scaled(x, y, table):
        return x * y * table["scale"]

    assert grad(scaled, argnums=1)(2.0, 3.0, {"scale": 5.0}) == 10.0
    assert grad(scaled, argnums=(1, 0))(2.0, 3.0, {"scale": 5.0}) == (10.0, 15.0)


def test_grad_of_a_function_returning_a_constant_is_zero():
    assert grad(lambda x: 4.0)(1.0) == 0.0
    assert grad(grad(lambda x: 2 * x))(1.0) == 0.0  # d(2)/dx: the inner grad gives a constant


def test_nested_grad_gives_values_when_called_with_values():
    x = Value(0.5)
    d = grad(lambda t: t**3)(x)
    assert isinstance(d, Value) and close(d.data, 0.75)
    assert close(gradients(d, [x])[0], 3.0)  # d/dx 3x² = 6x


def test_nested_grad_keeps_separate_partials_for_one_value_passed_twice():
    # ∂/∂a (a b²) = b²; with a = b = y that is y², whose derivative is 2y (not d/dy y³ = 3y²).
    inner = grad(lambda a, b: a * b * b, argnums=0)
    assert grad(lambda y: inner(y, y))(3.0) == 6.0


def test_mixed_partial_through_a_closure():
    # ∂/∂x [∂/∂y x y²] at y = 2 is 2y = 4; the inner grad sees x only through the closure.
    assert grad(lambda x: grad(lambda y: x * y * y)(2.0))(3.0) == 4.0


def test_a_transform_whose_f_raises_leaves_no_nesting_behind():
    def broken(x):
        raise KeyError("boom")

    with pytest.raises(KeyError):
        grad(broken)(1.0)
    assert type(grad(lambda x: x * x)(3.0)) is float  # not a Value, as inside a transform


def test_nested_transforms_give_values_even_for_constant_outputs():
    x = Value(1.0)
    value, derivative = value_and_grad(lambda t: 3.0)(x)
    assert isinstance(value, Value) and value.data == 3.0
    assert isinstance(derivative, Value) and derivative.data == 0.0
    value, tangent = jvp(lambda t: 3.0, [x], [1.0])
    assert isinstance(value, Value) and isinstance(tangent, Value)
    assert (value.data, tangent.data) == (3.0, 0.0)


# --- Hessian ---------------------------------------------------------------------------------

POINTS = [(rosenbrock, (0.3, -0.4, 0.8)), (mixed, (0.3, -0.4, 0.8)), (bishop, (1.5, 0.5))]


@pytest.mark.parametrize(("f", "xs"), POINTS)
def test_hessian_is_symmetric_and_the_jacobian_of_the_gradient(f, xs):
    h = hessian(f)(*xs)
    assert len(h) == len(xs) and all(len(row) == len(xs) for row in h)
    for i in range(len(xs)):
        for j in range(len(xs)):
            assert close(h[i][j], h[j][i])
    every = tuple(range(len(xs)))
    for mode in ("reverse",):
        assert_matrix_close(h, jacobian(grad(f, argnums=every), mode=mode)(*xs))


@pytest.mark.parametrize(("f", "xs"), POINTS)
def test_hessian_matches_central_differences_of_the_analytic_gradient(f, xs):
    h = hessian(f)(*xs)
    for i in range(len(xs)):
        row = numerical_grad(grad(f, argnums=i), list(xs), eps=1e-5)
        for exact, numeric in zip(h[i], row, strict=True):
            assert abs(exact - numeric) <= 1e-6 * max(1.0, abs(exact))


def test_hessian_of_rosenbrock_in_closed_form():
    x, y, z = 0.3, -0.4, 0.8
    expected = [
        [2 - 400 * (y - x * x) + 800 * x * x, -400 * x, 0.0],
        [-400 * x, 202 - 400 * (z - y * y) + 800 * y * y, -400 * y],
        [0.0, -400 * y, 200.0],
    ]
    assert_matrix_close(hessian(rosenbrock)(x, y, z), expected)


def test_hessian_of_a_one_argument_function_is_one_by_one():
    assert hessian(lambda x: x**4)(2.0) == [[48.0]]


# --- Hessian-vector products -----------------------------------------------------------------


@pytest.mark.parametrize(("f", "xs"), POINTS)
def test_hvp_equals_hessian_times_vector(f, xs):
    h = hessian(f)(*xs)
    for v in ([1.0] * len(xs), [0.5, -2.0, 3.0][: len(xs)]):
        hv = hvp(f, list(xs), v)
        assert all(type(e) is float for e in hv)
        for row, e in zip(h, hv, strict=True):
            assert close(e, sum(r * vi for r, vi in zip(row, v, strict=True)), rel=1e-11)


@settings(max_examples=30, deadline=None, derandomize=True)
@given(st.lists(st.floats(-3, 3), min_size=3, max_size=3))
def test_hvp_is_hessian_times_vector_for_random_directions(v):
    xs = [0.2, 0.9, -0.6]
    h = hessian(mixed)(*xs)
    hv = hvp(mixed, xs, v)
    for row, e in zip(h, hv, strict=True):
        exact = sum(r * vi for r, vi in zip(row, v, strict=True))
        assert abs(e - exact) <= 1e-12 * (
            1 + sum(abs(r * vi) for r, vi in zip(row, v, strict=True))
        )


def chain(*xs):
    """Σ_i tanh(x_i x_{i+1}): a function whose graph grows linearly with the number of inputs."""
    return autodiff.sum((a * b).tanh() for a, b in itertools.pairwise(xs))


def nodes_made_by(action):
    before = Value(0.0).serial
    action()
    return Value(0.0).serial - before - 1


def test_hvp_builds_a_graph_linear_in_the_number_of_inputs():
    # O(W): doubling the inputs about doubles the nodes hvp creates; forming H would quadruple
    # the work (D reverse passes over a graph of size O(D)).
    small = nodes_made_by(lambda: hvp(chain, [0.1] * 50, [1.0] * 50))
    large = nodes_made_by(lambda: hvp(chain, [0.1] * 100, [1.0] * 100))
    assert 1.8 < large / small < 2.2
    forward = nodes_made_by(lambda: chain(*map(Value, [0.1] * 100)))
    assert large < 10 * forward  # a few times the size of one evaluation of f


def test_hvp_of_chain_matches_its_hessian():
    xs = [0.3, -0.2, 0.5, 0.1, -0.7]
    v = [1.0, 2.0, -1.0, 0.5, 0.25]
    h = hessian(chain)(*xs)
    expected = [sum(r * vi for r, vi in zip(row, v, strict=True)) for row in h]
    assert all(close(a, b, rel=1e-11) for a, b in zip(hvp(chain, xs, v), expected, strict=True))


# --- Jacobian: reverse and forward -----------------------------------------------------------


def test_jacobian_of_bishops_two_outputs_forward_equals_reverse():
    x1, x2 = 1.5, 0.5
    reverse = jacobian(bishop_two_outputs)(x1, x2)
    forward = jacobian(bishop_two_outputs, mode="forward")(x1, x2)
    assert_matrix_close(forward, reverse)
    e = math.exp(x1 * x2)
    f2_1 = x2 * e + (x1 * x2 - math.sin(x2)) * x2 * e
    f2_2 = (x1 - math.cos(x2)) * e + (x1 * x2 - math.sin(x2)) * x1 * e
    expected = [[x2 + x2 * e, x1 + x1 * e - math.cos(x2)], [f2_1, f2_2]]
    assert_matrix_close(reverse, expected)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_jacobian_of_one_output_is_a_flat_list(mode):
    result = jacobian(bishop, mode=mode)(1.5, 0.5)
    assert all(type(d) is float for d in result)
    assert [pytest.approx(d, rel=1e-12) for d in result] == list(
        grad(bishop, argnums=(0, 1))(1.5, 0.5)
    )


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_jacobian_row_of_a_constant_output_is_zero(mode):
    assert jacobian(lambda x, y: [x * y, 3.0], mode=mode)(2.0, 5.0) == [[5.0, 2.0], [0.0, 0.0]]


def test_jacobian_forward_mode_calls_f_with_duals_and_reverse_with_values():
    seen = []

    def spy(x):
        seen.append(type(x))
        return x * 2

    jacobian(spy, mode="forward")(1.0)
    jacobian(spy, mode="reverse")(1.0)
    assert seen == [Dual, Value]


UNARY = ["sin", "cos", "tanh", "sigmoid", "softplus", "exp_tanh"]
BINARY = ["+", "-", "*"]


def build(program, xs):
    """Run a random straight-line program over xs; every step may reuse any earlier node."""
    nodes = list(xs)
    for op, i, j in program:
        a, b = nodes[i % len(nodes)], nodes[j % len(nodes)]
        if op == "exp_tanh":
            nodes.append(a.tanh().exp())
        elif op in UNARY:
            nodes.append(getattr(a, op)())
        elif op == "+":
            nodes.append(a + b)
        elif op == "-":
            nodes.append(a - b)
        else:
            nodes.append(a * b)
    return nodes[len(xs) :][-3:]  # up to three outputs, sharing subexpressions


programs = st.lists(
    st.tuples(st.sampled_from(UNARY + BINARY), st.integers(0, 20), st.integers(0, 20)),
    min_size=1,
    max_size=10,
)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(programs, st.lists(st.floats(-1.5, 1.5), min_size=3, max_size=3))
def test_forward_and_reverse_jacobians_agree_on_random_programs(program, xs):
    def f(*args):
        return build(program, args)

    reverse = jacobian(f)(*xs)
    forward = jacobian(f, mode="forward")(*xs)
    scale = max(1.0, *(abs(d) for row in reverse for d in row))
    for row_r, row_f in zip(reverse, forward, strict=True):
        for r, fw in zip(row_r, row_f, strict=True):
            assert abs(r - fw) <= 1e-12 * scale


def test_jacobian_nests_when_given_values():
    x = Value(0.4)
    (row,) = jacobian(lambda t: [t**3])(x)
    (d,) = row
    assert isinstance(d, Value) and close(d.data, 3 * 0.16)
    assert close(gradients(d, [x])[0], 6 * 0.4)


# --- jvp and vjp -----------------------------------------------------------------------------


def test_jvp_gives_values_and_directional_derivatives():
    values, tangents = jvp(bishop_two_outputs, [1.5, 0.5], [2.0, -1.0])
    j = jacobian(bishop_two_outputs)(1.5, 0.5)
    assert values == [v.data for v in bishop_two_outputs(Value(1.5), Value(0.5))]
    for row, t in zip(j, tangents, strict=True):
        assert close(t, 2.0 * row[0] - 1.0 * row[1])
    value, tangent = jvp(bishop, [1.5, 0.5], [1.0, 0.0])
    assert type(value) is float and close(tangent, j[0][0])


def test_vjp_gives_values_and_transposed_products():
    values, vjp_fn = vjp(bishop_two_outputs, 1.5, 0.5)
    j = jacobian(bishop_two_outputs)(1.5, 0.5)
    assert all(type(v) is float for v in values)
    result = vjp_fn([3.0, -2.0])
    assert len(result) == 2
    for i in range(2):
        assert close(result[i], 3.0 * j[0][i] - 2.0 * j[1][i])
    assert vjp_fn([1.0, 0.0]) == pytest.approx(j[0], rel=1e-12)  # callable more than once
    value, single_fn = vjp(bishop, 1.5, 0.5)
    assert type(value) is float and single_fn(2.0) == pytest.approx(
        [2 * d for d in j[0]], rel=1e-12
    )


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    st.lists(st.floats(-2, 2), min_size=2, max_size=2),
    st.lists(st.floats(-2, 2), min_size=2, max_size=2),
)
def test_jvp_and_vjp_are_adjoint(u, w):
    # ⟨J u, w⟩ = ⟨u, Jᵀ w⟩: the forward and the reverse product meet in the middle.
    xs = [0.7, -0.3]
    _, ju = jvp(bishop_two_outputs, xs, u)
    _, vjp_fn = vjp(bishop_two_outputs, *xs)
    jtw = vjp_fn(w)
    left = sum(a * b for a, b in zip(ju, w, strict=True))
    right = sum(a * b for a, b in zip(u, jtw, strict=True))
    terms = sum(abs(a * b) for a, b in zip(ju, w, strict=True)) + sum(
        abs(a * b) for a, b in zip(u, jtw, strict=True)
    )
    assert abs(left - right) <= 1e-13 * (1 + terms)


def test_vjp_of_values_gives_values_in_the_graph():
    x = Value(0.5)
    value, vjp_fn = vjp(lambda t: t**3, x)
    (product,) = vjp_fn(2.0)  # 2 · 3x²
    assert isinstance(value, Value) and isinstance(product, Value)
    assert close(product.data, 1.5)
    assert close(gradients(product, [x])[0], 2 * 6 * 0.5)


def test_jvp_with_value_tangents_gives_values_in_the_graph():
    v = Value(2.0)
    value, tangent = jvp(lambda t: t * t, [3.0], [v])  # J v = 2 · 3 · v
    assert isinstance(value, Value) and value.data == 9.0
    assert isinstance(tangent, Value) and tangent.data == 12.0
    assert gradients(tangent, [v]) == [6.0]


def test_jvp_stores_no_graph():
    made = nodes_made_by(lambda: jvp(chain, [0.1] * 20, [1.0] * 20))
    assert made == 0


# --- forward mode on top of reverse mode --------------------------------------------------


def test_jvp_of_values_gives_values_in_the_graph():
    x1, x2 = Value(1.5), Value(0.5)
    value, tangent = jvp(bishop, [x1, x2], [1.0, 0.0])
    assert isinstance(value, Value) and isinstance(tangent, Value)
    assert value.data == jvp(bishop, [1.5, 0.5], [1.0, 0.0])[0]
    # The tangent ∂f/∂x1 = x2 (1 + e^{x1 x2}) is a node: backward gives its own derivatives.
    tangent.backward()
    e = math.exp(0.75)
    assert close(x1.grad, 0.5 * 0.5 * e)  # ∂²f/∂x1² = x2² e^{x1 x2}
    assert close(x2.grad, 1 + e + 0.75 * e)  # ∂²f/∂x1∂x2 = 1 + e^{x1 x2} (1 + x1 x2)


def test_grad_of_jvp_is_reverse_over_forward_hvp():
    v = [1.0, -2.0]

    def directional_derivative(a, b):  # vᵀ∇f by forward mode
        return jvp(bishop, [a, b], v)[1]

    by_forward = grad(directional_derivative, argnums=(0, 1))(0.7, 1.3)
    assert list(by_forward) == pytest.approx(hvp(bishop, [0.7, 1.3], v), rel=1e-12)


def test_forward_jacobian_through_a_network_with_value_weights():
    import nn

    model = nn.MLP(3, [4, 2], seed=0)
    network = lambda *x: model(list(x))  # noqa: E731 - the weights are Values, the inputs Duals
    forward = jacobian(network, mode="forward")(0.5, -0.3, 0.8)
    assert all(type(d) is float for row in forward for d in row)
    assert_matrix_close(forward, jacobian(network)(0.5, -0.3, 0.8))


def test_value_times_dual_is_a_dual_whose_parts_are_nodes():
    w = Value(2.0)
    y = w * Dual(3.0, 1.0)  # w is a constant of the tangent, but still a node of the graph
    assert isinstance(y, Dual) and (y.primal.data, y.tangent.data) == (6.0, 2.0)
    y.tangent.backward()
    assert w.grad == 1.0  # d(w · ẋ)/dw with ẋ = 1
    assert isinstance(autodiff.dot([w], [Dual(3.0, 1.0)]), Dual)


# --- bad input -------------------------------------------------------------------------------


def test_bad_mode_and_argnums_raise():
    with pytest.raises(ValueError, match="mode"):
        jacobian(bishop, mode="sideways")
    with pytest.raises(ValueError, match="out of range"):
        grad(bishop, argnums=2)(1.0, 2.0)
    with pytest.raises(ValueError, match="non-negative"):
        grad(bishop, argnums=-1)
    with pytest.raises(ValueError, match="repeated"):
        grad(bishop, argnums=(0, 0))
    with pytest.raises(ValueError, match="at least one"):
        grad(bishop, argnums=())
    with pytest.raises(TypeError, match="argnums"):
        grad(bishop, argnums=True)
    with pytest.raises(TypeError, match="argnums"):
        grad(bishop, argnums=[0, 1])


# --- forward mode inside forward mode: each pass's tangents stay its own ----------------------


def test_an_inner_jvp_over_a_closure_does_not_mix_the_outer_tangent_in():
    # "Perturbation confusion": without tags, the inner pass would also count the outer
    # tangent of x, giving (2, 2) and (15, 5) here; JAX gives these answers.
    assert jvp(lambda x: x * jvp(lambda y: x + y, [1.0], [1.0])[1], [1.0], [1.0]) == (1.0, 1.0)
    assert jvp(lambda x: x * jvp(lambda y: x * y, [2.0], [1.0])[1], [3.0], [1.0]) == (9.0, 6.0)
    inner = jacobian(
        lambda x: x * jacobian(lambda y: x + y, mode="forward")(1.0)[0], mode="forward"
    )
    assert inner(1.0) == [1.0]


def test_jvp_of_a_closure_over_an_inner_jvp_matches_closed_form_and_reverse_mode():
    c = 0.3

    def f(x):  # x · ∂/∂y sin(x y) at y = c  =  x² cos(x c)
        return x * jvp(lambda y: autodiff.sin(x * y), [c], [1.0])[1]

    def f_by_grad(x):
        return x * grad(lambda y: autodiff.sin(x * y))(c)

    x = 1.7
    value, slope = jvp(f, [x], [1.0])
    assert close(value, x * x * math.cos(x * c))
    expected = 2 * x * math.cos(x * c) - x * x * c * math.sin(x * c)
    assert close(slope, expected)
    assert close(grad(f_by_grad)(x), expected)  # reverse over reverse, the same closure


def test_nested_jvps_give_the_second_and_third_derivatives():
    def f(x):
        return x * autodiff.sin(x)

    def derivative(g):
        return lambda x: jvp(g, [x], [1.0])[1]

    x = 0.8
    assert close(derivative(derivative(f))(x), 2 * math.cos(x) - x * math.sin(x))
    third = -3 * math.sin(x) - x * math.cos(x)
    assert close(derivative(derivative(derivative(f)))(x), third)
    assert close(grad(derivative(derivative(f)))(x), third)  # reverse over forward over forward


def test_a_dual_that_escapes_its_pass_is_refused_when_used_again():
    # JAX calls this a leaked tracer: the tangent belonged to a pass that is over.
    leaked = []

    def leak(y):
        leaked.append(y)
        return y

    def outer(x):
        jvp(leak, [1.0], [1.0])
        return x * x + 0.0 * leaked[-1]  # without the check the inner, later tag would win

    with pytest.raises(RuntimeError, match=r"op '\*': a Dual of a forward pass that has ended"):
        jvp(outer, [3.0], [1.0])
    with pytest.raises(RuntimeError, match="jvp: a Dual of a forward pass that has ended"):
        jvp(lambda x: leaked[0], [1.0], [1.0])
    with pytest.raises(RuntimeError, match="has ended"):
        autodiff.exp(leaked[0])
    with pytest.raises(RuntimeError, match="detach: a Dual of a forward pass that has ended"):
        leaked[0].detach()
    assert (Dual(2.0, 1.0) * 3).tangent == 3.0  # a Dual made by hand belongs to no pass: usable


@pytest.mark.parametrize(
    ("f", "x", "message"),
    [(autodiff.exp, 1000.0, "produced primal inf"), (autodiff.sqrt, 0.0, "produced tangent inf")],
)
def test_detect_anomaly_watches_forward_mode_on_numbers_too(f, x, message):
    assert not math.isfinite(sum(jvp(f, [x], [1.0])))  # IEEE values outside the mode
    with autodiff.detect_anomaly(), pytest.raises(FloatingPointError, match=message) as caught:
        jvp(f, [x], [1.0])
    assert f"op '{f.__name__}' (forward mode" in str(caught.value)


def test_a_transform_inside_a_jvp_returns_floats_for_float_inputs():
    inner = []

    def f(x):
        inner.append(jvp(lambda y: y * y, [2.0], [1.0]))
        inner.append(grad(lambda y: y * y)(2.0))
        return x * inner[0][1]

    assert jvp(f, [3.0], [1.0]) == (12.0, 4.0)
    assert inner == [(4.0, 4.0), 4.0] and all(type(v) is float for v in (*inner[0], inner[1]))


def test_a_dual_cannot_hold_a_dual_of_its_own_pass():
    with pytest.raises(TypeError, match=r"same or a later forward pass.*call jvp inside"):
        Dual(Dual(1.0, 1.0), 1.0)
    with pytest.raises(ValueError, match=r"Dual tag 7 is not a forward pass under way"):
        Dual(1.0, 1.0, tag=7)  # tags are jvp's to give


def test_inside_a_jvp_the_inputs_are_duals_of_a_pass_holding_the_outer_pass_duals():
    seen = []

    def outer(x):
        return jvp(lambda y: seen.append((x, y)) or x * y, [2.0], [1.0])[1]

    assert jvp(outer, [3.0], [1.0]) == (3.0, 1.0)  # ∂(xy)/∂y = x, and its slope in x is 1
    ((x, y),) = seen
    assert 0 < x.tag < y.tag and (x.primal, x.tangent, y.primal, y.tangent) == (3.0, 1.0, 2.0, 1.0)


def test_f_returning_a_non_number_raises():
    with pytest.raises(TypeError, match="returned str"):
        grad(lambda x: "nope")(1.0)
    with pytest.raises(TypeError, match="use jacobian"):
        grad(lambda x: [x, x])(1.0)
    with pytest.raises(TypeError, match="item 1 of"):
        jacobian(lambda x: [x, None])(1.0)
    with pytest.raises(TypeError, match="returned NoneType"):
        jacobian(lambda x: None, mode="forward")(1.0)
    with pytest.raises(TypeError, match="returned str"):
        jvp(lambda x: "nope", [1.0], [1.0])
    with pytest.raises(TypeError, match="returned dict"):
        vjp(lambda x: {}, 1.0)


def test_wrong_argument_types_and_lengths_raise():
    with pytest.raises(ValueError, match="1 primals but 2 tangents"):
        jvp(bishop, [1.0], [1.0, 0.0])
    with pytest.raises(ValueError, match="2 primals but 1 tangents"):
        jvp(bishop, [1.0, 2.0], [1.0])
    with pytest.raises(TypeError, match="primals must be a list or tuple"):
        jvp(bishop, 1.0, [1.0])
    with pytest.raises(TypeError, match=r"tangents\[0\] must be a real number"):
        jvp(autodiff.sin, [1.0], ["a"])
    with pytest.raises(TypeError, match=r"primals\[0\] must be a real number or a Value"):
        jvp(autodiff.sin, ["1.0"], [1.0])
    with pytest.raises(ValueError, match="v has 1 entries but xs has 2"):
        hvp(bishop, [1.0, 2.0], [1.0])
    with pytest.raises(TypeError, match=r"v\[0\] must be a real number"):
        hvp(bishop, [1.0, 2.0], [None, 1.0])
    with pytest.raises(TypeError, match="argument 0 must be a real number or a Value"):
        grad(autodiff.sin)("1.0")
    with pytest.raises(ValueError, match="at least one argument"):
        jacobian(lambda: 1.0)()
    _, vjp_fn = vjp(bishop_two_outputs, 1.0, 2.0)
    with pytest.raises(ValueError, match="1 cotangents for 2 outputs"):
        vjp_fn([1.0])
