"""Bad input gives a clear Python error naming what was wrong, never a silent wrong number."""

import math

import pytest

import autodiff
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
