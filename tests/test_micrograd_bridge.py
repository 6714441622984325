"""micrograd's lecture code runs on tracegrad Values: `_prev`, `_op` and `_backward()`.

The walks below are written the way micrograd's lecture writes them (a recursive topological sort,
then `_backward()` in reverse; a drawing that reads `_prev` and `_op`), and must give the engine's
own numbers.
"""

import math

import pytest

from autodiff import Value, dot


def lecture_topological_order(root):
    order, visited = [], set()

    def build(v):
        if v not in visited:
            visited.add(v)
            for child in v._prev:
                build(child)
            order.append(v)

    build(root)
    return order


def lecture_backward(root):
    root.grad = 1.0
    for node in reversed(lecture_topological_order(root)):
        node._backward()


def lecture_draw(root):
    import graphviz

    graph = graphviz.Digraph(graph_attr={"rankdir": "LR"})
    for node in lecture_topological_order(root):
        uid = str(id(node))
        graph.node(uid, f"{{ data {node.data:.4f} | grad {node.grad:.4f} }}", shape="record")
        if node._op:
            graph.node(uid + node._op, node._op)
            graph.edge(uid + node._op, uid)
        for child in node._prev:
            graph.edge(str(id(child)), uid + node._op)
    return graph


def bishop():
    x1, x2 = Value(1.5, label="x1"), Value(0.5, label="x2")
    return x1 * x2 + (x1 * x2).exp() - x2.sin(), (x1, x2)


def test_prev_and_op_are_the_parents_and_the_op():
    x = Value(2.0)
    y = x * x + 3
    assert y._prev == y.parents and y._prev[0]._prev == (x, x)
    assert y._op == "+ 3" and x._op == ""


@pytest.mark.parametrize(
    "build",
    [
        bishop,
        lambda: ((lambda a: (a + a) * a)(Value(3.0)), ()),
        lambda: ((lambda w, x: dot([w, w], [x, 2.0], 1.0).tanh())(Value(0.3), Value(-0.7)), ()),
    ],
)
def test_the_lectures_backward_gives_the_engines_adjoints(build):
    f, _ = build()
    order = lecture_topological_order(f)
    lecture_backward(f)
    by_lecture = [node.grad for node in order]
    f.zero_grad()
    f.backward()
    assert by_lecture == pytest.approx([node.grad for node in order], rel=1e-12)


def test_backward_step_adds_adjoint_times_local_derivative_into_each_parent():
    x1, x2 = Value(1.5), Value(0.5)
    v3 = x1 * x2
    v3.grad = 2.0
    x1.grad = 10.0
    v3._backward()
    assert (x1.grad, x2.grad) == (10.0 + 2.0 * 0.5, 2.0 * 1.5)
    v3.grad = 0.0
    v3._backward()  # a zero adjoint passes nothing on
    assert (x1.grad, x2.grad) == (11.0, 3.0)


def test_the_lectures_neuron_gives_its_numbers():
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    o = (x1 * w1 + x2 * w2 + b).tanh()
    lecture_backward(o)
    assert o.data == pytest.approx(math.sqrt(0.5))
    assert [x1.grad, w1.grad, x2.grad, w2.grad] == pytest.approx([-1.5, 1.0, 0.5, 0.0])


def test_the_lectures_drawing_reads_prev_and_op():
    f, _ = bishop()
    f.backward()
    graph = lecture_draw(f)
    assert graph.pipe(format="svg").decode().count("grad") == 8  # x1, x2 and six results
    for op in ("*", "exp", "sin", "+", "-"):
        assert f"label={op}" in graph.source or f'label="{op}"' in graph.source
