"""Forward mode: `Dual(primal, tangent)`, a number carrying one directional derivative.

Each operation computes its primal with the rule table's `value` and its tangent from the same
`local_grads` that reverse mode records: v̇ = Σ_k ∂v/∂u_k · u̇_k (Bishop (8.57)). No graph is stored.

A Dual's parts may also be Values, when forward mode runs on top of reverse mode (a `jvp` whose
inputs are graph nodes, or a network whose weights are Values): then the primal and the tangent are
nodes of the reverse-mode graph, so the forward-mode result can be differentiated again.

Forward mode may also run inside forward mode (a `jvp` inside the function of a `jvp`). Each pass
tags its Duals with a number of its own, later passes with larger numbers, and an operation works
for the innermost pass among its operands: a Dual of an outer pass is a constant to it, carried
whole as a primal (the parts of an inner Dual may be outer Duals). Without the tags, the two
passes' tangents would be added together: "perturbation confusion".
"""

from __future__ import annotations

import contextlib
import itertools
import math
from collections.abc import Iterator
from operator import attrgetter
from typing import Any

from . import ops
from .ops import ComparesPrimal, Primitive, current_mode, is_real, to_float

_passes = itertools.count(1)
_running = {0}  # the tags of the passes under way; 0 is for Duals made by hand


@contextlib.contextmanager
def forward_pass() -> Iterator[int]:
    """A new forward pass: its tag, larger than every earlier one, valid while the block runs."""
    tag = next(_passes)
    _running.add(tag)
    try:
        yield tag
    finally:
        _running.discard(tag)


def check_running(dual: Dual, where: str) -> None:
    """A Dual of a pass that has ended escaped from it: its tangent means nothing any more."""
    if dual.tag not in _running:
        raise RuntimeError(
            f"{where}: a Dual of a forward pass that has ended (tag {dual.tag}) escaped from the "
            "function given to jvp; use the primal and tangent that jvp returns instead"
        )


class Dual(ComparesPrimal):
    """A dual number primal + tangent·ε with ε² = 0: the primal value and its tangent v̇.

    `tag` names the forward pass the tangent belongs to (see the module's docstring).
    """

    __slots__ = ("primal", "tangent", "tag")
    __array_ufunc__ = None

    def __init__(self, primal: Any, tangent: Any = 0.0, tag: int = 0) -> None:
        if tag not in _running:
            raise ValueError(
                f"Dual tag {tag!r} is not a forward pass under way: leave tag out (jvp sets it)"
            )
        for name, x in (("primal", primal), ("tangent", tangent)):
            if isinstance(x, Dual) and x.tag >= tag:
                raise TypeError(
                    f"Dual {name} is a Dual of the same or a later forward pass (tag {x.tag} >= "
                    f"{tag}); to nest forward mode, call jvp inside the function given to jvp"
                )
            if not is_real(x) and not isinstance(x, Dual) and not _is_node(x):
                raise TypeError(
                    f"Dual {name} must be a real number, a Value or a Dual of an enclosing "
                    f"forward pass, not {type(x).__name__}"
                )
        self.primal = to_float(primal, "Dual primal") if is_real(primal) else primal
        self.tangent = to_float(tangent, "Dual tangent") if is_real(tangent) else tangent
        self.tag = tag

    def __repr__(self) -> str:
        tag = f", tag={self.tag}" if self.tag else ""
        return f"Dual(primal={self.primal!r}, tangent={self.tangent!r}{tag})"

    @classmethod
    def _apply(cls, prim: Primitive, inputs: tuple) -> Dual:
        """prim(*inputs) with its tangent, for the innermost forward pass among the inputs.

        Numbers, Values and Duals of outer passes are constants of this pass: tangent 0.
        """
        innermost = max((x for x in inputs if isinstance(x, Dual)), key=attrgetter("tag"))
        check_running(innermost, f"op {prim.name!r}")
        tag = innermost.tag
        args = []
        for x in inputs:
            if isinstance(x, Dual) and x.tag == tag:
                args.append(x.primal)
            elif is_real(x):
                args.append(to_float(x, f"op {prim.name!r}: constant operand"))
            elif isinstance(x, Dual) or _is_node(x):
                args.append(x)
            else:
                return NotImplemented
        outer = next((x for x in args if not isinstance(x, float)), None)
        # A Value (or an outer pass's Dual) among the primals computes the primal by its own
        # rule: a node of the reverse-mode graph (or a Dual of that outer pass).
        primal = prim.value(*args) if outer is None else type(outer)._apply(prim, tuple(args))
        local_grads = prim.local_grads(*args, primal)
        tangent = 0.0
        for x, local in zip(inputs, local_grads):
            # NOTE: a zero factor contributes nothing, even where IEEE says 0 · inf = nan, as a
            # zero adjoint or local derivative in reverse mode: the modes agree at sqrt(relu(x)).
            if isinstance(x, Dual) and x.tag == tag and x.tangent and local:
                tangent += local * x.tangent
        if current_mode().detect_anomaly:
            _check_finite(prim, inputs, primal, tangent)
        return cls(primal, tangent, tag)

    def __add__(self, other: Any) -> Dual:
        return self._apply(ops.ADD, (self, other))

    def __radd__(self, other: Any) -> Dual:
        return self._apply(ops.ADD, (other, self))

    def __sub__(self, other: Any) -> Dual:
        return self._apply(ops.SUB, (self, other))

    def __rsub__(self, other: Any) -> Dual:
        return self._apply(ops.SUB, (other, self))

    def __mul__(self, other: Any) -> Dual:
        return self._apply(ops.MUL, (self, other))

    def __rmul__(self, other: Any) -> Dual:
        return self._apply(ops.MUL, (other, self))

    def __truediv__(self, other: Any) -> Dual:
        return self._apply(ops.DIV, (self, other))

    def __rtruediv__(self, other: Any) -> Dual:
        return self._apply(ops.DIV, (other, self))

    def __pow__(self, other: Any) -> Dual:
        return self._apply(ops.POW, (self, other))

    def __rpow__(self, other: Any) -> Dual:
        return self._apply(ops.POW, (other, self))

    def __mod__(self, other: Any) -> Dual:
        return self._apply(ops.MOD, (self, other))

    def __rmod__(self, other: Any) -> Dual:
        return self._apply(ops.MOD, (other, self))

    def __neg__(self) -> Dual:
        return self._apply(ops.NEG, (self,))

    def __pos__(self) -> Dual:
        return self._apply(ops.POS, (self,))

    def __abs__(self) -> Dual:
        return self._apply(ops.ABS, (self,))

    def primal_value(self) -> float:
        return self.primal

    def detach(self) -> Dual:
        """The primal as a constant: tangent 0 here, and cut off from every enclosing pass."""
        check_running(self, "detach")
        primal = self.primal
        while isinstance(primal, Dual):  # an outer pass's Dual: its tangent is dropped too
            primal = primal.primal
        return Dual(primal.detach() if _is_node(primal) else primal, 0.0, self.tag)


def _check_finite(prim: Primitive, inputs: tuple, primal: Any, tangent: Any) -> None:
    """detect_anomaly in forward mode: numbers here (Value parts check themselves as nodes)."""
    for part, x in (("primal", primal), ("tangent", tangent)):
        if is_real(x) and not math.isfinite(x):
            shown = ", ".join(map(repr, inputs))
            raise FloatingPointError(
                f"op {prim.name!r} (forward mode, inputs: {shown}) produced {part} {x!r}"
            )


def _is_node(x: Any) -> bool:
    """True for a reverse-mode Value."""
    from .value import Value  # imported here: value.py imports this module

    return isinstance(x, Value)


def _method(prim: Primitive) -> Any:
    def method(self: Dual) -> Dual:
        return Dual._apply(prim, (self,))

    method.__name__ = method.__qualname__ = prim.name
    method.__doc__ = prim.doc
    return method


for _prim in ops.FUNCTIONS:
    setattr(Dual, _prim.name, _method(_prim))
