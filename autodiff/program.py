"""The evaluation trace as a program: `record(f, *args)` runs f once and keeps its rows v1..vN.

`Program.source()` prints them as Python: the forward sweep, the reverse sweep of Bishop's (8.69)-
(8.76) and, on request, the tangent sweep (8.58)-(8.64). That text, compiled, replays the program
on floats or over numpy arrays holding a batch; comparisons made while recording become guards.
"""

from __future__ import annotations

import itertools
import keyword
import linecache
import math
import operator
import os
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from . import ops
from .dual import Dual
from .ops import Primitive, is_real, to_float
from .trace import node_names
from .value import CustomOp, Value, ancestors

_RELATIONS = {operator.lt: "<", operator.le: "<=", operator.gt: ">", operator.ge: ">="}


class GuardError(ValueError):
    """A replay whose inputs take another branch than the recording did (a failed guard)."""


@dataclass(frozen=True)
class Row:
    """v_k = prim(*operands): an int operand j stands for v_j, a float is a constant folded in."""

    prim: Primitive
    operands: tuple
    label: str = ""


@dataclass(frozen=True)
class Guard:
    """A comparison made while recording: `left relation right` gave `outcome` (code at `where`)."""

    relation: Callable[[Any, Any], bool]
    operands: tuple  # (left, right): an int j stands for v_j, a float is a constant
    outcome: bool
    where: str


def guard(holds: Any, outcome: bool, description: str) -> None:
    """Raise GuardError unless the comparison `holds` (a bool, or one per example) is `outcome`."""
    if holds is outcome:
        return
    if isinstance(holds, bool):
        raise GuardError(_guard_message(description, outcome, ""))
    numpy = sys.modules["numpy"]  # a batch: numpy is loaded
    differs = numpy.flatnonzero(numpy.asarray(holds) != outcome)  # the examples that branch off
    if len(differs):
        which = f" for example {differs[0]}" if numpy.ndim(holds) else ""
        raise GuardError(_guard_message(description, outcome, which))


def _guard_message(description: str, outcome: bool, which: str) -> str:
    return (
        f"guard {description} was {outcome} when the program was recorded and is {not outcome} "
        f"now{which}: these inputs take another branch. Record again at inputs of that branch, "
        "or write the choice with a rule of the table (relu, abs)"
    )


def record(f: Callable[..., Any], *example_args: Any) -> Program:
    """Run f once on Values and keep its evaluation trace v1..vN as a replayable `Program`.

    A number argument becomes a leaf x1, x2, ...; a leaf Value argument is used itself, so a
    model's parameters can be inputs. f returns a Value, a number, or a list/tuple of them. Each
    comparison of Values while f runs (`y > 0`, `a < b`) becomes a guard: a replay whose inputs
    give another outcome raises GuardError. NOTE: what f reads as a number is frozen into the
    program as a constant with no guard, as torch.jit.trace warns: `if x.data > 0`, `.detach()`,
    results of a `no_grad()` block. Compare Values instead. (`if x:` on a Value is always true.)
    """
    if not callable(f):
        raise TypeError(f"record: f must be callable, not {type(f).__name__}")
    leaves = [_input_leaf(k, x) for k, x in enumerate(example_args, 1)]
    if len(set(leaves)) != len(leaves):
        raise ValueError("record: the same Value is given twice as an argument")
    first_serial = Value(0.0).serial  # every node f makes is numbered after this one
    comparisons: list[tuple] = []

    def observe(relation: Callable, this: Any, other: Any, outcome: bool) -> None:
        if is_real(other):  # a constant of the guard
            other = to_float(other, "record: a number compared with a Value")
        comparisons.append((relation, _primal_node(this), _primal_node(other), outcome, _caller()))

    token = ops.comparison_observer.set(observe)
    try:
        with ops.mode(recording=True):  # under no_grad() f's rows would be constants
            result = f(*leaves)
    finally:
        ops.comparison_observer.reset(token)
    single = not isinstance(result, (list, tuple))
    outputs = [result] if single else list(result)
    if not outputs:
        raise ValueError("record: f returned an empty list; it must return at least one output")
    for k, out in enumerate(outputs):
        if not isinstance(out, Value) and not is_real(out):
            raise TypeError(
                f"record: f must return Values or numbers (or a list of them), not "
                f"{type(out).__name__}"
            )
        if is_real(out):
            outputs[k] = to_float(out, "record: the output of f")
    roots = [x for x in outputs if isinstance(x, Value)]
    roots += [x for c in comparisons for x in c[1:3] if isinstance(x, Value)]
    slots: dict[Value, int] = {leaf: k for k, leaf in enumerate(leaves, 1)}
    nodes: set[Value] = set()
    for root in roots:
        nodes.update(ancestors(root))
    rows: list[Row] = []
    row_nodes: list[Value] = []
    for node in sorted(nodes - slots.keys(), key=lambda node: node.serial):
        rule = node._rule
        if node.serial < first_serial:
            what = f" {node.label!r}" if node.label else ""
            raise ValueError(
                f"record: f uses a Value{what} (data {node.data!r}) made before record was "
                "called and not given as an argument: pass it as an argument, or use a number"
            )
        if rule is None:
            continue  # a leaf made inside f: a constant, folded into the rows that use it
        if isinstance(rule, CustomOp) or ops.PRIMITIVES.get(rule.name) is not rule:
            raise ValueError(
                f"record: custom op {rule.name!r} cannot be replayed: it keeps only the numbers "
                "of its local derivatives, not a rule for them; add it to the table in ops.py"
            )
        rows.append(Row(rule, tuple(_operand(x, slots) for x in node._inputs), node.label))
        row_nodes.append(node)
        slots[node] = len(leaves) + len(rows)
    guards = [
        Guard(relation, (_operand(a, slots), _operand(b, slots)), outcome, where)
        for relation, a, b, outcome, where in comparisons
    ]
    return Program(
        name=getattr(f, "__name__", "f"),
        input_labels=[leaf.label for leaf in leaves],
        rows=rows,
        outputs=[_operand(out, slots) for out in outputs],
        single_output=single,
        guards=guards,
        names=list(node_names([*leaves, *row_nodes]).values()),
    )


def _input_leaf(k: int, x: Any) -> Value:
    if isinstance(x, Value):
        if x.parents:
            raise ValueError(
                f"record: argument {k} is a node made by op {x.op!r}; give a number or a leaf Value"
            )
        return x
    if not is_real(x):
        raise TypeError(f"record: argument {k} must be a number or a Value, not {type(x).__name__}")
    return Value(x, f"x{k}")


def _primal_node(x: Any) -> Any:
    """The Value (or number) under a comparison's operand: a Dual's primal, peeled down."""
    while isinstance(x, Dual):
        x = x.primal
    return x


def _operand(x: Any, slots: dict[Value, int]) -> int | float:
    """A row's operand: the index j of v_j, or the number of a constant (a leaf made inside f)."""
    return slots.get(x, x.data) if isinstance(x, Value) else float(x)


def _caller() -> str:
    """Where in the user's code a comparison was made: the first frame outside this package."""
    package = os.path.dirname(__file__)
    frame = sys._getframe(2)
    while frame is not None and frame.f_code.co_filename.startswith(package):
        frame = frame.f_back
    if frame is None:
        return "?"
    code = frame.f_code
    if "ipykernel_" in code.co_filename:  # a notebook cell's file name means nothing to a reader
        return f"{code.co_name}, line {frame.f_lineno}"
    return f"{code.co_name} at {os.path.basename(code.co_filename)}:{frame.f_lineno}"


# --- the rows as text --------------------------------------------------------------------------

_SUM, _PRODUCT, _UNARY, _POWER, _ATOM = range(1, 6)  # Python's operator precedence, low to high


class _BranchError(Exception):
    """A rule asked for the truth of a comparison of its arguments: it has no single formula."""


class _Expression:
    """Python text of a rule's result, made by running the rule on these in place of numbers.

    `MUL.local_grads` run on v1, v2 gives v2 and v1; `TANH.local_grads` gives 1.0 - v4 * v4. The
    text evaluates exactly as the rule does. A rule that branches on its arguments or calls
    `math` on them fails here, and the program calls that rule by name instead.
    """

    __slots__ = ("text", "precedence", "names")

    def __init__(self, text: str, precedence: int, names: frozenset = frozenset()) -> None:
        self.text = text
        self.precedence = precedence
        self.names = names  # the identifiers the text uses

    def _binary(self, symbol: str, precedence: int, left: Any, right: Any) -> _Expression:
        left, right = _expression(left), _expression(right)
        # Left-associative operators keep a parenthesised right operand: a + (b + c) rounds
        # differently from a + b + c. ** is right-associative; both its operands are atoms here.
        left_limit = _ATOM if precedence == _POWER else precedence
        left_text = left.text if left.precedence >= left_limit else f"({left.text})"
        right_text = right.text if right.precedence > precedence else f"({right.text})"
        return _Expression(
            f"{left_text} {symbol} {right_text}", precedence, left.names | right.names
        )

    def __add__(self, other: Any) -> _Expression:
        return self._binary("+", _SUM, self, other)

    def __radd__(self, other: Any) -> _Expression:
        return self._binary("+", _SUM, other, self)

    def __sub__(self, other: Any) -> _Expression:
        return self._binary("-", _SUM, self, other)

    def __rsub__(self, other: Any) -> _Expression:
        return self._binary("-", _SUM, other, self)

    def __mul__(self, other: Any) -> _Expression:
        return self._binary("*", _PRODUCT, self, other)

    def __rmul__(self, other: Any) -> _Expression:
        return self._binary("*", _PRODUCT, other, self)

    def __truediv__(self, other: Any) -> _Expression:
        return self._binary("/", _PRODUCT, self, other)

    def __rtruediv__(self, other: Any) -> _Expression:
        return self._binary("/", _PRODUCT, other, self)

    def __pow__(self, other: Any) -> _Expression:
        return self._binary("**", _POWER, self, other)

    def __rpow__(self, other: Any) -> _Expression:
        return self._binary("**", _POWER, other, self)

    def __neg__(self) -> _Expression:
        text = self.text if self.precedence >= _UNARY else f"({self.text})"
        return _Expression(f"-{text}", _UNARY, self.names)

    def __pos__(self) -> _Expression:
        text = self.text if self.precedence >= _UNARY else f"({self.text})"
        return _Expression(f"+{text}", _UNARY, self.names)

    def __abs__(self) -> _Expression:
        return _Expression(f"abs({self.text})", _ATOM, self.names)

    def _branch(self, *_: Any) -> bool:
        raise _BranchError

    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = __bool__ = _branch
    __hash__ = None  # type: ignore[assignment]

    @classmethod
    def _apply(cls, prim: Primitive, inputs: tuple) -> _Expression:
        """A function of ops (cos, sigmoid, ...) that a rule calls: the call, as text."""
        name = function_name(prim)
        args = [_expression(x) for x in inputs]
        names = frozenset({name}).union(*(x.names for x in args))
        return _Expression(f"{name}({', '.join(x.text for x in args)})", _ATOM, names)


def _expression(x: Any) -> _Expression:
    """x as an expression; a number as a literal that reads back exactly."""
    if isinstance(x, _Expression):
        return x
    if isinstance(x, int) and not isinstance(x, bool):
        return _Expression(repr(x), _ATOM if x >= 0 else _UNARY)
    x = float(x)
    if math.isnan(x):
        return _Expression("nan", _ATOM, frozenset({"nan"}))
    if math.isinf(x):
        return _Expression(
            "inf" if x > 0 else "-inf", _ATOM if x > 0 else _UNARY, frozenset({"inf"})
        )
    return _Expression(repr(x), _ATOM if math.copysign(1.0, x) > 0 else _UNARY)


def _variable(name: str) -> _Expression:
    return _Expression(name, _ATOM, frozenset({name}))


def _traced(rule: Callable[..., Any], args: Sequence[Any]) -> Any:
    """rule(*args) on expressions, or None when the rule has no single formula (see _Expression)."""
    try:
        return rule(*args)
    except Exception:  # a branch, math.exp(...) on text, ...: the program calls the rule by name
        return None


def function_name(prim: Primitive) -> str:
    """The Python name a program gives `prim`'s forward function: exp, div, pow, dot, ..."""
    return _primitive_names()[prim][1]


_NAMES: dict[Primitive, tuple[str, str]] = {}


def _primitive_names() -> dict[Primitive, tuple[str, str]]:
    """{prim: (how ops names it, e.g. "EXP", the program's function name, e.g. "exp")}."""
    missing = [prim for prim in ops.PRIMITIVES.values() if prim not in _NAMES]
    if missing:  # the first call, or the table grew
        attributes = {id(e): a for a, e in vars(ops).items() if isinstance(e, Primitive)}
        for prim in missing:
            attribute = attributes.get(id(prim), "")
            if attribute.isupper():
                _NAMES[prim] = (attribute, attribute.lower())
            else:  # an entry with no name of its own in ops: reached through the table
                function = prim.name if prim.name.isidentifier() else f"op{len(_NAMES)}"
                _NAMES[prim] = (f"PRIMITIVES[{prim.name!r}]", function)
    return _NAMES


@dataclass
class _Formulas:
    """One row as text: its value and its local derivatives, or the calls that compute them."""

    value: _Expression
    grads: list[_Expression]  # one per operand; a constant operand's is unused
    grads_call: str | None  # `relu_grads(v3, v4)` when the rule has no formula


# The most operands a row's value is written out for. NOTE: Python's compiler recurses once per
# operator of an expression, so a dot row of thousands of terms as one formula is too deep for
# it (RecursionError); a wider row calls its rule by name, and its tangent is one dot call.
_WIDEST_FORMULA = 64


def _formulas(row: Row, names: list[str], out: str) -> _Formulas:
    args = [_variable(names[x - 1]) if type(x) is int else _expression(x) for x in row.operands]
    name = function_name(row.prim)
    value = _traced(row.prim.value, args) if len(args) <= _WIDEST_FORMULA else None
    if not isinstance(value, (_Expression, float, int)):
        arguments = ", ".join(x.text for x in args)
        names_used = frozenset({name}).union(*(x.names for x in args))
        value = _Expression(f"{name}({arguments})", _ATOM, names_used)
    grads = _traced(row.prim.local_grads, [*args, _variable(out)])
    if isinstance(grads, tuple) and len(grads) == len(args):
        return _Formulas(_expression(value), [_expression(g) for g in grads], None)
    call = f"{name}_grads({', '.join([*(x.text for x in args), out])})"
    grads = [
        _Expression(f"{out}_grads[{k}]", _ATOM, frozenset({f"{out}_grads"}))
        for k in range(len(args))
    ]
    return _Formulas(_expression(value), grads, call)


def _chapter(text: str) -> str:
    """Code names as the chapter writes them: v3_bar -> v̄3, v3_dot -> v̇3."""
    return re.sub(r"\bv(\d+)_dot\b", "v\u0307\\1", re.sub(r"\bv(\d+)_bar\b", "v\u0304\\1", text))


# --- generating the function -------------------------------------------------------------------


@dataclass(frozen=True)
class _Batch:
    """What a batch replay is compiled for: which inputs are arrays, and how gradients reduce."""

    varies: tuple[bool, ...]
    reduce: str


class _Generator:
    """The lines of one function of a program: the forward, tangent and reverse sweeps."""

    def __init__(self, program: Program, tangent: bool, adjoint: bool, batch: _Batch | None):
        self.program = program
        self.tangent = tangent
        self.adjoint = adjoint
        self.batch = batch
        self.lines: list[str] = []
        self.needed: set[str] = set()  # the identifiers the body uses that it does not define

    def emit(self, code: str, names: frozenset | set = frozenset(), comment: str = "") -> None:
        self.needed.update(names)
        if not comment.isprintable():  # a label's line break or NUL would end the comment
            comment = repr(comment)[1:-1]
        self.lines.append(f"    {code}  # {comment}" if comment else f"    {code}")

    def generate(self, function: str) -> list[str]:
        program = self.program
        n = len(program.input_labels)
        names = program.names
        arguments = [f"x{k}" for k in range(1, n + 1)]
        if self.tangent:
            arguments += [f"x{k}_dot" for k in range(1, n + 1)]
        if self.batch is not None:
            arguments.insert(0, "ones")
        formulas = [_formulas(row, names, names[n + r]) for r, row in enumerate(program.rows)]
        header = [f"def {function}({', '.join(arguments)}):"]
        self.varies = _varies(program, self.batch.varies) if self.batch is not None else None
        self.stacks = self.plan_stacks() if self.batch is not None else {}
        self.emit_forward(formulas)
        results = [", ".join(_output_text(x, names) for x in program.outputs)]
        for x in program.outputs:
            if type(x) is not int:  # a constant output may be nan or inf, names to import
                self.needed.update(_expression(x).names)
        if self.tangent:
            results.append(", ".join(_output_text(x, names, "_dot") for x in program.outputs))
        if self.adjoint:
            results.append(self.emit_reverse(formulas))
        if not program.single_output:  # f returned a list or tuple: so does the program
            results = [
                f"({results[0]},)" if len(program.outputs) == 1 else f"({results[0]})",
                *results[1:],
            ]
        self.lines.append(f"    return {', '.join(results)}")
        return header + self.lines

    def plan_stacks(self) -> dict[int, tuple[str, tuple, tuple]]:
        """{row index: (stack, weights, inputs)} for the dot rows a batch runs as matrix products.

        A dot row Σ_i w_i x_i + b whose weights are shared by all examples and whose inputs vary
        is one product of the weights with the (n, B) stack of its inputs, and rows reading the
        same inputs (a layer's units) share the stack: tens of numpy calls become one.
        """
        program, varies = self.program, self.varies
        n = len(program.input_labels)
        planned: dict[int, tuple[str, tuple, tuple]] = {}
        names: dict[tuple, str] = {}
        for r, row in enumerate(program.rows, n + 1):
            if row.prim is not ops.DOT or len(row.operands) < 3:
                continue
            width = (len(row.operands) - 1) // 2
            weights, inputs = row.operands[:width], row.operands[width : 2 * width]
            shared = all(type(w) is not int or not varies[w] for w in weights)
            if shared and all(type(x) is int and varies[x] for x in inputs):
                stack = names.setdefault(inputs, f"s{len(names) + 1}")
                planned[r] = (stack, weights, inputs)
        return planned

    def emit_forward(self, formulas: list[_Formulas]) -> None:
        program, names = self.program, self.program.names
        n = len(program.input_labels)
        self.lines.append("    # forward sweep: the primal v_i of each row, in order")
        for k, label in enumerate(program.input_labels, 1):
            shown = "" if label == f"x{k}" else label
            self.emit(f"{names[k - 1]} = x{k}", comment=shown)
            if self.tangent:
                self.emit(f"{names[k - 1]}_dot = x{k}_dot")
        made: set[str] = set()  # the stacks made so far
        guards_after = _guards_by_row(program)
        for guard_ in guards_after.get(n, []):
            self.emit_guard(guard_)
        for r, (row, formula) in enumerate(zip(program.rows, formulas), n + 1):
            name = names[r - 1]
            if r in self.stacks:
                self.emit_product(name, row, *self.stacks[r], made)
            else:
                self.emit(f"{name} = {formula.value.text}", formula.value.names, row.label)
            if self.tangent:
                self.emit_tangent(name, row, formula)
            for guard_ in guards_after.get(r, []):
                self.emit_guard(guard_)

    def emit_product(
        self, name: str, row: Row, stack: str, weights: tuple, inputs: tuple, made: set[str]
    ) -> None:
        """v = w · stack + b over the batch (see plan_stacks)."""
        names = self.program.names
        if stack not in made:
            made.add(stack)
            stacked = _tuple([names[x - 1] for x in inputs])
            self.emit(f"{stack} = batch_stack({stacked})", {"batch_stack"})
        weights_text = _tuple([self.operand_text(w) for w in weights])
        code = f"{name} = batch_matvec({weights_text}, {stack})"
        bias = row.operands[-1]
        if type(bias) is int or bias != 0.0:
            code += f" + {self.operand_text(bias)}"
        self.emit(code, {"batch_matvec", *_operand_names(row.operands, names)}, row.label)

    def operand_text(self, x: int | float) -> str:
        return self.program.names[x - 1] if type(x) is int else _expression(x).text

    def emit_tangent(self, name: str, row: Row, formula: _Formulas) -> None:
        """v̇_i = Σ_j v̇_j ∂v_i/∂v_j over the row's operands (8.57)."""
        if formula.grads_call is not None:
            self.emit(f"{name}_grads = {formula.grads_call}", {_call_name(formula.grads_call)})
        terms = [
            (_variable(f"{self.program.names[operand - 1]}_dot"), local)
            for operand, local in zip(row.operands, formula.grads)
            if type(operand) is int
        ]
        total: _Expression | None = None
        if len(terms) > _WIDEST_FORMULA:  # Σ_j local_j · v̇_j as dot(locals, tangents, 0)
            tangents, locals_ = zip(*terms)
            total = _call(function_name(ops.DOT), *locals_, *tangents, _expression(0.0))
            terms = []
        for tangent, local in terms:
            term = _times(tangent, local)
            negative = local.text == "-1.0"
            if total is None:
                total = -term if negative else term
            else:
                total = total - term if negative else total + term
        text = total.text if total is not None else "0.0"
        names = total.names if total is not None else frozenset()
        self.emit(f"{name}_dot = {text}", names, _chapter(f"{name}_dot = {text}"))

    def emit_guard(self, guard_: Guard) -> None:
        names = self.program.names
        left, right = (
            _variable(names[x - 1]) if type(x) is int else _expression(x) for x in guard_.operands
        )
        relation = _RELATIONS[guard_.relation]
        test = f"{left.text} {relation} {right.text}"
        description = f"{test} ({guard_.where})"
        self.emit(
            f"guard({test}, {guard_.outcome}, {description!r})",
            left.names | right.names | {"guard"},
        )

    def emit_reverse(self, formulas: list[_Formulas]) -> str:
        """The reverse sweep v̄_j += v̄_i ∂v_i/∂v_j (8.69), as in (8.70)-(8.76); returns its text."""
        program, names = self.program, self.program.names
        n = len(program.input_labels)
        output = program.outputs[0]
        live = _ancestors_of(program, output)
        gradient = [f"{names[k]}_bar" if k + 1 in live else "0.0" for k in range(n)]
        self.lines.append(
            "    # reverse sweep: the adjoint v̄_i = ∂f/∂v_i of each row, output first (8.68)"
        )
        if type(output) is not int:
            return _tuple(gradient)
        batch = self.batch
        seed = "ones" if batch is not None else "1.0"
        self.emit(
            f"{names[output - 1]}_bar = {seed}", comment=_chapter(f"{names[output - 1]}_bar = 1")
        )
        assigned = {output}
        if batch is None:
            rest = [f"{names[k - 1]}_bar" for k in sorted(live) if k != output]
            if rest:
                self.emit(" = ".join([*rest, "0.0"]))
                assigned.update(live)
        varies = self.varies
        first_reader: dict[str, int] = {}  # each stack's first live reader: its adjoint is done
        for index, (stack, _, _) in sorted(self.stacks.items(), reverse=True):
            if index in live:
                first_reader[stack] = index
        indent = ""
        for r in range(len(program.rows), 0, -1):
            index = n + r
            row, formula = program.rows[r - 1], formulas[r - 1]
            # The operands the row passes its adjoint to: not constants (2.0 * 3.0 passes to
            # none), and on floats not through a local derivative that is the constant 0.
            passes = [
                (operand, local)
                for operand, local in zip(row.operands, formula.grads)
                if type(operand) is int and (batch is not None or local.text not in _ZERO)
            ]
            if index not in live or not passes:
                continue
            name = names[index - 1]
            adjoint = _variable(f"{name}_bar")
            if batch is None:
                # NOTE: a zero adjoint passes nothing on (0 · inf would be nan), as in backward().
                self.lines.append(f"    if {name}_bar:")
                indent = "    "
            if index in self.stacks and batch.reduce == "sum":
                self.emit_product_adjoints(index, row, assigned, first_reader)
                continue
            if formula.grads_call is not None:
                self.emit(
                    f"{indent}{name}_grads = {formula.grads_call}", {_call_name(formula.grads_call)}
                )
            for operand, local in passes:
                target = f"{names[operand - 1]}_bar"
                reduce = (
                    batch is not None
                    and batch.reduce == "sum"
                    and not varies[operand]
                    and (varies[index] or index == output)
                )
                self.emit_contribution(target, adjoint, local, operand in assigned, reduce, indent)
                assigned.add(operand)
        return _tuple(gradient)

    def emit_product_adjoints(
        self, index: int, row: Row, assigned: set, first_reader: dict[str, int]
    ) -> None:
        """The adjoints through v = w · stack + b, summed over the batch for the weights."""
        names = self.program.names
        name = names[index - 1]
        stack, weights, inputs = self.stacks[index]
        weights_text = _tuple([self.operand_text(w) for w in weights])
        if any(type(w) is int for w in weights):
            self.emit(f"{name}_wgrads = batch_wgrads({stack}, {name}_bar)", {"batch_wgrads"})
        for k, w in enumerate(weights):
            if type(w) is int:
                self.emit_sum(f"{names[w - 1]}_bar", f"{name}_wgrads[{k}]", w in assigned)
                assigned.add(w)
        outer = f"batch_outer({weights_text}, {name}_bar)"
        self.emit_sum(f"{stack}_bar", outer, stack in assigned)
        self.needed.update({"batch_outer", *_operand_names(weights, names)})
        assigned.add(stack)
        bias = row.operands[-1]
        if type(bias) is int:
            target, adjoint = f"{names[bias - 1]}_bar", _variable(f"{name}_bar")
            started, reduce = bias in assigned, not self.varies[bias]
            self.emit_contribution(target, adjoint, _expression(1.0), started, reduce, "")
            assigned.add(bias)
        if first_reader.get(stack) == index:  # every reader of the stack is done: split it
            for k, x in enumerate(inputs):
                self.emit_sum(f"{names[x - 1]}_bar", f"{stack}_bar[{k}]", x in assigned)
                assigned.add(x)

    def emit_sum(self, target: str, term: str, started: bool) -> None:
        self.emit(f"{target} = {target} + {term}" if started else f"{target} = {term}")

    def emit_contribution(
        self,
        target: str,
        adjoint: _Expression,
        local: _Expression,
        started: bool,
        reduce: bool,
        indent: str,
    ) -> None:
        """target += adjoint · local (summed over the batch when the target is shared)."""
        negative = local.text == "-1.0"
        # NOTE: as in backward(), a zero adjoint or a zero local derivative passes nothing on,
        # not 0 · inf = nan. The rules called by name give the infinite slopes (sqrt at 0) and
        # the zero ones at kinks (relu, maximum), so their terms, and constant zeros, check.
        checked = local.text in _ZERO or any(name.endswith("_grads") for name in local.names)
        if self.batch is None and checked:
            indent += f"if {local.text}: "
        if self.batch is not None and checked:
            term = _call("batch_times", adjoint, local)
            term = _call("batch_sum", term) if reduce else term
        elif reduce and any(_varies_name(name, self.varies) for name in local.names):
            term = _call("batch_dot", adjoint, local)  # Σ_b v̄_b · local_b
        elif reduce:
            total = _call("batch_sum", adjoint)
            term = total if local.text in ("1.0", "-1.0") else _times(total, local)
        else:
            term = _times(adjoint, local)
        if self.batch is None:
            code = f"{target} {'-=' if negative else '+='} {term.text}"
        elif not started:
            code = f"{target} = {(-term if negative else term).text}"
        else:
            total = _variable(target) - term if negative else _variable(target) + term
            code = f"{target} = {total.text}"
        self.emit(indent + code, term.names, _chapter(code) if self.batch is None else "")


_ZERO = ("0.0", "-0.0")  # a local derivative that is the constant 0, as text


def _call(function: str, *args: _Expression) -> _Expression:
    """function(*args) as an expression."""
    names = frozenset({function}).union(*(x.names for x in args))
    return _Expression(f"{function}({', '.join(x.text for x in args)})", _ATOM, names)


def _times(x: _Expression, local: _Expression) -> _Expression:
    """x · local, written without the factor when it is ±1 (exact: x · 1.0 is x)."""
    if local.text in ("1.0", "-1.0"):
        return x
    return x * local


def _tuple(items: list[str]) -> str:
    return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"


def _operand_names(operands: Sequence[Any], names: list[str]) -> set[str]:
    return {names[x - 1] for x in operands if type(x) is int}


def _call_name(call: str) -> str:
    return call.split("(", 1)[0]


def _output_text(x: int | float, names: list[str], suffix: str = "") -> str:
    if type(x) is int:
        return names[x - 1] + suffix
    return "0.0" if suffix else _expression(x).text


def _guards_by_row(program: Program) -> dict[int, list[Guard]]:
    """Each guard placed after the last row it reads (at the inputs if it reads no row)."""
    placed: dict[int, list[Guard]] = {}
    n = len(program.input_labels)
    for guard_ in program.guards:
        last = max([n, *(x for x in guard_.operands if type(x) is int)])
        placed.setdefault(last, []).append(guard_)
    return placed


def _ancestors_of(program: Program, output: int | float) -> set[int]:
    """The indices j of the v_j that `output` depends on, itself included."""
    if type(output) is not int:
        return set()
    n = len(program.input_labels)
    found = {output}
    for index in range(output, n, -1):  # rows in reverse: a row's operands come before it
        if index in found:
            found.update(x for x in program.rows[index - n - 1].operands if type(x) is int)
    return found


def _varies(program: Program, inputs_vary: tuple[bool, ...]) -> list[bool]:
    """varies[j]: v_j differs between examples (it reads an array input); index 0 is unused."""
    varies = [False, *inputs_vary]
    for row in program.rows:
        varies.append(any(varies[x] for x in row.operands if type(x) is int))
    return varies


def _varies_name(name: str, varies: list[bool]) -> bool:
    """Whether the identifier `name` (v5, v5_grads, exp, ...) differs between examples."""
    row = re.fullmatch(r"v(\d+)(_grads)?", name)
    return row is not None and varies[int(row[1])]


# --- the program -------------------------------------------------------------------------------

_DEFINED = re.compile(r"(v\d+(_bar|_dot|_grads)?|x\d+(_dot)?|ones)")


class Program:
    """f's evaluation trace as a straight-line program: inputs v1..vn, then one `Row` per node.

    `rows[k]` computes v_{n+k+1}; `outputs` and the operands are indices j of v_j or constants;
    `guards` are the comparisons the recording made. Calling it replays the forward sweep.
    """

    def __init__(
        self,
        name: str,
        input_labels: list[str],
        rows: list[Row],
        outputs: list[int | float],
        single_output: bool,
        guards: list[Guard],
        names: list[str],
    ) -> None:
        self.name = name if _free_name(name) else "f"
        self.input_labels = input_labels
        self.rows = rows
        self.outputs = outputs
        self.single_output = single_output
        self.guards = guards
        self.names = names  # v1..vN, as the trace names them
        self._functions: dict[tuple, Callable[..., Any]] = {}

    def __len__(self) -> int:
        return len(self.names)

    def __repr__(self) -> str:
        return (
            f"Program({self.name}: {len(self.input_labels)} inputs, {len(self.rows)} rows, "
            f"{len(self.outputs)} output{'s' * (len(self.outputs) != 1)}, "
            f"{len(self.guards)} guard{'s' * (len(self.guards) != 1)})"
        )

    # --- printing -----------------------------------------------------------------------------

    def source(self, tangent: bool = False, adjoint: bool = True) -> str:
        """Python for the sweeps: forward v_i, then tangent v̇_i (8.57) and adjoint v̄_i (8.68).

        The function takes x1..xn (and x1_dot..xn_dot with `tangent`) and returns the outputs,
        their tangents, and the gradient of the first output. Run with exec, it gives the
        numbers the replay gives: it is the text the replay compiles.
        """
        lines, needed = self._lines(tangent, adjoint, None)
        by_function = {function: attribute for attribute, function in _primitive_names().values()}
        header, entries, rules = [], set(), []
        if needed & {"inf", "nan"}:
            header.append(f"from math import {', '.join(sorted(needed & {'inf', 'nan'}))}")
        for name in sorted(needed - {"inf", "nan", "guard"}):
            attribute = by_function[name.removesuffix("_grads")]  # EXP, or PRIMITIVES['exp']
            entries.add(attribute.split("[", 1)[0])
            rules.append(
                f"{name} = {attribute}.{'local_grads' if name.endswith('_grads') else 'value'}"
            )
        if entries:
            header.append(f"from autodiff.ops import {', '.join(sorted(entries))}")
        if "guard" in needed:
            header.append("from autodiff.program import guard")
        if rules:
            header += ["", "# the rule table's own functions", *rules]
        return "\n".join([*header, "", "", ""] if header else []) + "\n".join(lines) + "\n"

    def _function_name(self, tangent: bool, adjoint: bool) -> str:
        return self.name + ("_jvp" if tangent else "") + ("_value_and_grad" if adjoint else "")

    def _lines(self, tangent: bool, adjoint: bool, batch: _Batch | None) -> tuple[list, set]:
        generator = _Generator(self, tangent, adjoint, batch)
        lines = generator.generate(self._function_name(tangent, adjoint))
        return lines, {name for name in generator.needed if not _DEFINED.fullmatch(name)}

    def _compiled(self, adjoint: bool, batch: _Batch | None, backend: str) -> Callable[..., Any]:
        key = (adjoint, batch, backend)
        function = self._functions.get(key)
        if function is None:
            lines, needed = self._lines(False, adjoint, batch)
            namespace = {name: _rule(name, backend) for name in needed}
            text = "\n".join(lines) + "\n"
            filename = f"<program {self.name} {next(_COMPILED)}>"
            # The generated lines show in tracebacks, as a file's would.
            linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
            exec(compile(text, filename, "exec"), namespace)
            function = self._functions[key] = namespace[self._function_name(False, adjoint)]
        return function

    # --- replaying ----------------------------------------------------------------------------

    def __call__(self, *xs: Any) -> Any:
        """The outputs at xs: floats, or per example for numpy arrays of shape (B,)."""
        args, batch = self._arguments(xs)
        if batch is None:
            return self._compiled(False, None, "float")(*args)
        varies, size = batch
        with _numpy_errors_as_ieee():
            return self._compiled(False, _Batch(varies, "none"), "numpy")(_ones(size), *args)

    def value_and_grad(self, *xs: Any, reduce: str = "sum") -> tuple[Any, tuple]:
        """(outputs, ∂y/∂x_i for each input) with y the first output: forward then reverse sweep.

        For numpy arrays of shape (B,), each example runs the program; `reduce="sum"` sums the
        gradient of every input given as a number over the batch (Bishop (8.14)), `"none"` gives
        it per example. The gradient of an array input is always per example.
        NOTE: a zero adjoint or a zero local derivative passes nothing on, as in backward(),
        through the rules that branch (sqrt at 0, relu at -1: sqrt(relu(x)) has slope 0 there).
        Through a formula the product is IEEE's: 0 · inf = nan where a value has overflowed
        (exp, in a batch) or a formula's slope is 0 behind an infinite adjoint (cosh at 0).
        """
        if reduce not in ("sum", "none"):
            raise ValueError(f"value_and_grad: reduce must be 'sum' or 'none', not {reduce!r}")
        args, batch = self._arguments(xs)
        if batch is None:
            return self._compiled(True, None, "float")(*args)
        varies, size = batch
        with _numpy_errors_as_ieee():
            function = self._compiled(True, _Batch(varies, reduce), "numpy")
            outputs, grads = function(_ones(size), *args)
        numpy = sys.modules["numpy"]
        # An array input's gradient is per example, also 0.0 where the output ignores it.
        # NOTE: numpy.sum of a Python float costs microseconds; most number inputs' gradients
        # are floats already (summed inside the sweep), so only arrays are summed here.
        grads = tuple(
            (float(numpy.sum(g)) if isinstance(g, numpy.ndarray) else float(g))
            if reduce == "sum" and not vary
            else numpy.broadcast_to(g, (size,)).copy()
            for g, vary in zip(grads, varies)
        )
        return outputs, grads

    def _arguments(self, xs: Sequence[Any]) -> tuple[list, tuple | None]:
        """The inputs as floats, or with numpy arrays: (inputs, (which are arrays, batch size))."""
        n = len(self.input_labels)
        if len(xs) != n:
            raise TypeError(f"program {self.name} takes {n} inputs, got {len(xs)}")
        numpy = sys.modules.get("numpy")  # NOTE: never imported here: arrays mean it is loaded
        array = numpy.ndarray if numpy is not None else None
        args, size = [], None
        for k, x in enumerate(xs, 1):
            if type(x) is float:  # the common case first
                args.append(x)
            elif array is None or not isinstance(x, array):
                args.append(_number(k, x))
            else:
                if x.dtype.kind not in "biuf":
                    raise TypeError(f"input {k}: expected an array of real numbers, not {x.dtype}")
                if x.ndim != 1 or (size is not None and len(x) != size) or len(x) == 0:
                    expected = "(B,) with B >= 1" if size is None else f"({size},)"
                    raise ValueError(
                        f"input {k}: expected an array of shape {expected}, got {x.shape}"
                    )
                size = len(x)
                # NOTE: as to_float: a long double beyond a float would become inf silently.
                if x.dtype.itemsize > 8 and numpy.any(
                    abs(x[numpy.isfinite(x)]) > sys.float_info.max
                ):
                    raise ValueError(
                        f"input {k} does not fit in a float (its size is beyond 1.8e308)"
                    )
                args.append(x.astype(float, copy=False))
        if size is None:
            return args, None
        return args, (tuple(type(x) is not float for x in args), size)

    # --- PyTorch ------------------------------------------------------------------------------

    def to_torch(self) -> Callable[..., Any]:
        """The forward sweep as a function of torch tensors (torch.autograd differentiates it)."""
        import torch  # noqa: F401 - imported here: only this method needs PyTorch

        return self._compiled(False, None, "torch")


_COMPILED = itertools.count()  # numbers the generated files, for tracebacks


def _free_name(name: str) -> bool:
    """Whether the generated function may be called `name` (not a name its body uses)."""
    taken = {function for _, function in _primitive_names().values()}
    taken |= {"guard", "inf", "nan", "abs"}
    return (
        name.isidentifier()
        and not keyword.iskeyword(name)
        and name not in taken
        and not name.startswith("batch_")
        and not _DEFINED.fullmatch(name)
    )


def _number(k: int, x: Any) -> float:
    if isinstance(x, Value):
        raise TypeError(
            f"input {k}: a program replays on numbers, not Values; to build a graph call f itself"
        )
    if not is_real(x):
        raise TypeError(f"input {k} must be a number or a numpy array, not {type(x).__name__}")
    return to_float(x, f"input {k}")


def _ones(size: int) -> Any:
    return sys.modules["numpy"].ones(size)


def _numpy_errors_as_ieee() -> Any:
    """numpy's warnings on overflow and nan off: the float rules give inf and nan silently too."""
    return sys.modules["numpy"].errstate(all="ignore")


def _rule(name: str, backend: str) -> Any:
    """What an identifier of the generated code stands for on `backend` (float, numpy, torch)."""
    if name in ("inf", "nan"):
        return getattr(math, name)
    if name == "guard":
        return guard
    if name.startswith("batch_"):
        return _batch_helpers()[name]
    grads = name.endswith("_grads")
    function = name.removesuffix("_grads")
    prim = next(p for p, (_, f) in _primitive_names().items() if f == function)
    if backend == "float":
        return prim.local_grads if grads else prim.value
    table = _array_rules() if backend == "numpy" else _torch_rules()
    entry = table.get(prim.name, (None, None))[1 if grads else 0]
    if entry is None:
        what = "its local derivatives" if grads else "its value"
        raise TypeError(
            f"primitive {prim.name!r} has no {backend} version of {what} (the table in "
            f"autodiff/program.py): replay this program on floats"
        )
    return entry


# --- the rules on arrays and tensors -----------------------------------------------------------
# Only what the rule table cannot give as a formula (see _Expression): forward functions that call
# math or check their domain, and local derivatives that branch. Each entry is (value, local_grads),
# None where the table's own formula serves; tests compare every entry with the float rule.

_ARRAYS: dict[str, tuple] = {}


def _array_rules() -> dict[str, tuple]:
    """{primitive name: (value, local_grads)} on numpy arrays, the float rules' twins."""
    if _ARRAYS:
        return _ARRAYS
    import numpy as np  # imported here: only a batch replay needs numpy

    def first(mask: Any, *arrays: Any) -> tuple:
        """The values of `arrays` at the first example where `mask` holds, for a message."""
        k = int(np.argmax(mask)) if np.ndim(mask) else 0
        return tuple(float(a[k]) if np.ndim(a) else float(a) for a in arrays)

    def divide(a: Any, b: Any) -> Any:
        if np.any(b == 0):
            x, y = first(b == 0, a, b)
            raise ZeroDivisionError(f"division by zero: {x!r} / {y!r}")
        return np.true_divide(a, b)

    def power(a: Any, b: Any) -> Any:
        complex_result = (a < 0) & ~(np.isfinite(b) & (np.floor(b) == b))  # as _is_integer
        if np.any(complex_result):
            x, y = first(complex_result, a, b)
            raise ValueError(f"pow: negative base {x!r} with non-integer exponent {y!r}")
        if np.any((a == 0) & (b < 0)):
            raise ZeroDivisionError(
                f"pow: zero base with negative exponent {first((a == 0) & (b < 0), b)[0]!r}"
            )
        return np.power(a, b)

    def power_grads(a: Any, b: Any, out: Any) -> tuple:
        # As the float rule: slope 0 at b = 0 for every a (b·a^(b-1) would be 0 · inf at a tiny a).
        d_base = np.where(b == 0, 0.0, np.where((a == 0) & (b < 1), np.inf, b * np.power(a, b - 1)))
        d_exponent = np.where(
            a > 0, out * np.log(np.where(a > 0, a, 1.0)), np.where(a == 0, 0.0, np.nan)
        )
        return (d_base, d_exponent)

    def domain(name: str, bad: Callable[[Any], Any], message: str, function: Callable) -> Callable:
        def checked(x: Any) -> Any:
            if np.any(bad(x)):
                raise ValueError(f"{name}: argument must be {message}, got {first(bad(x), x)[0]!r}")
            return function(x)

        return checked

    def arcsine_slope(x: Any) -> Any:
        return np.where(np.abs(x) == 1.0, np.inf, 1.0 / np.sqrt((1.0 - x) * (1.0 + x)))

    def modulo(a: Any, b: Any) -> Any:
        if np.any(b == 0):
            x, y = first(b == 0, a, b)
            raise ZeroDivisionError(f"modulo by zero: {x!r} % {y!r}")
        return np.remainder(a, b)  # Python's %: the sign of b

    def larger(a: Any, b: Any) -> Any:
        return np.where(a > b, a, np.where(b > a, b, np.where(a == b, a, np.nan)))

    def smaller(a: Any, b: Any) -> Any:
        return np.where(a < b, a, np.where(b < a, b, np.where(a == b, a, np.nan)))

    def split(a_wins: Any, b_wins: Any) -> tuple:
        """The adjoint's shares: all to the winner, half each at a tie (as MAXIMUM's rule)."""
        return (
            np.where(a_wins, 1.0, np.where(b_wins, 0.0, 0.5)),
            np.where(a_wins, 0.0, np.where(b_wins, 1.0, 0.5)),
        )

    def sigmoid(x: Any) -> Any:
        z = np.exp(-np.abs(x))  # NOTE: as the float rule, only exp of -|x|: no overflow
        return np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))

    def total(*args: Any) -> Any:
        result = args[0]
        for x in args[1:]:  # NOTE: in order; the float rule's fsum rounds once, this per term
            result = result + x
        return result

    _ARRAYS.update(
        {
            "/": (divide, None),
            "**": (power, power_grads),
            "abs": (None, lambda x, out: (np.where(x > 0, 1.0, np.where(x < 0, -1.0, 0.0)),)),
            "exp": (np.exp, None),
            "log": (domain("log", lambda x: x <= 0, "positive", np.log), None),
            "sqrt": (
                domain("sqrt", lambda x: x < 0, "non-negative", np.sqrt),
                lambda x, out: (np.where(out == 0, np.inf, 0.5 / np.where(out == 0, 1.0, out)),),
            ),
            "sin": (np.sin, None),
            "cos": (np.cos, None),
            "tanh": (np.tanh, None),
            "sigmoid": (sigmoid, None),
            "relu": (
                lambda x: np.where(x <= 0, 0.0, x),
                lambda x, out: (np.where(x > 0, 1.0, 0.0),),
            ),
            "softplus": (lambda x: np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x))), None),
            "sum": (total, None),
            "dot": (ops.DOT.value, None),  # a wide dot row's (see _WIDEST_FORMULA): same arithmetic
            "tan": (np.tan, None),
            "sinh": (np.sinh, None),
            "cosh": (np.cosh, None),
            "asin": (
                domain("asin", lambda x: (x < -1.0) | (x > 1.0), "in [-1, 1]", np.arcsin),
                lambda x, out: (arcsine_slope(x),),
            ),
            "acos": (
                domain("acos", lambda x: (x < -1.0) | (x > 1.0), "in [-1, 1]", np.arccos),
                lambda x, out: (-arcsine_slope(x),),
            ),
            "atan": (np.arctan, None),
            "asinh": (np.arcsinh, None),
            "acosh": (
                domain("acosh", lambda x: x < 1.0, "at least 1", np.arccosh),
                lambda x, out: (np.where(x == 1.0, np.inf, 1.0 / np.sqrt((x - 1.0) * (x + 1.0))),),
            ),
            "atanh": (
                domain("atanh", lambda x: (x <= -1.0) | (x >= 1.0), "in (-1, 1)", np.arctanh),
                None,
            ),
            "log1p": (domain("log1p", lambda x: x <= -1.0, "greater than -1", np.log1p), None),
            "expm1": (np.expm1, None),
            "log2": (domain("log2", lambda x: x <= 0, "positive", np.log2), None),
            "log10": (domain("log10", lambda x: x <= 0, "positive", np.log10), None),
            # NOTE: numpy has no erf; math.erf on each example is exactly the float rule.
            "erf": (lambda x: np.frompyfunc(math.erf, 1, 1)(x).astype(float), None),
            "sign": (lambda x: np.where(x > 0, 1.0, np.where(x < 0, -1.0, x)), None),
            "%": (modulo, lambda a, b, out: (1.0, -np.floor_divide(a, b))),
            "maximum": (larger, lambda a, b, out: split(a > b, b > a)),
            "minimum": (smaller, lambda a, b, out: split(a < b, b < a)),
        }
    )
    return _ARRAYS


def _batch_helpers() -> dict[str, Callable[..., Any]]:
    """The numpy calls of a batch replay: sums over the batch and the dot rows' products."""
    import numpy as np

    return {
        "batch_dot": np.dot,  # Σ_b a_b c_b: a shared value's adjoint from a varying one's
        "batch_sum": np.sum,
        "batch_stack": np.stack,  # n arrays of shape (B,) as one (n, B) matrix
        "batch_matvec": np.dot,  # (w_1..w_n) · stack: Σ_i w_i x_i for every example
        "batch_outer": np.outer,  # the adjoint of the stack: w_i · v̄ for every i and example
        "batch_wgrads": lambda stack, adjoint: np.dot(stack, adjoint).tolist(),  # Σ_b x_ib v̄_b
        "batch_times": lambda adjoint, local: np.where(
            (adjoint == 0) | (local == 0), 0.0, adjoint * local
        ),
    }


def _torch_rules() -> dict[str, tuple]:
    """{primitive name: (forward function, None)} on torch tensors (torch differentiates them)."""
    import torch

    def tensors(function: Callable) -> Callable:
        def on_tensors(*args: Any) -> Any:  # a constant operand is a float: make it a tensor
            return function(*(torch.as_tensor(x, dtype=torch.float64) for x in args))

        return on_tensors

    rules = {
        "/": torch.div,
        "**": torch.pow,
        "exp": torch.exp,
        "log": torch.log,
        "sqrt": torch.sqrt,
        "sin": torch.sin,
        "cos": torch.cos,
        "tanh": torch.tanh,
        "sigmoid": torch.sigmoid,
        "relu": torch.relu,
        "softplus": lambda x: torch.clamp(x, min=0.0) + torch.log1p(torch.exp(-torch.abs(x))),
        "sum": lambda *args: sum(args[1:], args[0]),
        "dot": ops.DOT.value,  # a wide dot row's: sums and products work on tensors as on floats
        "tan": torch.tan,
        "sinh": torch.sinh,
        "cosh": torch.cosh,
        "asin": torch.asin,
        "acos": torch.acos,
        "atan": torch.atan,
        "asinh": torch.asinh,
        "acosh": torch.acosh,
        "atanh": torch.atanh,
        "log1p": torch.log1p,
        "expm1": torch.expm1,
        "log2": torch.log2,
        "log10": torch.log10,
        "erf": torch.erf,
        "sign": torch.sign,
        "%": torch.remainder,
        "maximum": torch.maximum,
        "minimum": torch.minimum,
    }
    return {name: (tensors(function), None) for name, function in rules.items()}
