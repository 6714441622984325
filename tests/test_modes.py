"""no_grad, detach and detect_anomaly, and that each holds for one thread or asyncio task."""

import asyncio
import math
import threading

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


@pytest.mark.parametrize(
    "mode", ["reverse-over-reverse", "forward-over-reverse", "reverse-over-forward"]
)
def test_detach_is_a_constant_in_forward_mode_too(mode):
    def f(x, y):
        return x * y * x.detach().exp()  # ∂f/∂x = y e^x0 with the detached x0 held fixed

    assert autodiff.jvp(f, [0.0, 2.0], [1.0, 0.0]) == (0.0, 2.0)
    assert autodiff.jacobian(f, mode="forward")(0.0, 2.0) == [2.0, 0.0]
    assert autodiff.hvp(f, [0.0, 2.0], [1.0, 0.0], mode=mode) == [0.0, 1.0]


def test_detach_inside_a_nested_jvp_is_a_constant_of_the_outer_pass_too():
    # f(x) = d/dy [c·y] with c = (x·y).detach() = 2x held fixed: f(x) = c. The detached c drops
    # the outer pass's tangent as well, so df/dx = 0.
    def f(x):
        return autodiff.jvp(lambda y: (x * y).detach() * y, [2.0], [1.0])[1]

    assert autodiff.jvp(f, [3.0], [1.0]) == (6.0, 0.0)


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


# --- modes belong to the thread and the asyncio task that entered them ----------------------

TIMEOUT = 10  # seconds; a thread that waits longer has lost its partner


def run_in_threads(*jobs):
    """Run each job in a thread of its own; re-raise the first exception any of them raised."""
    errors = []

    def guarded(job):
        try:
            job()
        except BaseException as error:  # handed to the test's thread below
            errors.append(error)

    threads = [threading.Thread(target=guarded, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
        assert not thread.is_alive(), "a thread did not finish"
    if errors:
        raise errors[0]


def square_slope_at_3():
    x = Value(3.0)
    (x * x).backward()
    return x.grad


def test_no_grad_in_one_thread_leaves_another_threads_graph_alone():
    entered, trained = threading.Event(), threading.Event()
    seen = {}

    def inference():
        with autodiff.no_grad():
            entered.set()
            assert trained.wait(TIMEOUT)
            seen["inside"] = (Value(2.0) * 3).parents

    def training():
        assert entered.wait(TIMEOUT)
        seen["grad"] = square_slope_at_3()
        trained.set()

    run_in_threads(inference, training)
    assert seen == {"grad": 6.0, "inside": ()}


def test_threads_leaving_no_grad_in_crossed_order_leave_recording_on():
    both_inside = threading.Barrier(2, timeout=TIMEOUT)
    first_left = threading.Event()
    after = {}

    def first():
        with autodiff.no_grad():
            both_inside.wait()
        first_left.set()
        after["first"] = square_slope_at_3()

    def second():
        with autodiff.no_grad():
            both_inside.wait()
            assert first_left.wait(TIMEOUT)  # leaves after the thread that entered first
        after["second"] = square_slope_at_3()

    run_in_threads(first, second)
    assert after == {"first": 6.0, "second": 6.0}
    assert square_slope_at_3() == 6.0


def test_detect_anomaly_in_one_thread_does_not_raise_in_another():
    entered, done = threading.Event(), threading.Event()
    seen = {}

    def watching():
        with autodiff.detect_anomaly():
            entered.set()
            assert done.wait(TIMEOUT)
            with pytest.raises(FloatingPointError):
                Value(1000.0).exp()

    def computing():
        assert entered.wait(TIMEOUT)
        seen["exp"] = Value(1000.0).exp().data
        done.set()

    run_in_threads(watching, computing)
    assert seen == {"exp": math.inf}


def test_a_transform_running_in_one_thread_does_not_nest_another_threads_transform():
    inside_f, done = threading.Event(), threading.Event()
    seen = {}

    def waits_inside_grad():
        def f(x):
            inside_f.set()
            assert done.wait(TIMEOUT)
            seen["inner"] = autodiff.grad(lambda y: y * y)(3.0)  # nested here: a Value
            return x * x

        seen["outer"] = autodiff.grad(f)(2.0)

    def plain_grad():
        assert inside_f.wait(TIMEOUT)
        seen["other"] = autodiff.grad(lambda x: x * x)(3.0)
        done.set()

    run_in_threads(waits_inside_grad, plain_grad)
    assert type(seen["other"]) is float and seen["other"] == 6.0
    assert isinstance(seen["inner"], Value) and seen["inner"].data == 6.0
    assert seen["outer"] == 4.0


def test_a_new_thread_starts_with_the_defaults():
    seen = {}

    def job():
        seen["grad"] = square_slope_at_3()
        seen["exp"] = Value(1000.0).exp().data

    with autodiff.no_grad(), autodiff.detect_anomaly():
        run_in_threads(job)
    assert seen == {"grad": 6.0, "exp": math.inf}


def test_an_asyncio_task_awaiting_inside_no_grad_leaves_other_tasks_alone():
    async def inference(entered, trained):
        with autodiff.no_grad():
            entered.set()
            await trained.wait()  # the other task runs here, in the middle of the block
            return (Value(2.0) * 3).parents

    async def training(entered, trained):
        await entered.wait()
        x = Value(3.0)
        y = x * x
        await asyncio.sleep(0)
        y.backward()
        trained.set()
        return x.grad

    async def main():
        entered, trained = asyncio.Event(), asyncio.Event()
        return await asyncio.gather(inference(entered, trained), training(entered, trained))

    assert asyncio.run(main()) == [(), 6.0]
    assert square_slope_at_3() == 6.0


def test_an_asyncio_task_inherits_the_modes_of_the_code_that_created_it():
    async def records():
        return (Value(2.0) * 3).parents != ()

    async def main():
        with autodiff.no_grad():
            inside = asyncio.create_task(records())
        outside = asyncio.create_task(records())
        return await inside, await outside

    assert asyncio.run(main()) == (False, True)
