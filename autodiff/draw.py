"""Pictures of the graph: `draw_dot` (Graphviz) and the backward pass one step at a time.

Nodes are named v1..vN as in the trace, so the DOT text is the same on every run. Every piece of
user text goes into an HTML-like label through `html.escape`, so no label can break DOT or SVG.
`backward_steps` replays reverse mode (Bishop 8.2.2) node by node without touching any `grad`;
`show_backward` puts its frames behind a slider in Jupyter. graphviz is imported only when drawing.
"""

from __future__ import annotations

import html
import importlib.util
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from .ops import is_real, limit, to_float
from .trace import Trace, build_trace, node_names, printable
from .value import Value, ancestors

if TYPE_CHECKING:
    import graphviz

RANKDIRS = ("LR", "RL", "TB", "BT")
MAX_TEXT = 48  # longer labels are cut short (with "…") so one label cannot swamp the picture

HIGHLIGHT = "#ffe082"  # the nodes asked for; in a backward step, the node passing its adjoint on
RECEIVING = "#bbdefb"  # in a backward step: the parents receiving a message
DONE = "#eeeeee"  # in a backward step: nodes whose adjoint is complete and already passed on
_OP_STYLE = {"class": "op", "fontsize": "10", "width": "0", "height": "0", "margin": "0.06,0.03"}


def draw_dot(
    output: Value,
    rankdir: str = "LR",
    *,
    show_local_grads: bool = False,
    show_messages: bool = False,
    highlight: Value | Iterable[Value] = (),
    max_nodes: int | None = 500,
) -> graphviz.Digraph:
    """The graph of `output` as a Digraph: a box per node (v-name, label, data, grad) and its op.

    `show_local_grads` writes ∂v_j/∂v_i on each edge, `show_messages` the message v̄_j ∂v_j/∂v_i
    that reverse mode sends back along it (using the current `grad`s). `highlight` fills the given
    nodes. Above `max_nodes` nodes it warns and draws only a summary; `max_nodes=None` draws all.
    """
    order = _order(output)
    check_rankdir(rankdir)
    highlighted = _highlighted(highlight)
    missing = highlighted.difference(order)
    if missing:
        raise ValueError(f"highlight: {len(missing)} of the given nodes are not in this graph")
    if _too_big(order, max_nodes):
        return _summary(order, order[-1].grad, rankdir, max_nodes)
    names = node_names(order)
    edge_labels = {}
    if show_local_grads or show_messages:
        for child in order:
            for k, local in enumerate(child.local_grads):
                lines = []
                if show_local_grads:
                    lines.append(_local_text(names, child, k, local))
                if show_messages:
                    lines.append(_message_text(names, child, k, _message(local, child.grad)))
                edge_labels[child, k] = "<BR/>".join(lines)
    fills = dict.fromkeys(highlighted, HIGHLIGHT)
    return _digraph(order, names, {node: node.grad for node in order}, rankdir, fills, edge_labels)


# --- backward, one step at a time ------------------------------------------------------------


class Message(NamedTuple):
    """What a node sends one parent occurrence: v̄_j ∂v_j/∂v_i."""

    parent: Value
    local_grad: float  # ∂v_j/∂v_i
    message: float  # v̄_j ∂v_j/∂v_i, added to the parent's adjoint


@dataclass(frozen=True, eq=False)
class BackwardStep:
    """One step of reverse mode: node j's adjoint v̄_j is complete and goes to its parents."""

    number: int  # 1 for the output, up to `total`
    total: int
    node: Value
    name: str
    adjoint: float  # v̄_j
    messages: tuple[Message, ...]  # one per parent occurrence, in the order of node.parents
    adjoints: dict[Value, float]  # every node's adjoint so far, after this step's messages
    order: list[Value] = field(repr=False)  # the graph's nodes in creation order

    def __str__(self) -> str:
        names = node_names(self.order)
        head = f"step {self.number}/{self.total}: v̄{self.name[1:]} = {self.adjoint:.4g} is complete"
        if not self.messages:
            return head + f"; {self.name} is an input, it passes nothing on"
        sends = [
            f"v̄{names[m.parent][1:]} += {self.adjoint:.4g} × {m.local_grad:.4g} = {m.message:.4g}"
            for m in self.messages
        ]
        return head + "; " + ", ".join(sends)

    def graph(self, rankdir: str = "LR", max_nodes: int | None = 500) -> graphviz.Digraph:
        """This step as a Digraph: the node passing v̄ on highlighted, its edges with messages."""
        check_rankdir(rankdir)
        if _too_big(self.order, max_nodes):
            return _summary(self.order, self.adjoints[self.order[-1]], rankdir, max_nodes)
        names = node_names(self.order)
        done = self.order[self.total - self.number + 1 :]  # the steps before this one
        fills = dict.fromkeys(done, DONE)
        fills.update((m.parent, RECEIVING) for m in self.messages)
        fills[self.node] = HIGHLIGHT
        edge_labels = {
            (self.node, k): _local_text(names, self.node, k, m.local_grad)
            + "<BR/>"
            + _message_text(names, self.node, k, m.message)
            for k, m in enumerate(self.messages)
        }
        return _digraph(self.order, names, self.adjoints, rankdir, fills, edge_labels)

    def trace(self) -> Trace:
        """The evaluation trace with this step's adjoints (those not reached yet are 0)."""
        return build_trace(self.order, self.adjoints, None)

    @property
    def rows(self) -> list:
        """The trace rows at this step (see `trace()`)."""
        return self.trace().rows


def backward_steps(output: Value, seed: float = 1.0) -> Iterator[BackwardStep]:
    """Reverse mode one node at a time: v̄_i += v̄_j ∂v_j/∂v_i, in the order `backward()` uses.

    Yields one `BackwardStep` per node, from the output back to the inputs; the adjoints are
    computed here, so no `grad` is read or changed, and the last step's adjoints equal backward()'s.
    """
    order = _order(output)
    adjoint = dict.fromkeys(order, 0.0)
    if not is_real(seed):
        raise TypeError(f"seed must be a real number, not {type(seed).__name__}")
    adjoint[output] = to_float(seed, "seed")
    # NOTE: each step keeps its own copy of all adjoints, so N steps hold N² numbers: fine for
    # the small graphs one steps through by eye, not for a network's whole loss.
    for number, node in enumerate(reversed(order), 1):
        messages = []
        for parent, local in zip(node.parents, node.local_grads, strict=True):
            message = _message(local, adjoint[node])
            adjoint[parent] += message
            messages.append(Message(parent, local, message))
        yield BackwardStep(
            number=number,
            total=len(order),
            node=node,
            name=f"v{len(order) - number + 1}",
            adjoint=adjoint[node],
            messages=tuple(messages),
            adjoints=dict(adjoint),
            order=order,
        )


def show_backward(
    output: Value, rankdir: str = "LR", widget: bool | None = None, max_nodes: int | None = 500
) -> Any:
    """In Jupyter: the backward steps of `output` behind a slider, or one SVG after another.

    `widget=None` uses ipywidgets when it is installed; `widget=False` displays every step's
    graph in turn (static, so it survives in a saved notebook). Returns the widget, or None.
    Above `max_nodes` nodes it warns and shows only the graph's summary: each step keeps every
    adjoint, so the steps of a graph of N nodes take memory in proportion to N².
    """
    from IPython.display import display

    order = _order(output)
    if _too_big(order, max_nodes):
        display(_summary(order, output.grad, rankdir, max_nodes))
        return None
    steps = list(backward_steps(output))
    if widget is None:
        widget = importlib.util.find_spec("ipywidgets") is not None
    if not widget:
        for step in steps:
            print(step)  # as text, not as a quoted string
            display(step.graph(rankdir))
        return None
    import ipywidgets

    slider = ipywidgets.IntSlider(value=1, min=1, max=len(steps), description="step")
    shown = ipywidgets.Output()

    def show(_change: object = None) -> None:
        step = steps[slider.value - 1]
        shown.clear_output(wait=True)
        with shown:
            print(step)
            display(step.graph(rankdir))

    slider.observe(show, names="value")
    show()
    return ipywidgets.VBox([slider, shown])


# --- building the Digraph --------------------------------------------------------------------


def _order(output: Value) -> list[Value]:
    if not isinstance(output, Value):
        raise TypeError(f"expected a Value, not {type(output).__name__}")
    return ancestors(output)


def check_rankdir(rankdir: str) -> None:
    """Raise ValueError unless `rankdir` is a Graphviz direction: LR, RL, TB or BT."""
    if rankdir not in RANKDIRS:
        raise ValueError(f"rankdir must be one of {', '.join(RANKDIRS)}, not {rankdir!r}")


def _highlighted(highlight: Any) -> set[Value]:
    """draw_dot's `highlight`: one Value or a collection of Values, as a set."""
    if isinstance(highlight, Value):
        return {highlight}
    items = (
        list(highlight)
        if isinstance(highlight, Iterable) and not isinstance(highlight, str)
        else [highlight]
    )
    for item in items:
        if not isinstance(item, Value):
            raise TypeError(f"highlight takes a Value or Values, not {type(item).__name__}")
    return set(items)


def _too_big(order: list[Value], max_nodes: int | None) -> bool:
    """True (with a warning) when the graph has more than `max_nodes` nodes (checked first)."""
    max_nodes = limit("max_nodes", max_nodes)
    if max_nodes is None or len(order) <= max_nodes:
        return False
    warnings.warn(
        f"the graph has {len(order)} nodes, more than max_nodes={max_nodes}: drawing only a "
        "summary (Graphviz would be slow and the picture unreadable); pass max_nodes=None to "
        "draw it all anyway",
        stacklevel=3,
    )
    return True


def _summary(
    order: list[Value], adjoint: float, rankdir: str, max_nodes: int | None
) -> graphviz.Digraph:
    """The output's box (with `adjoint`) and a note saying how big the graph is, in its place."""
    import graphviz

    output = order[-1]
    name = f"v{len(order)}"
    dot = graphviz.Digraph(graph_attr={"rankdir": rankdir}, node_attr={"fontsize": "11"})
    note = f"{len(order)} nodes (more than max_nodes={max_nodes}):<BR/>draw with max_nodes=None"
    dot.node("summary", label=f"<{note}>", shape="note")
    dot.node(name, label=_box(output, name, adjoint, None), shape="plain", **{"class": "value"})
    dot.edge("summary", name, style="dashed")
    return dot


def _digraph(
    order: list[Value],
    names: Mapping[Value, str],
    adjoint_of: Mapping[Value, float],
    rankdir: str,
    fills: Mapping[Value, str],
    edge_labels: Mapping[tuple[Value, int], str],
) -> graphviz.Digraph:
    """A box per node (data, adjoint), an op node per operation, an edge per parent occurrence."""
    import graphviz

    dot = graphviz.Digraph(
        graph_attr={"rankdir": rankdir},
        node_attr={"fontsize": "11"},
        edge_attr={"fontsize": "10"},
    )
    for node in order:  # creation order: parents are declared before their children
        name = names[node]
        box = _box(node, name, adjoint_of[node], fills.get(node))
        dot.node(name, label=box, shape="plain", **{"class": "value"})
        if not node.parents:
            continue
        op_name = f"{name}_op"
        op_text = escape_label(node.op or "custom")
        dot.node(op_name, label=f"<{op_text}>", shape="ellipse", **_OP_STYLE)
        dot.edge(op_name, name)
        for k, parent in enumerate(node.parents):  # x * x draws two edges: each occurrence counts
            label = edge_labels.get((node, k))
            dot.edge(names[parent], op_name, **({"label": f"<{label}>"} if label else {}))
    return dot


def _box(node: Value, name: str, adjoint: float, fill: str | None) -> str:
    """An HTML-like label: v-name and label | data | grad, numbers to 4 significant digits."""
    # NOTE: a no-break space, because SVG viewers drop a text run's leading plain space ("v1x1").
    title = f"<B>{name}</B>" + (f"&#160;{escape_label(node.label)}" if node.label else "")
    background = f' BGCOLOR="{fill}"' if fill else ""
    return (
        f'<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="4"{background}><TR>'
        f"<TD>{title}</TD><TD>data {node.data:.4g}</TD><TD>grad {adjoint:.4g}</TD>"
        "</TR></TABLE>>"
    )


def _message(local: float, adjoint: float) -> float:
    """v̄_j ∂v_j/∂v_i, the same product in the same order as backward()."""
    # NOTE: as in backward(), a zero adjoint or a zero local derivative sends 0 even when the
    # other factor is infinite (IEEE would give 0 · inf = nan).
    return local * adjoint if adjoint and local else 0.0


def _local_text(names: Mapping[Value, str], child: Value, k: int, local: float) -> str:
    """∂v_j/∂v_i = local, for edge k of `child`; which operand, when v_i is two of them (x / x)."""
    parent = child.parents[k]
    operand = ""
    if child.parents.count(parent) > 1:
        # Counted among all the operands, constants included: sum([2, x, x]) has x as 2 and 3.
        places = [i for i, x in enumerate(child._inputs) if isinstance(x, Value)]
        operand = f" (operand {places[k] + 1})"
    return f"∂{names[child]}/∂{names[parent]}{operand} = {local:.4g}"


def _message_text(names: Mapping[Value, str], child: Value, k: int, message: float) -> str:
    """v̄_j·∂v_j/∂v_i = message, the number sent back along edge k of `child`."""
    child_name, parent_name = names[child], names[child.parents[k]]
    return f"v̄{child_name[1:]}·∂{child_name}/∂{parent_name} = {message:.4g}"


def escape_label(text: str) -> str:
    """User text for an HTML-like label: one line, cut to MAX_TEXT characters, fully escaped."""
    text = printable(text)
    if len(text) > MAX_TEXT:
        text = text[: MAX_TEXT - 1] + "…"
    # NOTE: Graphviz reads backslash escapes even inside HTML-like labels (\N becomes the node's
    # name, \\ one backslash), so each backslash is doubled after the HTML escaping.
    return html.escape(text).replace("\\", "\\\\")
