"""Whole-function transforms: gradients, grad, value_and_grad, jacobian, hessian, hvp, jvp, vjp.

Each transform calls the user's `f` with Values (reverse mode, Bishop 8.2.2) or with Duals
(forward mode, 8.2.1) and reads the derivatives off one pass per row or column. When the
arguments are Values already, or another transform is running `f`, the derivatives are returned
as Values built with `create_graph=True`, so transforms nest: `grad(grad(f))` is f''.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from .dual import Dual, check_running, forward_pass
from .ops import as_int, current_mode, is_real, mode, to_float
from .value import Value, adjoints, dot

Argnums = int | tuple[int, ...]


# --- gradients: one reverse pass -----------------------------------------------------------


def gradients(output: Any, inputs: Sequence[Value], create_graph: bool = False) -> list:
    """[∂output/∂x for x in inputs] by one reverse pass; 0.0 where unreached; no `.grad` touched."""
    if not isinstance(inputs, (list, tuple)):
        raise TypeError(f"gradients: inputs must be a list or tuple of Values, not {_kind(inputs)}")
    for i, x in enumerate(inputs):
        if not isinstance(x, Value):
            raise TypeError(f"gradients: inputs[{i}] must be a Value, not {_kind(x)}")
    if isinstance(output, Value):
        table = adjoints(output, 1.0, create_graph)
        result = [table.get(x, 0.0) for x in inputs]
    elif is_real(output):
        result = [0.0] * len(inputs)  # a constant output depends on nothing
    else:
        raise TypeError(f"gradients: output must be a Value or a real number, not {_kind(output)}")
    if not create_graph:
        return result
    # NOTE: an adjoint that met only constant local derivatives (d(x + y)/dx = 1) is a float; it
    # becomes a constant leaf, so a caller asking for a graph always gets Values back.
    return [g if isinstance(g, Value) else Value(g) for g in result]


# --- how every reverse-mode transform calls f ----------------------------------------------


def _nested(args: Iterable[Any]) -> bool:
    """Whether derivatives must be Values (create_graph): when some argument is a Value in a
    graph, or when an enclosing reverse-mode transform is running in this thread or task, since
    f may then use its Values through a closure."""
    return current_mode().in_transform or any(isinstance(x, Value) for x in args)


_FORWARD_OVER_REVERSE = (
    "forward mode over a reverse-mode transform is not supported; nest them the other way "
    "(grad of jvp, as hvp does) or use the default mode='reverse'"
)


def _lift(args: tuple, argnums: Iterable[int]) -> tuple[list, list[Value], bool]:
    """The arguments to call f with, the Values to differentiate by, and whether to build graphs."""
    nested = _nested(args)
    # 1. Every number becomes a leaf, so f may call Value methods on any of its arguments;
    #    other objects (data, options) that are not differentiated pass through unchanged.
    call_args = [
        Value(to_float(x, f"argument {i}")) if is_real(x) else x for i, x in enumerate(args)
    ]
    for i in argnums:
        x = args[i]
        if isinstance(x, Value):
            # 2. NOTE: a node of its own for each argument (+x is the identity), so that
            #    f(y, y) still has one partial derivative per argument, not their sum.
            call_args[i] = +x
        elif isinstance(x, Dual):
            raise TypeError(f"argument {i} is a Dual: {_FORWARD_OVER_REVERSE}")
        elif not is_real(x):
            raise TypeError(f"argument {i} must be a real number or a Value, not {_kind(x)}")
    return call_args, [call_args[i] for i in argnums], nested


def _call(f: Callable[..., Any], args: Sequence[Any]) -> Any:
    """f(*args), marked as running inside a transform so that inner transforms build graphs."""
    with mode(in_transform=True):
        return f(*args)


def _outputs(name: str, out: Any, kind: type) -> tuple[list, bool]:
    """f's result as a list of outputs, and whether f returned a single one (not a list/tuple)."""
    single = not isinstance(out, (list, tuple))
    outputs = [out] if single else list(out)
    for k, y in enumerate(outputs):
        if not (isinstance(y, (kind, Value)) or is_real(y)):
            if isinstance(y, Dual):  # a reverse-mode f that uses a Dual of an enclosing jvp
                raise TypeError(f"{name}: f returned a Dual: {_FORWARD_OVER_REVERSE}")
            which = "" if single else f" item {k} of"
            raise TypeError(
                f"{name}: f must return a {kind.__name__} or a real number (or a list/tuple of "
                f"them), but returned{which} {_kind(y)}"
            )
    return outputs, single


def _single_output(name: str, out: Any) -> Any:
    outputs, single = _outputs(name, out, Value)
    if not single:
        raise TypeError(
            f"{name}: f must return one Value or number, not a {_kind(out)}; use jacobian"
        )
    return outputs[0]


def _result(y: Any, nested: bool) -> Any:
    """An output as the caller gets it: a Value when nested (a number as a leaf), else a float.

    A Dual of an enclosing forward pass stays as it is, for that pass to carry on."""
    if isinstance(y, Dual):
        return y
    if nested:
        return y if isinstance(y, Value) else Value(y)
    return y.data if isinstance(y, Value) else to_float(y, "the output of f")


def _argnums(argnums: Any) -> tuple[int, ...]:
    given = argnums if isinstance(argnums, tuple) else (argnums,)
    items = tuple(as_int(i) for i in given)  # numpy's ints too
    for i in items:
        if i is None:
            raise TypeError(f"argnums must be an int or a tuple of ints, not {argnums!r}")
        if i < 0:
            raise ValueError(f"argnums must be non-negative, got {i}")
    if not items:
        raise ValueError("argnums must name at least one argument")
    if len(set(items)) != len(items):
        raise ValueError(f"argnums has a repeated index: {argnums!r}")
    return items


def _check_range(argnums: tuple[int, ...], count: int) -> None:
    for i in argnums:
        if i >= count:
            raise ValueError(f"argnums {i} is out of range: f was called with {count} arguments")


# --- gradients of scalar functions -----------------------------------------------------------


def value_and_grad(f: Callable[..., Any], argnums: Argnums = 0) -> Callable[..., tuple]:
    """x ↦ (f(x), ∂f/∂x_i for i in argnums): one forward and one reverse pass."""
    indices = _argnums(argnums)

    def value_and_grad_f(*args: Any) -> tuple:
        _check_range(indices, len(args))
        call_args, inputs, nested = _lift(args, indices)
        output = _single_output("grad", _call(f, call_args))
        derivatives = gradients(output, inputs, create_graph=nested)
        value = _result(output, nested)
        return value, (tuple(derivatives) if isinstance(argnums, tuple) else derivatives[0])

    return value_and_grad_f


def grad(f: Callable[..., Any], argnums: Argnums = 0) -> Callable[..., Any]:
    """x ↦ ∂f/∂x_i: a float for an int argnums, a tuple for a tuple (Values when nested)."""
    gradient = value_and_grad(f, argnums)

    def grad_f(*args: Any) -> Any:
        return gradient(*args)[1]

    return grad_f


# --- Jacobians and Hessians ------------------------------------------------------------------


def jacobian(f: Callable[..., Any], mode: str = "reverse") -> Callable[..., list]:
    """x ↦ J with J[k][i] = ∂y_k/∂x_i (Bishop (8.26)), by K reverse or D forward passes.

    `mode="reverse"` runs f once and one backward pass per output row: K passes, the winner when
    K ≪ D (an error function of many weights). `mode="forward"` runs f once per input with the
    tangent seed e_i and reads a column off the Duals: D passes and no graph needed, the winner
    when K ≫ D (Bishop 8.2.1). Both give the same numbers. A function returning one output gives
    a flat list of D derivatives; a list/tuple of K outputs gives a K x D nested list.
    """
    if mode not in ("reverse", "forward"):
        raise ValueError(f"jacobian: mode must be 'reverse' or 'forward', not {mode!r}")

    def jacobian_f(*xs: Any) -> list:
        if not xs:
            raise ValueError("jacobian: f needs at least one argument to differentiate by")
        if mode == "forward":
            return _forward_jacobian(f, xs)
        call_args, inputs, nested = _lift(xs, range(len(xs)))
        outputs, single = _outputs("jacobian", _call(f, call_args), Value)
        rows = [gradients(y, inputs, create_graph=nested) for y in outputs]
        return rows[0] if single else rows

    return jacobian_f


def _forward_jacobian(f: Callable[..., Any], xs: tuple) -> list:
    """The Jacobian column by column: pass i seeds the tangents with the unit vector e_i."""
    _check_reals_or_values("jacobian(mode='forward')", "arguments", xs)
    columns = []
    for i in range(len(xs)):
        seed = [1.0 if j == i else 0.0 for j in range(len(xs))]
        _, column, single = _push_forward("jacobian", f, xs, seed)
        columns.append(column)
    if single:
        return [column[0] for column in columns]
    return [list(row) for row in zip(*columns, strict=True)]


def hessian(f: Callable[..., Any]) -> Callable[..., list]:
    """x ↦ H with H[i][j] = ∂²f/∂x_i∂x_j: the Jacobian of the gradient, D + 1 reverse passes."""

    def hessian_f(*xs: Any) -> list:
        if not xs:
            raise ValueError("hessian: f needs at least one argument to differentiate by")
        every = tuple(range(len(xs)))
        return jacobian(grad(f, argnums=every))(*xs)

    return hessian_f


def hvp(f: Callable[..., Any], xs: Sequence[Any], v: Sequence[Any]) -> list:
    """H v = ∇(vᵀ∇f) at xs in O(W), without forming H (Pearlmutter; Bishop 8.1.6).

    Reverse-over-reverse: a first reverse pass with `create_graph=True` gives ∇f as Values, one
    `dot` node forms the scalar vᵀ∇f, and a second reverse pass differentiates it. Both passes walk
    graphs of O(W) nodes, so the cost is a few gradient evaluations. Bishop describes another
    hybrid, reverse over forward (vᵀ∇f by forward mode, then reverse mode on that), which works
    here too as `grad` of a `jvp`, at the same order of cost; this one reuses the create_graph
    pass of `grad(grad(f))`.
    """
    xs = _sequence("hvp", "xs", xs)
    v = _sequence("hvp", "v", v)
    if len(v) != len(xs):
        raise ValueError(f"hvp: v has {len(v)} entries but xs has {len(xs)}")
    if not xs:
        raise ValueError("hvp: xs must hold at least one input")
    _check_reals("hvp", "v", v)
    every = tuple(range(len(xs)))
    gradient = grad(f, argnums=every)

    def directional(*ys: Any) -> Any:
        return dot(v, gradient(*ys))  # vᵀ∇f(y), a Value in the graph of the first reverse pass

    return list(grad(directional, argnums=every)(*xs))


# --- forward and reverse products with vectors -----------------------------------------------


def jvp(f: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any]) -> tuple:
    """(f(x), J ẋ) by one forward pass with Duals x + ẋ·ε (Bishop (8.57)).

    No graph is stored for the tangents; given Values (or run inside another transform), the
    results are Values, so `grad` of a `jvp` differentiates through forward mode.
    """
    primals = _sequence("jvp", "primals", primals)
    tangents = _sequence("jvp", "tangents", tangents)
    if len(tangents) != len(primals):
        raise ValueError(f"jvp: {len(primals)} primals but {len(tangents)} tangents")
    _check_reals_or_values("jvp", "primals", primals)
    _check_reals_or_values("jvp", "tangents", tangents)
    values, output_tangents, single = _push_forward("jvp", f, primals, tangents)
    if single:
        return values[0], output_tangents[0]
    return values, output_tangents


def _push_forward(name: str, f: Callable[..., Any], primals: Sequence, tangents: Sequence) -> tuple:
    """One forward-mode pass: the outputs' primals and tangents, and whether f returned one."""
    # Given Values (or inside another transform), the Duals' parts are Values, so the results
    # stay in the reverse-mode graph and can be differentiated again: reverse over forward.
    nested = _nested((*primals, *tangents))
    values, output_tangents = [], []
    with forward_pass() as tag:
        # NOTE: f is called plainly, not as a reverse-mode transform's f (_call): a transform
        # inside it returns Values only if it is given Values, or runs inside a reverse one.
        out = f(*[Dual(x, t, tag) for x, t in zip(primals, tangents, strict=True)])
        outputs, single = _outputs(name, out, Dual)
        for y in outputs:
            if isinstance(y, Dual):
                check_running(y, name)
            # An output that is not a Dual of this pass (a number, a Value, an outer pass's
            # Dual) does not depend on the inputs: its tangent is 0.
            ours = isinstance(y, Dual) and y.tag == tag
            values.append(_result(y.primal if ours else y, nested))
            output_tangents.append(_result(y.tangent if ours else 0.0, nested))
    return values, output_tangents, single


def vjp(f: Callable[..., Any], *primals: Any) -> tuple[Any, Callable[[Any], list]]:
    """(f(x), w ↦ Jᵀw): f runs once; each call of the returned function is one reverse pass."""
    call_args, inputs, nested = _lift(primals, range(len(primals)))
    outputs, single = _outputs("vjp", _call(f, call_args), Value)

    def vjp_fn(cotangents: Any) -> list:
        """[Σ_k w_k ∂y_k/∂x_i for each input i]; w is a number for a function with one output."""
        weights = [cotangents] if single else _sequence("vjp_fn", "cotangents", cotangents)
        if len(weights) != len(outputs):
            raise ValueError(f"vjp_fn: {len(weights)} cotangents for {len(outputs)} outputs")
        _check_reals("vjp_fn", "cotangents", weights)
        # One dot node Σ_k w_k y_k, so all K outputs share a single reverse pass.
        return gradients(dot(weights, outputs), inputs, create_graph=nested)

    values = [_result(y, nested) for y in outputs]
    return (values[0] if single else values), vjp_fn


# --- input checks ----------------------------------------------------------------------------


def _kind(x: Any) -> str:
    return type(x).__name__


def _sequence(name: str, what: str, items: Any) -> tuple:
    if not isinstance(items, (list, tuple)):
        raise TypeError(f"{name}: {what} must be a list or tuple, not {_kind(items)}")
    return tuple(items)


def _check_reals_or_values(name: str, what: str, items: Sequence[Any]) -> None:
    """Numbers, Values, or Duals of an enclosing forward pass (forward mode inside forward mode)."""
    for i, x in enumerate(items):
        if not (is_real(x) or isinstance(x, (Value, Dual))):
            raise TypeError(f"{name}: {what}[{i}] must be a real number or a Value, not {_kind(x)}")
        if is_real(x):
            to_float(x, f"{name}: {what}[{i}]")


def _check_reals(name: str, what: str, items: Sequence[Any]) -> None:
    for i, x in enumerate(items):
        if not is_real(x):
            raise TypeError(f"{name}: {what}[{i}] must be a real number, not {_kind(x)}")
        to_float(x, f"{name}: {what}[{i}]")
