"""Speed of tracegrad beside micrograd 0.1.0 and plain floats; run by `make bench`, not pytest.

Five sections, all in one process with Python's cyclic garbage collector on, as users run it:
1. a long chain x -> tanh(x*a + b): forward ns/op, backward ns/node, bytes/node;
2. one operation with a number operand (x*2.0, 1-x, ...) against the same with a Value operand;
3. micrograd's demo training step (two moons, MLP 2-16-16-1, hinge loss + L2, SGD);
4. the same step with the loss written as micrograd's demo writes it (numbers and Python's sum);
5. Hessian-vector products against full Hessians on growing MLPs.
Every engine's results are checked equal before anything is timed; tables print medians.
Usage: python tests/benchmark.py [--quick]
"""

from __future__ import annotations

import argparse
import functools
import gc
import importlib.metadata
import itertools
import math
import operator
import platform
import random
import statistics
import sys
import threading
import time
import timeit
import tracemalloc
from collections.abc import Callable, Sequence
from typing import Any

import autodiff
import nn
from autodiff import Value

try:
    from micrograd import nn as micro_nn
    from micrograd.engine import Value as MicroValue
except ImportError:
    sys.exit("micrograd is missing: run `make bench`, which installs micrograd==0.1.0 into .venv")

MICROGRAD_VERSION = importlib.metadata.version("micrograd")
RELATIVE_TOLERANCE = 1e-9
BIG_STACK_BYTES = 1 << 30
BIG_RECURSION_LIMIT = 10_000_000


# --- micrograd 0.1.0 has no tanh: add one in its own style ----------------------------------


def micrograd_tanh(self: MicroValue) -> MicroValue:
    """tanh for micrograd's Value, written the way micrograd writes relu: a closure `_backward`."""
    t = math.tanh(self.data)
    out = MicroValue(t, (self,), "tanh")

    def _backward() -> None:
        self.grad += (1 - t**2) * out.grad

    out._backward = _backward
    return out


MicroValue.tanh = micrograd_tanh


class MicroTanhNeuron(micro_nn.Neuron):
    """micrograd's Neuron with tanh in place of relu for its hidden units."""

    def __call__(self, x: Sequence[Any]) -> MicroValue:
        act = sum((wi * xi for wi, xi in zip(self.w, x, strict=True)), self.b)
        return act.tanh() if self.nonlin else act


def with_big_stack(work: Callable[[], Any]) -> Any:
    """Run `work()` in a thread with a 1 GiB stack and a high recursion limit."""
    result: list[Any] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            result.append(work())
        except BaseException as error:  # handed back to the caller below
            errors.append(error)

    old_limit, old_stack = sys.getrecursionlimit(), threading.stack_size(BIG_STACK_BYTES)
    sys.setrecursionlimit(BIG_RECURSION_LIMIT)
    try:
        thread = threading.Thread(target=target)
        thread.start()
        thread.join()
    finally:
        sys.setrecursionlimit(old_limit)
        threading.stack_size(old_stack)
    if errors:
        raise errors[0]
    return result[0]


def micrograd_nodes(output: MicroValue) -> int:
    """How many nodes micrograd's graph behind `output` holds (iterative walk over `_prev`)."""
    seen = {output}
    stack = [output]
    while stack:
        for child in stack.pop()._prev:
            if child not in seen:
                seen.add(child)
                stack.append(child)
    return len(seen)


# --- small helpers ----------------------------------------------------------------------------


def assert_close(name: str, ours: Sequence[float], theirs: Sequence[float]) -> None:
    """Equal to RELATIVE_TOLERANCE, relative to the largest magnitude in the vector."""
    assert len(ours) == len(theirs), f"{name}: {len(ours)} values against {len(theirs)}"
    scale = max(1.0, *map(abs, ours), *map(abs, theirs))
    for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        if abs(a - b) > RELATIVE_TOLERANCE * scale:
            raise AssertionError(f"{name}[{i}]: {a!r} != {b!r}")


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A markdown table with aligned columns, so it pastes into the README as it is."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]
    print(f"\n{title}\n")
    for cells in (headers, ["-" * w for w in widths], *rows):
        print("| " + " | ".join(str(c).rjust(w) for c, w in zip(cells, widths, strict=True)) + " |")


def timed(work: Callable[[], Any]) -> tuple[float, Any]:
    """(seconds, result) of one call."""
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


def median_seconds(work: Callable[[], Any], runs: int) -> float:
    """Median seconds of `runs` consecutive calls (the collector runs between them, as in use)."""
    return statistics.median(timed(work)[0] for _ in range(runs))


def log_log_slope(sizes: Sequence[float], seconds: Sequence[float]) -> float:
    """Least-squares slope of log(time) against log(size): the exponent p in time ~ size^p."""
    xs, ys = [math.log(s) for s in sizes], [math.log(t) for t in seconds]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs
    )


# --- 1. the chain x -> tanh(x*a + b) ----------------------------------------------------------

X0, A, B = 0.5, 0.9, 0.1


def chain_graph(kind: type, steps: int) -> dict:
    """Build the chain with `kind` (either engine's Value), differentiate it; times and results."""
    x, a, b = kind(X0), kind(A), kind(B)

    def forward() -> Any:
        y = x
        for _ in range(steps):
            y = (y * a + b).tanh()
        return y

    forward_seconds, y = timed(forward)
    backward_seconds, _ = timed(y.backward)
    return {
        "forward": forward_seconds,
        "backward": backward_seconds,
        "results": [y.data, x.grad, a.grad, b.grad],
    }


def chain_tracegrad(steps: int) -> dict:
    return chain_graph(Value, steps)


def chain_micrograd(steps: int) -> dict:
    """micrograd's recursive backward needs the big stack."""
    return with_big_stack(lambda: chain_graph(MicroValue, steps))


def collector_off(work: Callable[..., Any], *args: Any) -> Any:
    """work(*args) with the cyclic collector paused: how much of its cost is the collector's."""
    gc.disable()
    try:
        return work(*args)
    finally:
        gc.enable()


def chain_tracegrad_collector_off(steps: int) -> dict:
    return collector_off(chain_graph, Value, steps)


class BareNode:
    """An object with exactly Value's slots and no methods: a node without the engine."""

    __slots__ = Value.__slots__


def bare_node(data: float, parents: tuple, local_grads: tuple, serial: int) -> BareNode:
    node = BareNode()
    node.data, node.grad, node.label, node.serial = data, 0.0, "", serial
    node.parents = node._inputs = parents
    node.local_grads, node._rule = local_grads, None
    return node


def chain_bare_seconds(steps: int) -> float:
    """Seconds to compute the chain in floats and keep it as bare nodes holding what Value's
    operations keep: a new float per result, the parents, the local derivatives (a new tuple for
    `*`, a shared one for `+`, a new float for tanh) and a creation number. No engine code runs."""
    serials = itertools.count(1)
    x, a, b = (bare_node(v, (), (), next(serials)) for v in (X0, A, B))
    one_one = (1.0, 1.0)
    start = time.perf_counter()
    y = x
    for _ in range(steps):
        u = bare_node(y.data * a.data, (y, a), (a.data, y.data), next(serials))
        v = bare_node(u.data + b.data, (u, b), one_one, next(serials))
        t = math.tanh(v.data)
        y = bare_node(t, (v,), (1.0 - t * t,), next(serials))
    return time.perf_counter() - start


def bench_collector_floor(sizes: Sequence[int], quick: bool) -> None:
    """The collector's cost for the nodes alone, as a floor under any engine that keeps them."""
    rows = []
    for nodes in sizes:
        steps = nodes // 3
        runs = 3 if quick or nodes >= 1_000_000 else 5
        seconds: dict[str, list[float]] = {"on": [], "off": []}
        for _ in range(runs):
            gc.collect()
            seconds["on"].append(chain_bare_seconds(steps))
            gc.collect()
            seconds["off"].append(collector_off(chain_bare_seconds, steps))
        on, off = (statistics.median(seconds[key]) / (3 * steps) * 1e9 for key in ("on", "off"))
        rows.append([f"{3 * steps:,}", f"{on:.0f}", f"{off:.0f}", f"{on - off:.0f}", str(runs)])
    print_table(
        "The same chain kept as bare nodes with Value's slots (class BareNode), no engine code;\n"
        "ns per node with the collector on and off, and the difference, the collector's share:",
        ["nodes", "collector on", "collector off", "collector's share", "runs"],
        rows,
    )


def chain_plain(steps: int) -> dict:
    """The same by hand in floats: keep each z for the backward loop, then run it in reverse."""

    def forward() -> list[float]:
        zs = [X0]
        z = X0
        for _ in range(steps):
            z = math.tanh(z * A + B)
            zs.append(z)
        return zs

    def backward(zs: list[float]) -> list[float]:
        z_bar, a_bar, b_bar = 1.0, 0.0, 0.0
        for k in range(steps, 0, -1):
            u_bar = z_bar * (1.0 - zs[k] * zs[k])  # through tanh: 1 - tanh²
            a_bar += u_bar * zs[k - 1]
            b_bar += u_bar
            z_bar = u_bar * A
        return [z_bar, a_bar, b_bar]

    forward_seconds, zs = timed(forward)
    backward_seconds, grads = timed(lambda: backward(zs))
    return {"forward": forward_seconds, "backward": backward_seconds, "results": [zs[-1], *grads]}


def chain_bytes(kind: type, steps: int) -> float:
    """Bytes per node held by the chain's graph after the forward pass (tracemalloc)."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    x, a, b = kind(X0), kind(A), kind(B)
    y = x
    for _ in range(steps):
        y = (y * a + b).tanh()
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    return held / (3 * steps + 3)


def chain_medians(measure: Callable[[int], dict], steps: int, runs: int) -> dict:
    """Median forward and backward seconds over `runs` fresh graphs; garbage collected between."""
    samples = []
    for _ in range(runs):
        gc.collect()
        samples.append(measure(steps))
    for sample in samples[1:]:
        assert_close("chain results across runs", sample["results"], samples[0]["results"])
    return {
        "forward": statistics.median(s["forward"] for s in samples),
        "backward": statistics.median(s["backward"] for s in samples),
        "results": samples[0]["results"],
    }


def bench_chain(quick: bool) -> None:
    print("\n## 1. Chain x -> tanh(x*a + b), 3 nodes per step")
    print(
        "micrograd 0.1.0 has no tanh: this script adds one in micrograd's style (a closure\n"
        "_backward attached to its Value). micrograd's backward is recursive: it runs in a\n"
        f"thread with a {BIG_STACK_BYTES >> 20} MiB stack and a recursion limit of "
        f"{BIG_RECURSION_LIMIT:,}."
    )
    check_steps = 3_333
    ours, theirs, plain = (
        chain_tracegrad(check_steps),
        chain_micrograd(check_steps),
        chain_plain(check_steps),
    )
    assert_close("chain: micrograd vs tracegrad", theirs["results"], ours["results"])
    assert_close("chain: plain vs tracegrad", plain["results"], ours["results"])
    print("Checked first: y, dy/dx, dy/da, dy/db agree across the three to 1e-9 relative.")

    sizes = [10_000, 100_000] if quick else [10_000, 100_000, 1_000_000]
    rows = []
    per_node: dict[str, list[float]] = {"tracegrad": [], "micrograd": []}
    for nodes in sizes:
        steps = nodes // 3
        runs = 3 if quick or nodes >= 1_000_000 else 5
        measured = {
            "tracegrad": chain_medians(chain_tracegrad, steps, runs),
            "micrograd": chain_medians(chain_micrograd, steps, runs),
            "plain floats": chain_medians(chain_plain, steps, runs),
            "tracegrad, collector off": chain_medians(chain_tracegrad_collector_off, steps, runs),
        }
        for name in ("micrograd", "plain floats", "tracegrad, collector off"):
            assert_close(
                f"chain {name}", measured[name]["results"], measured["tracegrad"]["results"]
            )
        memory = {
            "tracegrad": chain_bytes(Value, steps),
            "micrograd": chain_bytes(MicroValue, steps),
        }
        count = 3 * steps
        for name, m in measured.items():
            forward_ns = m["forward"] / count * 1e9
            backward_ns = m["backward"] / count * 1e9
            if name in per_node:
                per_node[name].append(forward_ns + backward_ns)
            rows.append(
                [
                    f"{count:,}",
                    name,
                    f"{forward_ns:.0f}",
                    f"{backward_ns:.0f}",
                    f"{memory[name]:.0f}" if name in memory else "-",
                    str(runs),
                ]
            )
        ratio = {
            key: measured["micrograd"][key] / measured["tracegrad"][key]
            for key in ("forward", "backward")
        }
        rows.append(
            [
                f"{count:,}",
                "micrograd / tracegrad",
                f"{ratio['forward']:.1f}x",
                f"{ratio['backward']:.1f}x",
                f"{memory['micrograd'] / memory['tracegrad']:.1f}x",
                "",
            ]
        )
    print_table(
        "Medians (forward ns per op, backward ns per node; bytes per node held by the graph):",
        ["nodes", "engine", "forward ns/op", "backward ns/node", "bytes/node", "runs"],
        rows,
    )
    for name, costs in per_node.items():
        print(
            f"{name}: forward + backward ns per node grows {costs[-1] / costs[0]:.2f}x "
            f"from {sizes[0]:,} to {sizes[-1]:,} nodes"
        )
    print(
        "The row 'tracegrad, collector off' is a diagnosis, not how users run it: the cyclic\n"
        "collector tracks every node that holds references, so its full passes over a large\n"
        "live graph are part of the cost per node, even for a graph without cycles."
    )
    bench_collector_floor(sizes, quick)
    print(
        "The collector's share of the bare nodes is a floor under the forward cost of any\n"
        "engine whose nodes hold what the SPEC asks Value to hold (data, parents, local_grads,\n"
        "a creation number), however fast its own code."
    )
    print("Targets at 1e6 nodes: forward <= 1000 ns/op, backward <= 1000 ns/node, <= 250 B/node.")


# --- 2. one operation with a number operand --------------------------------------------------

# (expression, the same operation with a Value in place of the number, plain-float gradient in x)
CONSTANT_CASES = [
    ("x * y", "x * y", lambda x, y: y),
    ("x * 2.0", "x * y", lambda x, y: 2.0),
    ("2.0 * x", "y * x", lambda x, y: 2.0),
    ("x + 1", "x + y", lambda x, y: 1.0),
    ("x - 1", "x - y", lambda x, y: 1.0),
    ("1 - x", "y - x", lambda x, y: -1.0),
    ("x / 2", "x / y", lambda x, y: 0.5),
    ("x ** 2", "x ** y", lambda x, y: 2.0 * x),
]
X_DATA, Y_DATA = 1.5, 2.0
OPS_PER_TIMING = 2_000


def operation_ns(statement: str, kind: type, number: int) -> float:
    """ns per evaluation of `statement` on x, y of `kind`, collector on (timeit turns it off)."""
    names = {"x": kind(X_DATA), "y": kind(Y_DATA), "gc": gc}
    timer = timeit.Timer(statement, "gc.enable()", globals=names)
    return timer.timeit(number) / number * 1e9


def check_constant_case(expression: str, slope: Callable[[float, float], float]) -> None:
    """The value and the gradient in x agree between the two engines and plain floats."""
    plain_value = eval(expression, {"x": X_DATA, "y": Y_DATA})
    for kind in (Value, MicroValue):
        x, y = kind(X_DATA), kind(Y_DATA)
        out = eval(expression, {"x": x, "y": y})
        out.backward()
        name = f"{expression} in {kind.__module__}"
        assert_close(name, [out.data, x.grad], [plain_value, slope(X_DATA, Y_DATA)])


def bench_constants(quick: bool) -> None:
    print("\n## 2. One operation with a number operand against the same with a Value operand")
    print(
        "Each expression builds one node (x, y hold 1.5 and 2.0). A round times a batch of\n"
        f"{OPS_PER_TIMING:,} of every expression in turn; each ratio is taken within a round, so\n"
        "that changing load on the machine falls on both sides of it alike, and the table gives\n"
        "medians over the rounds. micrograd turns a number into a new Value (x / 2 is x * 2**-1)."
    )
    for expression, _, slope in CONSTANT_CASES:
        check_constant_case(expression, slope)
    print("Checked first: value and d/dx agree across tracegrad, micrograd and plain floats.")
    rounds = 21 if quick else 61
    statements = {(engine, s) for e, v, _ in CONSTANT_CASES for s in (e, v) for engine in "tm"}
    statements -= {("m", "x ** y")}  # micrograd's ** takes a number exponent only
    samples: dict[tuple[str, str], list[float]] = {key: [] for key in sorted(statements)}
    for _ in range(rounds):
        for engine, statement in samples:
            kind = Value if engine == "t" else MicroValue
            samples[engine, statement].append(operation_ns(statement, kind, OPS_PER_TIMING))

    def median_ratio(top: tuple[str, str], bottom: tuple[str, str]) -> float:
        return statistics.median(map(operator.truediv, samples[top], samples[bottom]))

    rows = []
    for expression, with_value, _ in CONSTANT_CASES:
        ours = ("t", expression)
        rows.append(
            [
                expression,
                f"{statistics.median(samples[ours]):.0f}",
                with_value,
                f"{statistics.median(samples['t', with_value]):.0f}",
                f"{median_ratio(ours, ('t', with_value)):.2f}x",
                f"{median_ratio(ours, ('t', 'x * y')):.2f}x",
                f"{statistics.median(samples['m', expression]):.0f}",
                f"{median_ratio(('m', expression), ours):.1f}x",
            ]
        )
    print_table(
        f"Median ns per expression and median ratios within a round ({rounds} rounds):",
        [
            "expression",
            "tracegrad ns",
            "with a Value",
            "tracegrad ns",
            "number / Value",
            "/ x * y",
            "micrograd ns",
            "micrograd / tracegrad",
        ],
        rows,
    )
    print(
        "Target: number / Value <= 1.1x. An int or a float takes the fast path; a numpy scalar,\n"
        "a bool or a Fraction takes the general one (converted and checked first)."
    )


# --- 3. micrograd's demo step: two moons, MLP 2-16-16-1, hinge loss + L2, SGD ------------------

SIZES = [16, 16, 1]
L2 = 1e-4
LEARNING_RATE = 0.1


def tracegrad_loss(model: nn.MLP, points: list, targets: list[int]) -> Value:
    """micrograd demo.ipynb's loss: mean SVM hinge loss over the data plus 1e-4 Σ p²."""
    data_loss = autodiff.sum([nn.hinge(model(x), t) for x, t in zip(points, targets, strict=True)])
    regularisation = L2 * autodiff.sum([p * p for p in model.parameters()])
    return data_loss / len(points) + regularisation


def tracegrad_step(model: nn.MLP, optimiser: nn.SGD, points: list, targets: list[int]) -> None:
    loss = tracegrad_loss(model, points, targets)
    optimiser.zero_grad()
    loss.backward()
    optimiser.step()


def micrograd_loss(model: Any, points: list, targets: list[int], kind: type = MicroValue) -> Any:
    """The loss exactly as micrograd's demo.ipynb writes it, with either engine's Value."""
    inputs = [list(map(kind, row)) for row in points]
    scores = list(map(model, inputs))
    losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(targets, scores, strict=True)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = L2 * sum(p * p for p in model.parameters())
    return data_loss + reg_loss


def micrograd_step(model: micro_nn.MLP, points: list, targets: list[int]) -> None:
    total_loss = micrograd_loss(model, points, targets)
    model.zero_grad()
    total_loss.backward()
    for p in model.parameters():
        p.data -= LEARNING_RATE * p.grad


def micrograd_model(activation: str, values: list[float]) -> micro_nn.MLP:
    """micrograd's MLP 2-16-16-1 holding `values` (tracegrad's parameter order is micrograd's)."""
    model = micro_nn.MLP(2, SIZES)
    if activation == "tanh":
        for layer in model.layers[:-1]:
            for neuron in layer.neurons:
                neuron.__class__ = MicroTanhNeuron
    for p, value in zip(model.parameters(), values, strict=True):
        p.data = value
    return model


Layers = list[tuple[list[list[float]], list[float]]]


def plain_layers(values: list[float], nin: int) -> Layers:
    """Weight rows and biases per layer from a flat list in tracegrad's parameter order."""
    layers, position = [], 0
    for nout in SIZES:
        rows, biases = [], []
        for _ in range(nout):
            rows.append(values[position : position + nin])
            biases.append(values[position + nin])
            position += nin + 1
        layers.append((rows, biases))
        nin = nout
    return layers


def plain_loss_and_grads(
    layers: Layers, activation: str, points: list, targets: list[int]
) -> tuple[float, Layers]:
    """The demo loss and its gradient by hand in floats: Bishop's Algorithm 8.1 per data point."""
    grads = [([[0.0] * len(row) for row in rows], [0.0] * len(biases)) for rows, biases in layers]
    hidden = len(layers) - 1
    data_loss = 0.0
    for x, t in zip(points, targets, strict=True):
        # 1. Forward (8.5), (8.6): keep each layer's input z and slope h'(a) for the backward pass.
        inputs, slopes, z = [], [], x
        for index, (rows, biases) in enumerate(layers):
            inputs.append(z)
            a = [
                sum(map(operator.mul, row, z)) + bias
                for row, bias in zip(rows, biases, strict=True)
            ]
            if index == hidden:
                z = a  # linear output unit: the score
            elif activation == "tanh":
                z = [math.tanh(aj) for aj in a]
                slopes.append([1.0 - zj * zj for zj in z])
            else:
                z = [aj if aj > 0.0 else 0.0 for aj in a]
                slopes.append([1.0 if aj > 0.0 else 0.0 for aj in a])  # NOTE: relu'(0) = 0
        # 2. Hinge loss relu(1 - t y): its output delta is -t/N where the margin is violated.
        margin = 1.0 - t * z[0]
        if margin <= 0.0:
            continue
        data_loss += margin
        deltas = [-t / len(points)]
        # 3. Backward: ∂E/∂w_ji = δ_j z_i (8.10), then δ_i = h'(a_i) Σ_j w_ji δ_j (8.13).
        for index in range(hidden, -1, -1):
            rows, _ = layers[index]
            row_grads, bias_grads = grads[index]
            z = inputs[index]
            for j, delta in enumerate(deltas):
                row_grads[j] = [g + delta * zi for g, zi in zip(row_grads[j], z, strict=True)]
                bias_grads[j] += delta
            if index:
                columns = zip(*rows, strict=True)  # column i holds w_ji for every unit j
                column_sums = [sum(map(operator.mul, column, deltas)) for column in columns]
                deltas = list(map(operator.mul, slopes[index - 1], column_sums))
    # 4. The L2 term 1e-4 Σ p² adds 2e-4 p to every gradient.
    squares = 0.0
    for (rows, biases), (row_grads, bias_grads) in zip(layers, grads, strict=True):
        for row, row_grad in zip(rows, row_grads, strict=True):
            for i, w in enumerate(row):
                squares += w * w
                row_grad[i] += 2 * L2 * w
        for j, bias in enumerate(biases):
            squares += bias * bias
            bias_grads[j] += 2 * L2 * bias
    return data_loss / len(points) + L2 * squares, grads


def plain_step(layers: Layers, activation: str, points: list, targets: list[int]) -> None:
    _, grads = plain_loss_and_grads(layers, activation, points, targets)
    for (rows, biases), (row_grads, bias_grads) in zip(layers, grads, strict=True):
        for row, row_grad in zip(rows, row_grads, strict=True):
            for i, g in enumerate(row_grad):
                row[i] -= LEARNING_RATE * g
        for j, g in enumerate(bias_grads):
            biases[j] -= LEARNING_RATE * g


def flatten(layers: Layers) -> list[float]:
    """Per layer, per neuron: weights then bias (tracegrad's and micrograd's order)."""
    return [
        v for rows, biases in layers for row, b in zip(rows, biases, strict=True) for v in (*row, b)
    ]


def median_step_ms(step: Callable[[], None], runs: int) -> float:
    """Median milliseconds of consecutive training steps, after one warm-up step."""
    step()
    return median_seconds(step, runs) * 1e3


def two_moons() -> tuple[list, list[int]]:
    """The demo's data: 100 points of two moons and their hinge targets in {-1, +1}."""
    points, labels = nn.datasets.make_moons(100, 0.1, seed=0)
    return points, [2 * label - 1 for label in labels]


def bench_demo_step(quick: bool) -> None:
    print("\n## 3. micrograd's demo step: two moons (100 points), MLP 2-16-16-1, hinge + L2, SGD")
    print(
        "Loss as in micrograd's demo.ipynb: mean of relu(1 - t*score) + 1e-4 * sum p*p; one step\n"
        "is forward, zero_grad, backward and the SGD update. micrograd's Neuron is relu only: for\n"
        "tanh hidden units the script swaps its hidden neurons to a subclass whose __call__ uses\n"
        "the tanh added above. The plain-float step is the same loss and gradient by hand."
    )
    points, targets = two_moons()
    runs = {"tracegrad": 15, "micrograd": 5, "plain floats": 15}
    if quick:
        runs = dict.fromkeys(runs, 3)
    rows = []
    for activation in ("relu", "tanh"):
        model = nn.MLP(2, SIZES, activation=activation, seed=0)
        values = [p.data for p in model.parameters()]
        micro = micrograd_model(activation, values)
        layers = plain_layers(values, 2)

        # Check first: the same loss and every gradient in all three.
        ours = tracegrad_loss(model, points, targets)
        model.zero_grad()
        ours.backward()
        ours_numbers = [ours.data, *(p.grad for p in model.parameters())]
        theirs = micrograd_loss(micro, points, targets)
        micro.zero_grad()
        theirs.backward()
        nodes = micrograd_nodes(theirs)
        our_nodes = len(autodiff.value.ancestors(ours))
        theirs_numbers = [theirs.data, *(p.grad for p in micro.parameters())]
        plain_loss, plain_grads = plain_loss_and_grads(layers, activation, points, targets)
        assert_close(f"{activation} step: micrograd", theirs_numbers, ours_numbers)
        assert_close(f"{activation} step: plain", [plain_loss, *flatten(plain_grads)], ours_numbers)
        del ours, theirs

        optimiser = nn.SGD(model.parameters(), lr=LEARNING_RATE)
        steps = {
            "tracegrad": functools.partial(tracegrad_step, model, optimiser, points, targets),
            "micrograd": functools.partial(micrograd_step, micro, points, targets),
            "plain floats": functools.partial(plain_step, layers, activation, points, targets),
        }
        ms = {name: median_step_ms(step, runs[name]) for name, step in steps.items()}
        rows.append(
            [
                activation,
                f"{ms['tracegrad']:.1f}",
                f"{ms['micrograd']:.0f}",
                f"{ms['plain floats']:.2f}",
                f"{ms['micrograd'] / ms['tracegrad']:.0f}x",
                f"{ms['tracegrad'] / ms['plain floats']:.1f}x",
                f"{our_nodes:,}",
                f"{nodes:,}",
            ]
        )
    print(
        f"Checked first: loss and all {len(values)} gradients agree across the three "
        "to 1e-9 relative."
    )
    print_table(
        "Median ms per training step (consecutive steps after one warm-up; runs: "
        + ", ".join(f"{name} {count}" for name, count in runs.items())
        + "):",
        [
            "hidden",
            "tracegrad ms",
            "micrograd ms",
            "plain ms",
            "micrograd/tracegrad",
            "tracegrad/plain",
            "tracegrad nodes",
            "micrograd nodes",
        ],
        rows,
    )
    print("Targets: micrograd/tracegrad >= 40x and tracegrad/plain <= 6x.")


# --- 4. the demo step with micrograd's own loss code -----------------------------------------


def micrograd_style_step(model: nn.MLP, points: list, targets: list[int]) -> None:
    """micrograd's demo step run on tracegrad: its loss code (numbers, Python's sum, 1 + -y*s)
    and its update loop, with tracegrad's Value and MLP."""
    total_loss = micrograd_loss(model, points, targets, kind=Value)
    model.zero_grad()
    total_loss.backward()
    for p in model.parameters():
        p.data -= LEARNING_RATE * p.grad


def bench_micrograd_style_step(quick: bool) -> None:
    print("\n## 4. The tanh demo step with the loss written as micrograd's demo.ipynb writes it")
    print(
        "The same loss code runs on both engines: inputs wrapped in Values, (1 + -yi * scorei)\n"
        "per point, Python's sum (which starts from the int 0), * (1.0 / n), 1e-4 * sum(p * p),\n"
        "and micrograd's update loop. Beside it: tracegrad's own idiom of section 3\n"
        "(autodiff.sum, nn.hinge, nn.SGD), plain floats by hand and micrograd."
    )
    points, targets = two_moons()
    model = nn.MLP(2, SIZES, activation="tanh", seed=0)
    idiomatic = nn.MLP(2, SIZES, activation="tanh", seed=0)
    values = [p.data for p in model.parameters()]
    micro = micrograd_model("tanh", values)
    layers = plain_layers(values, 2)

    # Check first: the micrograd-style loss and its gradients in tracegrad, micrograd and floats.
    ours = micrograd_loss(model, points, targets, kind=Value)
    model.zero_grad()
    ours.backward()
    ours_numbers = [ours.data, *(p.grad for p in model.parameters())]
    theirs = micrograd_loss(micro, points, targets)
    micro.zero_grad()
    theirs.backward()
    plain_loss, plain_grads = plain_loss_and_grads(layers, "tanh", points, targets)
    assert_close(
        "micrograd-style step: micrograd",
        [theirs.data, *(p.grad for p in micro.parameters())],
        ours_numbers,
    )
    assert_close("micrograd-style step: plain", [plain_loss, *flatten(plain_grads)], ours_numbers)
    our_nodes = len(autodiff.value.ancestors(ours))
    del ours, theirs
    print(
        f"Checked first: loss and all {len(values)} gradients agree across the three "
        "to 1e-9 relative."
    )

    optimiser = nn.SGD(idiomatic.parameters(), lr=LEARNING_RATE)
    ours = {
        "tracegrad, micrograd's loss code": functools.partial(
            micrograd_style_step, model, points, targets
        ),
        "tracegrad, its own idiom": functools.partial(
            tracegrad_step, idiomatic, optimiser, points, targets
        ),
        "plain floats": functools.partial(plain_step, layers, "tanh", points, targets),
    }
    micrograd = functools.partial(micrograd_step, micro, points, targets)
    # Each round: the three steps above in turn, step by step (they leave no cyclic garbage), so
    # that changing load falls on all three alike; then micrograd in a block of its own, a
    # warm-up and consecutive steps, so that it pays for its own garbage (its closures make
    # cycles only the collector frees) and no one else does. Ratios are taken within a round.
    rounds = 3 if quick else 7
    samples: dict[str, list[list[float]]] = {name: [] for name in (*ours, "micrograd")}
    for step in ours.values():
        step()
    for _ in range(rounds):
        times = [[timed(step)[0] * 1e3 for step in ours.values()] for _ in range(5)]
        for name, column in zip(ours, zip(*times, strict=True), strict=True):
            samples[name].append(list(column))
        gc.collect()
        micrograd()
        samples["micrograd"].append([timed(micrograd)[0] * 1e3 for _ in range(2)])
        gc.collect()

    def ms(name: str) -> float:
        return statistics.median(t for block in samples[name] for t in block)

    def ratio(top: str, bottom: str) -> float:
        """Median over rounds of the ratio of the two medians within a round."""
        blocks = zip(samples[top], samples[bottom], strict=True)
        return statistics.median(statistics.median(a) / statistics.median(b) for a, b in blocks)

    rows = [
        [
            name,
            f"{ms(name):.2f}",
            f"{ratio(name, 'plain floats'):.1f}x",
            f"{ratio('micrograd', name):.0f}x",
        ]
        for name in samples
    ]
    print_table(
        f"Median ms per step, and medians over {rounds} rounds of the ratios within a round (5\n"
        "steps of each of ours, 2 of micrograd after a warm-up; "
        f"{our_nodes:,} tracegrad nodes with micrograd's loss code):",
        ["step", "ms", "/ plain floats", "micrograd / this"],
        rows,
    )
    print("Targets for micrograd's loss code on tracegrad: <= 4x plain floats, >= 60x micrograd.")


# --- 5. Hessian-vector products against the Hessian -------------------------------------------


def mlp_error(hidden: int, points: list) -> Callable[..., Any]:
    """E(w) = Σ_n ½ (y(x_n, w) - t_n)² for a 2-hidden-1 tanh network, w flat: W = 4·hidden + 1."""

    def error(*w: Any) -> Any:
        total = 0.0
        output_weights, output_bias = w[3 * hidden : 4 * hidden], w[4 * hidden]
        for x, t in points:
            z = [
                autodiff.tanh(autodiff.dot(w[3 * j : 3 * j + 2], x, w[3 * j + 2]))
                for j in range(hidden)
            ]
            y = autodiff.dot(output_weights, z, output_bias)
            total = total + 0.5 * (y - t) ** 2
        return total

    return error


def bench_hvp(quick: bool) -> None:
    print("\n## 5. Hessian-vector product against the full Hessian (Bishop 8.1.6)")
    print(
        "E(w) = sum of squared errors of a 2-H-1 tanh network on 4 points; W = 4H + 1 weights.\n"
        "Times: one gradient (grad), H v (hvp, reverse over reverse) and H (hessian)."
    )
    rng = random.Random(0)
    points = [([rng.uniform(-1, 1), rng.uniform(-1, 1)], rng.uniform(-1, 1)) for _ in range(4)]
    hidden_sizes = [5, 10, 20] if quick else [10, 20, 40, 80, 160, 200]
    rows, sizes, times = [], [], {"grad": [], "hvp": [], "hessian": []}
    for hidden in hidden_sizes:
        error = mlp_error(hidden, points)
        count = 4 * hidden + 1
        w = [rng.gauss(0.0, 0.5) for _ in range(count)]
        v = [rng.gauss(0.0, 1.0) for _ in range(count)]
        every = tuple(range(count))
        gradient = autodiff.grad(error, argnums=every)
        hessian = autodiff.hessian(error)

        # Check first: hvp equals the Hessian times v.
        product = autodiff.hvp(error, w, v)
        matrix = hessian(*w)
        assert_close(f"hvp W={count}", product, [sum(map(operator.mul, row, v)) for row in matrix])
        del matrix

        runs = 3 if quick or count > 400 else 5
        work = {
            "grad": functools.partial(gradient, *w),
            "hvp": functools.partial(autodiff.hvp, error, w, v),
            "hessian": functools.partial(hessian, *w),
        }
        median = {key: median_seconds(call, runs) for key, call in work.items()}
        sizes.append(count)
        for key, seconds in median.items():
            times[key].append(seconds)
        rows.append(
            [
                str(count),
                f"{median['grad'] * 1e3:.2f}",
                f"{median['hvp'] * 1e3:.2f}",
                f"{median['hessian'] * 1e3:.0f}",
                f"{median['hvp'] / median['grad']:.1f}",
                f"{median['hessian'] / median['grad']:.0f}",
            ]
        )
    print("Checked first: hvp(f, w, v) equals hessian(f)(*w) @ v to 1e-9 relative at every W.")
    print_table(
        "Median ms:",
        ["W", "grad ms", "hvp ms", "hessian ms", "hvp / grad", "hessian / grad"],
        rows,
    )
    slopes = ", ".join(f"{key} {log_log_slope(sizes, t):.2f}" for key, t in times.items())
    print(f"Fitted log-log slope of time against W: {slopes} (O(W) is 1, O(W²) is 2).")


# --- 4. The trace as a program: replay over the batch, and beside PyTorch -----------------------


def point_program(model: nn.MLP) -> autodiff.Program:
    """One point's hinge loss relu(1 - t·y), as micrograd's demo writes it, recorded as a program
    of the parameters, the point (x1, x2) and its label t: all three are inputs."""
    parameters = model.parameters()

    def point_loss(*args: Value) -> Value:
        *_, x1, x2, t = args  # the parameters are the model's own Values, given as inputs
        return autodiff.relu(1 + -t * model([x1, x2]))

    return autodiff.record(point_loss, *parameters, 0.0, 0.0, 1.0)


def penalty_program(model: nn.MLP) -> autodiff.Program:
    """The demo's L2 term 1e-4 Σ p² of the parameters, recorded once."""

    def penalty(*ps: Value) -> Value:
        return L2 * autodiff.sum([p * p for p in ps])

    return autodiff.record(penalty, *model.parameters())


def replay_loss_and_grads(
    point: autodiff.Program, penalty: autodiff.Program, values: list[float], columns: list
) -> tuple[float, list[float]]:
    """The demo loss and gradient: the point program over the batch (summed), plus the penalty."""
    losses, grads = point.value_and_grad(*values, *columns)
    regularisation, penalty_grads = penalty.value_and_grad(*values)
    size = len(columns[0])
    loss = math.fsum(losses.tolist()) / size + regularisation
    parameter_grads = grads[: len(values)]  # then come the per-example gradients of x and t
    return loss, [g / size + r for g, r in zip(parameter_grads, penalty_grads, strict=True)]


def replay_step(
    point: autodiff.Program, penalty: autodiff.Program, values: list[float], columns: list
) -> None:
    _, grads = replay_loss_and_grads(point, penalty, values, columns)
    values[:] = [v - LEARNING_RATE * g for v, g in zip(values, grads, strict=True)]


def torch_model(values: list[float]) -> list:
    """The same network's weights as torch float64 tensors W1, b1, W2, b2, W3, b3."""
    import torch

    tensors, position, nin = [], 0, 2
    for nout in SIZES:
        block = torch.tensor(values[position : position + nout * (nin + 1)], dtype=torch.float64)
        block = block.reshape(nout, nin + 1)  # each row: a neuron's weights, then its bias
        tensors += [block[:, :nin].clone().requires_grad_(), block[:, nin].clone().requires_grad_()]
        position += nout * (nin + 1)
        nin = nout
    return tensors


def torch_loss(weights: list, inputs: Any, targets: Any) -> Any:
    import torch

    z = inputs
    for k in range(0, len(weights) - 2, 2):
        z = torch.tanh(z @ weights[k].T + weights[k + 1])
    scores = (z @ weights[-2].T + weights[-1])[:, 0]
    data_loss = torch.relu(1 - targets * scores).mean()
    return data_loss + L2 * sum((w * w).sum() for w in weights)


def torch_step(weights: list, inputs: Any, targets: Any) -> None:
    import torch

    for w in weights:
        w.grad = None
    torch_loss(weights, inputs, targets).backward()
    with torch.no_grad():
        for w in weights:
            w -= LEARNING_RATE * w.grad


def torch_numbers(weights: list, inputs: Any, targets: Any) -> list[float]:
    """The loss and every gradient, in tracegrad's parameter order."""
    import torch

    for w in weights:
        w.grad = None
    loss = torch_loss(weights, inputs, targets)
    loss.backward()
    grads = []
    for k in range(0, len(weights), 2):
        rows = torch.cat([weights[k].grad, weights[k + 1].grad[:, None]], dim=1)
        grads += rows.flatten().tolist()
    return [loss.item(), *grads]


def one_point_program(model: nn.MLP, point: list[float], target: int) -> autodiff.Program:
    """One point's loss with the L2 term, what plain_loss_and_grads computes for one point."""

    def loss(*parameters: Value) -> Value:
        return nn.hinge(model(point), target) + L2 * autodiff.sum([p * p for p in parameters])

    return autodiff.record(loss, *model.parameters())


def bench_replay(quick: bool) -> None:
    print("\n## 6. The trace as a program: record one point's loss, replay it over the batch")
    print(
        "The demo step of section 2 (tanh, two moons, 100 points, hinge + 1e-4 Σp², SGD) three\n"
        "ways: the graph built for every point; autodiff.record of one point's loss (parameters,\n"
        "x, t as inputs) replayed over numpy arrays of the 100 points, plus the recorded L2 term;\n"
        "PyTorch on the same float64 matrices, when installed. Then one point on floats: the\n"
        "recorded program replayed against the hand-written plain-float loss and gradient."
    )
    points, targets = two_moons()
    model = nn.MLP(2, SIZES, activation="tanh", seed=0)
    values = [p.data for p in model.parameters()]
    numpy = importlib.import_module("numpy")
    columns = [numpy.array([x[0] for x in points]), numpy.array([x[1] for x in points])]
    columns.append(numpy.array(targets, dtype=float))
    point, penalty = point_program(model), penalty_program(model)

    # Check first: the replay, the graph and PyTorch give the same loss and gradients.
    graph = tracegrad_loss(model, points, targets)
    model.zero_grad()
    graph.backward()
    graph_numbers = [graph.data, *(p.grad for p in model.parameters())]
    loss, grads = replay_loss_and_grads(point, penalty, values, columns)
    assert_close("replay over the batch vs graph", [loss, *grads], graph_numbers)
    print("Checked first: the replay's loss and all 337 gradients agree with the graph's.")
    runs = 3 if quick else 15
    optimiser = nn.SGD(model.parameters(), lr=LEARNING_RATE)
    replay = functools.partial(replay_step, point, penalty, values, columns)
    ms = {
        "graph, per point": median_step_ms(
            functools.partial(tracegrad_step, model, optimiser, points, targets), runs
        ),
        "replay over the batch": median_step_ms(replay, 10 * runs),
    }
    # NOTE: PyTorch is imported after the graph is timed: its many objects slow the collector's
    # passes over a live graph. The replay is timed again beside it.
    try:
        torch = importlib.import_module("torch")
    except ImportError:
        torch = None
    if torch is not None:
        inputs = torch.tensor(points, dtype=torch.float64)
        labels_tensor = torch.tensor(targets, dtype=torch.float64)
        weights = torch_model(values)
        loss, grads = replay_loss_and_grads(point, penalty, values, columns)
        assert_close(
            "torch vs replay", torch_numbers(weights, inputs, labels_tensor), [loss, *grads]
        )
        print(f"Checked: PyTorch {torch.__version__} gives the same loss and gradients.")
        torch_step_ = functools.partial(torch_step, weights, inputs, labels_tensor)
        ms["PyTorch float64"] = median_step_ms(torch_step_, 10 * runs)
        ms["replay, beside PyTorch"] = median_step_ms(replay, 10 * runs)
    rows = [
        [name, f"{time:.3f}", f"{ms['graph, per point'] / time:.1f}x"] for name, time in ms.items()
    ]
    if torch is not None:
        ratio = ms["replay, beside PyTorch"] / ms["PyTorch float64"]
        rows.append(["replay / PyTorch", f"{ratio:.1f}x", ""])
    print_table("Median ms per training step:", ["step", "ms", "graph / this"], rows)
    print("Targets: replay >= 10x faster than the graph; replay <= 3x PyTorch's step.")

    # One point on floats: the recorded program against Algorithm 8.1 by hand.
    layers = plain_layers(values, 2)
    n = next(k for k, (x, t) in enumerate(zip(points, targets)) if 1 - t * model(x).data > 0)
    program = one_point_program(model, points[n], targets[n])
    plain_loss, plain_grads = plain_loss_and_grads(layers, "tanh", [points[n]], [targets[n]])
    replay_value, replay_grads = program.value_and_grad(*values)
    assert_close(
        "one point: replay vs plain",
        [replay_value, *replay_grads],
        [plain_loss, *flatten(plain_grads)],
    )
    work = {
        "plain floats by hand": functools.partial(
            plain_loss_and_grads, layers, "tanh", [points[n]], [targets[n]]
        ),
        "replay on floats": functools.partial(program.value_and_grad, *values),
    }
    us = {name: median_seconds(call, runs * 20) * 1e6 for name, call in work.items()}
    print(f"Checked first: point {n} (hinge active) gives the same loss and gradient both ways.")
    print_table(
        "Median µs for one point's loss and gradient (with the L2 term):",
        ["code", "µs", "this / plain"],
        [[name, f"{t:.1f}", f"{t / us['plain floats by hand']:.2f}x"] for name, t in us.items()],
    )
    print("Target: replay on floats <= 1.5x the plain floats.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes and fewer runs")
    quick = parser.parse_args().quick
    print("# tracegrad benchmark")
    print(
        f"Python {platform.python_version()} on {platform.machine()}, {platform.system()}, "
        f"micrograd {MICROGRAD_VERSION}, cyclic garbage collector "
        f"{'on' if gc.isenabled() else 'OFF'}; medians of repeated runs."
    )
    if MICROGRAD_VERSION != "0.1.0":
        print(f"NOTE: the comparison is meant for micrograd 0.1.0, not {MICROGRAD_VERSION}.")
    bench_chain(quick)
    bench_constants(quick)
    bench_demo_step(quick)
    bench_micrograd_style_step(quick)
    bench_hvp(quick)
    bench_replay(quick)


if __name__ == "__main__":
    main()
