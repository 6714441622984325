"""autodiff.record and Program: the printed sweeps, replay on floats and on numpy batches, guards,
training through it, and PyTorch (skipped when torch is not installed)."""

import math
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_ops import POINTS
from test_random_graphs import inputs, run
from test_random_graphs import program as programs

import autodiff
import nn
from autodiff import Value, ops
from autodiff.program import GuardError, Row, record
from autodiff.value import _apply


def bishop(x1, x2):
    """Bishop's (8.49): f = x1 x2 + exp(x1 x2) - sin(x2), one node per row of (8.50)-(8.56)."""
    v3 = x1 * x2
    return v3 + autodiff.exp(v3) - autodiff.sin(x2)


def apply(prim, *args):
    """prim(*args) as one node, whatever the primitive (the table is walked generically)."""
    return _apply(prim, args)


def same(a, b):
    """Equal floats, nan equal to nan (the replay must give exactly the graph's numbers)."""
    return a == b or (math.isnan(a) and math.isnan(b))


def graph_value_and_grad(f, *xs, parameters=()):
    """f's value and gradient by a graph; `parameters` (Values f uses itself) take the first xs."""
    for parameter, x in zip(parameters, xs):
        parameter.data, parameter.grad = x, 0.0
    leaves = [*parameters, *(Value(x) for x in xs[len(parameters) :])]
    out = f(*leaves)
    out.backward()
    return out.data, tuple(leaf.grad for leaf in leaves)


def valid(prim, point):
    try:
        prim.value(*point)
    except (ValueError, ZeroDivisionError):
        return False
    return True


# Each primitive at its test points, and at the kinks where the rules choose a side.
KINKS = {
    "relu": [(0.0,)],
    "abs": [(0.0,)],
    "sqrt": [(0.0,)],
    "**": [(0.0, 0.5), (0.0, 0.0)],
    "asin": [(1.0,), (-1.0,)],
    "acos": [(1.0,)],
    "acosh": [(1.0,)],
    "sign": [(0.0,)],
    "maximum": [(1.5, 1.5)],
    "minimum": [(-2.0, -2.0)],
    "%": [(-5.5, 2.0), (5.5, -2.0)],
}
CASES = [
    (name, point)
    for name in sorted(ops.PRIMITIVES)
    for point in POINTS[name] + KINKS.get(name, [])
    if valid(ops.PRIMITIVES[name], point)
]


# --- record --------------------------------------------------------------------------------------


def test_record_keeps_bishops_rows():
    program = record(bishop, 1.5, 0.5)
    assert program.input_labels == ["x1", "x2"]
    assert program.rows == [
        Row(ops.MUL, (1, 2)),
        Row(ops.EXP, (3,)),
        Row(ops.ADD, (3, 4)),
        Row(ops.SIN, (2,)),
        Row(ops.SUB, (5, 6)),
    ]
    assert program.outputs == [7] and program.names == [f"v{k}" for k in range(1, 8)]


def test_record_folds_constants_and_leaves_made_inside():
    program = record(lambda x: (x + 2) * Value(3.0), 1.0)
    assert program.rows == [Row(ops.ADD, (1, 2.0)), Row(ops.MUL, (2, 3.0))]
    assert program(4.0) == 18.0


def test_record_refuses_custom_ops_captured_values_and_bad_arguments():
    def custom(x):
        return Value(math.erf(x.data), parents=(x,), local_grads=(1.0,), op="erf")

    with pytest.raises(ValueError, match="custom op 'erf' cannot be replayed"):
        record(custom, 0.5)
    w = Value(2.0, "w")
    with pytest.raises(ValueError, match=r"Value 'w'.*not given as an argument"):
        record(lambda x: x * w, 1.0)
    assert record(lambda x, w: x * w, 1.0, w)(3.0, 2.0) == 6.0  # as an argument it is an input
    with pytest.raises(ValueError, match="node made by op"):
        record(lambda x: x, w * 2)
    with pytest.raises(TypeError, match="argument 1 must be a number"):
        record(lambda x: x, "1")
    with pytest.raises(TypeError, match="must return Values or numbers"):
        record(lambda x: "y", 1.0)
    with pytest.raises(ValueError, match="twice"):
        record(lambda a, b: a * b, w, w)


# --- printing ------------------------------------------------------------------------------------


def test_source_prints_bishops_sweeps_and_runs():
    text = record(bishop, 1.5, 0.5).source()
    for line in (
        "v3 = v1 * v2",
        "v4 = exp(v3)",
        "v6 = sin(v2)",
        "v7 = v5 - v6",
        "v7_bar = 1.0",
        "v6_bar -= v7_bar  # v̄6 -= v̄7",
        "v3_bar += v4_bar * v4",
        "v2_bar += v6_bar * cos(v2)",
        "v1_bar += v3_bar * v2",
    ):
        assert line in text, line
    namespace = {}
    exec(text, namespace)
    assert namespace["bishop_value_and_grad"](1.5, 0.5) == graph_value_and_grad(bishop, 1.5, 0.5)


def test_source_with_tangents_is_forward_mode():
    program = record(bishop, 1.5, 0.5)
    text = program.source(tangent=True)
    assert "v3_dot = v1_dot * v2 + v2_dot * v1  # v̇3 = v̇1 * v2 + v̇2 * v1" in text
    namespace = {}
    exec(text, namespace)
    value, tangent, grads = namespace["bishop_jvp_value_and_grad"](1.5, 0.5, 1.0, 0.0)
    expected_value, expected_tangent = autodiff.jvp(bishop, (1.5, 0.5), (1.0, 0.0))
    assert (value, tangent) == (expected_value, pytest.approx(expected_tangent, rel=1e-15))
    assert grads == graph_value_and_grad(bishop, 1.5, 0.5)[1]


@pytest.mark.parametrize(("name", "point"), CASES)
def test_source_of_every_primitive_gives_the_graphs_numbers(name, point):
    prim = ops.PRIMITIVES[name]
    program = record(lambda *xs: apply(prim, *xs), *point)
    namespace = {}
    exec(program.source(), namespace)
    value, grads = namespace["f_value_and_grad"](*point)
    expected_value, expected_grads = graph_value_and_grad(lambda *xs: apply(prim, *xs), *point)
    assert same(value, expected_value)
    assert all(map(same, grads, expected_grads)), (grads, expected_grads)


@pytest.mark.parametrize(("name", "point"), CASES)
def test_tangent_sweep_of_every_primitive_is_forward_mode(name, point):
    prim = ops.PRIMITIVES[name]
    program = record(lambda *xs: apply(prim, *xs), *point)
    namespace = {}
    exec(program.source(tangent=True, adjoint=False), namespace)
    directions = [1.0 + k for k in range(len(point))]
    value, tangent = namespace["f_jvp"](*point, *directions)
    expected_value, expected_tangent = autodiff.jvp(
        lambda *xs: apply(prim, *xs), list(point), directions
    )
    assert same(value, expected_value)
    assert tangent == pytest.approx(expected_tangent, rel=1e-15, nan_ok=True)


def test_local_derivatives_come_from_the_rule_table():
    # A formula where the rule has one (tanh: 1 - out²), a call of the rule where it branches.
    text = record(lambda x: autodiff.relu(autodiff.tanh(x)), 0.5).source()
    assert "v2_bar += v3_bar * v3_grads[0]" in text and "v3_grads = relu_grads(v2, v3)" in text
    assert "v1_bar += v2_bar * (1.0 - v2 * v2)" in text
    assert "relu_grads = RELU.local_grads" in text


# --- replay on floats ----------------------------------------------------------------------------


def mlp_point(model):
    def loss(*args):
        *_, x1, x2, t = args
        return autodiff.relu(1 + -t * model([x1, x2]))

    return loss


def test_replay_on_floats_equals_the_graph_and_makes_no_value():
    model = nn.MLP(2, [4, 4, 1], seed=1)
    f = mlp_point(model)
    program = record(f, *model.parameters(), 0.3, -0.2, 1.0)
    values = [p.data for p in model.parameters()]
    before = Value(0.0).serial
    value, grads = program.value_and_grad(*values, 0.1, 0.4, -1.0)
    output = program(*values, 0.1, 0.4, -1.0)
    assert Value(0.0).serial == before + 1  # no node was made in between
    expected = graph_value_and_grad(f, *values, 0.1, 0.4, -1.0, parameters=model.parameters())
    assert (value, grads) == expected
    assert output == value


@settings(max_examples=60, deadline=None)
@given(programs, inputs, st.data())
def test_random_graphs_replay_exactly_as_built(steps, xs, data):
    """Recorded at xs, replayed at other inputs: the graph's numbers there, bit for bit."""

    def f(*values):
        return run(steps, values)

    program = record(f, *xs)
    others = data.draw(st.lists(st.floats(-2.0, 2.0), min_size=len(xs), max_size=len(xs)))
    value, grads = program.value_and_grad(*others)
    expected_value, expected_grads = graph_value_and_grad(f, *others)
    assert same(value, expected_value)
    assert all(map(same, grads, expected_grads))
    columns = [np.array(pair) for pair in zip(xs, others)]
    values, per_example = program.value_and_grad(*columns, reduce="none")
    assert values[1] == pytest.approx(value, rel=1e-13, abs=1e-13, nan_ok=True)
    for g, e in zip(per_example, grads):
        assert g[1] == pytest.approx(e, rel=1e-12, abs=1e-12, nan_ok=True)


def test_a_recorded_gradient_replays_second_derivatives():
    slope = autodiff.grad(lambda y: y * autodiff.sin(y))  # run on a Value, it builds a graph
    program = record(slope, 1.0)
    value, (curvature,) = program.value_and_grad(2.0)
    assert (value, curvature) == autodiff.value_and_grad(slope)(2.0)
    assert curvature == pytest.approx(2 * math.cos(2.0) - 2.0 * math.sin(2.0), rel=1e-14)


def test_zero_adjoint_passes_nothing_on_as_in_backward():
    # sqrt at 0 has an infinite slope; the zero adjoint through 0 * sqrt(x) must not make nan.
    program = record(lambda x: 0.0 * autodiff.sqrt(x), 0.0)
    assert (
        program.value_and_grad(0.0)
        == (0.0, (0.0,))
        == graph_value_and_grad(lambda x: 0.0 * autodiff.sqrt(x), 0.0)
    )


@pytest.mark.parametrize(
    ("f", "x"),
    [
        (lambda x: autodiff.sqrt(autodiff.relu(x)), -1.0),  # relu' = 0 behind sqrt' = inf
        (lambda x: autodiff.sqrt(abs(x)) * autodiff.sign(x), 0.0),  # sign' = 0, a constant
        (lambda x: autodiff.sqrt(autodiff.maximum(x, 0.0)), -2.0),
    ],
)
def test_a_zero_local_derivative_passes_nothing_on_as_in_backward(f, x):
    # The adjoint reaching the zero slope is infinite: 0 · inf would be nan.
    program = record(f, x)
    assert program.value_and_grad(x) == graph_value_and_grad(f, x)
    _, (per_example,) = program.value_and_grad(np.array([x, 4.0]), reduce="none")
    assert per_example[0] == graph_value_and_grad(f, x)[1][0]


def test_several_outputs_give_the_gradient_of_the_first():
    program = record(lambda x, y: [x * y, x + y], 2.0, 3.0)
    assert program(2.0, 3.0) == (6.0, 5.0)
    assert program.value_and_grad(2.0, 3.0) == ((6.0, 5.0), (3.0, 2.0))
    assert record(lambda x: [x * 2.0], 1.0)(3.0) == (6.0,)  # a list of one stays a sequence


def test_replay_refuses_bad_inputs():
    program = record(bishop, 1.5, 0.5)
    with pytest.raises(TypeError, match="takes 2 inputs, got 1"):
        program(1.0)
    with pytest.raises(TypeError, match="not Values"):
        program(Value(1.0), 2.0)
    with pytest.raises(TypeError, match="must be a number or a numpy array"):
        program("1", 2.0)
    with pytest.raises(ValueError, match="shape"):
        program(np.zeros((2, 2)), 1.0)
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        program(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="reduce"):
        program.value_and_grad(1.0, 2.0, reduce="mean")


# --- guards --------------------------------------------------------------------------------------


def branchy(x, y):
    if x * y > 1:  # a comparison of Values: a guard
        return autodiff.exp(x)
    return autodiff.sin(y)


def test_a_branch_is_a_guard_naming_the_comparison_and_the_code():
    program = record(branchy, 2.0, 3.0)
    assert len(program.guards) == 1
    assert program(1.0, 2.0) == math.exp(1.0)
    with pytest.raises(GuardError, match=r"v3 > 1.0 \(branchy at test_program.py:\d+\) was True"):
        program(0.5, 0.5)
    with pytest.raises(GuardError, match="for example 1"):
        program(np.array([2.0, 0.1, 3.0]), 3.0)
    other = record(branchy, 0.5, 0.5)  # recorded on the other branch: its own program
    assert other.value_and_grad(0.1, 0.2) == graph_value_and_grad(branchy, 0.1, 0.2)
    assert "guard(v3 > 1.0, True," in program.source()


def test_kinks_are_rules_not_guards():
    program = record(lambda x: autodiff.relu(x) + abs(x), 1.0)
    assert program.guards == []
    assert program.value_and_grad(-2.0) == graph_value_and_grad(
        lambda x: autodiff.relu(x) + abs(x), -2.0
    )


# --- replay over a batch -------------------------------------------------------------------------


def test_batch_replay_equals_each_example_and_sums_the_shared_gradients():
    model = nn.MLP(2, [5, 3, 1], seed=2)
    f = mlp_point(model)
    program = record(f, *model.parameters(), 0.3, -0.2, 1.0)
    values = [p.data for p in model.parameters()]
    rng = np.random.default_rng(0)
    x1, x2 = rng.normal(size=7), rng.normal(size=7)
    t = np.where(rng.normal(size=7) > 0, 1.0, -1.0)
    losses, grads = program.value_and_grad(*values, x1, x2, t)
    _, per_example = program.value_and_grad(*values, x1, x2, t, reduce="none")
    sums = [0.0] * len(values)
    for b in range(7):
        example = (*values, x1[b], x2[b], t[b])
        value, expected = graph_value_and_grad(f, *example, parameters=model.parameters())
        assert losses[b] == pytest.approx(value, rel=1e-13, abs=1e-15)
        for k, g in enumerate(expected):
            assert per_example[k][b] == pytest.approx(g, rel=1e-12, abs=1e-15)
        sums = [s + g for s, g in zip(sums, expected)]
    assert all(type(g) is float for g in grads[: len(values)])
    assert grads[: len(values)] == pytest.approx(sums, rel=1e-12, abs=1e-15)
    assert grads[len(values)].shape == (7,)  # an array input's gradient is per example


def test_a_zero_adjoint_passes_nothing_on_over_a_batch_too():
    program = record(lambda x, y: y * autodiff.sqrt(x), 1.0, 1.0)
    x, y = np.array([0.0, 4.0]), np.array([0.0, 2.0])
    _, (dx, dy) = program.value_and_grad(x, y)
    assert list(dx) == [0.0, 0.5] and list(dy) == [0.0, 2.0]  # the graph's: 0 at x = 0, not nan
    assert program.value_and_grad(0.0, 0.0) == graph_value_and_grad(
        lambda x, y: y * autodiff.sqrt(x), 0.0, 0.0
    )
    _, (total,) = record(lambda x: 0.0 * autodiff.sqrt(x), 1.0).value_and_grad(np.zeros(2))
    assert list(total) == [0.0, 0.0]


def test_batch_constants_and_outputs_that_do_not_vary():
    program = record(lambda w, x: [w * x + 1.0, w * 2.0], 1.0, 1.0)
    (y, z), (dw, dx) = program.value_and_grad(3.0, np.array([1.0, 2.0]))
    assert list(y) == [4.0, 7.0] and z == 6.0
    assert dw == 3.0 and list(dx) == [3.0, 3.0]


@pytest.mark.parametrize(("name", "point"), CASES)
def test_array_rules_match_the_float_rules(name, point):
    """Every primitive over a batch of its test points equals the float replay of each one."""
    prim = ops.PRIMITIVES[name]
    points = [p for n, p in CASES if n == name and len(p) == len(point)]
    program = record(lambda *xs: apply(prim, *xs), *point)
    columns = [np.array(column) for column in zip(*points)]
    values, grads = program.value_and_grad(*columns, reduce="none")
    for b, example in enumerate(points):
        value, expected = program.value_and_grad(*example)
        assert values[b] == pytest.approx(value, rel=1e-15, abs=1e-300, nan_ok=True)
        for g, e in zip(grads, expected):
            assert g[b] == pytest.approx(e, rel=1e-15, abs=1e-300, nan_ok=True), (name, example)


def test_a_primitive_without_an_array_rule_is_refused_over_a_batch(monkeypatch):
    cube = ops.Primitive("cube", "cube({0})", lambda x: math.pow(x, 3), lambda x, out: (3 * x * x,))
    monkeypatch.setitem(ops.PRIMITIVES, "cube", cube)
    program = record(lambda x: apply(cube, x), 2.0)
    assert program.value_and_grad(2.0) == (8.0, (12.0,))  # on floats: the rule itself
    assert "cube = PRIMITIVES['cube'].value" in program.source()
    assert "v1_bar += v2_bar * (3 * v1 * v1)" in program.source()  # the rule's formula
    with pytest.raises(TypeError, match="'cube' has no numpy version of its value"):
        program(np.array([1.0, 2.0]))


def test_batch_domain_errors_name_the_op():
    with pytest.raises(ValueError, match=r"log: argument must be positive, got -1\.0"):
        record(autodiff.log, 1.0)(np.array([1.0, -1.0]))
    with pytest.raises(ZeroDivisionError, match="division by zero"):
        record(lambda a, b: a / b, 1.0, 1.0)(np.array([1.0, 2.0]), np.array([1.0, 0.0]))
    with pytest.raises(ValueError, match="negative base"):
        record(lambda a, b: a**b, 1.0, 1.0)(np.array([-2.0]), 0.5)


def test_numpy_is_imported_only_for_arrays():
    code = (
        "import sys, autodiff\n"
        "p = autodiff.record(lambda x: autodiff.tanh(x) * x, 0.5)\n"
        "p(0.3); p.value_and_grad(0.3); p.source()\n"
        "assert 'numpy' not in sys.modules, 'numpy was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --- training through it -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("loss", "targets", "nouts", "batch_size"),
    [
        (nn.hinge, lambda c: 2 * c - 1, [6, 1], None),
        (nn.hinge, lambda c: 2 * c - 1, [6, 1], 7),
        (nn.mse, lambda c: 0.5 * c, [6, 1], 10),
        (nn.cross_entropy, lambda c: c, [5, 2], 9),
    ],
)
def test_compiled_training_equals_the_graph(loss, targets, nouts, batch_size):
    points, classes = nn.datasets.make_moons(30, noise=0.1, seed=3)
    labels = [targets(c) for c in classes]
    runs = []
    for compiled in (False, True):
        model = nn.MLP(2, nouts, seed=4)
        optimizer = nn.Adam(model.parameters(), lr=0.05)
        history = nn.train(
            model, points, labels, loss=loss, optimizer=optimizer, epochs=4, l2=1e-3,
            batch_size=batch_size, progress=False, compiled=compiled,
        )  # fmt: skip
        runs.append((history, [p.data for p in model.parameters()]))
    (graph, graph_weights), (replay, replay_weights) = runs
    assert replay.loss == pytest.approx(graph.loss, rel=1e-12, abs=1e-12)
    assert replay.accuracy == graph.accuracy
    assert replay_weights == pytest.approx(graph_weights, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize(
    ("loss", "targets", "error", "message"),
    [
        # The probability leaves [0, 1] only at the third point, after the recorded first.
        (nn.binary_cross_entropy, [1, 1, 1], ValueError, r"probability|guard v\d+ <= 1.0"),
        # A loss takes a list or a number as a target; an array's second number was dropped.
        (nn.sse, [np.array([0.0, 5.0])] * 3, TypeError, "must be a number, not ndarray"),
    ],
)
def test_compiled_training_refuses_what_the_graph_refuses(loss, targets, error, message):
    points = [[1.0, 0.0], [0.0, 0.5], [2.0, 2.0]]
    for compiled in (False, True):
        model = nn.MLP(2, [1], output_activation="linear", seed=5)
        assert 0.0 <= model(points[0]).data <= 1.0 < model(points[2]).data
        optimizer = nn.SGD(model.parameters(), lr=0.01)
        with pytest.raises(error, match=message):
            nn.train(
                model, points, targets, loss=loss, optimizer=optimizer, epochs=1,
                progress=False, compiled=compiled,
            )  # fmt: skip


def test_compiled_training_takes_numpy_rows_as_targets_of_a_loss_of_its_own():
    def squared_error(y, t):
        return (y - t[0]) ** 2  # branches on nothing, but train cannot know: one program per t

    points, classes = nn.datasets.make_moons(8, noise=0.1, seed=3)
    targets = np.array([[float(c)] for c in classes])  # rows of an array: no dict key as such
    runs = []
    for compiled in (False, True):
        model = nn.MLP(2, [3, 1], seed=4)
        optimizer = nn.SGD(model.parameters(), lr=0.1)
        nn.train(
            model, points, targets, loss=squared_error, optimizer=optimizer, epochs=2,
            batch_size=3, progress=False, compiled=compiled,
        )  # fmt: skip
        runs.append([p.data for p in model.parameters()])
    assert runs[1] == pytest.approx(runs[0], rel=1e-12, abs=1e-12)


class BiasOnly(nn.Module):
    """A model whose output ignores its input: E_n is one number for a whole batch."""

    def __init__(self):
        self.b = Value(0.3)

    def parameters(self):
        return [self.b]

    def __call__(self, x):
        return self.b * 1.0


@pytest.mark.parametrize(("loss", "targets"), [(nn.hinge, [1, 1, -1]), (nn.sse, [1.0, 1.0, 0.0])])
def test_compiled_training_of_a_model_that_ignores_its_input(loss, targets):
    runs = []
    for compiled in (False, True):
        model = BiasOnly()
        history = nn.train(
            model, [[1.0, 0.0], [0.0, 0.5], [2.0, 2.0]], targets, loss=loss, epochs=2,
            optimizer=nn.SGD(model.parameters(), lr=0.1), progress=False, compiled=compiled,
        )  # fmt: skip
        runs.append([*history.loss, *history.accuracy, model.b.data])
    assert runs[1] == pytest.approx(runs[0], rel=1e-12)


@pytest.mark.parametrize(
    ("nouts", "loss", "correct"),
    [
        ([3, 1], nn.binary_cross_entropy_with_logits, lambda y, t: (y.data > 0) == (t == 1)),
        ([3, 2], nn.cross_entropy, lambda ys, t: max(range(2), key=lambda k: ys[k].data) == t),
    ],
)
def test_compiled_training_hands_correct_the_outputs_the_graph_does(nouts, loss, correct):
    points, classes = nn.datasets.make_moons(12, noise=0.1, seed=0)
    runs = []
    for compiled in (False, True):
        model = nn.MLP(2, nouts, seed=1)
        history = nn.train(
            model, points, classes, loss=loss, optimizer=nn.SGD(model.parameters(), lr=0.1),
            epochs=2, progress=False, compiled=compiled, correct=correct,
        )  # fmt: skip
        runs.append(history.accuracy)
    assert runs[1] == runs[0]


# --- PyTorch -------------------------------------------------------------------------------------


def test_to_torch_gives_the_same_numbers():
    torch = pytest.importorskip("torch")
    model = nn.MLP(2, [4, 1], seed=5)
    f = mlp_point(model)
    program = record(f, *model.parameters(), 0.3, -0.2, 1.0)
    values = [p.data for p in model.parameters()]
    torch_f = program.to_torch()
    inputs = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in values]
    x = [torch.tensor([0.1, -0.5], dtype=torch.float64) for _ in range(2)]
    t = torch.tensor([1.0, -1.0], dtype=torch.float64)
    torch_f(*inputs, *x, t).sum().backward()
    losses, grads = program.value_and_grad(*values, *(a.numpy() for a in x), t.numpy())
    assert torch_f(*inputs, *x, t).tolist() == pytest.approx(list(losses), rel=1e-14)
    assert [i.grad.item() for i in inputs] == pytest.approx(grads[: len(values)], rel=1e-12)
    program = record(bishop, 1.5, 0.5)
    x1, x2 = (torch.tensor(x, dtype=torch.float64) for x in (1.5, 0.5))
    assert program.to_torch()(x1, x2).item() == pytest.approx(program(1.5, 0.5), rel=1e-15)


# --- hostile input ---------------------------------------------------------------------------


def test_rows_and_outputs_of_constants_replay():
    # A row made of constants only (2.0 * 3.0) passes no adjoint on; nan and inf outputs print.
    def f(x):
        return [x + Value(2.0) * 3.0, math.nan, -math.inf]

    program = record(f, 1.0)
    (y, nan, minus_inf), grad = program.value_and_grad(1.0)
    assert (y, grad, minus_inf) == (7.0, (1.0,), -math.inf) and math.isnan(nan)
    assert program(2.0)[0] == 8.0
    assert record(lambda: Value(2.0) * 3.0).value_and_grad() == (6.0, ())
    namespace = {}
    exec(program.source(), namespace)
    assert namespace["f_value_and_grad"](1.0)[1] == (1.0,)


def test_a_dot_row_of_thousands_of_terms_replays():
    # As one formula, Σ w_i x_i nests one + per term: too deep for Python's compiler.
    n = 5000
    xs = [float(k % 7) - 3.0 for k in range(2 * n)]
    program = record(lambda *v: autodiff.dot(v[:n], v[n:], 1.0), *xs)
    graph = graph_value_and_grad(lambda *v: autodiff.dot(v[:n], v[n:], 1.0), *xs)
    assert program(*xs) == graph[0] and program.value_and_grad(*xs) == graph
    columns = [np.array([x, 2.0 * x]) for x in xs]  # weights vary too: the row itself, by name
    values, grads = program.value_and_grad(*columns, reduce="none")
    assert values[0] == graph[0] and [g[0] for g in grads] == list(graph[1])
    namespace = {}
    exec(program.source(tangent=True), namespace)
    _, tangent, _ = namespace["f_jvp_value_and_grad"](*xs, *([1.0] + [0.0] * (2 * n - 1)))
    assert tangent == graph[1][0]


def test_a_label_of_any_text_stays_in_its_comment():
    program = record(lambda x: x * 2.0, Value(1.0, "a\nb = 1/0 '\"\\\r\x00\u2028"))
    assert program.value_and_grad(3.0) == (6.0, (2.0,))
    assert "a\\nb = 1/0" in program.source()


def test_record_records_inside_no_grad():
    # Under no_grad() f's operations would be constants: the program would ignore its input.
    with autodiff.no_grad():
        program = record(lambda x: x * x, 2.0)
        assert program.value_and_grad(3.0) == (9.0, (6.0,))
        assert (Value(2.0) * 2.0).op == ""  # no_grad itself still holds around record


def test_batch_pow_at_exponent_zero_has_the_graphs_slope():
    # a ** 0 = 1 has slope 0 in a, also where b · a^(b-1) is 0 · inf (a tiny) or 0 · nan.
    program = record(lambda a, b: a**b, 1.0, 0.0)
    bases = np.array([5e-324, math.nan, 2.0])
    _, (d_base, _) = program.value_and_grad(bases, np.zeros(3), reduce="none")
    assert list(d_base) == [0.0, 0.0, 0.0]
    assert [program.value_and_grad(a, 0.0)[1][0] for a in bases] == [0.0, 0.0, 0.0]


def test_an_array_inputs_gradient_is_per_example_even_when_unused():
    program = record(lambda w, x: w * 2.0, 1.0, 1.0)
    _, (dw, dx) = program.value_and_grad(3.0, np.array([1.0, 2.0]))
    assert dw == 4.0 and dx.shape == (2,) and list(dx) == [0.0, 0.0]  # dw: 2.0 per example


def test_a_shared_input_that_is_the_output_sums_its_gradient_over_the_batch():
    # y = w: no row lies between, so w's adjoint is the seed array of ones, summed after the sweep.
    program = record(lambda w, x: [w, w * x], 1.0, 1.0)
    (y, _), (dw, dx) = program.value_and_grad(3.0, np.array([1.0, 2.0, -3.0]))
    assert y == 3.0 and type(dw) is float and dw == 3.0  # ∂y/∂w = 1 for each of 3 examples
    assert list(dx) == [0.0, 0.0, 0.0]
    _, (per_example, _) = program.value_and_grad(3.0, np.zeros(3), reduce="none")
    assert list(per_example) == [1.0, 1.0, 1.0]


def test_compiled_mean_sums_as_the_graph_does():
    # The graph's batch error is autodiff.sum (fsum): a plain left-to-right sum loses the 1.0 here.
    from nn.compiled import mean

    errors = [1e16, 1.0, -1e16, 2.0]
    assert mean(errors) == autodiff.sum([Value(e) for e in errors]).data / 4 == 0.75
