"""Reverse mode agrees with forward mode at kinks, zeros and infinities: a zero local derivative,
like a zero adjoint or tangent, passes nothing on (0 · inf contributes 0, not nan)."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autodiff
from autodiff import Value

INF, NAN = math.inf, math.nan


def sqrt_of_relu(x):
    return autodiff.sqrt(autodiff.relu(x))


@pytest.mark.parametrize("x", [-1.0, -INF, 0.0])
def test_sqrt_of_relu_has_slope_0_where_relu_is_flat(x):
    # relu'(x) = 0 here, and sqrt'(0) = inf: the chain rule's 0 · inf is taken as 0.
    assert autodiff.grad(sqrt_of_relu)(x) == 0.0
    leaf = Value(x)
    sqrt_of_relu(leaf).backward()
    assert leaf.grad == 0.0
    assert autodiff.jvp(sqrt_of_relu, [x], [1.0])[1] == 0.0
    assert autodiff.trace(sqrt_of_relu(leaf), wrt=leaf).rows[-1].tangent == 0.0
    # With create_graph the zero is the rule's constant 0, so it is skipped there too.
    assert autodiff.grad(autodiff.grad(sqrt_of_relu))(x) == 0.0
    (slope,) = autodiff.gradients(sqrt_of_relu(leaf), [leaf], create_graph=True)
    assert slope.data == 0.0


def test_micrograds_backward_steps_skip_a_zero_local_derivative_too():
    x = Value(-1.0)
    y = sqrt_of_relu(x)
    y.grad = 1.0
    for node in reversed(autodiff.value.ancestors(y)):  # the lecture's loop over _backward()
        node._backward()
    assert x.grad == 0.0


def test_a_zero_local_derivative_stops_an_infinite_adjoint_in_every_pass():
    x = Value(-2.0, label="x")
    y = autodiff.relu(x) * 1e300
    z = y.sqrt() * 1e300  # sqrt'(0) = inf, so relu's node gets an infinite adjoint
    steps = list(autodiff.backward_steps(z))
    assert steps[-1].adjoints[x] == 0.0
    with autodiff.detect_anomaly(), pytest.raises(FloatingPointError, match="adjoint inf"):
        z.backward()  # the infinite adjoint itself is still an anomaly
    z.backward()
    assert x.grad == 0.0


def test_a_zero_local_derivative_stops_an_infinite_tangent_in_the_trace():
    # sqrt'(0) = inf makes the tangent of sqrt(x) - 1 infinite; relu is flat at -1, so its row's
    # tangent is 0, as forward mode's Dual gives, not 0 · inf = nan.
    def f(v):
        return autodiff.relu(autodiff.sqrt(v) - 1.0)

    x = Value(0.0)
    assert autodiff.jvp(f, [0.0], [1.0]) == (0.0, 0.0)
    assert autodiff.trace(f(x), wrt=x).rows[-1].tangent == 0.0


def test_a_local_derivative_given_as_a_value_is_kept_under_create_graph():
    # d/dy sqrt(x·y) at x = 0 has local derivative x = Value(0): its own derivative with respect
    # to x is not 0, so a second pass needs it; the first pass gives 0 · inf = nan there, as
    # PyTorch does. Without create_graph the local derivative is the number 0 and is skipped.
    x, y = Value(0.0), Value(1.0)
    out = (x * y).sqrt()
    assert autodiff.gradients(out, [y]) == [0.0]
    (slope,) = autodiff.gradients(out, [y], create_graph=True)
    assert math.isnan(slope.data)


@pytest.mark.parametrize("x", [5e-324, NAN, 0.0, -0.0, 1.0, -3.5, INF, -INF])
def test_slope_of_x_to_the_0_is_0_everywhere(x):
    assert autodiff.grad(lambda v: v**0)(x) == 0.0
    assert autodiff.jvp(lambda v: v**0, [x], [1.0]) == (1.0, 0.0)
    assert autodiff.grad(autodiff.grad(lambda v: v**0))(x) == 0.0


def test_a_value_exponent_of_0_keeps_its_mixed_second_derivative():
    # ∂/∂a a^b at b = 0 is 0, but its derivative with respect to b is 1/a.
    def f(a, b):
        return a**b

    assert autodiff.grad(f, argnums=0)(2.0, 0.0) == 0.0
    assert autodiff.hessian(f)(2.0, 0.0)[0][1] == pytest.approx(0.5, rel=1e-15)


# --- random programs: forward mode against reverse mode -------------------------------------

# Each value is used once (a tree over distinct leaves), so every leaf reaches the output along
# one path, and both modes multiply the same local derivatives. (Through two paths, forward mode
# may sum tangents to an exact 0 before meeting an infinity, sqrt(x - x), where reverse mode
# meets the infinity first: there the two modes differ, as in PyTorch.)
UNARY_STEPS = {
    "relu": autodiff.relu,
    "abs": abs,
    "sqrt_of_relu": sqrt_of_relu,
    "sqrt_of_abs": lambda a: autodiff.sqrt(abs(a)),
    "neg": lambda a: -a,
    "power_0": lambda a: a**0,
    "square": lambda a: a**2,
    "twice": lambda a: 2.0 * a,
    "tanh": autodiff.tanh,
    "sigmoid": autodiff.sigmoid,
    "exp": autodiff.exp,
    "sign": autodiff.sign,
}
BINARY_STEPS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "maximum": autodiff.maximum,
    "minimum": autodiff.minimum,
}
#: The steps whose zero local derivatives are constants of the rule (not Values under
#: create_graph), so a second-order pass skips them too.
CONSTANT_ZEROS = {
    *("relu", "abs", "sqrt_of_relu", "sqrt_of_abs", "neg", "power_0", "twice", "sign"),
    *("add", "maximum", "minimum"),
}
POINTS = [0.0, -0.0, 1.0, -1.0, 2.0, -2.0, 0.5, INF, -INF, NAN]

step = st.one_of(
    st.tuples(st.sampled_from(sorted(UNARY_STEPS)), st.integers(0, 99)),
    st.tuples(st.sampled_from(sorted(BINARY_STEPS)), st.integers(0, 99), st.integers(0, 99)),
)


def run(steps, xs):
    """Each step takes its operands out of the pool of unused values; the output sums the rest."""
    pool = list(xs)
    for name, *picks in steps:
        if len(pool) < len(picks):
            continue
        args = [pool.pop(k % len(pool)) for k in picks]
        pool.append((UNARY_STEPS.get(name) or BINARY_STEPS[name])(*args))
    return autodiff.sum(pool)


def same(a, b):
    return (math.isnan(a) and math.isnan(b)) or a == b or math.isclose(a, b, rel_tol=1e-12)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(step, min_size=1, max_size=8),
    st.lists(st.sampled_from(POINTS), min_size=1, max_size=5),
)
def test_forward_mode_agrees_with_reverse_mode_at_kinks_zeros_and_infinities(steps, xs):
    def f(*leaves):
        return run(steps, leaves)

    forward = autodiff.jacobian(f, mode="forward")(*xs)
    reverse = autodiff.jacobian(f)(*xs)
    leaves = [Value(x) for x in xs]
    f(*leaves).backward()
    for k, leaf in enumerate(leaves):
        assert same(forward[k], reverse[k]) and same(forward[k], leaf.grad), (k, steps, xs)
    if all(name in CONSTANT_ZEROS for name, *_ in steps):
        slopes = autodiff.gradients(f(*leaves), leaves, create_graph=True)
        for k, slope in enumerate(slopes):
            assert same(forward[k], slope.data), (k, steps, xs)
