"""no_grad, detach and detect_anomaly."""

import math

import pytest

import autodiff
from autodiff import Value


def test_no_grad_makes_plain_leaves():
    x = Value(2.0)
    with autodiff.no_grad():
        y = (x * 3 + 1).tanh()
        z = autodiff.dot([x], [x], 1.0)
    assert y.op == "" and y.parents == () and y.local_grads == ()
    assert y.data == pytest.approx(math.tanh(7.0))
    assert z.parents == () and z.data == 5.0
    y.backward()
    assert x.grad == 0.0


def test_no_grad_restores_recording_even_after_an_error():
    x = Value(2.0)
    with pytest.raises(ValueError), autodiff.no_grad():
        Value(-1.0).log()
    assert (x * x).parents == (x, x)


def test_no_grad_nests():
    x = Value(1.0)
    with autodiff.no_grad():
        with autodiff.no_grad():
            pass
        assert (x + 1).parents == ()
    assert (x + 1).parents == (x,)


def test_detach_is_a_leaf_with_same_data_and_label():
    x = Value(2.0, label="x")
    y = (x * x).detach()
    assert (y.data, y.parents, y.op) == (4.0, (), "")
    z = x * 2
    z.label = "z"
    assert z.detach().label == "z"
    (y * x).backward()
    assert x.grad == 4.0


def test_anomaly_in_forward_value_names_op_inputs_and_labels():
    x = Value(1000.0, label="big")
    with autodiff.detect_anomaly(), pytest.raises(FloatingPointError) as caught:
        x.exp()
    message = str(caught.value)
    assert "'exp'" in message and "1000.0" in message and "big" in message and "inf" in message


def test_anomaly_in_local_derivative():
    x = Value(0.0, label="x")
    with (
        autodiff.detect_anomaly(),
        pytest.raises(FloatingPointError, match=r"sqrt.*local derivative inf"),
    ):
        x.sqrt()


def test_anomaly_in_backward_adjoint():
    x = Value(1.0, label="x")
    with autodiff.detect_anomaly():
        y = x * 1e10
        with pytest.raises(FloatingPointError, match=r"adjoint inf.*'x'"):
            y.backward(1e300)


def test_backward_anomaly_names_the_sending_op_and_its_inputs():
    a = Value(1e200, label="a")
    w = Value(3.0, label="w")
    s = a * w  # finite: 3e200; its local derivative with respect to w is a = 1e200
    with autodiff.detect_anomaly(), pytest.raises(FloatingPointError) as caught:
        s.backward(1e200)  # the message to w is 1e200 · 1e200 = inf
    message = str(caught.value)
    assert "'*'" in message and "a=1e+200" in message and "w=3.0" in message
    assert "adjoint inf" in message and "'w'" in message
    with autodiff.detect_anomaly(), pytest.raises(FloatingPointError, match="seed nan"):
        s.backward(math.nan)


def test_a_backward_pass_that_fails_leaves_every_grad_as_it_was():
    # The pass keeps its adjoints in the nodes' grad slots; a failure halfway must not leave
    # partial sums behind, after a passing backward() or on top of earlier grads.
    a, w, b = Value(1e200, label="a"), Value(3.0, label="w"), Value(2.0, label="b")
    s = a * w + b
    s.backward()
    before = [a.grad, w.grad, b.grad, s.grad]
    assert before == [3.0, 1e200, 1.0, 1.0]
    with autodiff.detect_anomaly(), pytest.raises(FloatingPointError):
        s.backward(1e200)  # b gets 1e200 first, then w's message overflows
    assert [a.grad, w.grad, b.grad, s.grad] == before
    f = Value(4.0, parents=(w,), local_grads=(2.0,), op="twice")  # no Value derivatives
    with pytest.raises(RuntimeError, match="twice"):
        autodiff.gradients(f * f, [w], create_graph=True)
    assert [w.grad, f.grad] == [1e200, 0.0]


def test_anomaly_is_caught_under_no_grad_too():
    with autodiff.no_grad(), autodiff.detect_anomaly(), pytest.raises(FloatingPointError) as caught:
        Value(1000.0, label="w").exp()
    assert "'exp'" in str(caught.value) and "w=1000.0" in str(caught.value)


def test_anomaly_in_custom_primitive():
    x = Value(1.0)
    with autodiff.detect_anomaly(), pytest.raises(FloatingPointError, match="myop"):
        Value(1.0, parents=(x,), local_grads=(math.nan,), op="myop")
    # Under no_grad too, like a built-in op: checked as made, then kept as a plain leaf.
    with autodiff.no_grad(), autodiff.detect_anomaly():
        with pytest.raises(FloatingPointError, match="myop"):
            Value(1.0, parents=(x,), local_grads=(math.nan,), op="myop")
        assert Value(1.0, parents=(x,), local_grads=(2.0,), op="myop").parents == ()


def test_without_anomaly_mode_ieee_values_flow():
    x = Value(1000.0)
    y = x.exp()
    assert y.data == math.inf
    assert math.isnan((y - y).data)


def test_detect_anomaly_nests():
    with autodiff.detect_anomaly():
        with autodiff.detect_anomaly():
            pass
        with pytest.raises(FloatingPointError):  # still on after the inner block
            Value(1000.0).exp()
    assert Value(1000.0).exp().data == math.inf  # and off after the outer one


def test_custom_primitive_under_no_grad_is_a_plain_leaf():
    x = Value(0.3)
    with autodiff.no_grad():
        y = Value(math.erf(0.3), parents=(x,), local_grads=(1.0,), op="erf")
    assert (y.op, y.parents, y.local_grads) == ("", (), ())
    assert y.data == math.erf(0.3)
    (y * 2).backward()
    assert x.grad == 0.0
