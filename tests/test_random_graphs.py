"""Hypothesis builds random expression graphs, shared subexpressions included; every input's
adjoint must agree with central differences of the same program run on plain floats."""

import math

from hypothesis import given, settings
from hypothesis import strategies as st

import autodiff
from autodiff import Value

# Each step reads earlier results by index (so results are reused: shared subexpressions) and
# runs the same code on floats and on Values. The composite steps keep every domain safe.
UNARY_STEPS = {
    "tanh": autodiff.tanh,
    "sin": autodiff.sin,
    "cos": autodiff.cos,
    "sigmoid": autodiff.sigmoid,
    "softplus": autodiff.softplus,
    "exp_of_sin": lambda a: autodiff.exp(autodiff.sin(a)),
    "log_1_plus_square": lambda a: autodiff.log(1 + a * a),
    "sqrt_1_plus_square": lambda a: autodiff.sqrt(a * a + 1),
    "neg": lambda a: -a,
    "square": lambda a: a**2,
    "scale": lambda a: 0.5 * a - 1,
    "atan": autodiff.atan,
    "asinh": autodiff.asinh,
    "erf": autodiff.erf,
    "sinh_cosh_of_sin": lambda a: autodiff.sinh(autodiff.sin(a)) - autodiff.cosh(autodiff.cos(a)),
    "tan_of_sigmoid": lambda a: autodiff.tan(autodiff.sigmoid(a)),
    "inverses_of_half_tanh": lambda a: (
        autodiff.asin(0.5 * autodiff.tanh(a)) * autodiff.acos(0.5 * autodiff.tanh(a))
        + autodiff.atanh(0.5 * autodiff.tanh(a))
    ),
    "logs_of_1_plus_square": lambda a: (
        autodiff.log1p(a * a) + autodiff.log2(1 + a * a) - autodiff.log10(2 + a * a)
    ),
    "acosh_expm1": lambda a: autodiff.acosh(2 + a * a) + autodiff.expm1(autodiff.sin(a)),
}
BINARY_STEPS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div_safe": lambda a, b: a / (1 + b * b),
    "pow_positive": lambda a, b: (1 + a * a) ** autodiff.sin(b),
    "dot": lambda a, b: autodiff.dot([a, b], [b, 0.5], a),
    "sum": lambda a, b: autodiff.sum([a, b, a]),
}

step = st.one_of(
    st.tuples(st.sampled_from(sorted(UNARY_STEPS)), st.integers(0, 10**6)),
    st.tuples(st.sampled_from(sorted(BINARY_STEPS)), st.integers(0, 10**6), st.integers(0, 10**6)),
)
program = st.lists(step, min_size=1, max_size=25)
inputs = st.lists(st.floats(-2.0, 2.0), min_size=1, max_size=4)


def run(steps, xs):
    """Run the program on `xs` (floats or Values); the result sums the last three values."""
    values = list(xs)
    for name, *operands in steps:
        args = [values[k % len(values)] for k in operands]
        function = UNARY_STEPS.get(name) or BINARY_STEPS[name]
        values.append(function(*args))
    return autodiff.sum(values[-3:]) if len(values) >= 3 else values[-1] * 1.0


@settings(max_examples=150, deadline=None)
@given(program, inputs)
def test_adjoints_match_central_differences(steps, xs):
    leaves = [Value(x) for x in xs]
    output = run(steps, leaves)
    output.backward()
    scale = max(1.0, abs(output.data))
    for k, leaf in enumerate(leaves):
        # Richardson's extrapolation of central differences: the h² error terms of steps h and
        # h/2 cancel, leaving O(h⁴). Plain central differences are not enough for the steepest
        # programs: a chain of cosines reached a third derivative near 3e11, an h² error of 0.06
        # at h = 1e-6 against a tolerance of 0.05.
        h = 1e-6
        coarse, fine = (central_difference(steps, xs, k, step) for step in (h, h / 2))
        numeric = (4 * fine - coarse) / 3
        # Rounding, a few times 1e-16·|f|/h, is far below 1e-5 of the scale.
        assert math.isclose(leaf.grad, numeric, rel_tol=1e-5, abs_tol=1e-5 * scale), (k, steps)


def central_difference(steps, xs, k, h):
    up, down = list(xs), list(xs)
    up[k] += h
    down[k] -= h
    return (run(steps, up) - run(steps, down)) / (2 * h)


@settings(max_examples=100, deadline=None)
@given(program, inputs)
def test_forward_mode_agrees_with_reverse_mode(steps, xs):
    leaves = [Value(x) for x in xs]
    run(steps, leaves).backward()
    for k, leaf in enumerate(leaves):
        duals = [autodiff.Dual(x, 1.0 if i == k else 0.0) for i, x in enumerate(xs)]
        tangent = run(steps, duals).tangent
        assert math.isclose(tangent, leaf.grad, rel_tol=1e-12, abs_tol=1e-12), (k, steps)


@settings(max_examples=60, deadline=None)
@given(program, inputs)
def test_forward_over_forward_hessian_agrees_with_reverse_over_reverse(steps, xs):
    def f(*x):
        return run(steps, list(x))

    # Forward mode inside forward mode: each pass tags its own tangents, so they never mix.
    by_forward = autodiff.jacobian(autodiff.jacobian(f, mode="forward"), mode="forward")(*xs)
    by_reverse = autodiff.hessian(f)(*xs)
    scale = max(1.0, *(abs(h) for row in by_reverse for h in row))
    for row_f, row_r in zip(by_forward, by_reverse, strict=True):
        for a, b in zip(row_f, row_r, strict=True):
            assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9 * scale), steps
