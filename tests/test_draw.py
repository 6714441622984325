"""draw_dot and the backward step-through, rendered by Graphviz's real `dot` program."""

import math
import re
import shutil
import warnings
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from examples import bishop_trace

from autodiff import Value, backward_steps, draw_dot, draw_trace, show_backward
from autodiff import sum as ad_sum
from autodiff.draw import layout_size
from autodiff.value import adjoints

SVG = "{http://www.w3.org/2000/svg}"


def test_graphviz_dot_program_is_installed():
    assert shutil.which("dot"), "Graphviz's dot program is required (make install provides it)"


BOTH = {"show_local_grads": True, "show_messages": True}


def bishop():
    x1, x2, v3, *_, v7 = bishop_trace()
    return x1, x2, v3, v7


def svg_groups(digraph):
    """{title: text shown} for every node and edge group of the rendered SVG (parsed as XML)."""
    root = ET.fromstring(digraph.pipe(format="svg"))
    nodes, edges = {}, {}
    for group in root.iter(f"{SVG}g"):
        kind = group.get("class", "").split()
        if "node" in kind or "edge" in kind:
            text = " ".join(" ".join(t.text or "" for t in group.iter(f"{SVG}text")).split())
            (nodes if "node" in kind else edges)[group.find(f"{SVG}title").text] = text
    return nodes, edges


def value_groups(nodes):
    return {title: text for title, text in nodes.items() if re.fullmatch(r"v\d+", title)}


def test_name_and_label_are_parted_by_a_space_svg_viewers_keep():
    # SVG drops the leading plain space of a text run: "v1" then " x1" showed as "v1x1".
    *_, f = bishop()
    svg = draw_dot(f).pipe(format="svg").decode()
    assert ">\xa0x1</text>" in svg and "> x1</text>" not in svg


def test_svg_has_one_node_group_per_value_and_shows_the_numbers():
    *_, f = bishop()
    f.backward()
    nodes, edges = svg_groups(draw_dot(f))
    values = value_groups(nodes)
    assert sorted(values, key=lambda t: int(t[1:])) == [f"v{k}" for k in range(1, 8)]
    assert len(nodes) == 7 + 5  # and one op node per operation
    assert len(edges) == 5 + 8  # op -> result, and one edge per parent occurrence
    assert values["v1"].split() == ["v1", "x1", "data", "1.5", "grad", "1.559"]
    assert values["v3"].split() == ["v3", "data", "0.75", "grad", "3.117"]  # 4 significant digits
    assert values["v7"].split() == ["v7", "data", "2.388", "grad", "1"]
    assert [nodes[f"v{k}_op"] for k in range(3, 8)] == ["*", "sin", "exp", "-", "+"]


def test_edges_can_show_local_derivatives_and_backward_messages():
    _, _, v3, f = bishop()
    f.backward()
    _, edges = svg_groups(draw_dot(f, show_local_grads=True))
    assert edges["v1->v3_op"] == "∂v3/∂v1 = 0.5"
    assert edges["v2->v4_op"] == f"∂v4/∂v2 = {math.cos(0.5):.4g}"
    _, edges = svg_groups(draw_dot(f, show_messages=True))
    assert edges["v2->v3_op"] == f"v̄3·∂v3/∂v2 = {v3.grad * 1.5:.4g}"
    assert edges["v4->v6_op"] == "v̄6·∂v6/∂v4 = -1"
    _, edges = svg_groups(draw_dot(f, show_local_grads=True, show_messages=True))
    assert edges["v3->v5_op"] == f"∂v5/∂v3 = {math.exp(0.75):.4g} v̄5·∂v5/∂v3 = {math.exp(0.75):.4g}"
    _, edges = svg_groups(draw_dot(f))
    assert edges["v1->v3_op"] == ""


def test_each_op_node_points_to_its_result():
    *_, f = bishop()
    _, edges = svg_groups(draw_dot(f))
    assert {title for title in edges if "_op->" in title} == {f"v{k}_op->v{k}" for k in range(3, 8)}
    assert not any(re.fullmatch(r"v(\d+)->v\1_op", title) for title in edges)


def test_same_parent_twice_draws_two_edges():
    x = Value(3.0, label="x")
    source = draw_dot(x * x, show_local_grads=True).source
    assert source.count("v1 -> v2_op") == 2
    assert "∂v2/∂v1 (operand 1) = 3" in source and "∂v2/∂v1 (operand 2) = 3" in source
    # x / x: the two edges differ (1/x and -x/x²) and say which operand each one is
    ratio = draw_dot(x / x, show_local_grads=True).source
    assert "∂v2/∂v1 (operand 1) = 0.3333" in ratio and "∂v2/∂v1 (operand 2) = -0.3333" in ratio
    assert "(operand" not in draw_dot(x * 2, show_local_grads=True).source
    terms = draw_dot(ad_sum([2.0, x, x]), show_local_grads=True).source
    assert "(operand 2) = 1" in terms and "(operand 3) = 1" in terms
    # the messages too: two equal-looking labels on two edges read as a mistake
    ratio_node = x / x
    ratio_node.backward()
    messages = draw_dot(ratio_node, show_messages=True).source
    assert "v̄2·∂v2/∂v1 (operand 1) = 0.3333" in messages
    assert "v̄2·∂v2/∂v1 (operand 2) = -0.3333" in messages


def test_dot_text_is_identical_across_two_builds_of_the_same_expression():
    first = draw_dot(bishop()[3], show_local_grads=True, show_messages=True).source
    second = draw_dot(bishop()[3], show_local_grads=True, show_messages=True).source
    assert first == second
    assert "v1 [" in first  # ids are v-numbers, not creation serials


HOSTILE = [  # (label, the text the picture must show for it)
    ('"', '"'),
    ("\\", "\\"),
    ('\\\\"', '\\\\"'),
    ("<b>bold</b>", "<b>bold</b>"),
    ("]]>", "]]>"),
    ("{|}", "{|}"),
    ("a\nb", "a\\nb"),  # a newline is shown as the two characters \n
    ("\\l", "\\l"),
    ("ünïcödé ∂ 😀", "ünïcödé ∂ 😀"),
    ("", ""),
    ("&amp; &#x27; &lt;", "&amp; &#x27; &lt;"),
    ("<<>>", "<<>>"),
    ("label=x] [color=red", "label=x] [color=red"),
    ("\x00\x1b\x7f tab\there", "\\x00\\x1b\\x7f tab\\there"),
    ("\ud800", "\\ud800"),  # a lone surrogate cannot be written as UTF-8
    ("x" * 500, "x" * 47 + "…"),  # long labels are cut short
    ("\\N \\G \\E \\T \\H \\L", "\\N \\G \\E \\T \\H \\L"),  # Graphviz's own escapes, as text
    ("ends with \\", "ends with \\"),
]


@pytest.mark.parametrize(("label", "shown"), HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_labels_render_to_well_formed_svg_with_the_text_visible(label, shown):
    x = Value(2.0, label=label)
    custom = Value(4.0, parents=(x,), local_grads=(1.0,), op=label)  # a hostile op name too
    y = custom.tanh()
    y.label = label
    y.backward()
    nodes, _ = svg_groups(draw_dot(y, show_local_grads=True, show_messages=True, highlight=[x]))
    values = value_groups(nodes)
    assert len(values) == 3
    expected = f"v1 {shown} data 2 grad {1 - y.data**2:.4g}"
    assert values["v1"] == " ".join(expected.split())
    assert values["v3"] == " ".join(f"v3 {shown} data {y.data:.4g} grad 1".split())
    assert nodes["v2_op"] == (shown or "custom")


def test_rankdir_and_highlight():
    _, _, v3, f = bishop()
    source = draw_dot(f, rankdir="TB", highlight={v3}).source
    assert "rankdir=TB" in source
    highlighted = [line for line in source.splitlines() if "BGCOLOR" in line]
    assert len(highlighted) == 1 and highlighted[0].lstrip().startswith("v3 ")
    with pytest.raises(ValueError, match="rankdir"):
        draw_dot(f, rankdir="sideways")
    with pytest.raises(ValueError, match="not in this graph"):
        draw_dot(f, highlight=[Value(1.0)])
    with pytest.raises(TypeError, match="Value"):
        draw_dot(1.0)


def chain(length):
    x = Value(0.1, label="x")
    for _ in range(length - 1):
        x = x * 1.0001
    return x


def test_large_graph_warns_and_draws_a_summary_fast():
    big = chain(20_000)
    with pytest.warns(UserWarning, match="20000 nodes, more than max_nodes=500"):
        summary = draw_dot(big)
    nodes, _ = svg_groups(summary)
    assert set(nodes) == {"summary", "v20000"}
    assert "max_nodes=None" in nodes["summary"]


def test_a_step_of_a_large_graph_summarises_with_that_steps_adjoint():
    y = chain(3)
    with pytest.warns(UserWarning, match="3 nodes, more than max_nodes=1"):
        nodes, _ = svg_groups(next(backward_steps(y, seed=5.0)).graph(max_nodes=1))
    assert nodes["v3"].endswith("grad 5")  # the step's own adjoint, not the live .grad (0)
    assert y.grad == 0.0


def test_a_large_trace_figure_summarises_in_the_direction_asked_for():
    with pytest.warns(UserWarning, match="3 nodes, more than max_nodes=1"):
        summary = draw_trace(chain(3), rankdir="TB", max_nodes=1)
    assert set(svg_groups(summary)[0]) == {"summary", "v3"}
    assert summary.graph_attr["rankdir"] == "TB"  # it was always LR


def test_show_backward_of_a_large_graph_shows_one_summary_and_builds_no_steps(capsys):
    # Each step keeps every adjoint: the steps of N nodes would take memory ∝ N².
    # (600 nodes: without the guard this test fails in a second instead of filling memory)
    with pytest.warns(UserWarning, match="600 nodes, more than max_nodes=500") as caught:
        assert show_backward(chain(600), widget=False) is None
    assert len(caught) == 1
    assert "step" not in capsys.readouterr().out  # no step was printed or drawn


def test_highlight_takes_one_value_and_max_nodes_is_checked():
    _, _, v3, f = bishop()
    assert draw_dot(f, highlight=v3).source == draw_dot(f, highlight=[v3]).source
    for bad in (0, -1):
        with pytest.raises(ValueError, match="max_nodes must be a positive int or None"):
            draw_dot(f, max_nodes=bad)
    for bad in ("10", 2.5, True):  # a wrong type is a TypeError
        with pytest.raises(TypeError, match="max_nodes must be an int or None"):
            draw_dot(f, max_nodes=bad)
    for bad in (1.0, [1.0], "v3"):
        with pytest.raises(TypeError, match="highlight takes a Value or Values"):
            draw_dot(f, highlight=bad)
    assert "v3" in draw_dot(f, max_nodes=np.int64(10), highlight=(v3,)).source


def test_max_nodes_none_draws_everything():
    small = chain(30)
    with pytest.warns(UserWarning):
        draw_dot(small, max_nodes=10)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nodes, _ = svg_groups(draw_dot(small, max_nodes=None))
    assert len(value_groups(nodes)) == 30


def test_a_graph_of_exactly_max_nodes_is_drawn_whole():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nodes, _ = svg_groups(draw_dot(chain(10), max_nodes=10))
    assert len(value_groups(nodes)) == 10
    with pytest.warns(UserWarning, match="11 nodes, more than max_nodes=10"):
        draw_dot(chain(11), max_nodes=10)


def test_render_writes_a_file_and_jupyter_gets_svg(tmp_path):
    *_, f = bishop()
    graph = draw_dot(f)
    path = graph.render(tmp_path / "bishop", format="svg")
    ET.parse(path)
    assert "image/svg+xml" in graph._repr_mimebundle_()


# --- backward step by step -------------------------------------------------------------------


def test_backward_steps_visit_every_node_in_backward_order():
    x1, x2, v3, f = bishop()
    steps = list(backward_steps(f))
    assert len(steps) == 7
    assert [s.name for s in steps] == ["v7", "v6", "v5", "v4", "v3", "v2", "v1"]
    assert [s.number for s in steps] == list(range(1, 8)) and steps[0].total == 7
    at_v3 = steps[4]
    assert at_v3.node is v3
    assert [m.parent for m in at_v3.messages] == [x1, x2]
    assert [m.local_grad for m in at_v3.messages] == [0.5, 1.5]  # ∂v3/∂v1 = v2, ∂v3/∂v2 = v1
    assert at_v3.adjoint == pytest.approx(math.exp(0.75) + 1, rel=1e-14)
    assert [m.message for m in at_v3.messages] == pytest.approx(
        [0.5 * at_v3.adjoint, 1.5 * at_v3.adjoint], rel=1e-14
    )
    assert steps[-1].messages == ()  # an input passes nothing on


def test_backward_steps_final_adjoints_equal_backward_and_touch_no_grad():
    *_, f = bishop()
    steps = list(backward_steps(f))
    assert all(node.grad == 0.0 for node in steps[-1].order)
    f.backward()
    for node, adjoint in steps[-1].adjoints.items():
        assert adjoint == pytest.approx(node.grad, rel=1e-15, abs=0.0)


def test_zero_adjoint_sends_zero_through_an_infinite_local_derivative_as_backward_does():
    x, z = Value(0.0, label="x"), Value(2.0, label="z")
    out = x.sqrt() * 0.0 + z  # ∂sqrt(x)/∂x = inf at 0, but sqrt(x) does not affect out
    final = list(backward_steps(out))[-1].adjoints
    out.backward()
    assert final[x] == x.grad == 0.0 and final[z] == z.grad == 1.0
    assert "∂v3/∂v1 = inf<BR/>v̄3·∂v3/∂v1 = 0>" in draw_dot(out, **BOTH).source  # not nan


def test_backward_steps_seed_scales_every_adjoint():
    x1, x2, _, f = bishop()
    final = list(backward_steps(f, seed=2.5))[-1].adjoints
    f.backward()
    assert final[f] == 2.5
    assert [final[x1], final[x2]] == pytest.approx([2.5 * x1.grad, 2.5 * x2.grad], rel=1e-15)


def test_step_text_shows_the_product_each_parent_receives():
    *_, f = bishop()
    step = list(backward_steps(f))[4]  # v3 sends v̄3 ∂v3/∂v1 = v̄3 x2 and v̄3 ∂v3/∂v2 = v̄3 x1
    adjoint = math.exp(0.75) + 1
    assert str(step) == (
        f"step 5/7: v̄3 = {adjoint:.4g} is complete; "
        f"v̄1 += {adjoint:.4g} × 0.5 = {0.5 * adjoint:.4g}, "
        f"v̄2 += {adjoint:.4g} × 1.5 = {1.5 * adjoint:.4g}"
    )


def test_each_step_completes_the_adjoint_it_passes_on():
    x = Value(0.3, label="x")
    y = x * x + (x * 2).tanh()  # fan-out: x reaches the output along three paths
    final = adjoints(y)
    for step in backward_steps(y):
        assert step.adjoint == pytest.approx(final[step.node], rel=1e-14)


def test_step_graph_highlights_the_node_and_carries_its_messages():
    *_, f = bishop()
    step = list(backward_steps(f))[4]  # v3 passes v̄3 to v1 and v2
    nodes, edges = svg_groups(step.graph())
    assert "grad 3.117" in nodes["v3"]
    assert nodes["v1"] == f"v1 x1 data 1.5 grad {0.5 * step.adjoint:.4g}"  # message added
    before, _ = svg_groups(list(backward_steps(f))[3].graph())
    assert before["v1"] == "v1 x1 data 1.5 grad 0"  # one step earlier, nothing had reached v1
    assert edges["v1->v3_op"] == f"∂v3/∂v1 = 0.5 v̄3·∂v3/∂v1 = {0.5 * step.adjoint:.4g}"
    assert edges["v3->v5_op"] == ""  # only the current node's edges carry messages
    source = step.graph().source
    fills = dict(re.findall(r"^\s*(v\d+) .*BGCOLOR=\"(#\w+)\"", source, flags=re.M))
    assert fills["v3"] == "#ffe082"
    assert fills["v1"] == fills["v2"] == "#bbdefb"
    assert {fills[f"v{k}"] for k in (4, 5, 6, 7)} == {"#eeeeee"}


def test_step_trace_rows_show_the_adjoints_so_far():
    *_, f = bishop()
    steps = list(backward_steps(f))
    rows = steps[1].rows  # after v7 and v6 have passed theirs on
    assert [row.adjoint for row in rows] == [0.0, 0.0, 1.0, -1.0, 1.0, 1.0, 1.0]
    assert "step 2/7" in str(steps[1]) and "v̄3 += 1 × 1 = 1" in str(steps[1])
    assert "passes nothing on" in str(steps[-1])


def test_show_backward_without_widget_displays_every_step(capsys):
    *_, f = bishop()
    assert show_backward(f, widget=False) is None
    shown = capsys.readouterr().out
    assert all(f"step {k}/7" in shown for k in range(1, 8))


def test_show_backward_with_widget_has_a_slider_over_the_steps():
    *_, f = bishop()
    box = show_backward(f, widget=True)
    slider = box.children[0]
    assert (slider.min, slider.max, slider.value) == (1, 7, 1)
    slider.value = 5  # redraws without error


# --- fitting a slide, styles, constants ------------------------------------------------------


def aspect(digraph):
    width, height = layout_size(digraph)
    return width / height


def test_auto_layout_fits_every_shape_between_one_to_two_and_three_to_one():
    *_, f = bishop()
    f.backward()
    graphs = {
        "bishop": draw_dot(f),
        "messages": draw_dot(f, show_local_grads=True, show_messages=True),
        "compact": draw_dot(f, style="compact"),
        "chain of 40": draw_dot(chain(40)),
        "chain of 3": draw_dot(chain(3)),
        "wide sum": draw_dot(ad_sum([Value(float(k)) for k in range(12)])),
    }
    for name, graph in graphs.items():
        assert 0.5 <= aspect(graph) <= 3.0, name
    assert "rankdir=LR" in draw_dot(f, rankdir="LR").source  # a direction given is kept


def test_bishops_graph_is_readable_in_a_notebook_cell():
    # A cell is about 800 px = 600 pt wide; a wider SVG is scaled down and its 11 pt text with it.
    *_, f = bishop()
    width, _ = layout_size(draw_dot(f))
    assert width <= 600


def test_a_long_chain_wraps_into_rows_that_read_left_to_right():
    nodes, _ = svg_positions(draw_dot(chain(40)))
    rows = sorted({round(y) for _, y in nodes.values()})
    assert len(rows) >= 4
    first_row = [name for name, (_, y) in nodes.items() if round(y) == rows[0]]
    xs = [nodes[name][0] for name in sorted(first_row, key=lambda n: int(n[1:].split("_")[0]))]
    assert xs == sorted(xs)  # v1, v2, ... from left to right


def svg_positions(digraph):
    """{node title: (x, y)} of the first text of every node group."""
    root = ET.fromstring(digraph.pipe(format="svg"))
    positions = {}
    for group in root.iter(f"{SVG}g"):
        if group.get("class", "").split()[:1] == ["node"]:
            text = group.find(f"{SVG}text")
            positions[group.find(f"{SVG}title").text] = (float(text.get("x")), float(text.get("y")))
    return positions, root


def test_compact_style_stacks_name_data_and_grad():
    *_, f = bishop()
    f.backward()
    nodes, _ = svg_groups(draw_dot(f, style="compact"))
    assert nodes["v1"].split() == ["v1", "x1", "1.5", "grad", "1.559"]
    assert nodes["v3"].split() == ["v3", "0.75", "grad", "3.117"]


def test_a_negative_constant_reads_as_math_inline():
    y = Value(0.5, label="y")
    nodes, _ = svg_groups(draw_dot(y - (-1.0)))
    assert nodes["v2_op"] == "- (-1)"
    nodes, _ = svg_groups(draw_dot(2.0 - y))
    assert nodes["v2_op"] == "2 -"


def test_constants_as_nodes_draw_each_folded_number_as_a_small_leaf():
    y = Value(0.5, label="y")
    error = ((y - (-1.0)) ** 2) * 0.5
    nodes, edges = svg_groups(draw_dot(error, constants="nodes"))
    assert [nodes[f"v{k}_op"] for k in (2, 3, 4)] == ["-", "**", "*"]
    assert [nodes[f"v{k}_op_c0"] for k in (2, 3, 4)] == ["-1", "2", "0.5"]
    assert {"v2_op_c0->v2_op", "v3_op_c0->v3_op", "v4_op_c0->v4_op"} <= set(edges)
    assert len(value_groups(nodes)) == 4  # constants are not values of the trace


def test_constants_as_nodes_say_which_operand_they_are_where_the_order_matters():
    # 2 ** y and y ** 2 drew the same picture: an op with two edges in, no left or right.
    y = Value(0.5, label="y")
    _, edges = svg_groups(draw_dot(2.0**y, constants="nodes"))
    assert edges["v2_op_c0->v2_op"] == "operand 1"
    _, edges = svg_groups(draw_dot(y**2.0, constants="nodes"))
    assert edges["v2_op_c0->v2_op"] == "operand 2"
    _, edges = svg_groups(draw_dot(3.0 * y + 1.0, constants="nodes"))
    assert edges["v2_op_c0->v2_op"] == "" and edges["v3_op_c0->v3_op"] == ""  # 3 * y = y * 3


def test_bad_style_and_constants():
    *_, f = bishop()
    with pytest.raises(ValueError, match="style"):
        draw_dot(f, style="tiny")
    with pytest.raises(ValueError, match="constants"):
        draw_dot(f, constants="hidden")


# --- Bishop's trace figure -------------------------------------------------------------------


def test_trace_figure_has_a_circle_per_v_with_primal_tangent_and_adjoint():
    x1, *_, f = bishop()
    f.backward()
    figure = draw_trace(f, wrt=x1, adjoints=True)
    nodes, edges = svg_groups(figure)
    values = value_groups(nodes)
    assert sorted(values, key=lambda t: int(t[1:])) == [f"v{k}" for k in range(1, 8)]
    assert values["v3"].split() == ["v3", "v1", "*", "v2", "0.75", "v̇", "0.5", "v̄", "3.117"]
    assert values["v1"].split() == ["v1", "1.5", "v̇", "1", "v̄", "1.559"]
    assert nodes["v1_in"] == "x1" and nodes["output"] == "f"
    assert {"v1->v3", "v2->v3", "v2->v4", "v3->v5", "v3->v6", "v4->v6", "v5->v7", "v6->v7"} <= set(
        edges
    )
    assert "circle" in figure.source
    assert 0.5 <= aspect(figure) <= 3.0
    plain = value_groups(svg_groups(draw_trace(f))[0])
    assert plain["v3"].split() == ["v3", "v1", "*", "v2", "0.75"]  # primal only, by default


def test_trace_figure_draws_one_arrow_for_a_repeated_parent_and_escapes_labels():
    x = Value(3.0, label="<x>")
    figure = draw_trace(x * x)
    nodes, _ = svg_groups(figure)
    assert figure.source.count("v1 -> v2") == 1
    assert nodes["v1_in"] == "<x>"


def test_wrapping_reads_the_statements_not_the_labels():
    # An op label may hold "->" ("2 -" inside its <...>): it must not be taken for an edge.
    y = Value(0.5, label="y")
    x = 2.0 - y
    for _ in range(30):
        x = 2.0 - x
    graph = draw_dot(x)
    assert "rank=same" in graph.source  # a long chain is wrapped
    assert 0.5 <= aspect(graph) <= 3.0
    figure = draw_trace(chain(40))  # its caption is a graph attribute, not a node
    assert 0.5 <= aspect(figure) <= 3.0
    assert "fontsize=10 label=" not in "".join(figure.body)


def test_trace_caption_lines_are_whole_texts_without_subscript_runs():
    # A <SUB> splits a line into runs that Graphviz places by its own font metrics; a browser's
    # font differs, so "v_i" showed as "v   i" with a gap. Each caption line is one text run.
    x1, *_, f = bishop()
    f.backward()
    svg = draw_trace(f, wrt=x1, adjoints=True).pipe(format="svg").decode()
    assert "baseline-shift" not in svg
    root = ET.fromstring(svg)
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "each circle: v_i, its equation, its primal value" in texts
    assert "v̄_i = ∂f/∂v_i: adjoint, reverse mode (8.68)" in texts


def test_a_backward_step_picture_has_a_key_to_its_colours():
    # A step shown on a slide has no notebook text around it: the fills need a key.
    *_, f = bishop()
    steps = list(backward_steps(f))
    root = ET.fromstring(steps[2].graph().pipe(format="svg"))
    graph = next(g for g in root.iter(f"{SVG}g") if g.get("class") == "graph")
    key = " ".join(" ".join(t.text for t in graph.findall(f"{SVG}text")).split())
    assert key == "v5 passes v̄5 on its parents, receiving done before"
    root = ET.fromstring(steps[-1].graph().pipe(format="svg"))
    graph = next(g for g in root.iter(f"{SVG}g") if g.get("class") == "graph")
    assert "v1 an input" in " ".join(t.text for t in graph.findall(f"{SVG}text"))


def test_trace_figure_puts_the_inputs_in_their_order_x1_above_x2():
    # Bishop's Figure 8.4 has v1 above v2; Graphviz drew the mirror image, x2 on top.
    x1, *_, f = bishop()
    root = ET.fromstring(draw_trace(f, wrt=x1).pipe(format="svg"))
    centre = {}
    for group in root.iter(f"{SVG}g"):
        title = group.find(f"{SVG}title")
        ellipse = group.find(f"{SVG}ellipse")
        if title is not None and ellipse is not None:
            centre[title.text] = float(ellipse.get("cy"))
    assert centre["v1"] < centre["v2"]  # SVG's y grows downwards
    assert centre["v5"] < centre["v4"]  # and so the rest is Bishop's picture, not its mirror


def test_a_slightly_too_wide_graph_that_cannot_wrap_is_stretched_to_fit():
    # Four Newton steps drawn as Bishop's trace: 4.6:1 left to right, too tall top to bottom,
    # and a feeds every step, so rows would not read; spreading the LR layout makes it fit.
    a, x = Value(2.0, label="a"), Value(1.0, label="x")
    for _ in range(4):
        x = 0.5 * (x + a / x)
    figure = draw_trace(x)
    assert "ratio" in figure.graph_attr
    assert 0.5 <= aspect(figure) <= 3.0


def test_a_graph_with_a_value_used_rows_later_is_not_wrapped():
    # Newton's a feeds every step: wrapped into rows, its edges ran across the rows between,
    # through their labels. A chain still wraps (one edge from each row to the next).
    a = Value(2.0, label="a")
    r = a
    for _ in range(2):
        r = 0.5 * (r + a / r)
    r.backward()  # notebook 05's picture, numbers and all
    graph = draw_dot(r, show_local_grads=True)
    assert "rank=same" not in graph.source
    assert 0.5 <= aspect(graph) <= 3.0
    y = Value(0.5, label="y")
    x = y
    for _ in range(12):
        x = (x * x).tanh()  # two edges from x to its op: still one pair of nodes
    assert "rank=same" in draw_dot(x).source
