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


def draw_network(
    model: MLP,
    rankdir: str = "LR",
    *,
    show_weights: bool | None = None,
    max_edges: int | None = 2000,
) -> graphviz.Digraph:
    """The MLP as units (x_i; a_j, z_j, δ_j, b_j) and weights w_ji as edges, layer by layer.

    The numbers are those of the model's last call with numbers or Values (and of the backward
    pass after it; a forward-mode call with Duals leaves them); before any call the units show
    only their names. `show_weights` writes w_ji on each edge (by default
    when there are at most 40 edges). Above `max_edges` weights it warns and draws one box per
    layer instead; `max_edges=None` draws every weight.
    """
    import graphviz

    if not isinstance(model, MLP):
        raise TypeError(f"draw_network takes an nn.MLP, not {type(model).__name__}")
    check_rankdir(rankdir)
    edges = sum(layer.nin * layer.nout for layer in model.layers)
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
    if show_weights is None:
        show_weights = edges <= 40
    weights = [w for layer in model.layers for neuron in layer.neurons for w in neuron.weights]
    largest = max(abs(w.data) for w in weights) or 1.0

    # 1. Input units, with the values of the last call when they are known.
    inputs = _last_inputs(model.layers[0].neurons[0])
    with dot.subgraph(
        name="cluster_inputs", graph_attr={"label": "inputs", "style": "dashed"}
    ) as sub:
        for i in range(model.nin):
            rows = [] if inputs is None else [f"x {_number(inputs[i])}"]
            sub.node(f"x{i}", label=_unit_label(f"x[{i}]", rows))
    # 2. One cluster per layer; each unit's incoming weights are edges from the layer below.
    previous = [f"x{i}" for i in range(model.nin)]
    for number, layer in enumerate(model.layers, start=1):
        ids = [f"L{number}_{j}" for j in range(len(layer.neurons))]
        attrs = {"label": f"{_layer_name(model, number)} ({layer.activation})", "style": "dashed"}
        with dot.subgraph(name=f"cluster_{number}", graph_attr=attrs) as sub:
            for j, neuron in enumerate(layer.neurons):
                sub.node(ids[j], label=_unit_label(f"z{number}[{j}]", _unit_rows(neuron)))
        for j, neuron in enumerate(layer.neurons):
            for source, weight in zip(previous, neuron.weights, strict=True):
                dot.edge(source, ids[j], **_edge_style(weight.data, largest, show_weights))
        previous = ids
    return dot


def _layer_name(model: MLP, number: int) -> str:
    return "output layer" if number == len(model.layers) else f"hidden layer {number}"


def _last_inputs(neuron: Neuron) -> list | None:
    """The inputs x_i of the last call, read off a first-layer unit's dot node (w.., x.., b)."""
    preactivation = neuron.preactivation
    if preactivation is None or not preactivation.parents:  # never called, or under no_grad
        return None
    return list(preactivation._inputs[neuron.nin : 2 * neuron.nin])


def _unit_rows(neuron: Neuron) -> list[str]:
    """a_j, z_j and δ_j of the last call (δ_j = ∂E/∂a_j after a backward pass), and b_j."""
    rows = []
    if neuron.preactivation is not None:
        a, z = neuron.preactivation, neuron.output
        rows += [f"a {a.data:.4g}", f"z {z.data:.4g}", f"δ {a.grad:.4g}"]
    rows.append(f"b {neuron.bias.data:.4g}")
    return rows


def _unit_label(title: str, rows: list[str]) -> str:
    """An HTML-like label: the unit's name in bold above its numbers."""
    cells = "".join(f"<TR><TD>{escape_label(row)}</TD></TR>" for row in rows)
    return (
        '<<TABLE BORDER="1" CELLBORDER="0" CELLSPACING="0" CELLPADDING="2" STYLE="ROUNDED">'
        f"<TR><TD><B>{escape_label(title)}</B></TD></TR>{cells}</TABLE>>"
    )


def _edge_style(weight: float, largest: float, show_weight: bool) -> dict[str, str]:
    """Blue for w > 0, orange for w < 0, pen width growing with |w|."""
    style = {
        "color": POSITIVE if weight >= 0 else NEGATIVE,
        "penwidth": f"{0.3 + (MAX_WIDTH - 0.3) * min(abs(weight) / largest, 1.0):.2f}",
    }
    if show_weight:
        style["label"] = f"{weight:.3g}"
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
