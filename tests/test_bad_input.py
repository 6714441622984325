"""Bad input gives a clear Python error naming what was wrong, never a silent wrong number."""

import copy
import math
import re
from fractions import Fraction

import numpy as np
import pytest

import autodiff
import nn
import nn.curvature
import nn.textbook
from autodiff import Dual, Value


@pytest.mark.parametrize("data", ["1.0", 1j, None, [1.0], (1.0,), Value(1.0), Dual(1.0)])
def test_non_real_data_is_a_type_error_naming_the_type(data):
    with pytest.raises(TypeError, match=type(data).__name__):
        Value(data)


def test_accepted_data_kinds():
    assert Value(True).data == 1.0
    assert Value(3).data == 3.0
    assert math.isnan(Value(math.nan).data)
    assert Value(-math.inf).data == -math.inf


def test_label_must_be_text():
    with pytest.raises(TypeError, match="int"):
        Value(1.0, label=3)


@pytest.mark.parametrize("operand", ["a", None, [1.0], 1j])
def test_operator_with_a_non_number_is_a_type_error(operand):
    x = Value(1.0)
    for operation in (
        lambda: x + operand,
        lambda: operand * x,
        lambda: x**operand,
        lambda: x < operand,
    ):
        with pytest.raises(TypeError):
            operation()


@pytest.mark.parametrize("bad", [0.0, -1.0, -math.inf])
def test_log_outside_domain(bad):
    with pytest.raises(ValueError, match=r"log.*" + repr(bad).replace("-", r"\-")):
        Value(bad).log()
    with pytest.raises(ValueError, match="log"):
        autodiff.log(bad)


def test_sqrt_of_negative():
    with pytest.raises(ValueError, match=r"sqrt.*-4\.0"):
        Value(-4.0).sqrt()
    with pytest.raises(ValueError, match="sqrt"):
        autodiff.sqrt(Dual(-1.0))


def test_negative_base_with_fractional_exponent():
    with pytest.raises(ValueError, match=r"pow.*-8\.0.*0\.5"):
        Value(-8.0) ** 0.5
    with pytest.raises(ValueError, match="pow"):
        (-8.0) ** Value(1 / 3)


@pytest.mark.parametrize(
    "divide",
    [
        lambda: Value(1.0) / 0,
        lambda: Value(1.0) / Value(0.0),
        lambda: 1 / Value(0.0),
        lambda: Value(0.0) ** -1,
        lambda: Dual(1.0) / 0.0,
    ],
)
def test_division_by_zero(divide):
    with pytest.raises(ZeroDivisionError):
        divide()


@pytest.mark.parametrize(
    ("parents", "local_grads", "error"),
    [
        ((Value(1.0),), (), "1 parents but 0 local_grads"),
        ((Value(1.0),), (1.0, 2.0), "1 parents but 2 local_grads"),
        (None, (1.0,), "0 parents but 1 local_grads"),
    ],
)
def test_custom_primitive_with_a_wrong_count_is_a_value_error(parents, local_grads, error):
    with pytest.raises(ValueError, match=error):
        Value(0.5, parents=parents, local_grads=local_grads, op="erf")


@pytest.mark.parametrize(
    ("parents", "local_grads", "error"),
    [
        ((1.0,), (1.0,), "parents must be Values"),
        ((Value(1.0),), ("x",), "local_grads must be numbers or Values"),
        (Value(1.0), (1.0,), r"parents must be a tuple, not Value; .* parents=\(item,\)"),
        ((Value(1.0),), 1.0, "local_grads must be a tuple, not float"),
        ((Value(1.0),), "1", "local_grads must be a tuple, not str"),
    ],
)
def test_custom_primitive_with_a_wrong_type_is_a_type_error(parents, local_grads, error):
    with pytest.raises(TypeError, match=error):
        Value(0.5, parents=parents, local_grads=local_grads, op="erf")


def test_custom_primitive_backward():
    x = Value(0.3)
    erf = Value(
        math.erf(x.data),
        parents=(x,),
        local_grads=(2 / math.sqrt(math.pi) * math.exp(-(x.data**2)),),
        op="erf",
    )
    assert erf.op == "erf"
    (erf * 2).backward()
    assert x.grad == pytest.approx(4 / math.sqrt(math.pi) * math.exp(-0.09), rel=1e-15)


def test_backward_seed_must_be_a_number():
    with pytest.raises(TypeError, match="str"):
        Value(1.0).backward("1")


def test_module_function_rejects_other_types():
    with pytest.raises(TypeError, match="str"):
        autodiff.exp("1")


def test_dual_parts_must_be_numbers_or_values():
    with pytest.raises(
        TypeError, match=r"primal must be a real number, a Value or a Dual .*, not str"
    ):
        Dual("1.0")
    with pytest.raises(TypeError, match=r"tangent must be a real number, a Value .*, not list"):
        Dual(1.0, [1.0])


def test_dot_length_mismatch():
    with pytest.raises(ValueError, match="2 weights but 1 inputs"):
        autodiff.dot([1.0, 2.0], [Value(1.0)])


def test_attribute_typos_raise():
    with pytest.raises(AttributeError):
        Value(1.0).gard  # noqa: B018
    with pytest.raises(AttributeError):
        Value(1.0).gard = 2.0


def test_custom_primitive_names():
    x = Value(1.0)
    assert Value(2.0, parents=(x,), local_grads=(1.0,)).op == "custom"
    with pytest.raises(TypeError, match="op must be a str"):
        Value(2.0, parents=(x,), local_grads=(1.0,), op=3)


# --- numbers too large for a float ------------------------------------------------------------

HUGE_NUMBERS = [10**400, -(10**400), Fraction(10**400, 3)]
HUGE_NAMES = ["10**400", "-10**400", "Fraction(10**400, 3)"]


def too_large(name):
    """pytest.raises for a number beyond a float: a ValueError naming the argument."""
    return pytest.raises(ValueError, match=re.escape(name) + ".* does not fit in a float")


@pytest.mark.parametrize("huge", HUGE_NUMBERS, ids=HUGE_NAMES)
def test_a_number_beyond_a_float_is_a_value_error_naming_it_in_the_engine(huge):
    x = Value(2.0)
    with too_large("Value data"):
        Value(huge)
    with too_large("+: constant operand"):
        x + huge
    with too_large("**: constant operand"):
        x**huge
    with too_large("backward grad"):
        (x * x).backward(huge)
    with too_large("custom op 'erf': local_grads[0]"):
        Value(0.5, parents=(x,), local_grads=(huge,), op="erf")
    with too_large("dot: constant operand"):
        autodiff.dot([x, huge], [1.0, x])
    with too_large("sum: operand"):
        autodiff.sum([1.0, huge])
    with too_large("exp() argument"):
        autodiff.exp(huge)
    with too_large("maximum() argument b"):
        autodiff.maximum(1.0, huge)
    with too_large("%: constant operand"):
        x % huge
    with too_large("Dual primal"):
        Dual(huge)
    with too_large("op '*': constant operand"):
        autodiff.jvp(lambda v: v * huge, [1.0], [1.0])
    with too_large("trace(wrt=...) seed"):
        autodiff.trace(x * x, wrt={x: huge})


@pytest.mark.parametrize("huge", HUGE_NUMBERS, ids=HUGE_NAMES)
def test_a_number_beyond_a_float_is_a_value_error_naming_it_in_the_transforms(huge):
    def square(v):
        return v * v

    with too_large("argument 0"):
        autodiff.grad(square)(huge)
    with too_large("jvp: tangents[0]"):
        autodiff.jvp(square, [1.0], [huge])
    with too_large("hvp: v[0]"):
        autodiff.hvp(square, [1.0], [huge])
    with too_large("vjp_fn: cotangents[0]"):
        autodiff.vjp(lambda a, b: [a, b], 1.0, 2.0)[1]([huge, 1.0])
    with too_large("the output of f"):
        autodiff.grad(lambda v: huge)(1.0)
    with too_large("xs[0]"):
        autodiff.numerical_grad(square, [huge])
    with too_large("the output of f"):
        autodiff.numerical_grad(lambda v: huge, [1.0])
    for name in ("eps", "atol", "rtol"):
        with too_large(name):
            autodiff.gradcheck(square, [1.0], **{name: huge})


@pytest.mark.parametrize("huge", HUGE_NUMBERS, ids=HUGE_NAMES)
def test_a_number_beyond_a_float_is_a_value_error_naming_it_in_nn(huge):
    model = nn.MLP(2, [1], seed=0)
    with too_large("x[1]"):
        model([1.0, huge])
    with too_large("sse: target"):
        nn.sse(model([1.0, 2.0]), huge)
    with too_large("lr"):
        nn.SGD(model.parameters(), lr=huge)
    with too_large("eps"):
        nn.Adam(model.parameters(), eps=huge)
    with too_large("noise"):
        nn.datasets.make_moons(10, noise=huge)
    with too_large("t[0]"):
        nn.textbook.backprop(model, [1.0, 2.0], huge)
    with too_large("parameter 2"):
        model.load_state_dict({**model.state_dict(), "parameters": [0.0, 0.0, huge]})


@pytest.mark.parametrize("huge", HUGE_NUMBERS, ids=HUGE_NAMES)
def test_a_number_beyond_a_float_is_a_value_error_naming_it_in_a_program(huge):
    program = autodiff.record(lambda v: v * v, 1.0)
    with too_large("input 1"):
        program(huge)
    with too_large("record: the output of f"):
        autodiff.record(lambda v: [v, huge], 1.0)
    with too_large("record: a number compared with"):
        autodiff.record(lambda v: v if v < huge else -v, 1.0)
    points, classes = [[0.0, 1.0], [1.0, 0.0]], [0.0, 1.0]
    for inputs, targets, name in (
        ([[0.0, huge], [1.0, 0.0]], classes, "input 0[1]"),
        (points, [0.0, huge], "target 1"),
    ):
        model = nn.MLP(2, [1], seed=0)
        with too_large(name):
            nn.train(
                model, inputs, targets, loss=nn.sse, optimizer=nn.SGD(model.parameters(), lr=0.1),
                epochs=1, progress=False, compiled=True,
            )  # fmt: skip


WIDE = np.longdouble("1e4000") if np.finfo(np.longdouble).max > 1e308 else None


@pytest.mark.skipif(WIDE is None, reason="numpy's longdouble is a double on this platform")
def test_a_finite_long_double_beyond_a_float_is_not_made_infinite():
    # float() of a numpy long double gives inf silently, where an int or Fraction raises.
    with too_large("Value data"):
        Value(WIDE)
    with too_large("exp() argument"):
        autodiff.exp(-WIDE)
    assert Value(np.longdouble("inf")).data == math.inf  # an infinity stays one
    assert math.isnan(Value(np.longdouble("nan")).data)
    program = autodiff.record(lambda v: v * v, 1.0)
    with too_large("input 1"):
        program(np.array([1.0, WIDE], dtype=np.longdouble))  # over a batch too
    assert program(np.array([2.0, "inf"], dtype=np.longdouble))[1] == math.inf


@pytest.mark.parametrize(
    ("inputs", "targets", "error", "message"),
    [
        ([[0.0, None], [1.0, 0.0]], [0.0, 1.0], TypeError, r"input 0\[1\] must be a number"),
        ([[0.0, 1.0], [1.0, 0.0]], [None, 1.0], TypeError, "target 0 must be a number"),
        ([[0.0, "1"], [1.0, 0.0]], [0.0, 1.0], TypeError, "not str"),
        ([[0.0, 1.0], [1.0]], [0.0, 1.0], ValueError, "input 1 has 1 numbers, input 0 has 2"),
        ([[0.0, Value(1.0)], [1.0, 0.0]], [0.0, 1.0], TypeError, "not Value"),
    ],
)
def test_compiled_training_checks_every_input_and_target(inputs, targets, error, message):
    # np.array(..., dtype=float) would make None a silent nan and name no data point.
    model = nn.MLP(2, [1], seed=0)
    with pytest.raises(error, match=message):
        nn.train(
            model, inputs, targets, loss=nn.sse, optimizer=nn.SGD(model.parameters(), lr=0.1),
            epochs=1, progress=False, compiled=True,
        )  # fmt: skip


# --- counts are checked before anything is allocated -----------------------------------------


@pytest.mark.parametrize("size", [10**400, 10**8])
def test_a_network_too_large_to_hold_fails_at_once(size):
    with pytest.raises(ValueError, match="positive int up to 10,000,000"):
        nn.MLP(2, [size])
    with pytest.raises(ValueError, match="nin must be a positive int up to"):
        nn.Layer(size, 1)
    with pytest.raises(ValueError, match="n must be an int >= 2 up to"):
        nn.datasets.make_moons(size)


def test_a_network_of_too_many_parameters_fails_before_making_one():
    with pytest.raises(ValueError, match=r"100,050,001 parameters, more than 10,000,000"):
        nn.MLP(2, [10_000, 10_000, 1])


@pytest.mark.parametrize("size", [np.int64(3), np.int32(3), np.uint8(3)])
def test_numpy_ints_are_counts(size):
    assert nn.MLP(size, [size, 1], seed=0).nouts == [3, 1]
    assert autodiff.grad(lambda a, b: a * b, argnums=np.int64(1))(2.0, 3.0) == 2.0
    assert autodiff.grad(lambda a, b: a * b, argnums=(np.int64(0),))(2.0, 3.0) == (3.0,)
    assert len(str(autodiff.trace(Value(1.0) * 2, max_rows=size)).splitlines()) == 4


@pytest.mark.parametrize(("bad", "error"), [(0, ValueError), (2.5, TypeError), ("9", TypeError)])
def test_max_rows_is_a_positive_int_or_none(bad, error):
    with pytest.raises(error, match="max_rows must be"):
        autodiff.trace(Value(1.0) * 2, max_rows=bad)


def test_a_trace_too_long_to_show_shows_its_ends_and_says_how_many_rows_are_hidden():
    x = Value(0.5, label="x")
    y = x
    for _ in range(1000):
        y = y * 1.0
    table = autodiff.trace(y)  # 1001 rows, more than the default 500
    assert len(table.rows) == 1001
    text = str(table).splitlines()
    assert len(text) == 2 + 500 + 1  # caption, header, 500 rows and the line about the rest
    assert text[2].startswith("v1 (x)") and text[-1].startswith("v1001")
    assert "501 rows not shown" in text[2 + 250]
    page = table._repr_html_()
    assert page.count("<tr>") == 1 + 500 + 1 and "501 rows not shown" in page
    assert "501 rows not shown" in table.to_latex() and len(page) < 100_000
    everything = autodiff.trace(y, max_rows=None)
    assert len(str(everything).splitlines()) == 2 + 1001 and "not shown" not in str(everything)


# --- sin and cos of infinities, as IEEE -------------------------------------------------------


@pytest.mark.parametrize("x", [math.inf, -math.inf])
@pytest.mark.parametrize("name", ["sin", "cos"])
def test_sin_and_cos_of_an_infinity_are_nan(name, x):
    function = getattr(autodiff, name)
    assert math.isnan(function(x))
    node = function(Value(x))
    assert math.isnan(node.data) and math.isnan(node.local_grads[0])
    assert math.isnan(autodiff.jvp(function, [x], [1.0])[1])


# --- one rule for error types ----------------------------------------------------------------


def test_gradcheck_takes_raise_on_fail_as_a_bool():
    with pytest.raises(TypeError, match="raise_on_fail must be True or False"):
        autodiff.gradcheck(lambda v: v * v, [1.0], raise_on_fail="yes")
    with pytest.raises(TypeError, match="atol must be a real number"):
        autodiff.gradcheck(lambda v: v * v, [1.0], atol="0.1")


@pytest.mark.parametrize("seed", [1.5, "0", [0]])
def test_a_seed_is_an_int_or_none(seed):
    with pytest.raises(TypeError, match="seed must be an int or None"):
        nn.datasets.make_moons(10, seed=seed)
    with pytest.raises(TypeError, match="seed must be an int or None"):
        nn.MLP(2, [1], seed=seed)


@pytest.mark.parametrize(
    ("noise", "error"),
    [
        (np.array([0.1, 0.2]), TypeError),
        (Value(0.1), TypeError),
        (True, TypeError),
        ("0.1", TypeError),
        (math.inf, ValueError),
        (-0.1, ValueError),
        (math.nan, ValueError),
    ],
)
def test_make_moons_noise_is_a_finite_real_at_least_0(noise, error):
    with pytest.raises(error, match="noise must be"):
        nn.datasets.make_moons(10, noise=noise)


def test_make_moons_returns_python_floats_whatever_number_types_it_is_given():
    inputs, labels = nn.datasets.make_moons(np.int64(10), noise=np.float32(0.1), seed=np.int64(1))
    assert all(type(x) is float for point in inputs for x in point)
    assert all(type(label) is int for label in labels)
    assert (inputs, labels) == nn.datasets.make_moons(10, noise=float(np.float32(0.1)), seed=1)


# --- an optimiser step and a state load are all or nothing ------------------------------------


@pytest.mark.parametrize("eps", [0.0, -1e-8])
def test_adam_refuses_an_eps_that_could_divide_0_by_0(eps):
    with pytest.raises(ValueError, match="eps must be a finite number > 0"):
        nn.Adam([Value(1.0)], eps=eps)


@pytest.mark.parametrize(
    "make", [lambda ps: nn.SGD(ps, lr=0.1, momentum=0.9), lambda ps: nn.Adam(ps, lr=0.1)]
)
def test_a_step_that_fails_changes_no_parameter_and_no_state(make):
    a, b = Value(1.0), Value(2.0)
    optimizer = make([a, b])
    a.grad, b.grad = 0.5, 0.25
    optimizer.step()
    state = copy.deepcopy({k: v for k, v in vars(optimizer).items() if k != "params"})
    before = (a.data, b.data)
    a.grad, b.grad = 0.5, Value(1.0)  # the second grad is not a number
    with pytest.raises(TypeError, match="parameter 1 has a grad of type Value"):
        optimizer.step()
    assert (a.data, b.data) == before
    assert {k: v for k, v in vars(optimizer).items() if k != "params"} == state


def test_load_state_dict_checks_every_value_before_writing_any():
    model = nn.MLP(2, [1], seed=0)
    before = model.state_dict()
    for bad, error in (("x", TypeError), (10**400, ValueError)):
        with pytest.raises(error, match="parameter 2"):
            model.load_state_dict({**before, "parameters": [5.0, 5.0, bad]})
        assert model.state_dict() == before


# --- labels: bidirectional overrides are escaped like control characters ----------------------


@pytest.mark.parametrize("code", [*range(0x202A, 0x202F), *range(0x2066, 0x206A)])
def test_bidi_overrides_in_labels_are_escaped_in_text_html_and_latex(code):
    char = chr(code)
    x = Value(1.0, label=f"safe{char}evil")
    table = autodiff.trace(x * 2)
    escaped = f"\\u{code:04x}"
    for shown in (str(table), table._repr_html_()):
        assert char not in shown and f"safe{escaped}evil" in shown
    latex = table.to_latex()
    assert char not in latex and f"safe\\textbackslash{{}}u{code:04x}evil" in latex
    assert char not in autodiff.draw_dot(x * 2).source


def test_nn_containers_of_the_wrong_type_are_type_errors_and_of_the_wrong_size_value_errors():
    model = nn.MLP(1, [1], seed=0)
    with pytest.raises(TypeError, match="betas must be a pair"):
        nn.Adam(model.parameters(), betas=0.9)
    with pytest.raises(ValueError, match="betas must be a pair"):
        nn.Adam(model.parameters(), betas=(0.9, 0.99, 0.999))
    state = model.state_dict()
    with pytest.raises(TypeError, match="state parameters must be a list"):
        model.load_state_dict({**state, "parameters": 1.0})
    with pytest.raises(ValueError, match="state has 1 parameters, this model has 2"):
        model.load_state_dict({**state, "parameters": [1.0]})
    with pytest.raises(TypeError, match="inputs must be a list or tuple"):
        nn.curvature.exact_hessian(model, 1.0, [1.0])
    with pytest.raises(TypeError, match="targets must be a list or tuple"):
        nn.curvature.exact_hessian(model, [[1.0]], 1.0)
