"""The evaluation trace as a table: Bishop's rows v1..vN with primal, tangent and adjoint (8.2).

`trace(output, wrt)` names the nodes `output` depends on v1..vN in creation order and writes each
node's equation from the rule table's notation. The tangent column is forward mode run over the
recorded local derivatives (8.57); the adjoint column is each node's `grad` after a backward pass.
The table prints as plain text, as HTML in Jupyter, and as LaTeX in Bishop's notation.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from . import ops
from .ops import is_real, limit, to_float
from .value import CustomOp, Value, ancestors, format_number


@dataclass(frozen=True)
class TraceRow:
    """One line of the trace: v_i = equation, primal v_i, tangent v̇_i (or None), adjoint v̄_i."""

    name: str
    node: Value
    equation: str
    value: float
    adjoint: float
    tangent: float | None

    @property
    def label(self) -> str:
        """The node's label ("" when it has none)."""
        return self.node.label


class Trace:
    """Bishop's evaluation trace of one output: `rows` v1..vN, printable as text, HTML and LaTeX."""

    def __init__(
        self, rows: list[TraceRow], title: str, seed_text: str | None, max_rows: int | None = None
    ) -> None:
        self.rows = rows
        self.title = title  # e.g. "evaluation trace of v7 (f)"
        self.seed_text = seed_text  # which tangent seed the tangent column uses, or None
        self.max_rows = limit("max_rows", max_rows)  # how many rows text, HTML and LaTeX show

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[TraceRow]:
        return iter(self.rows)

    def __repr__(self) -> str:
        # The table itself, as a REPL or a notebook's plain-text output should show it.
        return str(self)

    @property
    def has_tangents(self) -> bool:
        """True when the trace was made with `wrt`, so every row has a tangent."""
        return self.seed_text is not None

    @property
    def caption(self) -> str:
        """The title line: which output, and which seed the tangent column uses."""
        return self.title + (f"; tangents: {self.seed_text}" if self.seed_text else "")

    def _shown(self) -> tuple[list[TraceRow | None], int]:
        """The rows to show, None where the rows that are not shown stand, and how many those are.

        NOTE: a trace of a whole network's loss has as many rows as nodes; a notebook would try to
        render every one. The first and last rows (the inputs and the output) are kept."""
        hidden = 0 if self.max_rows is None else len(self.rows) - self.max_rows
        if hidden <= 0:
            return list(self.rows), 0
        head = (self.max_rows + 1) // 2
        tail = self.max_rows - head
        return [*self.rows[:head], None, *self.rows[len(self.rows) - tail :]], hidden

    def _gap_text(self, hidden: int) -> str:
        rows = "row" if hidden == 1 else "rows"
        return f"... {hidden} {rows} not shown (max_rows={self.max_rows}; max_rows=None shows all)"

    def __str__(self) -> str:
        """A plain-text table, one aligned line per row."""
        table = [["node", "equation", "value", *self._number_headers("tangent", "adjoint")]]
        shown, hidden = self._shown()
        for row in shown:
            if row is None:
                table.append([self._gap_text(hidden)])
                continue
            numbers = [row.value, *self._numbers(row)]
            table.append(
                [_name_with_label(row), printable(row.equation), *map(_plain_number, numbers)]
            )
        widths = [
            max(len(line[k]) for line in table if len(line) > 1) for k in range(len(table[0]))
        ]
        lines = [self.caption]
        for line in table:
            if len(line) == 1:  # the line saying how many rows are not shown
                lines.append(line[0])
                continue
            cells = [line[0].ljust(widths[0]), line[1].ljust(widths[1])]
            cells += [cell.rjust(width) for cell, width in zip(line[2:], widths[2:], strict=True)]
            lines.append("  ".join(cells).rstrip())
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """An HTML table for Jupyter; every piece of user text is escaped."""
        headers = ["node", "equation", "value v", *self._number_headers("tangent v̇", "adjoint v̄")]
        head = "".join(f"<th>{html.escape(text)}</th>" for text in headers)
        parts = [
            '<table class="tracegrad-trace">',
            f"<caption>{html.escape(self.caption)}</caption>",
            f"<thead><tr>{head}</tr></thead>",
            "<tbody>",
        ]
        shown, hidden = self._shown()
        for row in shown:
            if row is None:
                gap = html.escape(self._gap_text(hidden))
                parts.append(f'<tr><td colspan="{len(headers)}"><em>{gap}</em></td></tr>')
                continue
            equation = html.escape(printable(row.equation))
            numbers = [row.value, *self._numbers(row)]
            cells = [
                f"<td>{html.escape(_name_with_label(row))}</td>",
                f'<td style="text-align:left"><code>{equation}</code></td>',
                *(f'<td style="text-align:right">{_plain_number(x)}</td>' for x in numbers),
            ]
            parts.append("<tr>" + "".join(cells) + "</tr>")
        parts.append("</tbody></table>")
        return "\n".join(parts)

    def to_latex(self) -> str:
        r"""A LaTeX `array` in Bishop's notation: v_{3} = v_{1} v_{2}, \dot{v}_i, \bar{v}_i."""
        headers = [r"\text{node}", r"\text{primal}", "v_i"]
        headers += self._number_headers(r"\dot{v}_i", r"\bar{v}_i")
        lines = [r"\begin{array}{ll" + "r" * (len(headers) - 2) + "}", " & ".join(headers) + r" \\"]
        lines.append(r"\hline")
        index = {row.node: k for k, row in enumerate(self.rows, 1)}
        shown, hidden = self._shown()
        for row in shown:
            if row is None:
                gap = _latex_text(self._gap_text(hidden))
                lines.append(rf"\multicolumn{{{len(headers)}}}{{l}}{{\text{{{gap}}}}} \\")
                continue
            k = index[row.node]
            name = f"v_{{{k}}}"
            if row.label:
                name += rf"\;({_latex_symbol(row.label)})"
            equation = f"v_{{{k}}} = {_latex_right_side(row.node, index)}"
            numbers = [_latex_number(x) for x in (row.value, *self._numbers(row))]
            lines.append(" & ".join([name, equation, *numbers]) + r" \\")
        lines.append(r"\end{array}")
        return "\n".join(lines)

    def _number_headers(self, tangent: str, adjoint: str) -> list[str]:
        return [tangent, adjoint] if self.has_tangents else [adjoint]

    def _numbers(self, row: TraceRow) -> list[float]:
        return [row.tangent, row.adjoint] if self.has_tangents else [row.adjoint]


MAX_ROWS = 500  # as draw_dot's max_nodes: more would be slow to render and unreadable


def trace(
    output: Value, wrt: Value | Mapping[Value, float] | None = None, max_rows: int | None = MAX_ROWS
) -> Trace:
    """The evaluation trace of `output`: v_i = equation, v_i, v̇_i = Σ_j ∂v_i/∂v_j v̇_j (8.57), v̄_i.

    `wrt` seeds the tangent column: a Value x sets ẋ = 1 (all other inputs 0), giving
    v̇_i = ∂v_i/∂x; a dict {x: r_x} seeds a direction r (Bishop's ẋ = r), giving a directional
    derivative. A seeded node that is not a leaf keeps its seed (its own inputs are ignored). A
    Value that is not in the graph is allowed: nothing depends on it, so every tangent is 0.
    Text, HTML and LaTeX show at most `max_rows` rows (the first and the last ones) and say how
    many are left out; `max_rows=None` shows all. `rows` always holds every row.
    """
    if not isinstance(output, Value):
        raise TypeError(f"trace() takes a Value, not {type(output).__name__}")
    max_rows = limit("max_rows", max_rows)
    order = ancestors(output)
    result = build_trace(order, {node: node.grad for node in order}, _seeds(wrt))
    result.max_rows = max_rows
    return result


def build_trace(
    order: list[Value], adjoint_of: Mapping[Value, float], seeds: dict[Value, float] | None
) -> Trace:
    """The trace of the nodes `order` (creation order) with the given adjoints and tangent seeds."""
    names = node_names(order)
    tangent_of = forward_tangents(order, seeds) if seeds is not None else {}
    rows = [
        TraceRow(
            name=names[node],
            node=node,
            equation=f"{names[node]} = {right_side(node, names)}",
            value=node.data,
            adjoint=adjoint_of[node],
            tangent=tangent_of.get(node),
        )
        for node in order
    ]
    output = order[-1]
    title = f"evaluation trace of {names[output]}"
    if output.label:
        title += f" ({printable(output.label)})"
    return Trace(rows, title, None if seeds is None else _describe_seeds(seeds, names))


def node_names(order: list[Value]) -> dict[Value, str]:
    """Bishop's names v1..vN for the nodes in creation order."""
    return {node: f"v{k}" for k, node in enumerate(order, 1)}


def forward_tangents(order: list[Value], seeds: Mapping[Value, float]) -> dict[Value, float]:
    """Forward mode over the recorded graph: v̇_i = Σ_{j ∈ pa(i)} ∂v_i/∂v_j v̇_j (Bishop (8.57))."""
    tangent: dict[Value, float] = {}
    for node in order:  # creation order: every parent's tangent is ready before its child's
        if node in seeds:
            tangent[node] = seeds[node]
            continue
        total = 0.0
        for parent, local in zip(node.parents, node.local_grads, strict=True):
            # NOTE: a zero tangent or a zero local derivative contributes nothing, even where the
            # other factor is infinite (0 · inf would be nan); Dual and backward() skip them too.
            if tangent[parent] and local:
                total += local * tangent[parent]
        tangent[node] = total
    return tangent


def _seeds(wrt: Any) -> dict[Value, float] | None:
    """`wrt` as a dict {node: seed tangent}: a Value x is {x: 1.0}."""
    if wrt is None:
        return None
    if isinstance(wrt, Value):
        return {wrt: 1.0}
    if isinstance(wrt, Mapping):
        seeds = {}
        for node, seed in wrt.items():
            if not isinstance(node, Value) or not is_real(seed):
                raise TypeError(
                    "trace(wrt=...) takes a Value or a dict {Value: number}; got an entry "
                    f"{type(node).__name__}: {type(seed).__name__}"
                )
            seeds[node] = to_float(seed, "trace(wrt=...) seed")
        return seeds
    raise TypeError(
        f"trace(wrt=...) takes a Value or a dict {{Value: number}}, not {type(wrt).__name__}"
    )


def _describe_seeds(seeds: Mapping[Value, float], names: Mapping[Value, str]) -> str:
    """Which tangents are seeded, e.g. "v̇1 = 1, every other input 0"."""
    parts = []
    for node, seed in seeds.items():
        if node in names:
            parts.append(f"v̇{names[node][1:]} = {format_number(seed)}")
        else:
            what = f" '{printable(node.label)}'" if node.label else ""
            parts.append(f"a Value{what} not in this graph (so every tangent is 0)")
    return ", ".join([*parts, "every other input 0" if parts else "every input 0"])


# --- equations -------------------------------------------------------------------------------


def right_side(node: Value, names: Mapping[Value, str]) -> str:
    """The right-hand side of node's equation: "v1 * v2", "exp(v3)", "v1 + 2", or a leaf's label."""
    rule = node._rule
    if rule is None:  # a leaf: its label (Bishop's v1 = x1), or its value when it has none
        return node.label or format_number(node.data)
    operands = [names[x] if isinstance(x, Value) else _plain_constant(x) for x in node._inputs]
    if rule is ops.DOT:
        n = (len(operands) - 1) // 2
        terms = [f"{w}*{x}" for w, x in zip(operands[:n], operands[n : 2 * n], strict=True)]
        return _with_bias(terms, operands[-1])
    if rule is ops.SUM:
        return " + ".join(operands)
    if isinstance(rule, CustomOp):
        return f"{rule.name or 'custom'}({', '.join(operands)})"
    return rule.notation.format(*operands)


def _with_bias(terms: list[str], bias: str) -> str:
    """Σ_i w_i x_i + b from its written products; a zero bias is left out."""
    if bias != "0" or not terms:
        terms = [*terms, bias]
    return " + ".join(terms)


def _plain_constant(x: float) -> str:
    """A folded constant as text; a negative one in brackets so "v1 - (-2)" reads right."""
    text = format_number(x)
    return f"({text})" if text.startswith("-") else text


def _plain_number(x: float) -> str:
    return f"{x:.6g}"


def _name_with_label(row: TraceRow) -> str:
    return f"{row.name} ({printable(row.label)})" if row.label else row.name


# NOTE: besides the control characters, the bidirectional overrides and isolates (U+202A-U+202E,
# U+2066-U+2069), which reorder the text shown after them, so a label could hide what it says.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """`text` on one line: control characters (newline, tab, ESC, bidi overrides...) as visible
    escapes like \\n and \\u202e."""
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")  # lone surrogates too
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


# --- LaTeX -----------------------------------------------------------------------------------

_LATEX_NOTATION = {
    "+": "{0} + {1}",
    "-": "{0} - {1}",
    "*": "{0} {1}",  # Bishop's v_1 v_2; "\cdot" when the right factor is a number
    "/": r"\frac{{{0}}}{{{1}}}",
    "**": "{0}^{{{1}}}",
    "neg": "-{0}",
    "pos": "+{0}",
    "abs": r"\left|{0}\right|",
    "exp": r"\exp\left({0}\right)",
    "log": r"\ln\left({0}\right)",
    "sin": r"\sin\left({0}\right)",
    "cos": r"\cos\left({0}\right)",
    "tanh": r"\tanh\left({0}\right)",
    "sigmoid": r"\sigma\left({0}\right)",
    "relu": r"\mathrm{{ReLU}}\left({0}\right)",
    "softplus": r"\mathrm{{softplus}}\left({0}\right)",
    "sqrt": r"\sqrt{{{0}}}",
    "tan": r"\tan\left({0}\right)",
    "sinh": r"\sinh\left({0}\right)",
    "cosh": r"\cosh\left({0}\right)",
    "asin": r"\arcsin\left({0}\right)",
    "acos": r"\arccos\left({0}\right)",
    "atan": r"\arctan\left({0}\right)",
    "asinh": r"\mathrm{{arsinh}}\left({0}\right)",
    "acosh": r"\mathrm{{arcosh}}\left({0}\right)",
    "atanh": r"\mathrm{{artanh}}\left({0}\right)",
    "log1p": r"\ln\left(1 + {0}\right)",
    "expm1": r"\left(e^{{{0}}} - 1\right)",
    "log2": r"\log_{{2}}\left({0}\right)",
    "log10": r"\log_{{10}}\left({0}\right)",
    "erf": r"\mathrm{{erf}}\left({0}\right)",
    "sign": r"\mathrm{{sgn}}\left({0}\right)",
    "%": r"{0} \bmod {1}",
    "maximum": r"\max\left({0}, {1}\right)",
    "minimum": r"\min\left({0}, {1}\right)",
}

_LATEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "&": r"\&",
    "#": r"\#",
    "%": r"\%",
    "_": r"\_",
    "^": r"\textasciicircum{}",
    "~": r"\textasciitilde{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
}


def _latex_right_side(node: Value, index: Mapping[Value, int]) -> str:
    """right_side() in Bishop's notation: v_{1} v_{2}, \\exp\\left(v_{3}\\right), \\sigma(...)."""
    rule = node._rule
    if rule is None:
        return _latex_symbol(node.label) if node.label else _latex_number(node.data)
    inputs = node._inputs
    operands = [f"v_{{{index[x]}}}" if isinstance(x, Value) else _latex_constant(x) for x in inputs]
    if rule is ops.DOT:
        n = (len(inputs) - 1) // 2
        terms = [
            _latex_product(inputs[n + k]).format(operands[k], operands[n + k]) for k in range(n)
        ]
        return _with_bias(terms, operands[-1])
    if rule is ops.SUM:
        return " + ".join(operands)
    if rule is ops.MUL:
        return _latex_product(inputs[1]).format(*operands)
    template = None if isinstance(rule, CustomOp) else _LATEX_NOTATION.get(rule.name)
    if template is None:  # a custom op, or a primitive without a LaTeX form: its name as text
        name = _latex_text(rule.name or "custom")
        return rf"\text{{{name}}}\left({', '.join(operands)}\right)"
    return template.format(*operands)


def _latex_product(right: Any) -> str:
    """Bishop writes a product by juxtaposition (v_1 v_2); a number on the right needs a \\cdot."""
    return "{0} {1}" if isinstance(right, Value) else r"{0} \cdot {1}"


def _latex_constant(x: float) -> str:
    text = _latex_number(x)
    return f"({text})" if text.startswith("-") else text


def _latex_number(x: float) -> str:
    """A number for math mode: 1e-07 -> 1 \\times 10^{-7}, inf -> \\infty."""
    if math.isnan(x):
        return r"\text{nan}"
    if math.isinf(x):
        return r"\infty" if x > 0 else r"-\infty"
    mantissa, _, exponent = _plain_number(x).partition("e")
    return rf"{mantissa} \times 10^{{{int(exponent)}}}" if exponent else mantissa


def _latex_symbol(label: str) -> str:
    """A label in math mode: "x1" -> x_{1} and "b" -> b as Bishop writes them, else \\text{...}."""
    match = re.fullmatch(r"([A-Za-z])_?(\d+)", label)
    if match:
        return f"{match[1]}_{{{match[2]}}}"
    if re.fullmatch(r"[A-Za-z]", label):
        return label
    return rf"\text{{{_latex_text(label)}}}"


def _latex_text(text: str) -> str:
    """`text` safe inside \\text{...}: every LaTeX special character escaped."""
    return "".join(_LATEX_SPECIALS.get(c, c) for c in printable(text))
