"""The network view: an MLP drawn as units and weights, as textbook derivations draw it by hand.

Each unit shows its pre-activation a_j, activation z_j and bias from the last forward pass and,
after a backward pass, its error signal δ_j = ∂E/∂a_j (Bishop (8.8)), the adjoint of its
pre-activation node. Each weight is an edge: blue when positive, orange when negative, thicker
when larger in size. graphviz is imported only when drawing.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

from autodiff import Value
from autodiff.draw import check_rankdir, escape_label

from .module import MLP, Neuron

if TYPE_CHECKING:
    import graphviz

POSITIVE = "#1f77b4"
NEGATIVE = "#ff7f0e"
MAX_WIDTH = 4.0  # the pen width of the largest weight; the others scale with |w|


WEIGHTS = ("auto", "table", "edges", "none")
TABLE_LIMIT = 40  # "auto" writes the weights in a table up to this many, else none
FAN_IN_LIMIT = 64  # above this many weights, "auto" draws only each unit's strongest inputs
STRONGEST = 3  # ... this many of them


def draw_network(
    model: MLP,
    rankdir: str = "LR",
    *,
    target: float | list[float] | None = None,
    error: Value | float | None = None,
    weights: str = "auto",
    strongest: int | str | None = "auto",
    max_edges: int | None = 2000,
) -> graphviz.Digraph:
    """The MLP as units (x_i; a_j, z_j, δ_j, b_j) and weights w_ji as edges, layer by layer.

    The numbers are those of the model's last call with numbers or Values (and of the backward
    pass after it; a forward-mode call with Duals leaves them); before any call the units show
    only their names. Underneath: a caption (the point x, the `target` t, the `error` E_n), a
    legend, and with `weights="table"` each layer's matrix W (`"edges"` writes w_ji on the edges;
    `"auto"` is a table up to 40 weights). `strongest=k` draws only the k largest |w_ji| into each
    unit and says how many are hidden ("auto": 3 above 64 weights; None draws all). Above
    `max_edges` weights it warns and draws one box per layer; `max_edges=None` draws every weight.
    """
    import graphviz

    if not isinstance(model, MLP):
        raise TypeError(f"draw_network takes an nn.MLP, not {type(model).__name__}")
    check_rankdir(rankdir)
    if weights not in WEIGHTS:
        raise ValueError(f"weights must be one of {', '.join(WEIGHTS)}, not {weights!r}")
    edges = sum(layer.nin * layer.nout for layer in model.layers)
    if strongest == "auto":
        strongest = STRONGEST if edges > FAN_IN_LIMIT else None
    elif strongest is not None and (type(strongest) is not int or strongest < 1):
        raise ValueError(f"strongest must be a positive int, 'auto' or None, not {strongest!r}")
    if weights == "auto":
        weights = "table" if edges <= TABLE_LIMIT else "none"
    # Almost no crossing minimisation (mclimit): it would rotate the units of a fully connected
    # layer out of index order, and every order has about as many crossings anyway.
    dot = graphviz.Digraph(
        graph_attr={"rankdir": rankdir, "ranksep": "1.2", "nodesep": "0.15", "mclimit": "0.01"},
        node_attr={"fontsize": "10", "shape": "plain"},
        edge_attr={"fontsize": "9", "arrowsize": "0.5"},
    )
    if max_edges is not None and edges > max_edges:
        warnings.warn(
            f"the network has {edges} weights, more than max_edges={max_edges}: drawing one box "
            "per layer instead; pass max_edges=None to draw every weight",
            stacklevel=2,
        )
        return _layer_summary(dot, model)
    all_weights = [w for layer in model.layers for neuron in layer.neurons for w in neuron.weights]
    largest = max(abs(w.data) for w in all_weights) or 1.0
    short = max(len(layer.neurons) for layer in model.layers) > 6  # tall layers: short units
    if short:  # one line per unit, closer together, so 16 units stand in a slide's height
        dot.graph_attr.update(ranksep="0.6", nodesep="0.06")

    # 1. Input units, with the values of the last call when they are known.
    inputs = _last_inputs(model.layers[0].neurons[0])
    with dot.subgraph(
        name="cluster_inputs", graph_attr={"label": "inputs", "style": "dashed"}
    ) as sub:
        for i in range(model.nin):
            rows = [] if inputs is None else [f"x {_number(inputs[i])}"]
            sub.node(f"x{i}", label=_unit_label(f"x[{i}]", rows, one_line=short))
    # 2. One cluster per layer; each unit's incoming weights are edges from the layer below.
    previous = [f"x{i}" for i in range(model.nin)]
    hidden = 0
    for number, layer in enumerate(model.layers, start=1):
        ids = [f"L{number}_{j}" for j in range(len(layer.neurons))]
        attrs = {"label": f"{_layer_name(model, number)} ({layer.activation})", "style": "dashed"}
        with dot.subgraph(name=f"cluster_{number}", graph_attr=attrs) as sub:
            for j, neuron in enumerate(layer.neurons):
                rows = _unit_rows(neuron, short)
                sub.node(ids[j], label=_unit_label(f"z{number}[{j}]", rows, one_line=short))
        for j, neuron in enumerate(layer.neurons):
            shown = _strongest(neuron, strongest)
            hidden += len(neuron.weights) - len(shown)
            for i, weight in enumerate(neuron.weights):
                style = _edge_style(weight.data, largest, weights == "edges")
                if i not in shown:
                    # Laid out but not drawn: the full set of edges keeps the units in order.
                    style = {"style": "invis"}
                dot.edge(previous[i], ids[j], **style)
        previous = ids
    dot.attr(label=_caption(model, inputs, target, error, largest, weights, strongest, hidden))
    dot.attr(labeljust="l", fontsize="10")
    return dot


def _strongest(neuron: Neuron, count: int | None) -> set[int]:
    """The indices of the `count` largest |w_ji| into this unit (all of them for None)."""
    indices = range(len(neuron.weights))
    if count is None:
        return set(indices)
    return set(sorted(indices, key=lambda i: -abs(neuron.weights[i].data))[:count])


def _caption(
    model: MLP,
    inputs: list | None,
    target: float | list[float] | None,
    error: Value | float | None,
    largest: float,
    weights: str,
    strongest: int | None,
    hidden: int,
) -> str:
    """The picture's caption: the data point and its error, the legend, the weight tables."""
    point = []
    if inputs is not None:
        point.append(f"x = ({', '.join(_number(x) for x in inputs)})")
    if target is not None:
        values = target if isinstance(target, list) else [target]
        point.append(f"t = {', '.join(_number(t) for t in values)}")
    point = [escape_label(part) for part in point]
    if error is not None:
        name = "E_n"  # v_i style, not <SUB>: see autodiff.draw._trace_caption
        if isinstance(error, Value) and error.label:
            name = escape_label(error.label)
        point.append(f"{name} = {_number(error)}")
    lines = []
    if point:
        lines.append("<B>" + "&#160;&#160;&#160;".join(point) + "</B>")
    # Without an error, the last backward() may have started anywhere (an output y_k, say).
    delta = (
        "δ = ∂E_n/∂a (8.8)"
        if error is not None
        else "δ = a's adjoint from the last backward() (∂E_n/∂a (8.8) if it was E_n's)"
    )
    lines.append(f"unit: a = Σ_i w_ji z_i + b (8.5), z = h(a), {delta}, b bias")
    lines.append(
        f'<FONT COLOR="{POSITIVE}">━━ w &gt; 0</FONT>   <FONT COLOR="{NEGATIVE}">━━ w &lt; 0'
        f"</FONT>   line width ∝ |w| (widest: |w| = {largest:.3g})"
    )
    if hidden:
        total = sum(layer.nin * layer.nout for layer in model.layers)
        lines.append(
            f"showing the {strongest} largest |w| into each unit: {total - hidden} of {total} "
            f"weights ({hidden} hidden; strongest=None draws all)"
        )
    rows = "".join(f'<TR><TD ALIGN="LEFT">{line}</TD></TR>' for line in lines)
    if weights == "table":
        tables = "".join(f"<TD>{_weight_table(model, n)}</TD>" for n in range(len(model.layers)))
        tables = f'<TABLE BORDER="0" CELLSPACING="6"><TR>{tables}</TR></TABLE>'
        rows += f'<TR><TD ALIGN="LEFT">{tables}</TD></TR>'
    return f'<<TABLE BORDER="0" CELLSPACING="1">{rows}</TABLE>>'


def _weight_table(model: MLP, index: int) -> str:
    """Layer index+1's weights as a matrix: a row per unit j, a column per input i, then b."""
    layer = model.layers[index]
    sources = (
        [f"x[{i}]" for i in range(layer.nin)]
        if index == 0
        else [f"z{index}[{i}]" for i in range(layer.nin)]
    )
    head = "".join(f"<TD><I>{s}</I></TD>" for s in [f"W({index + 1})", *sources, "b"])
    body = ""
    for j, neuron in enumerate(layer.neurons):
        cells = "".join(
            f'<TD ALIGN="RIGHT"><FONT COLOR="{weight_colour(w.data)}">{w.data:.3g}</FONT></TD>'
            for w in neuron.weights
        )
        bias = f'<TD ALIGN="RIGHT">{neuron.bias.data:.3g}</TD>'
        body += f"<TR><TD><I>z{index + 1}[{j}]</I></TD>{cells}{bias}</TR>"
    frame = '<TABLE BORDER="1" CELLBORDER="0" CELLSPACING="0" CELLPADDING="2">'
    return f"{frame}<TR>{head}</TR>{body}</TABLE>"


def weight_colour(weight: float) -> str:
    """A weight's colour in both network pictures: blue for w >= 0, orange for w < 0."""
    return POSITIVE if weight >= 0 else NEGATIVE


def _layer_name(model: MLP, number: int) -> str:
    return "output layer" if number == len(model.layers) else f"hidden layer {number}"


def _last_inputs(neuron: Neuron) -> list | None:
    """The inputs x_i of the last call, read off a first-layer unit's dot node (w.., x.., b)."""
    preactivation = neuron.preactivation
    if preactivation is None or not preactivation.parents:  # never called, or under no_grad
        return None
    return list(preactivation._inputs[neuron.nin : 2 * neuron.nin])


def _unit_rows(neuron: Neuron, short: bool = False) -> list[str]:
    """a_j, z_j and δ_j of the last call (δ_j = ∂E/∂a_j after a backward pass), and b_j.

    `short`: z_j and δ_j on one line (a tall layer of 16 units must still fit a slide).
    """
    rows = []
    if neuron.preactivation is not None:
        a, z = neuron.preactivation, neuron.output
        if short:
            return [f"z {z.data:.3g}", f"δ {a.grad:.3g}"]
        rows += [f"a {a.data:.4g}", f"z {z.data:.4g}", f"δ {a.grad:.4g}"]
    rows.append(f"b {neuron.bias.data:.4g}")
    return rows


def _unit_label(title: str, rows: list[str], one_line: bool = False) -> str:
    """An HTML-like label: the unit's name in bold above its numbers (or before them)."""
    if one_line:
        text = "&#160;&#160;".join([f"<B>{escape_label(title)}</B>", *map(escape_label, rows)])
        return (
            '<<TABLE BORDER="1" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1" STYLE="ROUNDED">'
            f"<TR><TD>{text}</TD></TR></TABLE>>"
        )
    cells = "".join(f"<TR><TD>{escape_label(row)}</TD></TR>" for row in rows)
    return (
        '<<TABLE BORDER="1" CELLBORDER="0" CELLSPACING="0" CELLPADDING="2" STYLE="ROUNDED">'
        f"<TR><TD><B>{escape_label(title)}</B></TD></TR>{cells}</TABLE>>"
    )


def _edge_style(weight: float, largest: float, show_weight: bool) -> dict[str, str]:
    """Blue for w > 0, orange for w < 0, pen width growing with |w|."""
    style = {
        "color": weight_colour(weight),
        "penwidth": f"{0.3 + (MAX_WIDTH - 0.3) * min(abs(weight) / largest, 1.0):.2f}",
    }
    if show_weight:
        style.update(label=f"{weight:.3g}", fontcolor=style["color"])
    return style


def _number(x: float | Value) -> str:
    return f"{x.data if isinstance(x, Value) else x:.4g}"


def _layer_summary(dot: graphviz.Digraph, model: MLP) -> graphviz.Digraph:
    """One box per layer ("hidden layer 1: 16 tanh units"), for networks too big to draw whole."""
    dot.node("inputs", label=_unit_label("inputs", [f"{model.nin} inputs"]))
    previous = "inputs"
    for number, layer in enumerate(model.layers, start=1):
        rows = [
            f"{len(layer.neurons)} {layer.activation} units",
            f"{layer.nin * layer.nout} weights",
        ]
        dot.node(f"L{number}", label=_unit_label(_layer_name(model, number), rows))
        dot.edge(previous, f"L{number}")
        previous = f"L{number}"
    return dot
