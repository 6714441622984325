"""explain(node): one node's chain rule with its numbers, checked against the engine's own."""

import math

import pytest
from examples import bishop_trace
from hypothesis import given, settings
from hypothesis import strategies as st

import autodiff as ad
from autodiff import Value, explain


def bishop():
    nodes = bishop_trace()
    nodes[-1].backward()
    return nodes


def test_bishops_v3_is_two_terms_one_per_child():
    _, _, v3, _, v5, _, _ = bishop()
    e = explain(v3)
    assert [t.other for t in e.terms] == ["v5", "v6"]
    assert [t.local for t in e.terms] == [v5.data, 1.0]  # ∂v5/∂v3 = exp(v3), ∂v6/∂v3 = 1
    assert [t.factor for t in e.terms] == [1.0, 1.0]
    assert e.total == v3.grad
    assert str(e).splitlines()[0] == (
        "v̄3 = v̄5 ∂v5/∂v3 + v̄6 ∂v6/∂v3 = 1 × 2.117 + 1 × 1 = 3.117   (8.69)"
    )
    assert "v5 = exp(v3)" in str(e) and "v6 = v3 - v4" in str(e)


def test_negative_factors_are_bracketed_and_latex_uses_bishops_notation():
    _, x2, *_ = bishop()
    e = explain(x2)
    assert "= 3.117 × 1.5 + (-1) × 0.8776 = 3.798" in str(e)
    latex = e.to_latex()
    assert latex.startswith(r"\bar{v}_{2} = \bar{v}_{3} \frac{\partial v_{3}}{\partial v_{2}}")
    assert latex.endswith(r"= 3.117 \times 1.5 + (-1) \times 0.8776 = 3.798\qquad (8.69)")


def test_the_output_is_the_seed():
    *_, f = bishop()
    e = explain(f)
    assert e.terms == [] and e.total == 1.0 and e.equation_number == "(8.68)"
    assert str(e) == "v̄7 = 1   (the seed of backward(): ∂f/∂f) (8.68)"


def test_a_repeated_parent_gives_one_term_per_occurrence():
    x = Value(3.0, label="x")
    y = x * x
    y.backward()
    e = explain(x)
    assert len(e.terms) == 2 and [t.operand for t in e.terms] == [1, 2]
    assert "(operand 1)" in str(e) and "(operand 2)" in str(e)
    assert e.total == x.grad == 6.0


def test_the_terms_are_added_in_backwards_order_so_the_total_is_the_grad_bit_for_bit():
    x = Value(1.0, label="x")
    y = x * 0.1 + x * 0.2 + x * 0.3
    y.backward()
    # 0.3 + 0.2 + 0.1 is 0.6, but 0.1 + 0.2 + 0.3 is 0.6000000000000001
    assert explain(x).total == x.grad == 0.6
    # Within one child the operands go in order: x - x sends 1 then -1 (found by hypothesis)
    x = Value(0.3, label="x")
    y = (x - x).exp() + (x * 0.7).sin()
    y.backward()
    assert explain(x).total == x.grad == 0.6846216403069039


def test_html_escapes_and_shows_the_sum():
    _, _, v3, *_ = bishop()
    page = explain(v3)._repr_html_()
    assert "<b>3.117</b>" in page and "v5 = exp(v3)" in page
    x = Value(1.0, label="<script>")
    y = x.exp()
    y.backward()
    assert "<script>" not in explain(x)._repr_html_()


def test_tangent_is_the_sum_over_parents_with_trace_names():
    x1, x2, v3, v4, v5, v6, f = bishop()
    e = explain(v6, wrt=x1)
    assert e.name == "v6" and [t.other for t in e.terms] == ["v3", "v4"]  # named as in trace(f)
    assert e.equation_number == "(8.57)"
    tangents = {row.node: row.tangent for row in ad.trace(f, wrt=x1).rows}
    for node in (v3, v4, v5, v6, f):
        assert explain(node, wrt=x1).total == tangents[node]
    assert str(explain(x1, wrt=x1)) == "v̇1 = 1   (the seed) (8.57)"
    assert str(explain(x2, wrt=x1)) == "v̇2 = 0   (an input not seeded) (8.57)"
    assert explain(v3, wrt=x1).to_latex().startswith(r"\dot{v}_{3} = \dot{v}_{1} \frac")


def test_output_can_be_given_and_must_contain_the_node():
    _, _, v3, *_ = bishop()
    g = v3 * 2.0  # a second graph through v3; backward() was last called on f
    assert explain(v3, output=g).total == 0.0  # g's backward has not run: v̄ of g is 0
    g.backward()
    assert explain(v3).terms[0].other == "v4" and explain(v3).total == 2.0
    with pytest.raises(ValueError, match="not in the graph"):
        explain(Value(1.0))
    with pytest.raises(TypeError):
        explain(1.0)
    with pytest.raises(TypeError):
        explain(v3, output=2.0)


def test_before_any_backward_in_a_fresh_thread_it_says_what_to_do():
    import threading

    errors = []

    def run():
        try:
            explain(Value(1.0))
        except ValueError as error:
            errors.append(str(error))

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert errors and "call backward() first" in errors[0]


OPERATIONS = {
    "add": lambda a, b: a + b,
    "mul": lambda a, b: a * b,
    "sub": lambda a, b: a - b,
    "tanh": lambda a, b: a.tanh(),
    "sin": lambda a, b: a.sin(),
    "sq": lambda a, b: a * a,
}


def random_graph(data):
    xs = [Value(data.draw(st.floats(-2, 2)), label=f"x{i}") for i in range(3)]
    nodes = list(xs)
    for _ in range(data.draw(st.integers(1, 12))):
        a, b = data.draw(st.sampled_from(nodes)), data.draw(st.sampled_from(nodes))
        op = data.draw(st.sampled_from(sorted(OPERATIONS)))
        nodes.append(OPERATIONS[op](a, b))
    return xs, nodes


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_terms_sum_to_the_engines_adjoint_and_tangent_on_random_graphs(data):
    xs, nodes = random_graph(data)
    output = nodes[-1]
    output.backward()
    tangents = {row.node: row.tangent for row in ad.trace(output, wrt=xs[0]).rows}
    for node in ad.trace(output).rows:
        e = explain(node.node)
        assert e.total == node.node.grad  # the same products added in the same order
        if not e.seed:
            assert math.fsum(t.value for t in e.terms) == pytest.approx(node.node.grad, abs=1e-12)
        t = explain(node.node, wrt=xs[0])
        assert t.total == tangents[node.node]
        if t.terms:
            assert math.fsum(term.value for term in t.terms) == pytest.approx(
                tangents[node.node], abs=1e-12
            )


def test_a_labelled_node_says_what_its_v_name_stands_for():
    # In a network v12 means nothing on its own: the note says it is the unit's a1[0].
    import nn

    model = nn.MLP(2, [2, 1], seed=1)
    error = nn.sse(model([0.3, -0.7]), 0.5)
    error.backward()
    a = model.layers[0].neurons[0].preactivation
    e = explain(a)
    name = e.name
    assert str(e).splitlines()[1] == f"  {name} is a1[0]"
    assert f"where {name} is a1[0]; " in e._repr_html_()
    _, x2, v3, *_ = bishop()
    assert str(explain(x2)).splitlines()[1] == "  v2 is x2"
    assert "is" not in str(explain(v3)).split("\n", 1)[1]  # no label, no note


def test_the_last_backward_output_is_not_kept_alive():
    # A training loop's previous graph must be freed while the next one is built.
    import gc
    import weakref

    x = Value(2.0, label="x")
    y = x * x
    y.backward()
    assert "= 4" in str(explain(x))
    last = weakref.ref(y)
    del y
    gc.collect()
    assert last() is None
    with pytest.raises(ValueError, match="call backward"):
        explain(x)
