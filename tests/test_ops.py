"""Every primitive in the rule table: its value against `math`, its local derivatives against
central finite differences, and the same rule seen through Value, Dual and the module functions."""

import itertools
import math

import pytest

import autodiff
from autodiff import Dual, Value, ops

# The reference value of each primitive, written straight from its definition with `math`.
REFERENCE = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "**": lambda a, b: math.pow(a, b),
    "neg": lambda x: -x,
    "pos": lambda x: x,
    "abs": lambda x: math.fabs(x),
    "exp": math.exp,
    "log": math.log,
    "sqrt": math.sqrt,
    "sin": math.sin,
    "cos": math.cos,
    "tanh": lambda x: (math.exp(x) - math.exp(-x)) / (math.exp(x) + math.exp(-x)),
    "sigmoid": lambda x: 1.0 / (1.0 + math.exp(-x)),
    "relu": lambda x: max(x, 0.0),
    "softplus": lambda x: math.log(1.0 + math.exp(x)),
    "tan": lambda x: math.sin(x) / math.cos(x),
    "sinh": lambda x: (math.exp(x) - math.exp(-x)) / 2.0,
    "cosh": lambda x: (math.exp(x) + math.exp(-x)) / 2.0,
    "asin": lambda x: math.atan2(x, math.sqrt(1.0 - x * x)),
    "acos": lambda x: math.atan2(math.sqrt(1.0 - x * x), x),
    "atan": lambda x: math.atan2(x, 1.0),
    "asinh": lambda x: math.copysign(math.log(abs(x) + math.sqrt(x * x + 1.0)), x),
    "acosh": lambda x: math.log(x + math.sqrt(x * x - 1.0)),
    "atanh": lambda x: 0.5 * math.log((1.0 + x) / (1.0 - x)),
    "log1p": lambda x: math.log(1.0 + x),
    "expm1": lambda x: math.exp(x) - 1.0,
    "log2": lambda x: math.log(x) / math.log(2.0),
    "log10": lambda x: math.log(x) / math.log(10.0),
    "erf": lambda x: 1.0 - math.erfc(x),
    "sign": lambda x: math.copysign(1.0, x) if x else 0.0,
    "%": lambda a, b: a - b * math.floor(a / b),
    "maximum": max,
    "minimum": min,
    "dot": lambda w1, w2, x1, x2, b: w1 * x1 + w2 * x2 + b,
    "sum": lambda *vs: math.fsum(vs),
}

# Points per primitive, away from kinks (relu, abs at 0) and poles (log, sqrt at 0, division by 0).
POINTS = {
    "+": [(1.5, -0.25), (-3.0, 7.0)],
    "-": [(1.5, -0.25), (-3.0, 7.0)],
    "*": [(1.5, -0.25), (-3.0, 7.0)],
    "/": [(1.5, -0.25), (-3.0, 7.0), (0.3, 2.5)],
    "**": [(1.7, 2.3), (2.0, 3.0), (0.5, -1.5), (3.0, 0.5)],
    "neg": [(0.7,), (-2.0,)],
    "pos": [(0.7,), (-2.0,)],
    "abs": [(0.7,), (-2.0,)],
    "exp": [(0.0,), (1.3,), (-4.0,)],
    "log": [(0.2,), (1.0,), (30.0,)],
    "sqrt": [(0.04,), (1.0,), (9.0,)],
    "sin": [(0.0,), (1.1,), (-2.5,)],
    "cos": [(0.0,), (1.1,), (-2.5,)],
    "tanh": [(0.0,), (0.8,), (-2.2,)],
    "sigmoid": [(0.0,), (2.0,), (-3.5,)],
    "relu": [(0.6,), (-0.6,), (4.0,)],
    "softplus": [(0.0,), (3.0,), (-2.0,)],
    "tan": [(0.0,), (0.7,), (-1.2,), (2.5,)],
    "sinh": [(0.0,), (1.3,), (-2.5,)],
    "cosh": [(0.4,), (1.3,), (-2.5,)],
    "asin": [(0.0,), (0.6,), (-0.9,)],
    "acos": [(0.0,), (0.6,), (-0.9,)],
    "atan": [(0.0,), (1.5,), (-4.0,)],
    "asinh": [(0.0,), (1.5,), (-4.0,)],
    "acosh": [(1.2,), (3.0,), (50.0,)],
    "atanh": [(0.0,), (0.5,), (-0.9,)],
    "log1p": [(-0.5,), (0.0,), (3.0,)],
    "expm1": [(0.0,), (0.7,), (-3.0,)],
    "log2": [(0.2,), (1.0,), (30.0,)],
    "log10": [(0.2,), (1.0,), (30.0,)],
    "erf": [(0.0,), (0.3,), (-1.1,), (2.0,)],
    "sign": [(0.7,), (-2.0,)],
    "%": [(7.5, 2.0), (-7.5, 2.0), (7.5, -2.0), (5.0, 3.2), (0.3, 0.7)],  # a / b not an integer
    "maximum": [(1.5, -0.25), (-3.0, 7.0)],
    "minimum": [(1.5, -0.25), (-3.0, 7.0)],
    "dot": [(0.5, -1.2, 2.0, 0.3, 0.1), (-2.0, 0.7, -0.4, 1.5, -3.0)],
    "sum": [(1.0, -2.0, 0.5), (0.1, 0.2)],
}

TABLE = sorted(ops.PRIMITIVES)
CASES = [(name, point) for name in TABLE for point in POINTS[name]]


def central_difference(function, args, k, h=1e-6):
    """∂function/∂args[k] by (8.25), with the step scaled to the size of the argument."""
    step = h * max(1.0, abs(args[k]))
    up = list(args)
    down = list(args)
    up[k] += step
    down[k] -= step
    return (function(*up) - function(*down)) / (2 * step)


def test_every_primitive_has_a_reference_and_points():
    assert set(REFERENCE) == set(ops.PRIMITIVES)
    assert set(POINTS) == set(ops.PRIMITIVES)


@pytest.mark.parametrize(("name", "point"), CASES)
def test_value_matches_math(name, point):
    prim = ops.PRIMITIVES[name]
    assert prim.value(*point) == pytest.approx(REFERENCE[name](*point), rel=1e-14, abs=1e-15)


@pytest.mark.parametrize(("name", "point"), CASES)
def test_local_grads_match_central_differences(name, point):
    prim = ops.PRIMITIVES[name]
    out = prim.value(*point)
    local_grads = prim.local_grads(*point, out)
    assert len(local_grads) == len(point)
    for k, local in enumerate(local_grads):
        numeric = central_difference(prim.value, point, k)
        # Central differences are accurate to O(h²) plus rounding ~ ε|f|/h ≈ 1e-10 |f| here.
        assert local == pytest.approx(numeric, rel=1e-6, abs=1e-8 * (1.0 + abs(out))), k


@pytest.mark.parametrize(("name", "point"), CASES)
def test_value_node_records_the_table_rule(name, point):
    prim = ops.PRIMITIVES[name]
    inputs = [Value(x) for x in point]
    node = Value._apply(prim, tuple(inputs))
    assert node.data == prim.value(*point)
    assert node.parents == tuple(inputs)
    assert node.local_grads == pytest.approx(prim.local_grads(*point, node.data))
    assert node.op == name


@pytest.mark.parametrize(("name", "point"), CASES)
def test_dual_tangent_is_the_local_derivative(name, point):
    prim = ops.PRIMITIVES[name]
    out = prim.value(*point)
    local_grads = prim.local_grads(*point, out)
    for k in range(len(point)):
        duals = [Dual(x, 1.0 if i == k else 0.0) for i, x in enumerate(point)]
        result = Dual._apply(prim, tuple(duals))
        assert result.primal == out
        assert result.tangent == pytest.approx(local_grads[k], rel=1e-15)


@pytest.mark.parametrize(("name", "point"), CASES)
def test_forward_mode_matches_reverse_mode(name, point):
    prim = ops.PRIMITIVES[name]
    inputs = [Value(x) for x in point]
    Value._apply(prim, tuple(inputs)).backward()
    for k, x in enumerate(inputs):
        duals = [Dual(x, 1.0 if i == k else 0.0) for i, x in enumerate(point)]
        assert Dual._apply(prim, tuple(duals)).tangent == pytest.approx(x.grad, rel=1e-15), k


@pytest.mark.parametrize(("name", "point"), CASES)
def test_second_derivatives_match_central_differences_of_the_first(name, point):
    # The rule's local_grads, run on Values (create_graph), differentiated once more.
    prim = ops.PRIMITIVES[name]
    inputs = [Value(x) for x in point]
    firsts = autodiff.gradients(Value._apply(prim, tuple(inputs)), inputs, create_graph=True)
    for k, first in enumerate(firsts):

        def slope(*args, k=k):
            return prim.local_grads(*args, prim.value(*args))[k]

        row = autodiff.gradients(first, inputs) if isinstance(first, Value) else [0.0] * len(point)
        for i, second in enumerate(row):
            numeric = central_difference(slope, point, i)
            assert second == pytest.approx(numeric, rel=1e-5, abs=1e-6 * (1.0 + abs(numeric))), (
                k,
                i,
            )


@pytest.mark.parametrize(("name", "point"), CASES)
def test_forward_over_reverse_gives_the_second_derivatives_of_reverse_over_reverse(name, point):
    # hvp runs the rule on Duals whose parts are Values; hessian runs it on Values twice.
    prim = ops.PRIMITIVES[name]

    def f(*xs):
        return Value._apply(prim, xs)

    hessian = autodiff.hessian(f)(*point)
    for k in range(len(point)):
        direction = [1.0 if i == k else 0.0 for i in range(len(point))]
        column = autodiff.hvp(f, list(point), direction)
        assert column == pytest.approx([row[k] for row in hessian], rel=1e-12, abs=1e-12), k


@pytest.mark.parametrize("prim", ops.FUNCTIONS, ids=lambda prim: prim.name)
def test_function_is_method_and_module_function(prim):
    x = POINTS[prim.name][-1][0]
    function = getattr(autodiff, prim.name)
    assert function(x) == prim.value(x)
    assert isinstance(function(x), float)
    node = function(Value(x))
    assert isinstance(node, Value)
    assert node.data == prim.value(x)
    assert getattr(Value(x), prim.name)().data == prim.value(x)
    dual = function(Dual(x, 1.0))
    assert isinstance(dual, Dual)
    assert dual.tangent == prim.local_grads(x, prim.value(x))[0]
    assert function.__doc__ == prim.doc
    assert prim.doc and "d/dx" in prim.doc


def test_operators_are_the_table_entries():
    a, b = Value(1.5), Value(-0.5)
    cases = {
        "+": a + b,
        "-": a - b,
        "*": a * b,
        "/": a / b,
        "**": Value(2.0) ** a,
        "neg": -a,
        "pos": +a,
        "abs": abs(b),
    }
    for name, node in cases.items():
        assert node.op == name
        assert node._rule is ops.PRIMITIVES[name]


def test_pow_gradients_at_special_points():
    # d/dy x**y at x = 0 is 0 (PyTorch's convention); d/dx of x**0 is 0.
    x, y = Value(0.0), Value(2.0)
    (x**y).backward()
    assert (x.grad, y.grad) == (0.0, 0.0)
    base = Value(3.0)
    (base**0).backward()
    assert base.grad == 0.0
    # A negative base with an integer exponent is fine; its slope in the base is y x^(y-1).
    neg = Value(-2.0)
    (neg**3).backward()
    assert neg.grad == 12.0


def test_pow_at_a_zero_exponent_keeps_its_second_derivatives():
    # ∂/∂x x^y = y x^(y-1) is 0 at y = 0, but its slope in y, x^(y-1)(1 + y ln x), is 1/x.
    h = autodiff.hessian(lambda x, y: x**y)(2.0, 0.0)
    assert h == [[0.0, 0.5], [0.5, pytest.approx(math.log(2.0) ** 2, rel=1e-15)]]
    assert autodiff.grad(lambda y: autodiff.grad(lambda x: x**y)(2.0))(0.0) == 0.5


def test_pow_of_a_negative_base_has_nan_slopes_in_the_exponent_to_second_order():
    # a^b is not a real function of b for a < 0: first and second derivatives in b are nan,
    # not the 0 of a constant.
    def f(x, y):
        return x**y

    assert math.isnan(autodiff.grad(f, argnums=1)(-2.0, 0.0))
    by_reverse = autodiff.hessian(f)(-2.0, 0.0)
    assert math.isnan(by_reverse[1][1])
    # ∂/∂x passes the nan of ∂f/∂y through ∂(x^y)/∂x = 0 at y = 0, which passes nothing on, in
    # reverse mode as in forward mode.
    by_forward = autodiff.jacobian(autodiff.jacobian(f, mode="forward"), mode="forward")(-2.0, 0.0)
    assert by_reverse[1][0] == by_forward[1][0] == 0.0


def test_kink_conventions_follow_pytorch():
    for function in (Value.relu, abs):
        x = Value(0.0)
        function(x).backward()
        assert x.grad == 0.0


def test_sqrt_slope_at_zero_is_infinite_not_an_error():
    x = Value(0.0)
    y = x.sqrt()
    assert y.data == 0.0
    assert y.local_grads == (math.inf,)


@pytest.mark.parametrize("name", ["exp", "sigmoid", "softplus", "tanh"])
@pytest.mark.parametrize("x", [-1e308, -1000.0, -710.0, 710.0, 1000.0, 1e308])
def test_no_overflow_error_for_finite_inputs(name, x):
    prim = ops.PRIMITIVES[name]
    out = prim.value(x)
    grads = prim.local_grads(x, out)
    node = getattr(Value(x), name)()
    node.backward()
    assert not math.isnan(out)
    assert not math.isnan(grads[0])


def test_stable_forms_keep_their_precision():
    assert autodiff.sigmoid(-745.0) > 0.0  # exp(-745) is the last subnormal; 1/(1+e^745) is 0
    assert autodiff.sigmoid(40.0) == 1.0
    assert autodiff.softplus(1000.0) == 1000.0
    assert autodiff.softplus(-1000.0) == 0.0
    assert autodiff.softplus(-30.0) == pytest.approx(math.exp(-30.0), rel=1e-12)
    assert autodiff.exp(1000.0) == math.inf


def test_pow_overflows_to_infinity_like_ieee():
    assert (Value(1e200) ** 2).data == math.inf
    assert (Value(-1e200) ** 3).data == -math.inf
    assert (2.0 ** Value(5000.0)).data == math.inf


def test_relu_of_nan_is_nan():
    assert math.isnan(autodiff.relu(math.nan))


def test_zero_base_with_a_non_negative_exponent_is_defined():
    # Only a negative base with a fractional exponent is refused: 0^0.5 = 0 (slope inf), 0^0 = 1.
    x = Value(0.0)
    root = x**0.5
    assert root.data == 0.0 and root.local_grads == (math.inf,)
    assert (x**0).data == 1.0
    assert (0.0 ** Value(0.0)).data == 1.0


def test_pow_slope_in_the_exponent_is_nan_for_a_negative_base():
    base, exponent = Value(-2.0), Value(3.0)
    (base**exponent).backward()
    assert base.grad == 12.0  # 3 (-2)²
    assert math.isnan(exponent.grad)  # (-2)^y is not a real function of y around 3


def test_special_points_hold_when_derivatives_are_built_as_values():
    # With create_graph the rules see Values, not floats; the branches at 0 must not change.
    x, y, z = Value(0.0), Value(2.0), Value(0.0)
    dx, dy = autodiff.gradients(x**y, [x, y], create_graph=True)
    assert (dx.data, dy.data) == (0.0, 0.0)
    dx, dz = autodiff.gradients(x**z, [x, z], create_graph=True)
    assert (dx.data, dz.data) == (0.0, 0.0)
    (slope,) = autodiff.gradients(x.sqrt(), [x], create_graph=True)
    assert slope.data == math.inf


def test_sum_of_many_terms_is_exactly_rounded():
    terms = [1e16, 1.0, -1e16]  # left to right in floats this gives 0.0
    assert autodiff.sum(terms) == 1.0
    assert autodiff.sum([Value(t) for t in terms]).data == 1.0


@pytest.mark.parametrize(
    ("terms", "expected"),
    [
        ([math.inf, -math.inf, 1.0], math.nan),  # fsum raises ValueError here
        ([1e308, 1e308, 0.0], math.inf),  # and OverflowError here
        ([-1e308, -1e308, 1.0, 2.0], -math.inf),
        ([1.7e308, 1.7e308, -1.7e308], 1.7e308),  # a partial sum overflows, the sum does not
        ([1.7e308, 1.7e308, -1.7e308, -1.7e308, 5e-324], 5e-324),  # exactly, in any order
        ([5e-324, 1.7e308, 1.7e308, -1.7e308, -1.7e308], 5e-324),
        ([1.7e308, 1.7e308, 1.7e308], math.inf),  # the sum itself is beyond the largest float
        ([1.7e308, 1.7e308, math.inf, -math.inf], math.nan),  # overflow first, then inf - inf
        ([1.7e308, 1.7e308, -math.inf], -math.inf),
    ],
)
def test_sum_of_many_terms_where_fsum_refuses(terms, expected):
    leaves = [Value(t) for t in terms]
    total = autodiff.sum(leaves)
    assert math.isnan(total.data) if math.isnan(expected) else total.data == expected
    total.backward()
    assert [leaf.grad for leaf in leaves] == [1.0] * len(terms)
    if not math.isfinite(expected):
        with autodiff.detect_anomaly(), pytest.raises(FloatingPointError, match="'sum'"):
            autodiff.sum(leaves)


# Reflected and unary operators of Dual against closed forms: (primal, tangent) at t = 0.5, ṫ = 1.
DUAL_OPERATORS = [
    ("number - dual", lambda t: 2.0 - t, 1.5, -1.0),
    ("number / dual", lambda t: 2.0 / t, 4.0, -8.0),
    ("number ** dual", lambda t: 2.0**t, math.sqrt(2.0), math.sqrt(2.0) * math.log(2.0)),
    ("number * dual", lambda t: 3.0 * t, 1.5, 3.0),
    ("number + dual", lambda t: 3.0 + t, 3.5, 1.0),
    ("+dual", lambda t: +t, 0.5, 1.0),
    ("-dual", lambda t: -t, -0.5, -1.0),
    ("abs(dual)", lambda t: abs(t), 0.5, 1.0),
    ("abs(-dual)", lambda t: abs(-t), 0.5, 1.0),
]


@pytest.mark.parametrize(
    ("name", "f", "primal", "tangent"), DUAL_OPERATORS, ids=[c[0] for c in DUAL_OPERATORS]
)
def test_dual_operators_match_closed_forms_and_reverse_mode(name, f, primal, tangent):
    result = f(Dual(0.5, 1.0))
    assert isinstance(result, Dual)
    assert result.primal == pytest.approx(primal, rel=1e-15)
    assert result.tangent == pytest.approx(tangent, rel=1e-15)
    x = Value(0.5)
    f(x).backward()
    assert x.grad == pytest.approx(tangent, rel=1e-15)


def test_dual_without_a_tangent_is_a_constant():
    assert Dual(3.0).tangent == 0.0
    product = Dual(2.0, 1.0) * Dual(3.0)
    assert (product.primal, product.tangent) == (6.0, 3.0)


def test_dual_comparisons_use_the_primal_not_the_tangent():
    a, b = Dual(1.0, 5.0), Dual(1.5, -3.0)
    assert a < b and a <= b and b > a and b >= a
    assert a < 2.0 and not a > 2.0 and Dual(2.0, -9.0) >= 2.0
    assert a != Dual(1.0, 5.0)  # == stays identity-based


def test_dual_zero_tangent_passes_nothing_through_an_infinite_slope():
    # sqrt'(0) = inf; a zero tangent times it must stay 0 (not nan), as in reverse mode.
    x, y = Dual(0.0, 0.0), Dual(2.0, 1.0)
    result = x.sqrt() + y
    assert (result.primal, result.tangent) == (2.0, 1.0)


def test_a_zero_local_derivative_passes_nothing_on_from_an_infinite_tangent():
    # f(x, z) = sqrt(x) z at (0, 0): f(t, 0) = 0 for every t >= 0, so ∂f/∂x = 0. Forward mode
    # meets 0 · inf (the slope of sqrt, times z = 0) and must give reverse mode's 0, not nan.
    def f(x, z):
        return x.sqrt() * z

    assert autodiff.jacobian(f)(0.0, 0.0) == [0.0, 0.0]
    assert autodiff.jacobian(f, mode="forward")(0.0, 0.0) == [0.0, 0.0]
    result = f(Dual(0.0, 1.0), Dual(0.0, 0.0))
    assert (result.primal, result.tangent) == (0.0, 0.0)


# --- the functions added beside Python's math: domains, kinks, ties, x % y --------------------


@pytest.mark.parametrize(
    ("name", "x"),
    [
        ("asin", 1.5),
        ("asin", -1.0000000000000002),
        ("acos", -2.0),
        ("acosh", 0.5),
        ("atanh", 1.0),
        ("atanh", -1.0),
        ("log1p", -1.0),
        ("log1p", -3.0),
        ("log2", 0.0),
        ("log10", -3.0),
    ],
)
def test_domain_errors_name_the_op_and_the_value(name, x):
    function = getattr(autodiff, name)
    for argument in (x, Value(x), Dual(x, 1.0)):
        with pytest.raises(ValueError, match=rf"^{name}: .*{x!r}$"):
            function(argument)


def test_modulo_by_zero_names_both_operands():
    for left, right in ((Value(3.5), 0), (3.5, Value(0.0)), (Dual(3.5, 1.0), 0.0)):
        with pytest.raises(ZeroDivisionError, match=r"modulo by zero: 3\.5 % 0\.0"):
            left % right


@pytest.mark.parametrize(
    ("name", "x", "slope"),
    [
        ("asin", 1.0, math.inf),
        ("asin", -1.0, math.inf),
        ("acos", 1.0, -math.inf),
        ("acosh", 1.0, math.inf),
    ],
)
def test_slopes_at_the_ends_of_a_domain_are_infinite_not_errors(name, x, slope):
    node = getattr(Value(x), name)()
    assert node.data == getattr(math, name)(x)
    assert node.local_grads == (slope,)


@pytest.mark.parametrize("x", [-1e308, -1000.0, -711.0, 711.0, 1000.0, 1e308])
@pytest.mark.parametrize("name", ["sinh", "cosh", "expm1"])
def test_hyperbolic_functions_overflow_to_infinity_like_exp(name, x):
    signed_inf = math.copysign(math.inf, x)
    expected = {
        "sinh": (signed_inf, math.inf),  # (value, slope cosh x)
        "cosh": (math.inf, signed_inf),  # (value, slope sinh x)
        "expm1": (math.inf, math.inf) if x > 0 else (-1.0, math.exp(x)),  # slope e^x
    }[name]
    node = getattr(Value(x), name)()
    node.backward()
    assert (node.data, *node.local_grads) == expected


def test_tan_of_an_infinity_is_nan_as_ieee_says():
    assert math.isnan(autodiff.tan(math.inf))
    assert math.isnan(Value(-math.inf).tan().data)


def test_sign_is_flat_everywhere_including_zero():
    for x, expected in ((2.5, 1.0), (-0.1, -1.0), (0.0, 0.0)):
        node = Value(x)
        out = node.sign()
        out.backward()
        assert (out.data, node.grad) == (expected, 0.0)
    assert math.isnan(autodiff.sign(math.nan))
    assert autodiff.grad(lambda x: autodiff.sign(x) * x)(0.0) == 0.0  # sign'(0) = 0, sign(0) = 0


@pytest.mark.parametrize("function", [autodiff.maximum, autodiff.minimum])
def test_a_tie_splits_the_adjoint_equally(function):
    a, b = Value(2.0), Value(2.0)
    out = function(a, b)
    out.backward()
    assert (out.data, a.grad, b.grad) == (2.0, 0.5, 0.5)
    x = Value(2.0)
    function(x, x).backward()  # both halves reach x
    assert x.grad == 1.0
    y = Value(0.0)
    function(y, 0.0).backward()  # a tie with a constant: the constant takes its half
    assert y.grad == 0.5
    assert autodiff.jacobian(function, mode="forward")(2.0, 2.0) == [0.5, 0.5]


def test_maximum_and_minimum_pass_the_adjoint_to_the_chosen_input():
    a, b = Value(3.0), Value(-1.0)
    high, low = autodiff.maximum(a, b), autodiff.minimum(a, b)
    (2.0 * high + 5.0 * low).backward()
    assert (high.data, low.data, a.grad, b.grad) == (3.0, -1.0, 2.0, 5.0)
    assert math.isnan(autodiff.maximum(math.nan, 1.0))
    assert math.isnan(autodiff.minimum(1.0, math.nan))


def test_maximum_and_minimum_take_numbers_values_and_duals():
    assert autodiff.maximum(1, 2.5) == 2.5 and isinstance(autodiff.maximum(3, 2), float)
    node = autodiff.maximum(Value(1.0), 0)
    assert isinstance(node, Value) and node.data == 1.0 and node.op == "maximum(·, 0)"
    dual = autodiff.minimum(0.5, Dual(0.2, 1.0))
    assert (dual.primal, dual.tangent) == (0.2, 1.0)
    mixed = autodiff.maximum(Value(3.0), Dual(2.0, 1.0))
    assert isinstance(mixed, Dual) and (mixed.primal.data, mixed.tangent) == (3.0, 0.0)
    for bad in ("a", None):
        with pytest.raises(TypeError, match="maximum"):
            autodiff.maximum(1.0, bad)
        with pytest.raises(TypeError, match="maximum"):
            autodiff.maximum(Value(1.0), bad)
        with pytest.raises(TypeError, match="maximum"):
            autodiff.maximum(bad, Dual(1.0))
    assert autodiff.maximum.__doc__ == ops.MAXIMUM.doc
    with pytest.raises(ValueError, match=r"maximum\(\) argument b does not fit in a float"):
        autodiff.maximum(1.0, 10**400)


@pytest.mark.parametrize(
    ("a", "b"), [(7.5, 2.0), (-7.5, 2.0), (7.5, -2.0), (-7.5, -2.0), (-5.0, math.inf)]
)
def test_modulo_follows_python_floats(a, b):
    x, y = Value(a), Value(b)
    out = x % y
    out.backward()
    assert out.data == a % b
    assert (x.grad, y.grad) == (1.0, -(a // b))
    assert (Value(a) % b).data == (a % Value(b)).data == a % b
    assert (Value(a) % b).op == f"% {b!r}".replace(".0", "")
    dual = Dual(a, 1.0) % Dual(b, 1.0)
    assert (dual.primal, dual.tangent) == (a % b, 1.0 - (a // b))


@pytest.mark.parametrize("prim", [*ops.FUNCTIONS, *ops.BINARY], ids=lambda prim: prim.name)
def test_no_finite_input_raises_overflow_error(prim):
    # Outside its domain a function raises ValueError (tested above); nowhere OverflowError.
    extremes = [-1e308, -1000.0, -1.0, -5e-324, 0.5, 1000.0, 1e308]
    arity = 1 if prim in ops.FUNCTIONS else 2
    for point in itertools.product(extremes, repeat=arity):
        inputs = [Value(x) for x in point]
        try:
            Value._apply(prim, tuple(inputs)).backward()
            Dual._apply(prim, (Dual(point[0], 1.0), *point[1:]))
        except (ValueError, ZeroDivisionError):
            continue
