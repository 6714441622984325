"""The evaluation trace: Bishop's example row by row, tangents, adjoints, three renderings."""

import html.parser
import math
import xml.etree.ElementTree as ET

import pytest
from examples import bishop_trace
from hypothesis import given, settings
from hypothesis import strategies as st

import autodiff
from autodiff import Value, ops, trace
from autodiff.ops import BINARY, UNARY
from autodiff.value import adjoints

POINTS = [(1.5, 0.5), (-0.7, 2.0), (0.3, -1.2)]


def bishop(x1_value, x2_value):
    x1, x2, *_, v7 = bishop_trace(x1_value, x2_value)
    return x1, x2, v7


@pytest.mark.parametrize("point", POINTS)
def test_bishop_example_has_his_seven_rows_and_primal_values(point):
    a, b = point
    x1, x2, f = bishop(a, b)
    rows = trace(f).rows
    assert [row.name for row in rows] == [f"v{k}" for k in range(1, 8)]
    assert [row.equation for row in rows] == [
        "v1 = x1",
        "v2 = x2",
        "v3 = v1 * v2",
        "v4 = sin(v2)",
        "v5 = exp(v3)",
        "v6 = v3 - v4",
        "v7 = v5 + v6",
    ]
    assert rows[0].node is x1 and rows[1].node is x2 and rows[6].node is f
    closed = [a, b, a * b, math.sin(b), math.exp(a * b), a * b - math.sin(b)]
    closed.append(math.exp(a * b) + a * b - math.sin(b))  # (8.49)
    assert [row.value for row in rows] == pytest.approx(closed, rel=1e-14)


@pytest.mark.parametrize("point", POINTS)
def test_bishop_tangents_match_equations_8_58_to_8_64(point):
    a, b = point
    x1, x2, f = bishop(a, b)
    e = math.exp(a * b)
    seed_x1 = [1, 0, b, 0, b * e, b, b * e + b]  # v̇_i = ∂v_i/∂x1
    seed_x2 = [0, 1, a, math.cos(b), a * e, a - math.cos(b), a * e + a - math.cos(b)]
    assert [row.tangent for row in trace(f, wrt=x1).rows] == pytest.approx(seed_x1, rel=1e-13)
    assert [row.tangent for row in trace(f, wrt=x2).rows] == pytest.approx(seed_x2, rel=1e-13)


@pytest.mark.parametrize("point", POINTS)
def test_bishop_adjoints_match_the_reverse_equations(point):
    a, b = point
    _, _, f = bishop(a, b)
    f.backward()
    e = math.exp(a * b)
    # v̄7 = 1, v̄6 = v̄5 = v̄7, v̄4 = -v̄6, v̄3 = v̄5 v5 + v̄6, v̄2 = v̄3 v1 + v̄4 cos v2, v̄1 = v̄3 v2
    v3_bar = e + 1
    closed = [v3_bar * b, v3_bar * a - math.cos(b), v3_bar, -1, 1, 1, 1]
    assert [row.adjoint for row in trace(f).rows] == pytest.approx(closed, rel=1e-13)


@pytest.mark.parametrize("point", POINTS)
def test_forward_tangent_of_output_equals_reverse_adjoint_of_input(point):
    x1, x2, f = bishop(*point)
    f.backward()
    assert trace(f, wrt=x1).rows[-1].tangent == pytest.approx(x1.grad, rel=1e-13)
    assert trace(f, wrt=x2).rows[-1].tangent == pytest.approx(x2.grad, rel=1e-13)


def test_without_wrt_there_is_no_tangent_and_before_backward_adjoints_are_zero():
    _, _, f = bishop(1.5, 0.5)
    rows = trace(f).rows
    assert all(row.tangent is None for row in rows)
    assert all(row.adjoint == 0.0 for row in rows)
    assert "tangent" not in str(trace(f))


def test_direction_seed_gives_the_directional_derivative():
    x1, x2, f = bishop(1.5, 0.5)
    f.backward()
    rows = trace(f, wrt={x1: 0.3, x2: -2.0}).rows  # Bishop's ẋ = r: one pass gives J r
    assert rows[-1].tangent == pytest.approx(0.3 * x1.grad - 2.0 * x2.grad, rel=1e-13)


def test_seed_at_an_intermediate_node_counts_only_paths_through_it():
    _, _, f = bishop(1.5, 0.5)
    v3 = f.parents[0].parents[0]  # v5 = exp(v3)
    f.backward()
    rows = trace(f, wrt=v3).rows
    assert [row.tangent for row in rows[:3]] == [0.0, 0.0, 1.0]
    assert rows[-1].tangent == pytest.approx(v3.grad, rel=1e-13)


def test_wrt_outside_the_graph_gives_zero_tangents_and_says_so():
    _, _, f = bishop(1.5, 0.5)
    stranger = Value(3.0, label="stranger")
    table = trace(f, wrt=stranger)
    assert [row.tangent for row in table.rows] == [0.0] * 7
    assert "not in this graph" in str(table)
    empty = trace(f, wrt={})  # no seed at all
    assert [row.tangent for row in empty.rows] == [0.0] * 7
    assert empty.caption.endswith("; tangents: every input 0")


@pytest.mark.parametrize("bad", [1.0, "x1", [Value(1.0)], {Value(1.0): "one"}, {1.0: 1.0}])
def test_bad_wrt_is_a_type_error(bad):
    _, _, f = bishop(1.5, 0.5)
    with pytest.raises(TypeError, match="wrt"):
        trace(f, wrt=bad)


def test_trace_of_a_non_value_is_a_type_error():
    with pytest.raises(TypeError, match="float"):
        trace(2.0)


def test_constants_are_folded_into_equations_not_rows():
    x = Value(2.0, label="x")
    assert [row.equation for row in trace(x + 2).rows] == ["v1 = x", "v2 = v1 + 2"]
    assert trace(2 - x).rows[-1].equation == "v2 = 2 - v1"
    assert trace(x * -3.5).rows[-1].equation == "v2 = v1 * (-3.5)"
    assert trace(x**2).rows[-1].equation == "v2 = v1 ** 2"
    assert trace(-x).rows[-1].equation == "v2 = -v1"


def test_same_parent_twice_is_written_twice():
    x = Value(3.0)
    rows = trace(x * x, wrt=x).rows
    assert rows[-1].equation == "v2 = v1 * v1"
    assert rows[-1].tangent == pytest.approx(6.0)  # each occurrence counts


def test_unlabelled_leaf_shows_its_value_and_labelled_node_shows_label_beside_name():
    x = Value(1.25)
    y = (x * 2).exp()
    y.label = "out"
    table = trace(y)
    assert table.rows[0].equation == "v1 = 1.25"
    assert "v3 (out)" in str(table)
    assert "v3 (out)" in table._repr_html_()
    assert table.rows[2].label == "out"


def test_dot_and_sum_are_written_out():
    w1, w2, z1, z2 = Value(0.5), Value(-1.0), Value(2.0), Value(3.0)
    a = autodiff.dot([w1, w2], [z1, z2], 0.1)
    assert trace(a).rows[-1].equation == "v5 = v1*v3 + v2*v4 + 0.1"
    assert trace(autodiff.dot([w1, w2], [z1, 4.0])).rows[-1].equation == "v4 = v1*v3 + v2*4"
    b = Value(0.25)
    with_bias = autodiff.dot([w1], [z1], b)
    assert trace(with_bias).rows[-1].equation == "v4 = v1*v2 + v3"
    total = autodiff.sum([w1, z1, 5.0])
    assert trace(total).rows[-1].equation == "v3 = v1 + v2 + 5"


def test_dot_tangent_uses_the_recorded_local_derivatives():
    w, z = Value(0.5), Value(-2.0)
    a = autodiff.dot([w], [z], 0.1)
    assert trace(a, wrt=w).rows[-1].tangent == -2.0  # ∂a/∂w = z
    assert trace(a, wrt=z).rows[-1].tangent == 0.5  # ∂a/∂z = w


def test_custom_op_row_uses_its_name_and_its_local_derivatives():
    x = Value(0.4, label="x")
    erf = Value(
        math.erf(x.data),
        parents=(x,),
        local_grads=(2 / math.sqrt(math.pi) * math.exp(-0.16),),
        op="erf",
    )
    rows = trace(erf, wrt=x).rows
    assert rows[-1].equation == "v2 = erf(v1)"
    assert rows[-1].tangent == pytest.approx(2 / math.sqrt(math.pi) * math.exp(-0.16), rel=1e-15)
    assert r"\text{erf}\left(v_{1}\right)" in trace(erf).to_latex()


def operands_for(prim):
    """Two Values for a binary primitive, one for a unary one, inside every domain."""
    if prim in BINARY:
        return (Value(0.7), Value(1.3))
    return (Value(1.3 if prim is ops.ACOSH else 0.7),)


@pytest.mark.parametrize("prim", [*UNARY, *BINARY], ids=lambda p: p.name)
def test_every_primitive_is_written_in_its_table_notation(prim):
    operands = operands_for(prim)
    names = [f"v{k}" for k in range(1, len(operands) + 1)]
    row = trace(Value._apply(prim, operands)).rows[-1]
    assert row.equation == f"v{len(operands) + 1} = " + prim.notation.format(*names)


LATEX = {
    "+": "v_{1} + v_{2}",
    "-": "v_{1} - v_{2}",
    "*": "v_{1} v_{2}",
    "/": r"\frac{v_{1}}{v_{2}}",
    "**": "v_{1}^{v_{2}}",
    "neg": "-v_{1}",
    "pos": "+v_{1}",
    "abs": r"\left|v_{1}\right|",
    "exp": r"\exp\left(v_{1}\right)",
    "log": r"\ln\left(v_{1}\right)",
    "sin": r"\sin\left(v_{1}\right)",
    "cos": r"\cos\left(v_{1}\right)",
    "tanh": r"\tanh\left(v_{1}\right)",
    "sigmoid": r"\sigma\left(v_{1}\right)",
    "relu": r"\mathrm{ReLU}\left(v_{1}\right)",
    "softplus": r"\mathrm{softplus}\left(v_{1}\right)",
    "sqrt": r"\sqrt{v_{1}}",
    "tan": r"\tan\left(v_{1}\right)",
    "sinh": r"\sinh\left(v_{1}\right)",
    "cosh": r"\cosh\left(v_{1}\right)",
    "asin": r"\arcsin\left(v_{1}\right)",
    "acos": r"\arccos\left(v_{1}\right)",
    "atan": r"\arctan\left(v_{1}\right)",
    "asinh": r"\mathrm{arsinh}\left(v_{1}\right)",
    "acosh": r"\mathrm{arcosh}\left(v_{1}\right)",
    "atanh": r"\mathrm{artanh}\left(v_{1}\right)",
    "log1p": r"\ln\left(1 + v_{1}\right)",
    "expm1": r"\left(e^{v_{1}} - 1\right)",
    "log2": r"\log_{2}\left(v_{1}\right)",
    "log10": r"\log_{10}\left(v_{1}\right)",
    "erf": r"\mathrm{erf}\left(v_{1}\right)",
    "sign": r"\mathrm{sgn}\left(v_{1}\right)",
    "%": r"v_{1} \bmod v_{2}",
    "maximum": r"\max\left(v_{1}, v_{2}\right)",
    "minimum": r"\min\left(v_{1}, v_{2}\right)",
}


@pytest.mark.parametrize("prim", [*UNARY, *BINARY], ids=lambda p: p.name)
def test_latex_form_of_every_primitive(prim):
    operands = operands_for(prim)
    node = Value._apply(prim, operands)
    name = f"v_{{{len(operands) + 1}}}"
    assert f"{name} = {LATEX[prim.name]} &" in trace(node).to_latex()


def test_tangents_skip_zero_seeds_through_infinite_local_derivatives():
    x, y = Value(0.0), Value(2.0)
    root = x.sqrt()  # ∂/∂x = inf at 0
    out = root + y
    assert trace(out, wrt=y).rows[-1].tangent == 1.0  # not nan: 0 · inf is left out, as Dual does


# --- forward over the recorded graph agrees with reverse mode on random graphs --------------

OPERATIONS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "tanh": lambda a, b: a.tanh(),
    "sin": lambda a, b: a.sin(),
    "sigmoid": lambda a, b: a.sigmoid(),
    "add_const": lambda a, b: a + 0.5,
}


@st.composite
def random_graphs(draw):
    leaves = [Value(draw(st.floats(-2, 2)), label=f"x{k}") for k in range(3)]
    nodes = list(leaves)
    for _ in range(draw(st.integers(1, 12))):
        name = draw(st.sampled_from(sorted(OPERATIONS)))
        a = nodes[draw(st.integers(0, len(nodes) - 1))]  # operands reuse earlier nodes: shared
        b = nodes[draw(st.integers(0, len(nodes) - 1))]  # subexpressions and fan-out
        nodes.append(OPERATIONS[name](a, b))
    return leaves, nodes[-1]


@settings(max_examples=60, deadline=None)
@given(random_graphs())
def test_trace_tangents_equal_reverse_adjoints_on_random_graphs(graph):
    leaves, output = graph
    reverse = adjoints(output)
    for leaf in leaves:
        tangent = trace(output, wrt=leaf).rows[-1].tangent
        assert tangent == pytest.approx(reverse.get(leaf, 0.0), rel=1e-9, abs=1e-12)


# --- renderings ------------------------------------------------------------------------------


def test_text_table_has_every_row_aligned():
    x1, _, f = bishop(1.5, 0.5)
    f.backward()
    text = str(trace(f, wrt=x1))
    lines = text.splitlines()
    assert len(lines) == 1 + 1 + 7  # caption, header, rows
    assert lines[1].split() == ["node", "equation", "value", "tangent", "adjoint"]
    for row, line in zip(trace(f).rows, lines[2:], strict=True):
        assert line.startswith(row.name)
        assert row.equation in line
    assert len({len(line) for line in lines[1:]}) == 1  # right-aligned numbers end together
    assert "3.117" in text and "1.5585" in text


def test_repr_is_the_text_table_so_a_repl_shows_the_trace():
    x1, _, f = bishop(1.5, 0.5)
    table = trace(f, wrt=x1)
    assert repr(table) == str(table)
    assert repr(table).splitlines()[-1].startswith("v7")


def test_text_table_columns_hold_value_tangent_and_adjoint_in_that_order():
    x1, x2, f = bishop(1.5, 0.5)
    f.label = "f"
    f.backward()
    table = trace(f, wrt={x1: 0.3, x2: -2.0})
    lines = str(table).splitlines()
    assert lines[0] == (
        "evaluation trace of v7 (f); tangents: v̇1 = 0.3, v̇2 = -2, every other input 0"
    )
    for row, line in zip(table.rows, lines[2:], strict=True):
        cells = line.split()[-3:]
        assert [float(cell) for cell in cells] == pytest.approx(
            [row.value, row.tangent, row.adjoint], rel=1e-5
        )
    # v7: the value (8.49), the directional derivative 0.3 ∂f/∂x1 - 2 ∂f/∂x2, and v̄7 = 1.
    e = math.exp(0.75)
    tangent = 0.3 * (0.5 * e + 0.5) - 2.0 * (1.5 * e + 1.5 - math.cos(0.5))
    assert [float(cell) for cell in lines[-1].split()[-3:]] == pytest.approx(
        [e + 0.75 - math.sin(0.5), tangent, 1.0], rel=1e-5
    )


def test_html_table_is_well_formed_with_every_row():
    _, x2, f = bishop(1.5, 0.5)
    f.backward()
    markup = trace(f, wrt=x2)._repr_html_()
    root = ET.fromstring(markup)
    body_rows = root.find("tbody").findall("tr")
    assert len(body_rows) == 7
    assert body_rows[2][1].find("code").text == "v3 = v1 * v2"
    assert [th.text for th in root.find("thead").iter("th")][-2:] == ["tangent v̇", "adjoint v̄"]


HOSTILE = ['"', "\\", '\\\\"', "<b>", "]]>", "{|}", "a\nb", "\\l", "ünï∂😀", "&amp;", "x" * 300]


@pytest.mark.parametrize("label", HOSTILE)
def test_html_escapes_hostile_labels(label):
    x = Value(1.0, label=label)
    y = x.exp()
    y.label = label
    markup = trace(y)._repr_html_()
    ET.fromstring(markup)  # still one well-formed table

    class Text(html.parser.HTMLParser):
        def __init__(self):
            super().__init__()
            self.chunks = []

        def handle_data(self, data):
            self.chunks.append(data)

    parser = Text()
    parser.feed(markup)
    shown = "".join(parser.chunks)
    assert label.replace("\n", "\\n") in shown  # the text is shown as text, not as markup


@pytest.mark.parametrize("label", HOSTILE)
def test_text_table_keeps_one_line_per_row_for_hostile_labels(label):
    x = Value(1.0, label=label)
    assert len(str(trace(x.exp())).splitlines()) == 2 + 2


def test_latex_is_in_bishops_notation_with_every_row():
    x1, _, f = bishop(1.5, 0.5)
    f.backward()
    latex = trace(f, wrt=x1).to_latex()
    for equation in [
        "v_{1} = x_{1}",
        "v_{2} = x_{2}",
        "v_{3} = v_{1} v_{2}",
        r"v_{4} = \sin\left(v_{2}\right)",
        r"v_{5} = \exp\left(v_{3}\right)",
        "v_{6} = v_{3} - v_{4}",
        "v_{7} = v_{5} + v_{6}",
    ]:
        assert equation in latex
    assert r"\dot{v}_i" in latex and r"\bar{v}_i" in latex
    assert latex.startswith(r"\begin{array}{llrrr}") and latex.endswith(r"\end{array}")
    assert latex.count(r" \\") == 1 + 7


def test_latex_dot_writes_each_weight_before_its_input():
    w1, w2, z1, b = Value(0.5), Value(-1.0), Value(2.0), Value(0.25, label="b")
    latex = trace(autodiff.dot([w1, w2], [z1, 4.0], b)).to_latex()
    assert r"v_{5} = v_{1} v_{3} + v_{2} \cdot 4 + v_{4} &" in latex
    assert r"v_{4}\;(b) & v_{4} = b &" in latex  # a one-letter label is a symbol, as x_{1} is


def test_latex_escapes_special_characters_in_labels_and_numbers():
    x = Value(1e-7, label="50% & $x_1 {#} ~^\\")
    y = x * 2.0
    latex = trace(y).to_latex()
    escaped = r"\text{50\% \& \$x\_1 \{\#\} \textasciitilde{}\textasciicircum{}\textbackslash{}}"
    assert f"v_{{1}} = {escaped}" in latex
    assert r"v_{2} = v_{1} \cdot 2" in latex
    assert r"1 \times 10^{-7}" in latex


def test_latex_numbers_for_infinity_and_nan():
    x = Value(math.inf, label="x")
    y = x - math.inf  # inf - inf = nan
    latex = trace(y).to_latex()
    assert r"\infty" in latex and r"\text{nan}" in latex


def test_an_odd_max_rows_shows_one_more_row_from_the_start_than_from_the_end():
    x = Value(0.0, label="x")
    table = autodiff.trace(autodiff.relu(autodiff.sqrt(x) - 1.0), max_rows=3)
    lines = str(table).splitlines()[2:]  # after the caption and the header
    assert [line.split()[0] for line in lines] == ["v1", "v2", "...", "v4"]
    assert "1 row not shown" in lines[2]
