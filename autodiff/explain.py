"""One node's chain rule written out with its numbers: `explain(node)` and `explain(node, wrt=x)`.

Reverse mode: v̄_i = Σ_{j ∈ ch(i)} v̄_j ∂v_j/∂v_i (Bishop (8.69)), one term per child occurrence.
Forward mode: v̇_i = Σ_{j ∈ pa(i)} ∂v_i/∂v_j v̇_j (8.57), one term per parent occurrence. The result
prints as text, shows as HTML in Jupyter and gives LaTeX; names v1..vN are the trace's.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass

from .trace import _latex_number, _seeds, forward_tangents, node_names, printable, right_side
from .value import Value, ancestors, last_backward_output

ADJOINT_EQUATION = "(8.69)"  # v̄_i = Σ_{j ∈ ch(i)} v̄_j ∂v_j/∂v_i
SEED_EQUATION = "(8.68)"  # v̄_i = ∂f/∂v_i, so the output's own adjoint is ∂f/∂f = 1
TANGENT_EQUATION = "(8.57)"  # v̇_i = Σ_{j ∈ pa(i)} ∂v_i/∂v_j v̇_j


@dataclass(frozen=True)
class Term:
    """One product of the sum: `factor` (v̄_j or v̇_j) times `local` (the local derivative)."""

    other: str  # the child (reverse) or parent (forward) this term comes through, e.g. "v5"
    equation: str  # that node's equation, e.g. "v5 = exp(v3)"
    factor: float  # v̄_j (reverse) or v̇_j (forward)
    local: float  # ∂v_j/∂v_i (reverse) or ∂v_i/∂v_j (forward)
    value: float  # the product, as the engine forms it (a zero factor sends 0, even times inf)
    operand: int | None  # which operand of the child, when node is several of them (x * x)


class Explanation:
    """The sum behind one adjoint or tangent: `terms`, their `total`, the equation number."""

    def __init__(
        self, name: str, mode: str, terms: list[Term], total: float, seed: bool, label: str = ""
    ) -> None:
        self.name = name  # "v3"
        self.label = label  # the node's own label, "a1[0]", so v22 of a network can be found
        self.mode = mode  # "adjoint" or "tangent"
        self.terms = terms
        self.total = total
        self.seed = seed  # True when the number is a seed (the output's v̄, a seeded input's v̇)

    @property
    def equation_number(self) -> str:
        """Bishop's number of the rule used: (8.69), (8.68) for the output's seed, or (8.57)."""
        if self.mode == "tangent":
            return TANGENT_EQUATION
        return SEED_EQUATION if self.seed else ADJOINT_EQUATION

    def _symbol(self, name: str) -> str:
        return ("v̄" if self.mode == "adjoint" else "v̇") + name[1:]

    def _ends(self, term: Term) -> tuple[str, str]:
        """(j, i) of ∂v_j/∂v_i: a child over this node (reverse), this over a parent (forward)."""
        return (term.other, self.name) if self.mode == "adjoint" else (self.name, term.other)

    def _partial(self, term: Term) -> str:
        top, bottom = self._ends(term)
        operand = f" (operand {term.operand})" if term.operand is not None else ""
        return f"∂{top}/∂{bottom}{operand}"

    def __str__(self) -> str:
        """One line: symbols = numbers = total, then the equation number and each term's node."""
        lhs = self._symbol(self.name)
        if self.seed or not self.terms:
            why = self._no_terms_reason()
            return f"{lhs} = {_number(self.total)}   {why} {self.equation_number}"
        symbols = " + ".join(f"{self._symbol(t.other)} {self._partial(t)}" for t in self.terms)
        numbers = " + ".join(f"{_factor(t.factor)} × {_factor(t.local)}" for t in self.terms)
        line = f"{lhs} = {symbols} = {numbers} = {_number(self.total)}   {self.equation_number}"
        return "\n".join([line, *(f"  {note}" for note in self._notes())])

    def __repr__(self) -> str:
        return str(self)

    def _notes(self) -> list[str]:
        """What the names stand for: this node's label ("v2 is x2"), each other node's equation."""
        own = [f"{self.name} is {printable(self.label)}"] if self.label else []
        return own + [term.equation for term in self._distinct_nodes()]

    def _distinct_nodes(self) -> list[Term]:
        seen, terms = set(), []
        for term in self.terms:
            if term.other not in seen:
                seen.add(term.other)
                terms.append(term)
        return terms

    def _no_terms_reason(self) -> str:
        if self.mode == "tangent":
            return "(the seed)" if self.seed else "(an input not seeded)"
        return "(the seed of backward(): ∂f/∂f)" if self.seed else "(no path to the output)"

    def _repr_html_(self) -> str:
        """The sum in HTML for Jupyter, with the nodes' equations underneath."""

        def symbol(name: str) -> str:
            bar = "overline" if self.mode == "adjoint" else None
            letter = f'<span style="text-decoration:{bar}">v</span>' if bar else "v&#775;"
            return f"{letter}<sub>{html.escape(name[1:])}</sub>"

        def partial(term: Term) -> str:
            top, bottom = self._ends(term)
            operand = f" (operand {term.operand})" if term.operand is not None else ""
            return f"∂v<sub>{top[1:]}</sub>/∂v<sub>{bottom[1:]}</sub>{operand}"

        lhs = symbol(self.name)
        number = f'<span style="color:#777">&nbsp;&nbsp;{self.equation_number}</span>'
        if self.seed or not self.terms:
            line = f"{lhs} = {_number(self.total)} {html.escape(self._no_terms_reason())}"
            return f'<div class="tracegrad-explain">{line}{number}</div>'
        symbols = " + ".join(f"{symbol(t.other)} {partial(t)}" for t in self.terms)
        numbers = " + ".join(f"{_factor(t.factor)} × {_factor(t.local)}" for t in self.terms)
        line = f"{lhs} = {symbols} = {numbers} = <b>{_number(self.total)}</b>{number}"
        notes = "; ".join(html.escape(note) for note in self._notes())
        return (
            f'<div class="tracegrad-explain">{line}'
            f'<div style="color:#555;font-size:90%">where {notes}</div></div>'
        )

    def to_latex(self) -> str:
        r"""The sum in Bishop's notation: \bar{v}_{3} = \bar{v}_{5} \frac{\partial v_{5}}{...}."""
        accent = r"\bar" if self.mode == "adjoint" else r"\dot"

        def symbol(name: str) -> str:
            return f"{accent}{{v}}_{{{name[1:]}}}"

        def partial(term: Term) -> str:
            top, bottom = self._ends(term)
            return rf"\frac{{\partial v_{{{top[1:]}}}}}{{\partial v_{{{bottom[1:]}}}}}"

        tag = rf"\qquad {self.equation_number}"
        if self.seed or not self.terms:
            return f"{symbol(self.name)} = {_latex_short(self.total)}{tag}"
        symbols = " + ".join(f"{symbol(t.other)} {partial(t)}" for t in self.terms)
        numbers = " + ".join(
            rf"{_latex_factor(t.factor)} \times {_latex_factor(t.local)}" for t in self.terms
        )
        total = _latex_short(self.total)
        return f"{symbol(self.name)} = {symbols} = {numbers} = {total}{tag}"


def explain(
    node: Value, wrt: Value | Mapping[Value, float] | None = None, *, output: Value | None = None
) -> Explanation:
    """The chain rule behind node's adjoint v̄_i = Σ_{j ∈ ch(i)} v̄_j ∂v_j/∂v_i (8.69), with numbers.

    The adjoints are the `grad`s left by the last `backward()` (of `output`, by default the node
    that `backward()` was last called on in this thread). With `wrt` (a Value x, or a dict of
    seeds as for `trace`) it explains the tangent v̇_i = Σ_{j ∈ pa(i)} ∂v_i/∂v_j v̇_j (8.57) instead.
    Nodes are named v1..vN as in `trace(output)`; a tangent of a node outside that graph is named
    as in `trace(node)`.
    """
    if not isinstance(node, Value):
        raise TypeError(f"explain() takes a Value, not {type(node).__name__}")
    if output is not None and not isinstance(output, Value):
        raise TypeError(f"output must be a Value, not {type(output).__name__}")
    if wrt is not None:
        return _explain_tangent(node, _seeds(wrt), output or last_backward_output())
    if output is None:
        output = last_backward_output()
        if output is None:
            raise ValueError(
                "explain(node) explains an adjoint: call backward() first (and keep its output), "
                "or pass output="
            )
    order = ancestors(output)
    names = node_names(order)
    if node not in names:
        raise ValueError(
            f"the node is not in the graph of {names[output]} (the output of the last "
            "backward()): pass output=, the node backward() was called on"
        )
    if node is output:
        return Explanation(names[node], "adjoint", [], node.grad, seed=True, label=node.label)
    by_child = []  # each child's terms, one per operand that is node (x * x: two)
    for child in order:
        if node not in child.parents:
            continue
        repeated = child.parents.count(node) > 1
        by_child.append(
            [
                Term(
                    other=names[child],
                    equation=f"{names[child]} = {right_side(child, names)}",
                    factor=child.grad,
                    local=local,
                    value=chain_term(local, child.grad),
                    operand=operand_number(child, k) if repeated else None,
                )
                for k, (parent, local) in enumerate(
                    zip(child.parents, child.local_grads, strict=True)
                )
                if parent is node
            ]
        )
    terms = [term for group in by_child for term in group]
    total = 0.0
    # In backward()'s order, so the total is the grad to the last bit: the last child first,
    # each child's operands in turn.
    for group in reversed(by_child):
        for term in group:
            total += term.value
    return Explanation(names[node], "adjoint", terms, total, seed=False, label=node.label)


def _explain_tangent(node: Value, seeds: dict[Value, float], output: Value | None) -> Explanation:
    """v̇_i = Σ_{j ∈ pa(i)} ∂v_i/∂v_j v̇_j, named as in the trace of `output` when node is in it."""
    names = node_names(ancestors(output)) if output is not None else {}
    if node not in names:  # no output, or another graph's: number the node's own graph
        names = node_names(ancestors(node))
    order = ancestors(node)
    tangent = forward_tangents(order, seeds)
    if node in seeds or not node.parents:
        seeded = node in seeds
        return Explanation(names[node], "tangent", [], tangent[node], seeded, label=node.label)
    repeated = {p for p in node.parents if node.parents.count(p) > 1}
    terms = [
        Term(
            other=names[parent],
            equation=f"{names[parent]} = {right_side(parent, names)}",
            factor=tangent[parent],
            local=local,
            value=chain_term(local, tangent[parent]),
            operand=operand_number(node, k) if parent in repeated else None,
        )
        for k, (parent, local) in enumerate(zip(node.parents, node.local_grads, strict=True))
    ]
    return Explanation(names[node], "tangent", terms, tangent[node], seed=False, label=node.label)


def chain_term(local: float, factor: float) -> float:
    """local · factor as both modes form it: a zero on either side sends 0 (even times inf)."""
    # NOTE: IEEE would give 0 · inf = nan; a zero adjoint or tangent means "no dependence".
    return local * factor if factor and local else 0.0


def operand_number(child: Value, k: int) -> int:
    """Which operand of `child` its k-th parent is, counting constants too (sum([2, x, x]))."""
    places = [i for i, x in enumerate(child._inputs) if isinstance(x, Value)]
    return places[k] + 1


def _number(x: float) -> str:
    return f"{x:.4g}"


def _factor(x: float) -> str:
    """A number inside a product: a negative one in brackets, 1 × (-1)."""
    text = _number(x)
    return f"({text})" if text.startswith("-") else text


def _latex_short(x: float) -> str:
    """A number to 4 significant digits for LaTeX (inf and nan as the trace writes them)."""
    return _latex_number(float(f"{x:.4g}"))


def _latex_factor(x: float) -> str:
    """_latex_short, a negative number in brackets: 1 \times (-1)."""
    text = _latex_short(x)
    return f"({text})" if text.startswith("-") else text
