"""Whole-function transforms: gradients, grad, value_and_grad, jacobian, hessian, hvp, jvp, vjp.

Each transform calls the user's `f` with Values (reverse mode, Bishop 8.2.2) or with Duals
(forward mode, 8.2.1) and reads the derivatives off one pass per row or column. When the
arguments are Values already, or another transform is running `f`, the derivatives are returned
as Values built with `create_graph=True`, so transforms nest: `grad(grad(f))` is f''. Handed
Duals, a reverse transform carries their tangents through its recorded graph: `jvp(grad(f))`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from .dual import Dual, check_running, forward_pass
from .ops import as_int, current_mode, is_real, mode, to_float
from .trace import forward_tangents
from .value import CustomOp, Value, adjoints, ancestors, dot

Argnums = int | tuple[int, ...]


# --- gradients: one reverse pass -----------------------------------------------------------


def gradients(output: Any, inputs: Sequence[Value], create_graph: bool = False) -> list:
    """[∂output/∂x for x in inputs] by one reverse pass; 0.0 where unreached; no `.grad` touched.

    An output built from a jvp's Duals is differentiated part by part and gives Duals."""
    if not isinstance(inputs, (list, tuple)):
        raise TypeError(f"gradients: inputs must be a list or tuple of Values, not {_kind(inputs)}")
    for i, x in enumerate(inputs):
        if not isinstance(x, Value):
            raise TypeError(f"gradients: inputs[{i}] must be a Value, not {_kind(x)}")
    if isinstance(output, Dual):  # built from an enclosing jvp's Duals: each part in turn
        return _per_part(output, lambda part: gradients(part, inputs, create_graph))
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


def _lift(args: tuple, argnums: Iterable[int]) -> tuple[list, list[Value], bool, _Replay | None]:
    """The arguments to call f with, the Values to differentiate by, whether to build graphs,
    and, when some of those arguments are Duals of an enclosing jvp, where to replay the result."""
    nested = _nested(args)
    # 1. Every number becomes a leaf, so f may call Value methods on any of its arguments;
    #    other objects (data, options) that are not differentiated pass through unchanged.
    call_args = [
        Value(to_float(x, f"argument {i}")) if is_real(x) else x for i, x in enumerate(args)
    ]
    duals = any(isinstance(args[i], Dual) for i in argnums)
    for i in argnums:
        x = args[i]
        if not (is_real(x) or isinstance(x, (Value, Dual))):
            raise TypeError(f"argument {i} must be a real number or a Value, not {_kind(x)}")
        if duals and not is_real(x):
            # 2. Forward over reverse: f runs on a fresh leaf at the primal number, and the
            #    recorded reverse pass is replayed at the Dual afterwards (_Replay).
            call_args[i] = Value(_primal_number(x))
        elif isinstance(x, Value):
            # 3. NOTE: a node of its own for each argument (+x is the identity), so that
            #    f(y, y) still has one partial derivative per argument, not their sum.
            call_args[i] = +x
    if not duals:
        return call_args, [call_args[i] for i in argnums], nested, None
    at = {leaf: x for leaf, x in zip(call_args, args, strict=True) if leaf is not x}
    keep_nodes = nested or any(_holds_value(x) for x in args)
    return call_args, [call_args[i] for i in argnums], True, _Replay(at, keep_nodes)


def _call(f: Callable[..., Any], args: Sequence[Any]) -> Any:
    """f(*args), marked as running inside a transform so that inner transforms build graphs."""
    with mode(in_transform=True):
        return f(*args)


def _outputs(name: str, out: Any, kind: type) -> tuple[list, bool]:
    """f's result as a list of outputs, and whether f returned a single one (not a list/tuple)."""
    single = not isinstance(out, (list, tuple))
    outputs = [out] if single else list(out)
    for k, y in enumerate(outputs):
        # A Dual from a reverse-mode f used a Dual of an enclosing jvp through a closure.
        if not (isinstance(y, (kind, Value, Dual)) or is_real(y)):
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
        call_args, inputs, nested, replay = _lift(args, indices)
        output = _single_output("grad", _call(f, call_args))
        derivatives = _differentiate(output, inputs, nested, replay)
        value = _result(_evaluate(output, replay), nested)
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
        call_args, inputs, nested, replay = _lift(xs, range(len(xs)))
        outputs, single = _outputs("jacobian", _call(f, call_args), Value)
        rows = [_differentiate(y, inputs, nested, replay) for y in outputs]
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


HVP_MODES = ("reverse-over-reverse", "forward-over-reverse", "reverse-over-forward")


def hvp(
    f: Callable[..., Any], xs: Sequence[Any], v: Sequence[Any], mode: str = "reverse-over-reverse"
) -> list:
    """H v at xs in O(W), without forming H (Pearlmutter; Bishop 8.1.6 and 8.2).

    Three routes, the same numbers. `"reverse-over-reverse"`: ∇f by a reverse pass that builds
    a graph (create_graph), then a second reverse pass through vᵀ∇f. `"forward-over-reverse"`
    (Pearlmutter's R-operator, JAX's default): the same first pass, then one forward-mode pass
    with tangent v through it, `jvp(grad(f), xs, v)`. `"reverse-over-forward"` (the hybrid
    Bishop describes in 8.2): vᵀ∇f by forward mode, then reverse mode on that, `grad` of a `jvp`.
    """
    if mode not in HVP_MODES:
        raise ValueError(
            f"hvp: mode must be one of {', '.join(map(repr, HVP_MODES))}, not {mode!r}"
        )
    xs = _sequence("hvp", "xs", xs)
    v = _sequence("hvp", "v", v)
    if len(v) != len(xs):
        raise ValueError(f"hvp: v has {len(v)} entries but xs has {len(xs)}")
    if not xs:
        raise ValueError("hvp: xs must hold at least one input")
    _check_reals("hvp", "v", v)
    every = tuple(range(len(xs)))
    if mode == "forward-over-reverse":
        return list(jvp(grad(f, argnums=every), xs, v)[1])
    if mode == "reverse-over-forward":
        return list(grad(lambda *ys: jvp(f, ys, v)[1], argnums=every)(*xs))
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
    call_args, inputs, nested, replay = _lift(primals, range(len(primals)))
    outputs, single = _outputs("vjp", _call(f, call_args), Value)

    def vjp_fn(cotangents: Any) -> list:
        """[Σ_k w_k ∂y_k/∂x_i for each input i]; w is a number for a function with one output.

        Value cotangents give Values in their graph, so the pullback can be differentiated
        again, in w as well as in x (reverse over reverse)."""
        weights = [cotangents] if single else _sequence("vjp_fn", "cotangents", cotangents)
        if len(weights) != len(outputs):
            raise ValueError(f"vjp_fn: {len(weights)} cotangents for {len(outputs)} outputs")
        _check_reals_or_values("vjp_fn", "cotangents", weights)
        # One dot node Σ_k w_k y_k, so all K outputs share a single reverse pass.
        weighted = dot(weights, outputs)
        return _differentiate(weighted, inputs, nested or _nested(weights), replay)

    values = [_result(_evaluate(y, replay), nested) for y in outputs]
    return (values[0] if single else values), vjp_fn


# --- reverse mode handed Duals: forward over reverse ------------------------------------------


def _differentiate(y: Any, inputs: list[Value], create_graph: bool, replay: Any) -> list:
    """[∂y/∂x for x in inputs] as the caller gets them: floats, Values, or Duals of a jvp."""

    def part_derivatives(part: Any) -> list:
        if replay is None:
            return gradients(part, inputs, create_graph=create_graph)
        return replay(gradients(part, inputs, create_graph=True))

    return _per_part(y, part_derivatives)


def _evaluate(y: Any, replay: Any) -> Any:
    """An output of f as the caller gets it: replayed at the caller's Duals where there are some."""
    if replay is None:
        return y
    return _per_part(y, lambda part: replay([part]))[0]


def _per_part(y: Any, fn: Callable[[Any], list]) -> list:
    """fn (a Value or number ↦ a list) applied to each part of y, put back together as y was.

    A Dual y = p + εq (f used an enclosing jvp's Duals through a closure) gives fn(p) + ε·fn(q):
    the derivative of the tangent is the tangent of the derivative. The recursion goes as deep
    as jvps are nested in the user's code, never as deep as the graph.
    """
    if not isinstance(y, Dual):
        return fn(y)
    primals, tangents = _per_part(y.primal, fn), _per_part(y.tangent, fn)
    return [_perturb(p, t, y.tag) for p, t in zip(primals, tangents, strict=True)]


def _perturb(a: Any, b: Any, tag: int) -> Any:
    """a + ε·b for the forward pass `tag`, where a and b may carry Duals of any pass (ε² = 0)."""
    latest = max((x.tag for x in (a, b) if isinstance(x, Dual)), default=0)
    if latest < tag:
        return Dual(a, b, tag)
    (a0, a1), (b0, b1) = _split(a, latest), _split(b, latest)
    if latest == tag:
        return Dual(a0, b0 if _is_zero(a1) else a1 + b0, tag)  # (a0 + εa1) + ε(b0 + εb1)
    # A later pass's Dual (the replayed arguments' pass) stays outermost, as Duals are nested.
    return Dual(_perturb(a0, b0, tag), _perturb(a1, b1, tag), latest)


def _split(x: Any, tag: int) -> tuple[Any, Any]:
    """(primal, tangent) of x for the pass `tag`: (x, 0) for anything that is not its Dual."""
    return (x.primal, x.tangent) if isinstance(x, Dual) and x.tag == tag else (x, 0.0)


def _is_zero(x: Any) -> bool:
    return is_real(x) and x == 0


class _Replay:
    """Forward mode over a recorded reverse pass: Pearlmutter's R-operator (Bishop 8.1.6).

    Handed Duals of an enclosing jvp, a reverse-mode transform runs f on fresh leaves at the
    primal numbers and builds its derivatives as a graph (create_graph). Calling this object
    then carries the Duals' tangents forward through that graph, through f and the reverse pass
    alike, in creation order: one forward-mode pass, which makes no nodes when the Duals hold
    numbers.
    """

    def __init__(self, at: dict[Value, Any], keep_nodes: bool) -> None:
        self.at = at  # f's leaves and the caller's arguments they stand for
        self.keep_nodes = keep_nodes  # whether nodes that do not depend on `at` stay Values
        duals = [x for x in at.values() if isinstance(x, Dual)]
        tags = {x.tag for x in duals}
        # The common case (jvp of grad at numbers): one pass, float primals, no outer graph.
        self.sweep_tag = (
            tags.pop()
            if len(tags) == 1 and not keep_nodes and all(is_real(x.primal) for x in duals)
            else None
        )

    def __call__(self, results: list) -> list:
        """The results (Values of the recorded graph, or numbers) at the caller's arguments."""
        nodes = [y for y in results if isinstance(y, Value)]
        order = ancestors(*nodes) if nodes else []
        if self.sweep_tag is None:
            return self._recompute(order, results)
        # The primals are the recorded data; the tangents come from the recorded local
        # derivatives, v̇ = Σ_k ∂v/∂u_k u̇_k (8.57), as in the trace's tangent column.
        seeds = {leaf: x.tangent for leaf, x in self.at.items() if isinstance(x, Dual)}
        tangents = forward_tangents(order, seeds)
        if current_mode().detect_anomaly:
            _check_tangents(order, tangents)
        tag = self.sweep_tag
        return [Dual(y.data, tangents[y], tag) if isinstance(y, Value) else y for y in results]

    def _recompute(self, order: list[Value], results: list) -> list:
        """Every node that depends on the arguments recomputed by its rule on the replayed
        inputs, so Dual arithmetic handles any nesting (Duals of Duals, Values inside Duals)."""
        replayed = dict(self.at)
        for node in order:
            if node in replayed:
                continue
            if not any(parent in replayed for parent in node.parents):
                # 1. A node that does not depend on the arguments is a constant here.
                replayed[node] = node if self.keep_nodes else node.data
                continue
            rule = node._rule
            if isinstance(rule, CustomOp):  # given its local derivatives only, not its function
                raise RuntimeError(
                    f"forward mode over reverse mode through custom op {rule.name!r}: it has no "
                    "function to recompute on nested Duals; use reverse over reverse instead"
                )
            # 2. The node's operation on the replayed inputs (numbers among them are constants).
            inputs = tuple(replayed[x] if isinstance(x, Value) else x for x in node._inputs)
            replayed[node] = Value._apply(rule, inputs)
        return [replayed[y] if isinstance(y, Value) else y for y in results]


def _check_tangents(order: list[Value], tangents: dict[Value, Any]) -> None:
    """detect_anomaly for forward over reverse: the first node given a non-finite tangent."""
    for node in order:
        tangent = tangents[node]
        if is_real(tangent) and not math.isfinite(tangent):
            raise FloatingPointError(
                f"op {node.op!r} (forward mode over reverse) produced tangent {tangent!r}"
            )


def _holds_value(x: Any) -> bool:
    """Whether x is a Value or a Dual with a Value among its parts (a graph to stay in)."""
    parts = [x]
    while parts:
        part = parts.pop()
        if isinstance(part, Value):
            return True
        if isinstance(part, Dual):
            parts += (part.primal, part.tangent)
    return False


def _primal_number(x: Any) -> float:
    """The number under a Dual's primals (or a Value's data): where f's leaf for x is made."""
    while isinstance(x, Dual):
        x = x.primal
    return x.data if isinstance(x, Value) else x


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
            to_float(x, f"{name}: {what}[{i}]")  # ValueError, naming it, if beyond a float


def _check_reals(name: str, what: str, items: Sequence[Any]) -> None:
    for i, x in enumerate(items):
        if not is_real(x):
            raise TypeError(f"{name}: {what}[{i}] must be a real number, not {_kind(x)}")
        to_float(x, f"{name}: {what}[{i}]")  # ValueError, naming it, if beyond a float
