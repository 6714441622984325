"""Pictures of the graph: `draw_dot`, Bishop's trace figure `draw_trace`, backward by steps.

Nodes are named v1..vN as in the trace; user text goes into HTML-like labels escaped, so no label
breaks DOT or SVG. `backward_steps` replays reverse mode (Bishop 8.2.2) without touching any `grad`;
`show_backward` puts its frames behind a slider in Jupyter. `fit_to_slide` picks the layout that
fits a slide or a notebook cell (`rankdir="auto"`). graphviz is imported only when drawing.
"""

from __future__ import annotations

import html
import importlib.util
import itertools
import math
import re
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from .explain import chain_term, operand_number
from .ops import ADD, MAXIMUM, MINIMUM, MUL, NARY, SUM, is_real, limit, to_float
from .trace import Trace, _plain_constant, build_trace, node_names, printable, right_side, trace
from .value import CustomOp, Value, ancestors, format_number

if TYPE_CHECKING:
    import graphviz

RANKDIRS = ("LR", "RL", "TB", "BT")
MAX_TEXT = 48  # longer labels are cut short (with "…") so one label cannot swamp the picture

HIGHLIGHT = "#ffe082"  # the nodes asked for; in a backward step, the node passing its adjoint on
RECEIVING = "#bbdefb"  # in a backward step: the parents receiving a message
DONE = "#eeeeee"  # in a backward step: nodes whose adjoint is complete and already passed on
_OP_STYLE = {"class": "op", "fontsize": "10", "width": "0", "height": "0", "margin": "0.06,0.03"}
_CONSTANT_STYLE = {
    "class": "constant",
    "shape": "box",
    "style": "rounded,dashed",
    "color": "#888888",
    "fontsize": "10",
    "width": "0",
    "height": "0",
    "margin": "0.05,0.02",
}
_COMMUTATIVE = (ADD, MUL, SUM, MAXIMUM, MINIMUM)  # a constant's place among the operands is moot
STYLES = ("full", "compact")
CONSTANTS = ("inline", "nodes")


def draw_dot(
    output: Value,
    rankdir: str = "auto",
    *,
    style: str = "full",
    show_local_grads: bool = False,
    show_messages: bool = False,
    constants: str = "inline",
    highlight: Value | Iterable[Value] = (),
    max_nodes: int | None = 500,
) -> graphviz.Digraph:
    """The graph of `output` as a Digraph: a box per node (v-name, label, data, grad) and its op.

    `rankdir="auto"` lays the graph out left to right, top to bottom, or wrapped into rows,
    whichever fits a slide or a notebook cell (width/height between 1/2 and 3) with the largest
    text (`fit_to_slide`); a Graphviz direction ("LR", "TB", ...) is kept. `style="compact"`
    stacks name, data and grad in a small box. `show_local_grads` writes ∂v_j/∂v_i on each edge,
    `show_messages` the message v̄_j ∂v_j/∂v_i that reverse mode sends back along it (using the
    current `grad`s). `constants="inline"` writes a folded constant into its op (`- (-1)`);
    `"nodes"` draws it as a small leaf of its own. `highlight` fills the given nodes. Above
    `max_nodes` nodes it warns and draws only a summary; `max_nodes=None` draws all.
    """
    order = _order(output)
    look = Look(rankdir, style, constants)
    highlighted = _highlighted(highlight)
    missing = highlighted.difference(order)
    if missing:
        raise ValueError(f"highlight: {len(missing)} of the given nodes are not in this graph")
    if _too_big(order, max_nodes):
        return _summary(order, order[-1].grad, look.fixed_rankdir, max_nodes)
    names = node_names(order)
    edge_labels = {}
    if show_local_grads or show_messages:
        for child in order:
            for k, local in enumerate(child.local_grads):
                lines = []
                if show_local_grads:
                    lines.append(_local_text(names, child, k, local))
                if show_messages:
                    lines.append(_message_text(names, child, k, chain_term(local, child.grad)))
                edge_labels[child, k] = "<BR/>".join(lines)
    fills = dict.fromkeys(highlighted, HIGHLIGHT)
    adjoint_of = {node: node.grad for node in order}
    return _digraph(order, names, adjoint_of, look, fills, edge_labels)


@dataclass(frozen=True)
class Look:
    """How a graph is drawn: direction ("auto" or a Graphviz one), box style, constants."""

    rankdir: str = "auto"
    style: str = "full"
    constants: str = "inline"

    def __post_init__(self) -> None:
        if self.rankdir != "auto":
            check_rankdir(self.rankdir)
        if self.style not in STYLES:
            raise ValueError(f"style must be one of {', '.join(STYLES)}, not {self.style!r}")
        if self.constants not in CONSTANTS:
            raise ValueError(
                f"constants must be one of {', '.join(CONSTANTS)}, not {self.constants!r}"
            )

    @property
    def fixed_rankdir(self) -> str:
        """The direction to lay out in first: the one given, or LR for "auto"."""
        return "LR" if self.rankdir == "auto" else self.rankdir


# --- Bishop's evaluation-trace figure ---------------------------------------------------------

TANGENT_COLOUR = "#1565c0"
ADJOINT_COLOUR = "#b71c1c"


def draw_trace(
    output: Value,
    wrt: Value | Mapping[Value, float] | None = None,
    *,
    adjoints: bool = False,
    rankdir: str = "auto",
    max_nodes: int | None = 100,
) -> graphviz.Digraph:
    """The evaluation trace as Bishop draws it (Fig. 8.4): each v_i a circle, arrows along the data.

    Each circle shows v_i, its equation and its primal value; with `wrt` (as for `trace`) also the
    tangent v̇_i (8.57), with `adjoints=True` the adjoint v̄_i = ∂f/∂v_i (8.69) left by the last
    backward pass. The inputs are fed by their labels (x1, x2) and the output feeds its own (f).
    """
    import graphviz

    table = trace(output, wrt)
    look = Look(rankdir)
    if _too_big([row.node for row in table.rows], max_nodes):
        return _summary(
            [row.node for row in table.rows], output.grad, look.fixed_rankdir, max_nodes
        )
    names = {row.node: row.name for row in table.rows}
    dot = graphviz.Digraph(
        graph_attr={"rankdir": look.fixed_rankdir, "nodesep": "0.3", "labelloc": "b"},
        node_attr={"fontsize": "11", "shape": "circle", "margin": "0.02"},
        edge_attr={"arrowsize": "0.7"},
    )
    for row in table.rows:
        lines = [f"<B>{row.name}</B>"]
        if row.node.parents:  # a leaf's equation is its own label, shown as its input
            lines.append(
                f'<FONT POINT-SIZE="10">{escape_label(right_side(row.node, names))}</FONT>'
            )
        lines.append(f"{row.value:.4g}")
        if row.tangent is not None:
            lines.append(f'<FONT COLOR="{TANGENT_COLOUR}">v̇ {row.tangent:.4g}</FONT>')
        if adjoints:
            lines.append(f'<FONT COLOR="{ADJOINT_COLOUR}">v̄ {row.adjoint:.4g}</FONT>')
        dot.node(row.name, label="<" + "<BR/>".join(lines) + ">", **{"class": "value"})
        if not row.node.parents:
            symbol = escape_label(row.node.label) if row.node.label else f"x{row.name[1:]}"
            dot.node(f"{row.name}_in", label=f"<{symbol}>", shape="plaintext")
            dot.edge(f"{row.name}_in", row.name)
        for parent in dict.fromkeys(row.node.parents):  # one arrow per parent, as Bishop draws
            dot.edge(names[parent], row.name)
    # The inputs in one column in their order, x1 above x2 as Bishop draws them (by invisible
    # edges within the rank; without them Graphviz may mirror the picture).
    inputs = [f"{row.name}_in" for row in table.rows if not row.node.parents]
    if len(inputs) > 1:
        dot.body.append("\t{rank=same; " + " -> ".join(inputs) + " [style=invis]}\n")
    last = table.rows[-1]
    dot.node("output", label=f"<{escape_label(output.label or 'f')}>", shape="plaintext")
    dot.edge(last.name, "output")
    dot.graph_attr.update(label=_trace_caption(table.seed_text, adjoints), fontsize="10")
    if look.rankdir == "auto":
        fit_to_slide(dot)
    return dot


def _trace_caption(seed_text: str | None, adjoints: bool) -> str:
    """What the numbers in the circles are, one line each."""
    # NOTE: v_i, not <SUB>: an SVG viewer places each run of a line where Graphviz measured it,
    # with its own font, so a subscript opens gaps in the line.
    lines = ["each circle: v_i, its equation, its primal value"]
    if seed_text is not None:
        lines.append(
            f'<FONT COLOR="{TANGENT_COLOUR}">v̇_i: tangent, forward mode (8.57); '
            f"{escape_label(seed_text)}</FONT>"
        )
    if adjoints:
        lines.append(
            f'<FONT COLOR="{ADJOINT_COLOUR}">v̄_i = ∂f/∂v_i: adjoint, reverse mode (8.68)</FONT>'
        )
    return "<" + "<BR/>".join(lines) + ">"


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

    def graph(self, rankdir: str = "auto", max_nodes: int | None = 500) -> graphviz.Digraph:
        """This step as a Digraph: the node passing v̄ on highlighted, its edges with messages."""
        look = Look(rankdir)
        if _too_big(self.order, max_nodes):
            return _summary(
                self.order, self.adjoints[self.order[-1]], look.fixed_rankdir, max_nodes
            )
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
        # A key to the fills, so a slide of one step reads without the notebook's text.
        key = (
            f'<<TABLE BORDER="0" CELLSPACING="3"><TR><TD BGCOLOR="{HIGHLIGHT}">{self.name}</TD>'
            f"<TD>{f'passes v̄{self.name[1:]} on' if self.messages else 'an input'}</TD>"
            f'<TD BGCOLOR="{RECEIVING}">   </TD><TD>its parents, receiving</TD>'
            f'<TD BGCOLOR="{DONE}">   </TD><TD>done before</TD></TR></TABLE>>'
        )
        return _digraph(self.order, names, self.adjoints, look, fills, edge_labels, key)

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
            message = chain_term(local, adjoint[node])
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
    output: Value, rankdir: str = "auto", widget: bool | None = None, max_nodes: int | None = 500
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
        display(_summary(order, output.grad, Look(rankdir).fixed_rankdir, max_nodes))
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
    look: Look,
    fills: Mapping[Value, str],
    edge_labels: Mapping[tuple[Value, int], str],
    caption: str | None = None,
) -> graphviz.Digraph:
    """A box per node (data, adjoint), an op node per operation, an edge per parent occurrence."""
    import graphviz

    dot = graphviz.Digraph(
        graph_attr={
            "rankdir": look.fixed_rankdir,
            **({"label": caption, "fontsize": "10"} if caption else {}),
        },
        node_attr={"fontsize": "11"},
        edge_attr={"fontsize": "10"},
    )
    for node in order:  # creation order: parents are declared before their children
        name = names[node]
        box = _box(node, name, adjoint_of[node], fills.get(node), look.style)
        dot.node(name, label=box, shape="plain", **{"class": "value"})
        if not node.parents:
            continue
        op_name = f"{name}_op"
        op_text = escape_label(_op_text(node, look.constants))
        dot.node(op_name, label=f"<{op_text}>", shape="ellipse", **_OP_STYLE)
        dot.edge(op_name, name)
        if look.constants == "nodes":
            # Where the order of the operands matters (2 ** x against x ** 2), the constant's
            # edge says which operand it is: the picture alone cannot show left and right.
            ordered = node._rule not in _COMMUTATIVE
            folded = [(p, x) for p, x in enumerate(node._inputs, 1) if not isinstance(x, Value)]
            for k, (place, constant) in enumerate(folded):
                dot.node(f"{op_name}_c{k}", label=format_number(constant), **_CONSTANT_STYLE)
                where = {"label": f"operand {place}", "fontcolor": "#888888"} if ordered else {}
                dot.edge(f"{op_name}_c{k}", op_name, style="dashed", color="#888888", **where)
        for k, parent in enumerate(node.parents):  # x * x draws two edges: each occurrence counts
            label = edge_labels.get((node, k))
            dot.edge(names[parent], op_name, **({"label": f"<{label}>"} if label else {}))
    if look.rankdir == "auto":
        fit_to_slide(dot)
    return dot


def _constants(node: Value) -> list[float]:
    """The numbers folded into `node` as operands (`x - 1` has 1), in operand order."""
    return [x for x in node._inputs if not isinstance(x, Value)]


def _op_text(node: Value, constants: str) -> str:
    """The op as math: `- (-1)` with its constant inline, or just `-` when constants are nodes."""
    rule = node._rule
    if isinstance(rule, CustomOp):
        return rule.name or "custom"
    if constants == "nodes" or rule in NARY or not _constants(node):
        return rule.name
    # A constant is written in place, the Value operands left blank: "{0} - {1}" -> "- (-1)".
    shown = ["" if isinstance(x, Value) else _plain_constant(x) for x in node._inputs]
    return " ".join(rule.notation.format(*shown).split())


def _box(node: Value, name: str, adjoint: float, fill: str | None, style: str = "full") -> str:
    """An HTML-like label: v-name and label | data | grad, numbers to 4 significant digits."""
    # NOTE: a no-break space, because SVG viewers drop a text run's leading plain space ("v1x1").
    title = f"<B>{name}</B>" + (f"&#160;{escape_label(node.label)}" if node.label else "")
    background = f' BGCOLOR="{fill}"' if fill else ""
    if style == "compact":  # three short rows instead of one long one
        return (
            f'<<TABLE BORDER="1" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1"{background}>'
            f"<TR><TD>{title}</TD></TR><TR><TD>{node.data:.4g}</TD></TR>"
            f'<TR><TD><FONT COLOR="#b71c1c">grad {adjoint:.4g}</FONT></TD></TR></TABLE>>'
        )
    return (
        f'<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="4"{background}><TR>'
        f"<TD>{title}</TD><TD>data {node.data:.4g}</TD><TD>grad {adjoint:.4g}</TD>"
        "</TR></TABLE>>"
    )


def _local_text(names: Mapping[Value, str], child: Value, k: int, local: float) -> str:
    """∂v_j/∂v_i = local, for edge k of `child`; which operand, when v_i is two of them (x / x)."""
    parent = child.parents[k]
    return f"∂{names[child]}/∂{names[parent]}{_operand_note(child, k)} = {local:.4g}"


def _operand_note(child: Value, k: int) -> str:
    """The note " (operand 2)" when the k-th parent is several operands of `child` (x / x)."""
    if child.parents.count(child.parents[k]) > 1:
        return f" (operand {operand_number(child, k)})"
    return ""


# --- fitting a picture to a slide ------------------------------------------------------------

WIDEST = 3.0  # width / height of the widest picture that still fits a 16:9 slide or a cell
TALLEST = 0.5  # ... and of the tallest
STRETCH = 5.0  # up to this width / height a layout is stretched to fit; beyond it, wrapped


def layout_size(dot: graphviz.Digraph) -> tuple[float, float]:
    """(width, height) in points of the layout Graphviz's `dot` makes of the graph."""
    first_line = dot.pipe(format="plain", encoding="utf-8").split("\n", 1)[0]
    _, scale, width, height = first_line.split()[:4]  # "graph 1 12.5 3.2": inches
    return 72 * float(scale) * float(width), 72 * float(scale) * float(height)


def fit_to_slide(dot: graphviz.Digraph) -> None:
    """Choose the layout that fits a slide or a cell (WIDEST >= width/height >= TALLEST) best.

    The candidates: left to right; top to bottom; either one stretched when it is a little too
    long (Graphviz spreads the nodes apart; the text keeps its size); and, for a long chain, the
    left-to-right picture wrapped into rows that read like lines of text. Of those that fit, the
    one whose text stays largest when shown in a notebook cell or on a slide wins (the first of
    the list on a near tie).
    """
    candidates = []
    for rankdir in ("LR", "TB"):
        plain = dot.copy()
        plain.graph_attr["rankdir"] = rankdir
        candidates.append((plain, layout_size(plain)))
    (_, (width, height)), (_, tb_size) = candidates
    if WIDEST < width / height <= STRETCH:  # a little too wide: spread it vertically
        candidates.append(_stretched(dot, "LR", 1 / (0.95 * WIDEST)))
    if 1 / STRETCH <= tb_size[0] / tb_size[1] < TALLEST:  # a little too tall: spread it sideways
        candidates.append(_stretched(dot, "TB", 0.95 / TALLEST))
    if width / height > WIDEST:
        # Rows of width W / r stacked r deep at a pitch of about height + ranksep: about 3:2.
        wrapped = dot.copy()
        rows = max(2, round(math.sqrt(width / (1.5 * (height + 29)))))
        # Only a chain reads well wrapped, each row joined to the next by one edge: a value
        # used rows later (Newton's a in every step) draws long edges across the rows between.
        if _wrap_into_rows(wrapped, rows) <= rows - 1:
            candidates.append((wrapped, layout_size(wrapped)))
    fitting = [(graph, _legibility(*size)) for graph, size in candidates if _fits(*size)]
    if not fitting:  # nothing fits (a very wide sum, say): the most legible of them all
        fitting = [(graph, _legibility(*size)) for graph, size in candidates]
    best = max(score for _, score in fitting)
    chosen = next(graph for graph, score in fitting if score >= 0.95 * best)
    dot.graph_attr.clear()
    dot.graph_attr.update(chosen.graph_attr)
    dot.body[:] = chosen.body


CELL_WIDTH = 600  # points: a notebook cell of about 800 px
SLIDE_HEIGHT = 540  # points: a 16:9 slide of 13.33 x 7.5 in


def _fits(width: float, height: float) -> bool:
    return TALLEST <= width / height <= WIDEST


def _legibility(width: float, height: float) -> float:
    """How much a picture is shrunk to fit a cell's width and a slide's height (1: not at all)."""
    return min(1.0, CELL_WIDTH / width, SLIDE_HEIGHT / height)


def _stretched(dot: graphviz.Digraph, rankdir: str, ratio: float) -> tuple:
    """A copy laid out in `rankdir` and scaled to height/width = ratio, with its size."""
    graph = dot.copy()
    graph.graph_attr.update(rankdir=rankdir, ratio=f"{ratio:.3f}")
    return graph, layout_size(graph)


_EDGE = re.compile(r"\t(\w+) -> (\w+)(?: \[|$)")
_NODE = re.compile(r"\t(\w+) \[")


def _wrap_into_rows(dot: graphviz.Digraph, rows: int) -> int:
    """Put the graph's ranks (longest path from an input) into `rows` rows, top to bottom.

    Returns how many pairs of nodes are joined by edges from one row to another.
    """
    # The statements as the graphviz package writes them: "\tv1 -> v3_op [...]", "\tv3 [...]"
    # (ids are plain words, so they are never quoted); labels may hold "->", so match the start.
    edges = [match.groups() for line in dot.body if (match := _EDGE.match(line))]
    nodes = [match[1] for line in dot.body if (match := _NODE.match(line))]
    # Longest path from an input, over the nodes in a topological order (Kahn's algorithm).
    heads: dict[str, list[str]] = {node: [] for node in nodes}
    waiting = dict.fromkeys(nodes, 0)
    for tail, head in edges:
        heads[tail].append(head)
        waiting[head] += 1
    depth = dict.fromkeys(nodes, 0)
    ready = [node for node in nodes if not waiting[node]]
    while ready:
        tail = ready.pop()
        for head in heads[tail]:
            depth[head] = max(depth[head], depth[tail] + 1)
            waiting[head] -= 1
            if not waiting[head]:
                ready.append(head)
    ranks = max(depth.values()) + 1
    per_row = math.ceil(ranks / rows)
    row_of = {node: depth[node] // per_row for node in nodes}
    # 1. An edge from one row to the next must not pull the rows into a staircase: weight 0.
    between_rows = set()
    for k, line in enumerate(dot.body):
        match = _EDGE.match(line)
        if match and row_of[match[1]] != row_of[match[2]]:
            between_rows.add(match.groups())
            stripped = line.rstrip()
            dot.body[k] = (
                stripped[:-1] + " weight=0]\n"
                if stripped.endswith("]")
                else stripped + " [weight=0]\n"
            )
    # 2. Each row is one rank; an invisible heavy edge puts each row's first node under the last's.
    dot.graph_attr.update(rankdir="TB", newrank="true", ranksep="0.4")
    firsts = []
    for row in range(max(row_of.values()) + 1):
        members = sorted((n for n in nodes if row_of[n] == row), key=depth.get)
        dot.body.append("\t{rank=same; " + " ".join(members) + "}\n")
        firsts.append(members[0])
    for upper, lower in itertools.pairwise(firsts):
        dot.edge(upper, lower, style="invis", weight="100")
    return len(between_rows)


def _message_text(names: Mapping[Value, str], child: Value, k: int, message: float) -> str:
    """v̄_j·∂v_j/∂v_i = message, the number sent back along edge k of `child` (which operand)."""
    child_name, parent_name = names[child], names[child.parents[k]]
    return (
        f"v̄{child_name[1:]}·∂{child_name}/∂{parent_name}{_operand_note(child, k)} = {message:.4g}"
    )


def escape_label(text: str) -> str:
    """User text for an HTML-like label: one line, cut to MAX_TEXT characters, fully escaped."""
    text = printable(text)
    if len(text) > MAX_TEXT:
        text = text[: MAX_TEXT - 1] + "…"
    # NOTE: Graphviz reads backslash escapes even inside HTML-like labels (\N becomes the node's
    # name, \\ one backslash), so each backslash is doubled after the HTML escaping.
    return html.escape(text).replace("\\", "\\\\")
