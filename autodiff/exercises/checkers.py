"""Checkers for the chapter's exercises on one function: each names the wrong place and its rule.

`check_trace` grades a filled-in evaluation trace (primal, tangent and adjoint columns, cell by
cell), `check_grads` predicted adjoints of chosen nodes, `check_local_derivative` the local
derivative of a new primitive, `check_finite_differences` the formulas (8.24) and (8.25). The
expected numbers come from the engine itself (its rule table, trace and finite differences).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..check import _input_names, gradcheck, numerical_grad
from ..ops import exp, sin
from ..trace import forward_tangents, node_names, right_side
from ..value import CustomOp, Value, adjoints, ancestors, format_number
from .feedback import (
    NOT_DONE,
    RIGHT,
    WRONG,
    Feedback,
    Line,
    NotDoneError,
    close,
    read_answer,
    read_number,
    should_be,
)

#: Where `check_local_derivative` compares a one-input derivative when no points are given:
#: both signs, small and large, away from 0 where many functions have a kink.
DEFAULT_POINTS = (-2.3, -0.7, 0.4, 1.3, 3.1)


# --- the evaluation trace ----------------------------------------------------------------------


def check_trace(
    f: Callable[..., Any],
    inputs: Sequence[float],
    *,
    primal: Any = None,
    tangent: Any = None,
    adjoint: Any = None,
    wrt: int | Sequence[float] = 0,
    reveal: bool = False,
    rtol: float = 1e-3,
) -> Feedback:
    """Grade the columns given of f's evaluation trace at `inputs`, each a list v1..vN or a dict.

    primal: v_i (8.50)-(8.56); tangent: v̇_i = Σ_j ∂v_i/∂v_j v̇_j (8.57) seeded by `wrt` (an input
    index, ẋ = e_wrt, or a direction r, ẋ = r); adjoint: v̄_i = Σ_j v̄_j ∂v_j/∂v_i (8.69) from
    v̄_N = 1. A cell that is wrong only because a cell it depends on is wrong is told so.
    """
    names = _input_names(f, len(inputs))
    leaves = [Value(x, label=name) for x, name in zip(inputs, names)]
    output = f(*leaves)
    if not isinstance(output, Value):
        raise TypeError(f"check_trace: f must return a Value, not {type(output).__name__}")
    order = ancestors(output)
    graph = _Graph(order, reveal, rtol)
    if isinstance(wrt, int):
        if not 0 <= wrt < len(inputs):  # -1 would seed the last input but be named e0
            raise ValueError(f"check_trace: wrt={wrt} is not an input index 0..{len(inputs) - 1}")
        graph.seeds = {leaves[wrt]: 1.0}
        graph.seed_text = f"ẋ = e{wrt + 1}, i.e. ∂/∂{names[wrt]}"
    else:
        graph.seeds = {leaf: float(r) for leaf, r in zip(leaves, wrt, strict=True)}
        graph.seed_text = "ẋ = r = (" + ", ".join(f"{r:g}" for r in wrt) + ")"
    columns = [
        (primal, "primal", "v", {node: node.data for node in order}, graph.check_primal),
        (tangent, "tangent", "v̇", forward_tangents(order, graph.seeds), graph.check_tangent),
        (adjoint, "adjoint", "v̄", adjoints(output), graph.check_adjoint),
    ]
    lines = []
    for answer, column, symbol, truth, check_wrong in columns:
        if answer is None and not (primal is tangent is adjoint is None):
            continue  # a column not asked for
        try:
            given = graph.read_column(answer, column)
        except NotDoneError as missing:
            lines.append(Line(f"{column} column", NOT_DONE, missing.message))
            continue
        for node in order:
            lines.append(graph.check_cell(node, given, truth, symbol, check_wrong))
    title = f"evaluation trace of {graph.names[output]} at {tuple(inputs)}"
    if tangent is not None:
        title += f"; tangents for {graph.seed_text}"
    return Feedback(title, lines)


class _Graph:
    """The trace being checked: its nodes v1..vN, each node's children, and the cell rules."""

    def __init__(self, order: list[Value], reveal: bool = False, rtol: float = 1e-3) -> None:
        self.order = order
        self.names = node_names(order)
        self.output = order[-1]
        self.reveal = reveal
        self.rtol = rtol
        self.seeds: dict[Value, float] = {}  # the tangent seeds ẋ, and how to say them
        self.seed_text = ""
        # children[v] lists (child, ∂child/∂v) once per use: x * x lists its child twice.
        # A node's local_grads are numbers (a custom op's Values are stored as their data).
        self.children: dict[Value, list[tuple[Value, float]]] = {node: [] for node in order}
        for node in order:
            for parent, local in zip(node.parents, node.local_grads):
                self.children[parent].append((node, float(local)))

    def read_column(self, answer: Any, column: str) -> dict[Value, Any]:
        """A column as {node: the student's entry}, from a list v1..vN or a dict {"v3": ...}."""
        answer = read_answer(answer)
        if hasattr(answer, "tolist"):  # a numpy array
            answer = answer.tolist()
        count = len(self.order)
        if isinstance(answer, Mapping):
            by_name = {name: node for node, name in self.names.items()}
            given = {}
            for key, entry in answer.items():
                name = f"v{key}" if isinstance(key, int) else str(key)
                if name not in by_name:
                    raise NotDoneError(
                        f"the {column} column has no row {key!r}: rows are v1..v{count}"
                    )
                given[by_name[name]] = entry
            return given
        if isinstance(answer, (list, tuple)):
            if len(answer) != count:
                raise NotDoneError(
                    f"your {column} column has {len(answer)} entries; the trace has {count} rows"
                    f" v1..v{count}"
                )
            return dict(zip(self.order, answer))
        raise NotDoneError(
            f"a column is a list v1..v{count} or a dict {{'v1': ...}}, not {type(answer).__name__}"
        )

    def check_cell(self, node, given, truth, symbol, check_wrong) -> Line:
        """One cell (e.g. "v̇5" for symbol "v̇"): not done yet, right, or `check_wrong`'s verdict."""
        place = symbol + self.names[node][1:]
        try:
            number = read_number(given.get(node))
        except NotDoneError as missing:
            return Line(place, NOT_DONE, missing.message)
        if close(number, truth[node], self.rtol):
            return Line(place, RIGHT)
        return check_wrong(node, place, number, given, truth)

    def check_primal(self, node, place, number, given, truth) -> Line:
        """A wrong v_i: an input's value, or its equation applied to the primals of its parents."""
        name = self.names[node]
        equation = f"{name} = {right_side(node, self.names)}"
        if node._rule is None:
            return Line(place, WRONG, f"{equation} is an input: its value is {node.data:g}")
        parents = self._wrong(node.parents, given, truth)
        if parents and not isinstance(node._rule, CustomOp):
            args = [given[x] if isinstance(x, Value) else x for x in node._inputs]
            try:
                follows = close(number, node._rule.value(*map(read_number, args)), self.rtol)
            except (NotDoneError, ArithmeticError, ValueError):
                follows = False
            if follows:
                return Line(place, WRONG, _fix_first(equation, name, self._list(parents)))
        hint = f"{equation} does not give your {name}: evaluate it from " + self._list(node.parents)
        return Line(place, WRONG, hint + should_be(truth[node], self.reveal))

    def check_tangent(self, node, place, number, given, truth) -> Line:
        """A wrong v̇_i: a seed for an input, else Σ_j ∂v_i/∂v_j v̇_j over its parents (8.57)."""
        name = self.names[node]
        if node in self.seeds or not node.parents:
            return Line(place, WRONG, f"{place} is an input's tangent, the seed {self.seed_text}")
        uses = [(parent, float(local)) for parent, local in zip(node.parents, node.local_grads)]
        terms = " + ".join(f"∂{name}/∂{self.names[p]} v̇{self.names[p][1:]}" for p, _ in uses)
        rule = f"{place} = {terms} (8.57)"
        return self._sum_rule(node, place, number, uses, given, truth, rule, "parent")

    def check_adjoint(self, node, place, number, given, truth) -> Line:
        """A wrong v̄_i: 1 for the output, else Σ_j v̄_j ∂v_j/∂v_i over its children (8.69)."""
        name = self.names[node]
        if node is self.output:
            return Line(place, WRONG, f"{place} is the output's adjoint, ∂f/∂f = 1, as in (8.70)")
        uses = self.children[node]
        terms = " + ".join(f"v̄{self.names[c][1:]} ∂{self.names[c]}/∂{name}" for c, _ in uses)
        rule = f"{place} = {terms} (8.69)"
        return self._sum_rule(node, place, number, uses, given, truth, rule, "child")

    def _sum_rule(self, node, place, number, uses, given, truth, rule, kind) -> Line:
        """A chain-rule cell: explain a missed term, a wrong neighbour, or the rule itself."""
        symbol = "v̇" if kind == "parent" else "v̄"
        # 1. Right for the student's own neighbours: the mistake is upstream.
        neighbours = list(dict.fromkeys(other for other, _ in uses))
        wrong = self._wrong(neighbours, given, truth)
        try:
            own = math.fsum(local * read_number(given.get(other)) for other, local in uses)
        except NotDoneError:
            own = math.nan
        if wrong and close(number, own, self.rtol):
            return Line(place, WRONG, _fix_first(rule, place, self._list(wrong, symbol)))
        # 2. Some uses left out: one term per use of an edge (Bishop's sum over pa(i) or ch(i)).
        left_out = _left_out(number, [local * truth[other] for other, local in uses], self.rtol)
        if left_out is not None:
            missing = self._list([uses[k][0] for k in left_out])
            hint = f"{rule}: your sum leaves out the term through {missing}; every {kind} adds one"
            return Line(place, WRONG, hint + should_be(truth[node], self.reveal))
        # 3. Otherwise the local derivatives themselves, from the rule table.
        hint = rule + "; " + self._local_rules(node if kind == "parent" else neighbours)
        if wrong:
            hint += f" (and your {self._list(wrong, symbol)} is wrong too)"
        return Line(place, WRONG, hint + should_be(truth[node], self.reveal))

    def grad_hint(self, node: Value, number: float, truth: Mapping) -> str:
        """Why a predicted adjoint is wrong: no path to the output, a use left out, or the rule."""
        if node not in self.names:
            return "the output does not depend on this node: nothing flows back to it, so 0"
        name = self.names[node]
        if node is self.output:
            return f"{name} is the output: backward() seeds its adjoint with ∂f/∂f = 1"
        uses = self.children[node]
        terms = [local * truth[child] for child, local in uses]
        times = {}  # x * x uses x twice: one term per use, but named once
        for child, _ in uses:
            times[child] = times.get(child, 0) + 1
        rule = f"v̄{name[1:]} = Σ_j v̄_j ∂v_j/∂{name} over its uses " + ", ".join(
            f"by {self.names[child]} = {right_side(child, self.names)}" + _times(count)
            for child, count in times.items()
        )
        left_out = _left_out(number, terms, self.rtol)
        if left_out is not None:
            missing = ", ".join(dict.fromkeys(self.names[uses[k][0]] for k in left_out))
            hint = f"{rule} (8.69): your number leaves out the path through {missing}"
        else:
            hint = f"{rule} (8.69); start from the output and go back one node at a time"
        return hint + should_be(truth[node], self.reveal)

    def _local_rules(self, nodes: Value | list[Value]) -> str:
        """Where the local derivatives come from, e.g. "v5 = exp(v3): d/dx = exp(x) = out"."""
        nodes = nodes if isinstance(nodes, list) else [nodes]
        texts = []
        for node in nodes:
            rule = node._rule
            doc = "" if isinstance(rule, CustomOp) else (rule.doc or "")
            _, _, local = doc.partition(";")
            equation = f"{self.names[node]} = {right_side(node, self.names)}"
            if local:
                letters = {1: ("x",), 2: ("a", "b")}.get(len(node._inputs), ())
                pairs = ", ".join(
                    f"{letter} = {self.names[x] if isinstance(x, Value) else format_number(x)}"
                    for letter, x in zip(letters, node._inputs)
                )
                equation += f" with {pairs}" if pairs else ""
                equation += f": {local.strip().rstrip('.')}"
            texts.append(equation)
        return "local derivatives of " + "; ".join(texts)

    def _wrong(self, nodes: Sequence[Value], given: Mapping, truth: Mapping) -> list[Value]:
        """The nodes among `nodes` whose cell the student has wrong or left empty."""
        wrong = []
        for node in nodes:
            try:
                if not close(read_number(given.get(node)), truth[node], self.rtol):
                    wrong.append(node)
            except NotDoneError:
                wrong.append(node)
        return wrong

    def _list(self, nodes: Sequence[Value], symbol: str = "v") -> str:
        """The names of `nodes`, once each, with the column's symbol: "v̄5, v̄6"."""
        return ", ".join(symbol + self.names[node][1:] for node in dict.fromkeys(nodes))


def _fix_first(rule: str, place: str, wrong: str) -> str:
    """The message for a cell that is right for the student's own wrong cells `wrong`."""
    return f"{place} follows from your other cells by {rule}, but {wrong} is wrong: fix that first"


def _times(count: int) -> str:
    """'' for one use, ' (twice)' or ' (3 times)' for more."""
    return "" if count == 1 else " (twice)" if count == 2 else f" ({count} times)"


def _left_out(number: float, terms: list[float], rtol: float) -> tuple[int, ...] | None:
    """Which terms a sum `number` leaves out, if it equals the sum of a proper subset of them."""
    if len(terms) < 2 or len(terms) > 8:
        return None
    for size in range(len(terms) - 1, 0, -1):
        for kept in itertools.combinations(range(len(terms)), size):
            if close(number, math.fsum(terms[k] for k in kept), rtol):
                return tuple(k for k in range(len(terms)) if k not in kept)
    return None


# --- predicted adjoints ------------------------------------------------------------------------


def check_grads(
    output: Value, predictions: Any, *, reveal: bool = False, rtol: float = 1e-3
) -> Feedback:
    """Grade predicted `.grad`s {node or label: number}: what output.backward() would give each.

    The expected adjoints come from one reverse pass that leaves every `.grad` as it is, so the
    prediction can be checked before the student calls backward() (8.69).
    """
    if not isinstance(output, Value):
        raise TypeError(f"check_grads: output must be a Value, not {type(output).__name__}")
    graph = _Graph(ancestors(output), reveal, rtol)
    title = f"predicted grads for {_node_place(output, graph)[:-5]}"
    try:
        answer = read_answer(predictions)
        if not isinstance(answer, Mapping):
            raise NotDoneError(
                f"predictions are a dict {{node: grad}}, not {type(answer).__name__}"
            )
    except NotDoneError as missing:
        return Feedback(title, [Line("predictions", NOT_DONE, missing.message)])
    truth = adjoints(output)
    by_label = {node.label: node for node in reversed(graph.order) if node.label}
    lines = []
    for key, entry in answer.items():
        node = by_label.get(key) if isinstance(key, str) else key
        place = _node_place(node, graph) if isinstance(node, Value) else f"{key}.grad"
        if not isinstance(node, Value):
            known = ", ".join(sorted(by_label))
            lines.append(Line(place, WRONG, f"no node labelled {key!r} here; labels: {known}"))
            continue
        try:
            number = read_number(entry)
        except NotDoneError as missing:
            lines.append(Line(place, NOT_DONE, missing.message))
            continue
        expected = truth.get(node, 0.0)
        if close(number, expected, rtol):
            lines.append(Line(place, RIGHT))
        else:
            lines.append(Line(place, WRONG, graph.grad_hint(node, number, truth)))
    return Feedback(title, lines)


def _node_place(node: Any, graph: _Graph) -> str:
    name = graph.names.get(node, "a node outside this graph")
    label = getattr(node, "label", "")
    return f"{label} ({name}).grad" if label else f"{name}.grad"


# --- a new primitive ---------------------------------------------------------------------------


def check_local_derivative(
    function: Callable[..., float],
    derivative: Callable[..., Any],
    points: Sequence[Any] = DEFAULT_POINTS,
    *,
    reveal: bool = False,
) -> Feedback:
    """Grade `derivative`, the local derivative(s) ∂v/∂x of a new primitive v = function(x, ...).

    At each point the student's numbers become the `local_grads` of a custom node
    Value(v, parents=..., local_grads=...) and `gradcheck` compares its backward pass with
    central differences (8.25) of `function`. A point is a number or a tuple of numbers.
    """
    points = [tuple(p) if isinstance(p, (list, tuple)) else (p,) for p in points]
    if not points:
        raise ValueError("check_local_derivative: give at least one point")
    names = _input_names(function, len(points[0]))
    title = f"local derivative of v = {getattr(function, '__name__', 'v')}({', '.join(names)})"
    lines = []
    for point in points:
        where = _where(names, point)
        places = [f"∂v/∂{name} at {where}" for name in names]
        try:
            answer = read_answer(lambda point=point: derivative(*point))
            given = answer if isinstance(answer, (list, tuple)) else (answer,)
            if len(given) != len(names):
                raise NotDoneError(f"expected {len(names)} partial derivatives, got {len(given)}")
            local_grads = [read_number(g) for g in given]
        except NotDoneError as missing:
            lines += [Line(place, NOT_DONE, missing.message) for place in places]
            continue

        def primitive(*xs: Value, local_grads: list[float] = local_grads) -> Value:
            data = function(*(x.data for x in xs))
            return Value(data, parents=xs, local_grads=local_grads, op="new primitive")

        result = gradcheck(primitive, list(point))
        for place, row in zip(places, result.inputs):
            if row.ok:
                lines.append(Line(place, RIGHT))
            elif not row.resolved:
                lines.append(Line(place, WRONG, "v is too flat or too large here to check"))
            else:
                lines.append(Line(place, WRONG, _slope_hint(row.analytic, row.numeric, reveal)))
    return Feedback(title, lines)


def _where(names: Sequence[str], point: tuple) -> str:
    if len(point) == 1:
        return f"{names[0]} = {point[0]:g}"
    return f"({', '.join(names)}) = ({', '.join(f'{x:g}' for x in point)})"


def _slope_hint(yours: float, slope: float, reveal: bool) -> str:
    """ "should be <the slope> ...; your <number> is <how it is off>": sign, a factor, or size."""
    target = f"{slope:.6g}" if reveal else "the slope of v here"
    if slope and close(yours, -slope, 1e-3):
        verdict = "has the wrong sign"
    elif slope and yours and close(yours / slope, round(yours / slope), 1e-3):
        verdict = f"is {round(yours / slope)} times too large"
    else:
        verdict = "is too large" if yours > slope else "is too small"
    return f"should be {target} (central differences (8.25)); your {yours:.6g} {verdict}"


# --- finite differences ------------------------------------------------------------------------

#: The function, point and steps at which `check_finite_differences` tries the two formulas.
_FD_CASES = ((exp, 0.7), (sin, -0.6))
_FD_STEPS = (0.5, 1e-3)


def check_finite_differences(forward: Any, central: Any, *, reveal: bool = False) -> Feedback:
    """Grade forward(f, x, eps) ≈ (f(x+ε) - f(x))/ε (8.24) and central(...) ≈ (8.25).

    Each is tried on exp and sin at two steps and compared with the engine's `numerical_grad` by
    the same formula (at |x| ≤ 1, where the engine's relative step is ε itself).
    """
    formulas = (
        ("forward", forward, "(f(x+ε) - f(x))/ε (8.24)"),
        ("central", central, "(f(x+ε) - f(x-ε))/2ε (8.25)"),
    )
    lines = []
    for method, student, formula in formulas:
        for (f, x), eps in itertools.product(_FD_CASES, _FD_STEPS):
            place = f"{method}({f.__name__}, {x}, ε={eps:g})"
            try:
                number = read_number(read_answer(lambda s=student, f=f, x=x, eps=eps: s(f, x, eps)))
            except NotDoneError as missing:
                lines.append(Line(place, NOT_DONE, missing.message))
                continue
            expected = numerical_grad(f, [x], eps=eps, method=method)[0]
            if close(number, expected, 1e-9):
                lines.append(Line(place, RIGHT))
                continue
            other = "central" if method == "forward" else "forward"
            if close(number, numerical_grad(f, [x], eps=eps, method=other)[0], 1e-9):
                hint = f"this is the {other} difference; the {method} one is {formula}"
            elif close(number, 2 * expected, 1e-9) or close(2 * number, expected, 1e-9):
                hint = f"off by a factor of 2: the {method} difference is {formula}"
            else:
                hint = f"the {method} difference is {formula}"
            lines.append(Line(place, WRONG, hint + should_be(expected, reveal)))
    return Feedback("finite differences", lines)
