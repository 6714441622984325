"""The node of the evaluation trace (`Value`) and the reverse-mode pass over it (`backward`).

A Value holds its primal `data`, its adjoint `grad`, its `parents` and the `local_grads`
∂self/∂parent recorded when it was made (Bishop 8.2.2). `backward()` visits the nodes once each in
reverse creation order, which is a reverse topological order because a node's parents always exist
before it, and accumulates v̄_i = Σ_j v̄_j ∂v_j/∂v_i (8.69).
There is no recursion and no reference cycle.
"""

from __future__ import annotations

import contextlib
import contextvars
import itertools
import math
import weakref
from collections.abc import Iterable
from itertools import compress
from operator import attrgetter
from typing import Any

from . import ops
from .dual import Dual
from .ops import DEFAULT_MODE, ComparesPrimal, Mode, Primitive, current_mode, is_real, to_float

_serials = itertools.count(1)
# The node whose backward() ran last in this thread or task: `explain(node)` reads its adjoints.
# NOTE: a weak reference, so that the last step's graph is freed while the next one is built.
_last_backward: contextvars.ContextVar[weakref.ref[Value] | None] = contextvars.ContextVar(
    "last_backward", default=None
)


class CustomOp:
    """The rule of a node made by `Value(data, parents=..., local_grads=..., op=...)`."""

    __slots__ = ("name", "value_grads")

    def __init__(self, name: str, value_grads: tuple | None) -> None:
        self.name = name
        self.value_grads = value_grads  # the local derivatives as Values, when the user gave Values

    def differentiable_grads(self, node: Value) -> tuple:
        if self.value_grads is None:
            raise RuntimeError(
                f"create_graph=True through custom op {self.name!r}: its local_grads were given as "
                "floats; give them as Values to differentiate it twice"
            )
        return self.value_grads


class Value(ComparesPrimal):
    """A scalar node of the evaluation trace: primal `data`, adjoint `grad`, and how it was made."""

    __slots__ = ("data", "grad", "label", "parents", "local_grads", "serial", "_rule", "_inputs")
    __slots__ += ("__weakref__",)  # explain() finds the last backward()'s output without keeping it
    __array_ufunc__ = None  # make numpy scalars defer to Value's reflected operators

    def __init__(
        self,
        data: Any,
        label: str = "",
        *,
        parents: Iterable[Value] | None = None,
        local_grads: Iterable[Any] | None = None,
        op: str = "",
    ) -> None:
        if not is_real(data):
            raise TypeError(f"Value data must be a real number, not {type(data).__name__}")
        if not isinstance(label, str):
            raise TypeError(f"label must be a str, not {type(label).__name__}")
        self.data = to_float(data, "Value data")
        self.grad = 0.0
        self.label = label
        self.serial = next(_serials)
        if parents is None and local_grads is None:
            self.parents = self._inputs = self.local_grads = ()
            self._rule = None
            return
        self._init_custom(parents, local_grads, op)

    def _init_custom(self, parents: Any, local_grads: Any, op: str) -> None:
        """A user-defined primitive: parents and local derivatives given directly."""
        if not isinstance(op, str):
            raise TypeError(f"op must be a str, not {type(op).__name__}")
        op = op or "custom"  # "" is reserved for leaves
        parents = _items(op, "parents", parents)
        local_grads = _items(op, "local_grads", local_grads)
        if len(parents) != len(local_grads):
            raise ValueError(
                f"custom op {op!r}: {len(parents)} parents but {len(local_grads)} local_grads"
            )
        for parent in parents:
            if not isinstance(parent, Value):
                raise TypeError(
                    f"custom op {op!r}: parents must be Values, got {type(parent).__name__}"
                )
        for local in local_grads:
            if not isinstance(local, Value) and not is_real(local):
                raise TypeError(
                    f"custom op {op!r}: local_grads must be numbers or Values, "
                    f"got {type(local).__name__}"
                )
        given_values = all(isinstance(local, Value) for local in local_grads)
        self.parents = self._inputs = parents
        self.local_grads = tuple(
            [
                to_float(_data(local), f"custom op {op!r}: local_grads[{k}]")
                for k, local in enumerate(local_grads)
            ]
        )
        self._rule = CustomOp(op, local_grads if given_values else None) if parents else None
        _apply_mode(self, current_mode())

    # --- how it was made -------------------------------------------------------------------

    @property
    def op(self) -> str:
        """The operation that made this node, constants shown (`"*"`, `"+ 2"`); "" for a leaf."""
        rule = self._rule
        if rule is None:
            return ""
        if isinstance(rule, CustomOp) or len(self._inputs) == len(self.parents):
            return rule.name
        if rule in ops.NARY:
            return rule.name
        # A constant is shown in place; the Value operands are left blank: "{0} + {1}" -> "+ 2",
        # or marked in a function's argument list: "maximum({0}, {1})" -> "maximum(·, 0)".
        blank = "·" if rule.notation.endswith(")") else ""
        shown = [blank if isinstance(x, Value) else format_number(x) for x in self._inputs]
        return " ".join(rule.notation.format(*shown).split())

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{label})"

    def __reduce__(self) -> tuple:
        """pickle and copy: a leaf is saved as its data, grad and label; a node of a graph is not.

        NOTE: as PyTorch refuses non-leaf tensors. A graph's order rests on creation numbers,
        which mean nothing in another process, and pickle would recurse once per node.
        """
        if self.parents:
            raise TypeError(
                f"cannot pickle or copy a node made by op {self.op!r}, only leaves: "
                "use .detach() (a leaf with the same data and label) or its .data"
            )
        leaf = (type(self), self.data, self.grad, self.label)
        # A subclass's own attributes, if it has any, come back through the state item.
        return (_leaf, leaf, getattr(self, "__dict__", None))

    def __format__(self, spec: str) -> str:
        # f"{loss:.4f}" formats `data` as it would a float; a plain f"{loss}" is str(loss).
        return format(self.data, spec) if spec else str(self)

    # --- operators: each call makes exactly one node ---------------------------------------

    def __add__(self, other: Any) -> Value:
        return _binary(ops.ADD, self, other)

    def __radd__(self, other: Any) -> Value:
        return _binary(ops.ADD, other, self)

    def __sub__(self, other: Any) -> Value:
        return _binary(ops.SUB, self, other)

    def __rsub__(self, other: Any) -> Value:
        return _binary(ops.SUB, other, self)

    def __mul__(self, other: Any) -> Value:
        return _binary(ops.MUL, self, other)

    def __rmul__(self, other: Any) -> Value:
        return _binary(ops.MUL, other, self)

    def __truediv__(self, other: Any) -> Value:
        return _binary(ops.DIV, self, other)

    def __rtruediv__(self, other: Any) -> Value:
        return _binary(ops.DIV, other, self)

    def __pow__(self, other: Any) -> Value:
        return _binary(ops.POW, self, other)

    def __rpow__(self, other: Any) -> Value:
        return _binary(ops.POW, other, self)

    def __mod__(self, other: Any) -> Value:
        return _binary(ops.MOD, self, other)

    def __rmod__(self, other: Any) -> Value:
        return _binary(ops.MOD, other, self)

    def __neg__(self) -> Value:
        return _unary(ops.NEG, self)

    def __pos__(self) -> Value:
        return _unary(ops.POS, self)

    def __abs__(self) -> Value:
        return _unary(ops.ABS, self)

    def primal_value(self) -> float:
        return self.data

    # --- micrograd's names, so code written for its lecture runs on these nodes -------------

    @property
    def _prev(self) -> tuple[Value, ...]:
        """micrograd's name for `parents` (here an ordered tuple; micrograd keeps a set)."""
        return self.parents

    @property
    def _op(self) -> str:
        """micrograd's name for `op`."""
        return self.op

    def _backward(self) -> None:
        """One step of the reverse pass at this node: parent.grad += grad · ∂self/∂parent (8.69)."""
        if self.grad == 0.0:  # as in backward(): a zero adjoint passes nothing on
            return
        for parent, local in zip(self.parents, self.local_grads):
            if local:  # nor does a zero local derivative
                parent.grad += local * self.grad

    # --- the reverse pass ------------------------------------------------------------------

    def backward(self, grad: float = 1.0) -> None:
        """Seed this node's adjoint with `grad`; add v̄_j ∂v_j/∂v_i into every ancestor's `grad`."""
        if not is_real(grad):
            raise TypeError(f"backward grad must be a real number, not {type(grad).__name__}")
        adjoints(self, to_float(grad, "backward grad"), add_to_grad=True)
        _last_backward.set(weakref.ref(self))

    def zero_grad(self) -> None:
        """Set `grad` to 0.0 on this node and every ancestor."""
        for node in ancestors(self):
            node.grad = 0.0

    def detach(self) -> Value:
        """A new leaf with the same data and label, cut off from this node's graph."""
        return Value(self.data, self.label)

    @classmethod
    def _apply(cls, prim: Primitive, inputs: tuple) -> Value:
        return _apply(prim, inputs)


def _leaf(kind: type, data: float, grad: float, label: str) -> Value:
    """A leaf as pickle and copy rebuild it (with a new creation number)."""
    leaf = _new_value(kind)
    Value.__init__(leaf, data, label)  # Value's own: a subclass's __init__ may take other arguments
    leaf.grad = grad
    return leaf


def _method(prim: Primitive) -> Any:
    def method(self: Value) -> Value:
        return _unary(prim, self)

    method.__name__ = method.__qualname__ = prim.name
    method.__doc__ = prim.doc
    return method


for _prim in ops.FUNCTIONS:  # x.exp(), x.tanh(), ...: one method per function in the table
    setattr(Value, _prim.name, _method(_prim))


def _items(op: str, name: str, items: Any) -> tuple:
    """A custom op's `parents` or `local_grads` as a tuple (None for none)."""
    if items is None:
        return ()
    if not isinstance(items, Iterable) or isinstance(items, (Value, str)):
        raise TypeError(
            f"custom op {op!r}: {name} must be a tuple, not {type(items).__name__}; "
            f"for one item write {name}=(item,)"
        )
    return tuple(items)


def _data(x: Any) -> Any:
    return x.data if isinstance(x, Value) else x


def format_number(x: float) -> str:
    """A constant as the trace prints it: 2.0 -> "2", 0.5 -> "0.5"."""
    text = repr(float(x))
    return text[:-2] if text.endswith(".0") else text


_new_value = object.__new__
_VALUES_AND_FLOATS = {Value, float}


def _node(data: float, prim: Primitive, parents: tuple, local_grads: tuple, inputs: tuple) -> Value:
    """Allocate a node directly (operations skip __init__'s checks: their data is a float)."""
    node = _new_value(Value)
    node.data = data
    node.grad = 0.0
    node.label = ""
    node.serial = next(_serials)
    node.parents = parents
    node.local_grads = local_grads
    node._inputs = inputs
    node._rule = prim
    mode = current_mode()
    if mode is not DEFAULT_MODE:  # one identity test on the common path
        _apply_mode(node, mode)
    return node


def _apply_mode(node: Value, mode: Mode) -> None:
    """detect_anomaly() checks the new node; under no_grad() it is kept as a plain leaf."""
    if mode.detect_anomaly:
        _check_node(node)
    if not mode.recording:
        node.parents = node.local_grads = node._inputs = ()
        node._rule = None


def _unary(prim: Primitive, x: Value) -> Value:
    """The node for prim(x)."""
    a = x.data
    data = prim.value(a)
    inputs = (x,)
    return _node(data, prim, inputs, prim.local_grads(a, data), inputs)


def _binary(prim: Primitive, left: Any, right: Any) -> Value:
    """The node for prim(left, right): fast paths for Value with Value, int or float operands."""
    # NOTE: exact types are the cheapest test, so that a constant operand costs about what a
    # Value operand does. Subclasses, bools, numpy scalars, ints too large for a float and wrong
    # types take the general path, which converts, explains or refuses them.
    if type(left) is Value:
        kind = type(right)
        if kind is Value:
            a = left.data
            b = right.data
            data = prim.value(a, b)
            inputs = (left, right)
            return _node(data, prim, inputs, prim.local_grads(a, b, data), inputs)
        if kind is int:
            try:
                right = float(right)
                kind = float
            except OverflowError:
                pass  # too large for a float: the general path says so
        if kind is float:  # a constant, not a parent: kept in `_inputs` for the op ("+ 2")
            a = left.data
            data = prim.value(a, right)
            local, _ = prim.local_grads(a, right, data)
            return _node(data, prim, (left,), (local,), (left, right))
    elif type(right) is Value:
        kind = type(left)
        if kind is int:
            try:
                left = float(left)
                kind = float
            except OverflowError:
                pass  # too large for a float: the general path says so
        if kind is float:
            b = right.data
            data = prim.value(left, b)
            _, local = prim.local_grads(left, b, data)
            return _node(data, prim, (right,), (local,), (left, right))
    return _apply_with_constants(prim, (left, right))  # or NotImplemented


def _apply(prim: Primitive, inputs: tuple) -> Any:
    """The node for prim(*inputs) over Values and numbers (a float if all are numbers)."""
    # The common case first: every input is a node. The comprehension both reads the primal
    # values and checks the types, which is the cheapest way to do both in Python.
    args = [x.data for x in inputs if x.__class__ is Value]
    if len(args) == len(inputs):
        data = prim.value(*args)
        return _node(data, prim, inputs, prim.local_grads(*args, data), inputs)
    types = set(map(type, inputs))
    if any(issubclass(kind, Dual) for kind in types):  # forward mode; Values are constants
        result = Dual._apply(prim, inputs)
    elif any(issubclass(kind, Value) for kind in types):
        result = _apply_with_constants(prim, inputs, types)
    else:
        return prim.value(*[_real(prim, x) for x in inputs])
    if result is NotImplemented:
        bad = next(x for x in inputs if not isinstance(x, (Value, Dual)) and not is_real(x))
        raise TypeError(f"{prim.name}: unsupported operand type {type(bad).__name__}")
    return result


def _apply_with_constants(prim: Primitive, inputs: tuple, types: set | None = None) -> Any:
    """The node for prim(*inputs) where some inputs are numbers: they are folded in as constants."""
    types = set(map(type, inputs)) if types is None else types
    if not types <= _VALUES_AND_FLOATS:  # ints, numpy scalars, ... become floats; others refused
        if not all(isinstance(x, Value) or is_real(x) for x in inputs):
            return NotImplemented
        inputs = tuple(
            [
                x if isinstance(x, Value) else to_float(x, f"{prim.name}: constant operand")
                for x in inputs
            ]
        )
    # 1. Primal values of the inputs; numbers (all floats by now) are constants, not parents.
    is_parent = [type(x) is not float for x in inputs]
    args = [x.data if keep else x for x, keep in zip(inputs, is_parent)]
    data = prim.value(*args)
    # 2. Local derivatives ∂out/∂input, kept only for the inputs that are Values.
    local_grads = prim.local_grads(*args, data)
    parents = tuple(compress(inputs, is_parent))
    return _node(data, prim, parents, tuple(compress(local_grads, is_parent)), inputs)


def differentiable_grads(node: Value) -> tuple:
    """The local derivatives of `node` as Values, recomputed from its rule (for create_graph)."""
    rule = node._rule
    if isinstance(rule, CustomOp):
        return rule.differentiable_grads(node)
    local_grads = rule.local_grads(*node._inputs, node)
    if len(node._inputs) == len(node.parents):
        return local_grads
    return tuple(compress(local_grads, [isinstance(x, Value) for x in node._inputs]))


# --- n-ary nodes -------------------------------------------------------------------------


def dot(weights: Iterable[Any], inputs: Iterable[Any], bias: Any = 0.0) -> Any:
    """Σ_i w_i x_i + b as one node with local derivatives x_i, w_i, 1: a pre-activation (8.5)."""
    weights, inputs = tuple(weights), tuple(inputs)
    if len(weights) != len(inputs):
        raise ValueError(f"dot: {len(weights)} weights but {len(inputs)} inputs")
    return _apply(ops.DOT, (*weights, *inputs, bias))


def sum(values: Iterable[Any]) -> Any:  # noqa: A001 - the package's own sum, used as autodiff.sum
    """Σ_i v_i as one node with local derivatives 1 (0.0, a number, for no terms)."""
    values = tuple(values)
    return _apply(ops.SUM, values) if values else 0.0


def _real(prim: Primitive, x: Any) -> float:
    if not is_real(x):
        raise TypeError(f"{prim.name}: expected a real number, not {type(x).__name__}")
    return to_float(x, f"{prim.name}: operand")


# --- walking the graph -------------------------------------------------------------------


def ancestors(*outputs: Value) -> list[Value]:
    """The `outputs` and every node they depend on, in creation order (a topological order)."""
    seen = set(outputs)
    found = list(seen)
    stack = list(seen)
    while stack:  # iterative depth-first search: no recursion limit, each node visited once
        for parent in stack.pop().parents:
            if parent not in seen:
                seen.add(parent)
                found.append(parent)
                stack.append(parent)
    # Found from the output backwards, the list is nearly in reverse creation order already,
    # which makes this sort close to linear.
    found.reverse()
    found.sort(key=_creation_number)
    return found


_creation_number = attrgetter("serial")


def last_backward_output() -> Value | None:
    """The node `backward()` was last called on in this thread or task (None before any, or
    once nothing else holds it)."""
    last = _last_backward.get()
    return None if last is None else last()


def adjoints(
    output: Value, seed: Any = 1.0, create_graph: bool = False, add_to_grad: bool = False
) -> dict[Value, Any]:
    """Reverse mode: the adjoint v̄ = ∂output/∂v (8.68) of every node `output` depends on.

    With `create_graph`, the local derivatives are recomputed as Values, so the adjoints are
    Values in a graph of their own and can be differentiated again. With `add_to_grad` (what
    `backward()` does), each node's adjoint is added to its `.grad` instead of being returned
    (the dict is empty); otherwise every `.grad` is left as it was.
    """
    order = ancestors(output)
    # NOTE: the pass keeps each node's adjoint in the node's own `grad` slot, as micrograd does:
    # updating a slot is much faster than updating a dictionary entry. What earlier passes left
    # in `grad` is set aside first and given back at the end, even if the pass fails.
    earlier = [node.grad for node in order]
    checking = current_mode().detect_anomaly
    try:
        # 1. Every adjoint starts at 0; the output's is the seed (1 for dE/dE).
        for node in order:
            node.grad = 0.0
        output.grad = seed
        if checking and not math.isfinite(_data(seed)):
            raise FloatingPointError(f"backward pass: seed {_data(seed)!r}")
        # 2. Reverse topological order: a node's adjoint is complete before it is passed on.
        for node in reversed(order):
            adjoint = node.grad
            if not node.parents or adjoint == 0.0:
                # NOTE: a zero adjoint adds nothing (even where IEEE would say 0 · inf = nan:
                # the node does not affect the output, so neither do its inputs through it).
                # A Value adjoint (create_graph) is never skipped: it may be 0 here while its
                # own derivatives, which a second pass needs, are not.
                continue
            local_grads = differentiable_grads(node) if create_graph else node.local_grads
            # 3. v̄_i += v̄_j ∂v_j/∂v_i for each parent occurrence (x * x counts twice).
            for parent, local in zip(node.parents, local_grads):
                # NOTE: a zero local derivative passes nothing on either, as in forward mode:
                # sqrt(relu(x)) at x = -1 has slope 0, not 0 · inf = nan. A Value (create_graph)
                # is never skipped: its data may be 0 while its own derivatives are not.
                if local:
                    parent.grad += local * adjoint
            if checking:
                _check_messages(node)
        # 4. The pass is complete: hand back the adjoints, or add them to what was there.
        if add_to_grad:
            result = {}
            earlier = [grad + node.grad for node, grad in zip(order, earlier)]
        else:
            result = {node: node.grad for node in order}
    finally:
        for node, grad in zip(order, earlier):
            node.grad = grad
    return result


# --- modes -------------------------------------------------------------------------------


# Each holds for the thread or asyncio task that enters it, never for the rest of the process
# (as PyTorch's grad mode is thread-local), and is undone exactly on leaving.


def no_grad() -> contextlib.AbstractContextManager[None]:
    """Inside, operations record no parents: results are plain leaves (cheap inference)."""
    return ops.mode(recording=False)


def detect_anomaly() -> contextlib.AbstractContextManager[None]:
    """Inside, the first NaN or inf from an op or a backward pass raises FloatingPointError."""
    return ops.mode(detect_anomaly=True)


def _describe(node: Value) -> str:
    name = f" {node.label!r}" if node.label else ""
    inputs = ", ".join(
        f"{x.label}={x.data!r}" if isinstance(x, Value) and x.label else repr(_data(x))
        for x in node._inputs
    )
    return f"op {node.op!r} (node{name}, inputs: {inputs})"


def _check_node(node: Value) -> None:
    if not math.isfinite(node.data):
        raise FloatingPointError(f"{_describe(node)} produced {node.data!r}")
    for parent, local in zip(node.parents, node.local_grads):
        if not math.isfinite(local):
            which = f" {parent.label!r}" if parent.label else ""
            raise FloatingPointError(
                f"{_describe(node)} has local derivative {local!r} with respect to input{which}"
            )


def _check_messages(node: Value) -> None:
    """After `node` passed its adjoint on: the first input whose adjoint it made non-finite."""
    for parent in node.parents:
        adjoint = _data(parent.grad)  # during a pass, `grad` holds this pass's adjoint
        if not math.isfinite(adjoint):
            which = f" {parent.label!r}" if parent.label else ""
            raise FloatingPointError(
                f"backward pass: {_describe(node)} sent adjoint {adjoint!r} to its input{which}"
            )
