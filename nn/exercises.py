"""Checkers for the network exercises of chapter 8: δ's, weight derivatives, Jacobian, Hessian.

Each grades a student's numbers for an `MLP` against what the engine and `nn.textbook` compute,
names the wrong unit, weight or entry with the equation it should follow, and hides the expected
number unless `reveal=True`. Every checker returns an `autodiff.exercises.Feedback`.
"""

from __future__ import annotations

import functools
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import autodiff
from autodiff.exercises.feedback import (
    NOT_DONE,
    WRONG,
    Feedback,
    Line,
    NotDoneError,
    close,
    grade,
    read_answer,
    read_number,
)

from .curvature import exact_hessian, outer_product_hessian
from .module import MLP
from .textbook import _h_prime, backprop

#: h'(a) of each activation, in words, for the hints (8.16 for tanh).
_H_PRIME = {
    "tanh": "h'(a) = 1 - z² (8.16)",
    "sigmoid": "h'(a) = z(1 - z)",
    "relu": "h'(a) = 1 for a > 0, else 0",
    "linear": "h'(a) = 1",
}


def check_deltas(
    model: MLP, x: Any, t: Any, deltas: Any, *, reveal: bool = False, rtol: float = 1e-3
) -> Feedback:
    """Grade δ_j = ∂E_n/∂a_j (8.8) of every unit, one list per layer, for E_n = ½ Σ (y - t)².

    Output units follow δ_k = (y_k - t_k) h'(a_k) ((8.11) for linear ones), hidden units
    δ_j = h'(a_j) Σ_k w_kj δ_k (8.13). A δ right for the student's own wrong δ's above is told so.
    """
    truth = backprop(model, x, t)
    title = "δ's of Algorithm 8.1"
    try:
        layers = _layers(read_answer(deltas), len(truth.deltas), "δ's")
    except NotDoneError as missing:
        return Feedback(title, [Line("δ's", NOT_DONE, missing.message)])
    given = [
        [None] * len(d) if layer is None else _flat(layer) for layer, d in zip(layers, truth.deltas)
    ]
    lines = []
    for index, (entries, expected_layer) in enumerate(zip(given, truth.deltas)):
        if len(entries) != len(expected_layer):
            message = (
                f"layer {index + 1} has {len(expected_layer)} units; you gave {len(entries)} δ's"
                " (one list per layer, layer 1 first)"
            )
            lines.append(Line(f"layer {index + 1}", WRONG, message))
            continue
        for j, entry in enumerate(entries):
            hint = functools.partial(_delta_hint, model, truth, given, index, j, rtol=rtol)
            lines.append(grade(_unit(index, j), entry, expected_layer[j], rtol, reveal, hint))
    return Feedback(title, lines)


def _delta_hint(model: MLP, truth, given, index: int, j: int, number: float, rtol: float) -> str:
    """Why the δ of unit j in layer `index` is wrong: its sign, a missing h', the δ's above."""
    kind = model.layers[index].activation
    h_prime = _h_prime(kind, truth.preactivations[index][j], truth.activations[index][j])
    if index == len(model.layers) - 1:
        rule = "an output unit has δ_k = (y_k - t_k) h'(a_k)"
        if kind == "linear":
            rule += ", which is y_k - t_k (8.11) for a linear output"
        if close(number, -truth.deltas[index][j], rtol):
            return rule + ": the sign is wrong (y_k - t_k, not t_k - y_k)"
        return rule + f", with {_H_PRIME[kind]}"
    above = model.layers[index + 1].neurons
    names = ", ".join(_unit(index + 1, k) for k in range(len(above)))
    rule = f"δ_j = h'(a_j) Σ_k w_kj δ_k (8.13), summing over the units {names} that it feeds"
    weights = [neuron.weights[j].data for neuron in above]
    wrong_above = [
        _unit(index + 1, k)
        for k, (entry, expected) in enumerate(zip(given[index + 1], truth.deltas[index + 1]))
        if not _number_close(entry, expected, rtol)
    ]
    if wrong_above and len(given[index + 1]) == len(weights):
        try:
            own = h_prime * sum(w * read_number(d) for w, d in zip(weights, given[index + 1]))
        except NotDoneError:
            own = None
        if own is not None and close(number, own, rtol):
            names = ", ".join(wrong_above)
            return f"it follows by (8.13) from your δ's of {names} above, which are wrong: fix them"
    back = sum(w * d for w, d in zip(weights, truth.deltas[index + 1]))
    if h_prime != 1.0 and close(number, back, rtol):
        return rule + f": you left out the factor h'(a_j), here {_H_PRIME[kind]}"
    return rule + f", with {_H_PRIME[kind]}"


def check_weight_gradients(
    model: MLP, x: Any, t: Any, gradients: Any, *, reveal: bool = False, rtol: float = 1e-3
) -> Feedback:
    """Grade ∂E_n/∂W^(l), one matrix per layer with entry [j][i] = ∂E_n/∂w_ji = δ_j z_i (8.10)."""
    truth = backprop(model, x, t)
    title = "∂E_n/∂W of every layer"
    shapes = [(layer.nout, layer.nin) for layer in model.layers]
    try:
        matrices = _layers(read_answer(gradients), len(shapes), "∂E/∂W")
    except NotDoneError as missing:
        return Feedback(title, [Line("∂E/∂W", NOT_DONE, missing.message)])
    inputs = [list(map(float, _flat(x))), *truth.activations[:-1]]
    lines = []
    for index, ((count, columns), matrix) in enumerate(zip(shapes, matrices)):
        rows = [[None] * columns] * count if matrix is None else _rows(matrix)
        width = {len(_flat(row)) for row in rows}
        if len(rows) != count or width != {columns}:
            shape = f"{len(rows)}×{'/'.join(map(str, sorted(width)))}"
            message = (
                f"∂E/∂W({index + 1}) is {count}×{columns}, one row per unit and one column per"
                f" input (δ zᵀ, (8.10)); yours is {shape}"
            )
            lines.append(Line(f"∂E/∂W({index + 1})", WRONG, message))
            continue
        for j, row in enumerate(rows):
            row = _flat(row)
            for i, entry in enumerate(row):
                place = f"∂E/∂w{index + 1}[{j},{i}]"
                expected = truth.deltas[index][j] * inputs[index][i]
                source = f"x[{i}]" if index == 0 else _unit(index - 1, i)
                hint = (
                    f"∂E_n/∂w_ji = δ_j z_i (8.10): the δ of {_unit(index, j)} at the weight's"
                    f" output end times the z of {source} at its input end"
                )
                # this hint is the same whatever number the student wrote
                lines.append(grade(place, entry, expected, rtol, reveal, lambda _, h=hint: h))
    return Feedback(title, lines)


def check_jacobian(
    model: MLP, x: Any, answer: Any, *, reveal: bool = False, rtol: float = 1e-3
) -> Feedback:
    """Grade entries J_ki = ∂y_k/∂x_i (8.26): a K×D list of rows, or a dict {(k, i): number}."""
    point = [float(v) for v in _flat(x)]
    jacobian = autodiff.jacobian(lambda *xs: _outputs(model(list(xs))))(*point)
    linear = _linearised(model)
    no_h_prime = autodiff.jacobian(lambda *xs: _outputs(linear(list(xs))))(*point)
    title = f"Jacobian ∂y/∂x at x = {tuple(point)}"
    try:
        entries = _entries(read_answer(answer))
    except NotDoneError as missing:
        return Feedback(title, [Line("J", NOT_DONE, missing.message)])
    lines = []
    for (k, i), entry in entries.items():
        place = f"J[{k}][{i}] = ∂y{k}/∂x{i}"
        if not (_index(k, len(jacobian)) and _index(i, len(point))):
            size = f"{len(jacobian)}×{len(point)}"
            lines.append(Line(f"J[{k}][{i}]", WRONG, f"J is {size}: no entry [{k}][{i}]"))
            continue
        hint = functools.partial(_jacobian_hint, jacobian, no_h_prime, k, i, rtol=rtol)
        lines.append(grade(place, entry, jacobian[k][i], rtol, reveal, hint))
    return Feedback(title, lines)


def _jacobian_hint(jacobian, no_h_prime, k: int, i: int, number: float, rtol: float) -> str:
    """Why J[k][i] is wrong: another entry (transposed, or a row for a column), sign, or h'."""
    expected = jacobian[k][i]
    rule = (
        "J_ki = Σ_j w_ji ∂y_k/∂a_j over the first hidden units (8.29), with "
        "∂y_k/∂a_j = h'(a_j) Σ_l w_lj ∂y_k/∂a_l (8.30) back from the outputs"
    )
    others = [
        (row_k, col_i)
        for row_k, row in enumerate(jacobian)
        for col_i, value in enumerate(row)
        if (row_k, col_i) != (k, i) and close(number, value, rtol)
    ]
    if i < len(jacobian) and k < len(jacobian[0]) and close(number, jacobian[i][k], rtol):
        return f"that is J[{i}][{k}] = ∂y{i}/∂x{k}: J_ki has the output index first"
    if others:
        row_k, col_i = others[0]
        return (
            f"that is J[{row_k}][{col_i}] = ∂y{row_k}/∂x{col_i}, another entry: a forward "
            "pass seeded with ẋ = e_i gives column i, a reverse pass seeded at output k gives "
            "row k"
        )
    if close(number, -expected, rtol):
        return rule + ": the sign is wrong"
    if close(number, no_h_prime[k][i], rtol):
        return rule + ": you left out the factors h'(a_j) of the hidden units"
    return rule


def check_hessian(
    model: MLP, x: Any, t: Any, answer: Any, *, reveal: bool = False, rtol: float = 1e-3
) -> Feedback:
    """Grade entries H_pq = ∂²E_n/∂w_p∂w_q (8.37) as a dict {(p, q): number} or a W×W matrix.

    p and q are parameter labels ("w1[0,1]", "b2[0]") or indices into model.parameters().
    """
    parameters = model.parameters()
    labels = [p.label for p in parameters]
    hessian = exact_hessian(model, [x], [t])
    outer = outer_product_hessian(model, [x])
    title = "Hessian ∂²E_n/∂w∂w"
    try:
        entries = _entries(read_answer(answer))
    except NotDoneError as missing:
        return Feedback(title, [Line("H", NOT_DONE, missing.message)])
    lines = []
    for (p, q), entry in entries.items():
        a, b = (_parameter_index(r, labels) for r in (p, q))
        if a is None or b is None:
            known = ", ".join(labels)
            lines.append(Line(f"H[{p}, {q}]", WRONG, f"no such parameter; they are {known}"))
            continue
        place = f"H[{labels[a]}, {labels[b]}]"
        expected = hessian[a][b]
        hint = functools.partial(
            _hessian_hint, expected, outer[a][b], labels[a], labels[b], rtol=rtol
        )
        lines.append(grade(place, entry, expected, rtol, reveal, hint))
    return Feedback(title, lines)


def _hessian_hint(expected: float, outer: float, p: str, q: str, number: float, rtol: float) -> str:
    """Why H[p, q] is wrong: the outer-product approximation (8.40), the sign, or the rule."""
    if not close(outer, expected, rtol) and close(number, outer, rtol):
        return (
            "that is the outer-product approximation Σ ∇y ∇yᵀ (8.40); the exact Hessian (8.39)"
            " adds Σ (y - t) ∂²y/∂w∂w, which is not small here"
        )
    if close(number, -expected, rtol):
        return f"∂²E_n/∂{p}∂{q}: the sign is wrong"
    return (
        f"∂²E_n/∂{p}∂{q}: differentiate ∂E_n/∂{q} (δ z, (8.10))"
        f" once more, with respect to {p}; H = Σ ∇y ∇yᵀ + Σ (y - t) ∇∇y (8.39)"
    )


# --- reading answers ---------------------------------------------------------------------------


def _unit(layer: int, j: int) -> str:
    """A unit's name as `nn` labels it: z1[2] is unit 2 of layer 1."""
    return f"z{layer + 1}[{j}]"


def _flat(x: Any) -> list:
    """A vector as a list: a list, a tuple, or a numpy array of any shape (flattened)."""
    if hasattr(x, "tolist") and hasattr(x, "shape"):
        x = x.tolist()
        while isinstance(x, list) and x and all(isinstance(v, list) for v in x):
            x = [v for part in x for v in part]  # a column vector [[a], [b]] is the vector [a, b]
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _layers(answer: Any, count: int, what: str) -> list:
    """The answer's entries, one per layer (a layer left as None or ... stays None)."""
    if not hasattr(answer, "__len__") or isinstance(answer, (str, Mapping)):
        raise NotDoneError(f"{what}: expected one entry per layer, not {type(answer).__name__}")
    layers = [None if layer is Ellipsis else layer for layer in answer]
    if len(layers) != count:
        raise NotDoneError(f"{what}: expected {count} layers, got {len(layers)}")
    return layers


def _rows(matrix: Any) -> list:
    """A matrix as a list of rows: a list of lists, or a 2-d numpy array."""
    rows = matrix.tolist() if hasattr(matrix, "tolist") else matrix
    return list(rows) if isinstance(rows, (list, tuple)) else [rows]


def _number_close(entry: Any, expected: float, rtol: float) -> bool:
    try:
        return close(read_number(entry), expected, rtol)
    except NotDoneError:
        return False


def _entries(answer: Any) -> dict[tuple[Any, Any], Any]:
    """Entries {(row, column): number} from such a dict or from a list of rows."""
    if isinstance(answer, Mapping):
        for key in answer:
            if not (isinstance(key, tuple) and len(key) == 2):
                raise NotDoneError(f"the keys are pairs like (0, 1), not {key!r:.40}")
        return dict(answer)
    if isinstance(answer, Sequence) or hasattr(answer, "tolist"):
        rows = answer.tolist() if hasattr(answer, "tolist") else answer
        return {(r, c): v for r, row in enumerate(rows) for c, v in enumerate(_flat(row))}
    raise NotDoneError(
        f"expected a dict {{(row, column): number}} or a list of rows, not {answer!r:.40}"
    )


def _parameter_index(key: Any, labels: list[str]) -> int | None:
    """The index of a parameter given by label or index, or None if there is no such one."""
    if isinstance(key, str):
        return labels.index(key) if key in labels else None
    return int(key) if _index(key, len(labels)) else None


def _index(key: Any, size: int) -> bool:
    """True for an integer (Python's or numpy's) in range(size)."""
    return isinstance(key, numbers.Integral) and 0 <= key < size


def _outputs(y: Any) -> list:
    return y if isinstance(y, list) else [y]


def _linearised(model: MLP) -> MLP:
    """The same weights with linear hidden units: what J becomes if every h' is left out."""
    copy = MLP(model.nin, model.nouts, "linear", model.output_activation)
    copy.load_state_dict(model.state_dict())
    return copy
