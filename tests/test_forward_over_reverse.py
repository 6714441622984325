"""Forward mode over reverse mode: jvp of grad, gradients and vjp, and the three hvp routes."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_functional import (
    bishop,
    build,
    chain,
    close,
    mixed,
    nodes_made_by,
    programs,
    rosenbrock,
)
from test_ops import CASES

import autodiff
from autodiff import Dual, Value, grad, gradients, hessian, hvp, jacobian, jvp, ops, vjp
from autodiff.functional import HVP_MODES

POINTS = [(bishop, (0.7, 1.3)), (rosenbrock, (0.5, -0.4, 1.2)), (mixed, (0.2, 0.9, -0.6))]


def matrix_times(h, v):
    return [sum(r * vi for r, vi in zip(row, v, strict=True)) for row in h]


def third_derivative(x):
    """d³/dx³ of sin(x) x³, the test function of the nesting tests."""
    s, c = math.sin(x), math.cos(x)
    return -c * x**3 - 9 * s * x**2 + 18 * c * x + 6 * s


def sin_cubed(x):
    return x.sin() * x**3


def derivative(g):
    """x ↦ g'(x) by one forward pass."""
    return lambda x: jvp(g, [x], [1.0])[1]


# --- jvp of a reverse-mode transform -----------------------------------------------------------


@pytest.mark.parametrize(("f", "xs"), POINTS)
def test_jvp_of_grad_is_the_hessian_times_the_tangent(f, xs):
    v = [0.5, -2.0, 3.0][: len(xs)]
    every = tuple(range(len(xs)))
    gradient, hv = jvp(grad(f, argnums=every), list(xs), v)
    assert all(type(d) is float for d in (*gradient, *hv))
    assert list(gradient) == pytest.approx(grad(f, argnums=every)(*xs), rel=1e-14)
    for got, expected in zip(hv, matrix_times(hessian(f)(*xs), v), strict=True):
        assert close(got, expected, rel=1e-11)


def test_forward_jacobian_of_a_gradient_is_the_hessian():
    gradient = grad(lambda x, y: x * x * y, argnums=(0, 1))
    assert jacobian(gradient, mode="forward")(1.0, 2.0) == [[4.0, 2.0], [2.0, 0.0]]
    assert jacobian(gradient)(1.0, 2.0) == [[4.0, 2.0], [2.0, 0.0]]


def test_jvp_of_gradients_and_of_vjp():
    def through_gradients(x):  # ∂(x y²)/∂y = 2xy at y = 0.5 is x: its slope in x is 1
        y = Value(0.5)
        return gradients(x * y * y, [y])[0]  # x is a Dual, so x y² is a Dual with node parts

    assert jvp(through_gradients, [2.0], [1.0]) == (2.0, 1.0)
    # the pullback of x y² at y = x, given the cotangent x: x · 2xy · x = 2x³, slope 6x²
    assert jvp(lambda x: vjp(lambda y: x * y * y, x)[1](x)[0], [2.0], [1.0]) == (16.0, 24.0)


def test_a_hand_made_dual_goes_through_grad():
    result = grad(autodiff.sin)(Dual(1.0, 1.0))
    assert isinstance(result, Dual)
    assert (result.primal, result.tangent) == (math.cos(1.0), -math.sin(1.0))


# --- closures over the enclosing pass, and perturbation confusion --------------------------------


def test_a_closure_over_the_enclosing_duals():
    # ∂/∂y (x y²) at y = 1 is 2x, so its slope in x is 2 (grad gets numbers, f returns a Dual)
    assert jvp(lambda x: grad(lambda y: x * y * y)(1.0), [2.0], [1.0]) == (4.0, 2.0)
    assert jvp(lambda x: vjp(lambda y: x * y, 1.0)[0], [2.0], [1.0]) == (2.0, 1.0)
    # the closure and the argument from the same pass: ∂/∂y (x y²) at y = x is 2x², slope 4x
    assert jvp(lambda x: grad(lambda y: x * y * y)(x), [3.0], [1.0]) == (18.0, 12.0)


def test_no_perturbation_confusion_between_the_jvp_and_the_inner_grad():
    # d/dx [x · d/dy (x + y)] = 1: the outer tangent of x must not leak into the inner grad
    assert jvp(lambda x: x * grad(lambda y: x + y)(1.0), [1.0], [1.0]) == (1.0, 1.0)
    assert jvp(lambda x: x * grad(lambda y: x * y)(2.0), [3.0], [1.0]) == (9.0, 6.0)


@pytest.mark.parametrize("order", ["closure first", "argument first"])
def test_closure_and_argument_from_two_nested_passes(order):
    a0 = 1.5  # ∂/∂y (a y²) at y = b is 2ab; ∂/∂b is 2a; then d/da is 2
    if order == "closure first":
        inner = lambda a: jvp(lambda b: grad(lambda y: a * y * y)(b), [a], [1.0])[1]  # noqa: E731
    else:
        inner = lambda b: jvp(lambda a: grad(lambda y: a * y * y)(b), [b], [1.0])[1]  # noqa: E731
    assert jvp(inner, [a0], [1.0]) == (2 * a0, 2.0)


def test_arguments_from_two_passes():
    # f = a² b³: ∂f/∂a = 2ab³, ∂/∂b of that 6ab², ∂/∂a of that 6b²
    def f(a, b):
        return a * a * b**3

    def mixed_third(a):
        return jvp(lambda b: grad(f, argnums=(0, 1))(a, b)[0], [0.8], [1.0])[1]

    assert jvp(mixed_third, [1.7], [1.0]) == pytest.approx((6 * 1.7 * 0.64, 6 * 0.64), rel=1e-14)


# --- nesting depth ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "third",
    [
        lambda x: derivative(derivative(grad(sin_cubed)))(x),  # forward, forward, reverse
        lambda x: grad(derivative(grad(sin_cubed)))(x),  # reverse, forward, reverse
        lambda x: derivative(grad(grad(sin_cubed)))(x),  # forward, reverse, reverse
        lambda x: derivative(lambda y: hessian(sin_cubed)(y)[0][0])(x),
        lambda x: grad(grad(grad(sin_cubed)))(x),  # reverse over reverse over reverse
    ],
)
def test_third_derivatives_through_every_nesting_agree_with_the_closed_form(third):
    assert close(third(0.7), third_derivative(0.7), rel=1e-12)


def test_jvp_of_grad_at_values_gives_values_in_the_graph():
    x = Value(0.7)
    slope, curvature = jvp(grad(sin_cubed), [x], [1.0])
    assert isinstance(slope, Value) and isinstance(curvature, Value)
    (third,) = gradients(curvature, [x])
    assert close(third, third_derivative(0.7), rel=1e-12)


def test_forward_over_reverse_inside_grad_keeps_a_closure_value():
    w = 1.3

    def f(c):  # ∂/∂x of c x⁴ is 4 c x³; its slope in x is 12 c x², whose slope in c is 12 x²
        return jvp(grad(lambda x: c * x**4), [0.5], [1.0])[1]

    assert close(grad(f)(w), 12 * 0.25)


# --- the three hvp routes --------------------------------------------------------------------


@pytest.mark.parametrize("mode", HVP_MODES)
@pytest.mark.parametrize(("f", "xs"), POINTS)
def test_every_hvp_route_is_the_hessian_times_the_vector(f, xs, mode):
    v = [0.5, -2.0, 3.0][: len(xs)]
    hv = hvp(f, list(xs), v, mode=mode)
    assert all(type(e) is float for e in hv)
    for got, expected in zip(hv, matrix_times(hessian(f)(*xs), v), strict=True):
        assert close(got, expected, rel=1e-11)


@pytest.mark.parametrize("mode", HVP_MODES)
def test_every_hvp_route_nests_under_grad_and_under_jvp(mode):
    def curvature(x):  # f''(x) by the route
        return hvp(sin_cubed, [x], [1.0], mode=mode)[0]

    assert close(grad(curvature)(0.7), third_derivative(0.7), rel=1e-12)
    assert close(derivative(curvature)(0.7), third_derivative(0.7), rel=1e-12)


@pytest.mark.parametrize(("name", "point"), CASES)
def test_every_rule_of_the_table_goes_forward_over_reverse(name, point):
    # at numbers the tangents follow the recorded local derivatives; at Values (inside grad) every
    # node is recomputed on Duals whose parts are nodes: both must give the Hessian's columns
    prim = ops.PRIMITIVES[name]

    def f(*xs):
        return Value._apply(prim, xs)

    h = hessian(f)(*point)
    every = tuple(range(len(point)))
    for k in every:
        direction = [1.0 if i == k else 0.0 for i in every]
        column = [row[k] for row in h]
        assert jvp(grad(f, argnums=every), list(point), direction)[1] == pytest.approx(
            column, rel=1e-12, abs=1e-12
        )
        at_values = jvp(grad(f, argnums=every), [Value(x) for x in point], direction)[1]
        assert [d.data for d in at_values] == pytest.approx(column, rel=1e-12, abs=1e-12)


def test_hvp_refuses_an_unknown_mode():
    with pytest.raises(ValueError, match="mode must be one of 'reverse-over-reverse'"):
        hvp(bishop, [1.0, 2.0], [1.0, 0.0], mode="forward")


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    programs,
    st.lists(st.floats(-1.5, 1.5), min_size=3, max_size=3),
    st.lists(st.floats(-2, 2), min_size=3, max_size=3),
)
def test_hvp_routes_agree_on_random_programs(program, xs, v):
    def f(*args):
        return autodiff.sum(build(program, args))

    h = hessian(f)(*xs)
    expected = matrix_times(h, v)
    scale = max(1.0, *(abs(r * vi) for row in h for r, vi in zip(row, v, strict=True)))
    for mode in HVP_MODES:
        for got, e in zip(hvp(f, xs, v, mode=mode), expected, strict=True):
            assert abs(got - e) <= 1e-12 * scale, mode


@settings(max_examples=30, deadline=None, derandomize=True)
@given(programs, st.lists(st.floats(-1.5, 1.5), min_size=3, max_size=3), st.floats(-1.5, 1.5))
def test_forward_over_reverse_through_a_closure_agrees_with_reverse_over_reverse(program, xs, c):
    def gradient_at(c):  # ∇_y F(c·y0, y1, y2): the closure c is a Dual of the outer jvp
        return list(
            grad(lambda *y: autodiff.sum(build(program, [c * y[0], *y[1:]])), (0, 1, 2))(*xs)
        )

    def gradient_at_itself(c):  # the closure c is also the argument y0: one pass, both ways
        return list(
            grad(lambda *y: autodiff.sum(build(program, [c * y[0], *y[1:]])), (0, 1, 2))(c, *xs[1:])
        )

    for g in (gradient_at, gradient_at_itself):
        _, forward = jvp(g, [c], [1.0])
        reverse = [row[0] for row in jacobian(g)(c)]
        scale = max(1.0, *map(abs, reverse))
        for a, b in zip(forward, reverse, strict=True):
            assert abs(a - b) <= 1e-12 * scale


def test_forward_over_reverse_makes_no_nodes_after_the_first_reverse_pass():
    xs, v = [0.1] * 100, [1.0] * 100

    def first_pass():  # f and its gradient as a graph: what every route records first
        leaves = [Value(x) for x in xs]
        gradients(chain(*leaves), leaves, create_graph=True)

    recorded = nodes_made_by(first_pass)
    assert nodes_made_by(lambda: hvp(chain, xs, v, mode="forward-over-reverse")) == recorded
    # reverse over reverse also builds the dot node vᵀ∇f and a copy of each input (+x)
    assert nodes_made_by(lambda: hvp(chain, xs, v)) > recorded


# --- custom ops and anomalies ----------------------------------------------------------------


def custom_square(x):
    """x² as a custom op whose local derivative 2x is given as a Value."""
    return Value(x.data**2, parents=(x,), local_grads=(2 * x,), op="square")


def test_forward_over_reverse_through_a_custom_op():
    assert jvp(grad(lambda x: custom_square(x) * x), [2.0], [1.0]) == (12.0, 12.0)
    # a jvp at a Value point recomputes every node by its rule: a custom op has none
    with pytest.raises(RuntimeError, match="custom op 'square'"):
        jvp(grad(lambda x: custom_square(x) * x), [Value(2.0)], [1.0])


def test_detect_anomaly_watches_the_tangents_of_forward_over_reverse():
    assert jvp(grad(autodiff.exp), [709.0], [10.0])[1] == math.inf
    with autodiff.detect_anomaly(), pytest.raises(FloatingPointError, match=r"'exp'.*tangent inf"):
        jvp(grad(autodiff.exp), [709.0], [10.0])


# --- vjp's pullback with Value cotangents: reverse over reverse --------------------------------


def test_vjp_pullback_of_value_cotangents_gives_values_in_their_graph():
    w = Value(0.5)
    _, pullback = vjp(lambda y: [y * y, y.sin()], 1.3)
    (product,) = pullback([w, 2.0])
    assert isinstance(product, Value)
    assert close(product.data, 0.5 * 2.6 + 2.0 * math.cos(1.3))
    assert close(gradients(product, [w])[0], 2.6)  # ∂(wᵀJ)/∂w_0 = ∂y_0/∂x


def test_reverse_over_reverse_through_vjp():
    # x ↦ w · 3x² (the pullback of x³) differentiated in w and in x
    assert close(grad(lambda w: vjp(lambda y: y**3, 1.3)[1](w)[0])(2.0), 3 * 1.69)
    assert close(grad(lambda x: vjp(lambda y: y**3, x)[1](Value(2.0))[0])(1.3), 6 * 1.3 * 2.0)
