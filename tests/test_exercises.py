"""The exercise checkers: right answers pass, each planted mistake is named at its own place.

The answers here are worked out by hand (closed forms), independently of the engine the
checkers use, and every checker is also fed what a student's notebook gives before any work:
a function that raises NotImplementedError, None, or a wrong type.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from test_random_graphs import inputs, program, run

import autodiff as ad
import nn
from autodiff import Value
from autodiff.exercises import (
    Feedback,
    check_finite_differences,
    check_grads,
    check_local_derivative,
    check_trace,
)
from nn.exercises import check_deltas, check_hessian, check_jacobian, check_weight_gradients

E = math.e


def stub(*args):
    raise NotImplementedError


def f(x1, x2):
    """f = exp(x1) x2 + x1 / x2: v3 = exp(v1), v4 = v3 v2, v5 = v1 / v2, v6 = v4 + v5."""
    v3 = x1.exp()
    v4 = v3 * x2
    v5 = x1 / x2
    return v4 + v5


# At (x1, x2) = (1, 2), by hand: tangents for ẋ = e1, adjoints from v̄6 = 1.
PRIMAL = [1.0, 2.0, E, 2 * E, 0.5, 2 * E + 0.5]
TANGENT = [1.0, 0.0, E, 2 * E, 0.5, 2 * E + 0.5]
ADJOINT = [2 * E + 0.5, E - 0.25, 2.0, 1.0, 1.0, 1.0]


def lines_of(feedback: Feedback) -> dict[str, tuple[str, str]]:
    return {line.place: (line.status, line.message) for line in feedback.lines}


def test_feedback_is_truthy_only_when_all_right_and_prints_as_text_and_html():
    right = check_trace(f, [1.0, 2.0], primal=PRIMAL, tangent=TANGENT, adjoint=ADJOINT)
    assert right and len(right.lines) == 18
    assert str(right).startswith("evaluation trace of v6 at (1.0, 2.0); tangents for ẋ = e1")
    assert str(right).splitlines()[0].endswith(": all 18 right")
    assert "<table" in right._repr_html_()
    wrong = check_trace(f, [1.0, 2.0], primal=[*PRIMAL[:5], 9.0])
    html = wrong._repr_html_()  # the title above the table (a caption wraps at a narrow table)
    assert "<caption" not in html and "right: <code>v1, v2, v3, v4, v5</code>" in html
    assert '<td colspan="2"' in html  # the long list of right places does not widen a column
    assert not wrong and wrong.wrong == ["v6"] and "1 wrong" in str(wrong)


def test_trace_primal_names_the_wrong_cell_and_the_one_that_only_follows_from_it():
    answer = list(PRIMAL)
    answer[2] = 2.7  # exp(1) rounded too far
    answer[3] = 2 * 2.7  # right for the wrong v3
    result = lines_of(check_trace(f, [1.0, 2.0], primal=answer))
    assert result["v3"][0] == "wrong" and "v3 = exp(v1)" in result["v3"][1]
    assert result["v4"][0] == "wrong" and "v3 is wrong: fix that first" in result["v4"][1]
    assert all(result[v][0] == "right" for v in ("v1", "v2", "v5", "v6"))


def test_trace_an_input_cell_is_its_value():
    result = lines_of(check_trace(f, [1.0, 2.0], primal=[1.0, 3.0, *PRIMAL[2:]]))
    assert result["v2"] == ("wrong", "v2 = x2 is an input: its value is 2")


def test_trace_tangent_names_a_term_left_out_of_8_57():
    answer = list(TANGENT)
    answer[5] = 2 * E  # v̇6 without the term through v5
    result = lines_of(check_trace(f, [1.0, 2.0], tangent=answer))
    status, message = result["v̇6"]
    assert status == "wrong" and "(8.57)" in message and "leaves out the term through v5" in message
    assert [place for place, (s, _) in result.items() if s == "wrong"] == ["v̇6"]


def test_trace_tangent_seed_and_direction():
    result = lines_of(check_trace(f, [1.0, 2.0], tangent=[0.0, *TANGENT[1:]]))
    assert result["v̇1"][0] == "wrong" and "seed" in result["v̇1"][1]
    # ẋ = r = (1, 1): v̇5 = 1/2 - 1/4 and v̇4 = 2e + e, so v̇6 = 3e + 1/4.
    direction = [1.0, 1.0, E, 3 * E, 0.25, 3 * E + 0.25]
    assert check_trace(f, [1.0, 2.0], tangent=direction, wrt=[1.0, 1.0])
    # ẋ = e2: the column of ∂/∂x2.
    assert check_trace(f, [1.0, 2.0], tangent=[0.0, 1.0, 0.0, E, -0.25, E - 0.25], wrt=1)
    for outside in (2, -1):  # a bad index is the teacher's mistake: an error, not feedback
        with pytest.raises(ValueError, match="not an input index"):
            check_trace(f, [1.0, 2.0], tangent=TANGENT, wrt=outside)


def test_trace_adjoint_names_the_missing_child_and_the_local_rule():
    answer = list(ADJOINT)
    answer[0] = 2 * E  # v̄1 without the path through v5 = v1 / v2
    result = lines_of(check_trace(f, [1.0, 2.0], adjoint=answer))
    status, message = result["v̄1"]
    assert status == "wrong" and "(8.69)" in message and "through v5" in message
    answer = list(ADJOINT)
    answer[2] = 1.0  # v̄3 = v̄4 ∂v4/∂v3 = v2 = 2, not 1
    status, message = lines_of(check_trace(f, [1.0, 2.0], adjoint=answer))["v̄3"]
    assert "v̄3 = v̄4 ∂v4/∂v3 (8.69)" in message and "∂/∂a = b" in message
    assert "should be" not in message


def test_trace_adjoint_that_follows_from_a_wrong_child_says_fix_that_first():
    answer = list(ADJOINT)
    answer[2] = 3.0
    answer[0] = 3.0 * E + 0.5  # right for the wrong v̄3
    result = lines_of(check_trace(f, [1.0, 2.0], adjoint=answer))
    assert "v̄3 is wrong: fix that first" in result["v̄1"][1]
    result = lines_of(check_trace(f, [1.0, 2.0], adjoint=[*ADJOINT[:5], 2.0]))
    assert "∂f/∂f = 1" in result["v̄6"][1]


def test_reveal_shows_the_expected_number_only_when_asked():
    answer = [*PRIMAL[:2], 2.5, *PRIMAL[3:]]
    hidden = lines_of(check_trace(f, [1.0, 2.0], primal=answer))["v3"][1]
    shown = lines_of(check_trace(f, [1.0, 2.0], primal=answer, reveal=True))["v3"][1]
    assert "2.718" not in hidden and "(should be 2.71828)" in shown


def test_trace_not_done_yet_and_unreadable_answers_never_raise():
    result = check_trace(f, [1.0, 2.0], primal=stub, adjoint=None, tangent=stub)
    assert not result and result.summary == "not done yet"
    assert result.not_done == ["primal column", "tangent column"]
    assert lines_of(result)["primal column"] == ("not done yet", "not done yet")  # a stub: no error
    partial = lines_of(check_trace(f, [1.0, 2.0], primal={"v1": 1.0, 3: "e", "v4": 2 * E}))
    assert partial["v1"][0] == "right" and partial["v4"][0] == "right"
    assert partial["v3"] == ("not done yet", "expected a number, got str 'e'")
    assert partial["v2"][0] == "not done yet"
    ticked = lines_of(check_trace(f, [1.0, 2.0], primal={"v1": True}))["v1"]  # True is not 1.0
    assert ticked == ("not done yet", "expected a number, got bool True")
    short = check_trace(f, [1.0, 2.0], primal=[1.0, 2.0])
    assert "has 2 entries; the trace has 6 rows" in str(short)
    assert "no row 'v9'" in str(check_trace(f, [1.0, 2.0], primal={"v9": 1.0}))

    def broken():
        return 1 / 0

    assert "your function raised ZeroDivisionError" in str(check_trace(f, [1, 2], primal=broken))


def graph():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    c = a * b
    c.label = "c"
    d = c + a
    d.label = "d"
    loss = d * d
    loss.label = "L"
    return a, b, c, d, loss


def test_check_grads_before_backward_leaves_grad_untouched():
    a, b, _, _, loss = graph()
    # L = d², d = ab + a = -4: L̄ = 1, d̄ = 2d = -8, c̄ = -8, ā = c̄ b + d̄ = 16, b̄ = c̄ a = -16.
    right = {"a": 16.0, b: -16.0, "c": -8.0, "d": -8.0, "L": 1.0}
    assert check_grads(loss, right)
    assert a.grad == b.grad == 0.0
    result = lines_of(check_grads(loss, {"a": 24.0, "b": 16.0, "q": 0.0, "d": None}))
    assert "leaves out the path through v4" in result["a (v1).grad"][1]  # 24 = c̄ b only
    assert result["b (v2).grad"][0] == "wrong" and "(8.69)" in result["b (v2).grad"][1]
    assert result["q.grad"][1].startswith("no node labelled 'q'")
    assert result["d (v4).grad"][0] == "not done yet"
    assert check_grads(loss, stub).summary == "not done yet"
    outside = Value(1.0, label="outside")
    assert "does not depend" in str(check_grads(loss, {outside: 1.0}))
    assert check_grads(loss, {outside: 0.0})


def test_check_grads_counts_each_use_of_x_times_x():
    x = Value(3.0, label="x")
    y = x * x
    assert check_grads(y, {"x": 6.0})
    hint = str(check_grads(y, {"x": 3.0}))  # one use of x only
    assert "by v2 = v1 * v1 (twice) (8.69): your number leaves out the path through v2" in hint


def swish(x):
    return x / (1.0 + math.exp(-x))


def swish_slope(x):
    s = 1.0 / (1.0 + math.exp(-x))
    return s + x * s * (1.0 - s)


def test_local_derivative_right_wrong_sign_and_factor():
    assert check_local_derivative(swish, swish_slope)
    wrong = check_local_derivative(swish, lambda x: 1.0 / (1.0 + math.exp(-x)))
    assert wrong.wrong == [line.place for line in wrong.lines]
    assert wrong.lines[0].place == "∂v/∂x at x = -2.3"
    assert wrong.lines[0].message == (
        "should be the slope of v here (central differences (8.25)); your 0.091123 is too large"
    )
    revealed = check_local_derivative(swish, lambda x: 0.0, reveal=True).lines[0].message
    assert revealed.startswith("should be -0.0993")
    assert "wrong sign" in str(check_local_derivative(swish, lambda x: -swish_slope(x)))


def test_local_derivative_needs_a_point():
    with pytest.raises(ValueError, match="at least one point"):
        check_local_derivative(swish, swish_slope, points=[])


def test_local_derivative_of_two_inputs_names_the_wrong_partial():
    def v(x, y):
        return x * math.sin(y)

    points = [(0.5, 1.0), (-1.0, 2.0)]
    assert check_local_derivative(v, lambda x, y: (math.sin(y), x * math.cos(y)), points)
    result = check_local_derivative(v, lambda x, y: (math.sin(y), 2 * x * math.cos(y)), points)
    assert result.wrong == ["∂v/∂y at (x, y) = (0.5, 1)", "∂v/∂y at (x, y) = (-1, 2)"]
    assert "2 times too large" in str(result)
    assert "expected 2 partial" in str(check_local_derivative(v, lambda x, y: 1.0, points))
    assert check_local_derivative(v, stub, points).summary == "not done yet"


def forward(f, x, eps):
    return (f(x + eps) - f(x)) / eps


def central(f, x, eps):
    return (f(x + eps) - f(x - eps)) / (2 * eps)


def test_finite_differences_name_swapped_and_halved_formulas():
    assert check_finite_differences(forward, central)
    swapped = check_finite_differences(central, central)
    assert all(place.startswith("forward") for place in swapped.wrong)
    assert "this is the central difference" in str(swapped)
    halved = check_finite_differences(forward, lambda f, x, eps: central(f, x, eps) * 2)
    assert "factor of 2" in str(halved) and "(8.25)" in str(halved)
    assert check_finite_differences(stub, stub).summary == "not done yet"


# --- nn ------------------------------------------------------------------------------------------

X, T = [0.5, -1.0], [1.0, -0.5]


@pytest.fixture
def model():
    return nn.MLP(2, [3, 2], seed=0)


def hand_deltas(model):
    """Algorithm 8.1 written again here: tanh hidden units, linear outputs, (8.21), (8.22)."""
    hidden, outputs = model.layers[0].neurons, model.layers[1].neurons
    z = [math.tanh(sum(w.data * x for w, x in zip(n.weights, X)) + n.bias.data) for n in hidden]
    y = [sum(w.data * zj for w, zj in zip(n.weights, z)) + n.bias.data for n in outputs]
    out = [yk - tk for yk, tk in zip(y, T)]
    w2 = [[w.data for w in n.weights] for n in outputs]
    inner = [(1 - z[j] ** 2) * sum(w2[k][j] * out[k] for k in range(2)) for j in range(3)]
    return [inner, out], z, w2


def test_deltas_right_and_each_mistake_named(model):
    deltas, z, w2 = hand_deltas(model)
    assert check_deltas(model, X, T, deltas)
    assert check_deltas(model, X, T, [np.array(d) for d in deltas])  # numpy, as in exercise 8.2
    out = [-deltas[1][0], deltas[1][1]]  # t - y instead of y - t at z2[0]
    inner = [(1 - z[j] ** 2) * sum(w2[k][j] * out[k] for k in range(2)) for j in range(3)]
    result = lines_of(check_deltas(model, X, T, [inner, out]))
    assert result["z2[0]"][0] == "wrong" and "the sign is wrong" in result["z2[0]"][1]
    assert "fix them" in result["z1[0]"][1]  # right for the student's own δ's above
    no_h_prime = [list(deltas[0]), deltas[1]]
    no_h_prime[0][2] = sum(w2[k][2] * deltas[1][k] for k in range(2))
    result = check_deltas(model, X, T, no_h_prime)
    assert result.wrong == ["z1[2]"] and "left out the factor h'(a_j)" in str(result)
    plain = [list(deltas[0]), deltas[1]]
    plain[0][1] *= 1.1
    message = lines_of(check_deltas(model, X, T, plain))["z1[1]"][1]
    assert "(8.13)" in message and "z2[0], z2[1]" in message and "1 - z²" in message


def test_deltas_not_done_and_wrong_shapes(model):
    deltas, _, _ = hand_deltas(model)
    assert check_deltas(model, X, T, stub).summary == "not done yet"
    partial = check_deltas(model, X, T, [None, deltas[1]])
    assert partial.not_done == ["z1[0]", "z1[1]", "z1[2]"] and not partial.wrong
    assert "3 units; you gave 2" in str(check_deltas(model, X, T, [[1, 2], deltas[1]]))
    assert "expected 2 layers" in str(check_deltas(model, X, T, [deltas[1]]))


def test_weight_gradients_as_outer_products(model):
    deltas, z, _ = hand_deltas(model)
    grads = [np.outer(deltas[0], X), np.outer(deltas[1], z)]
    assert check_weight_gradients(model, X, T, grads)
    transposed = check_weight_gradients(model, X, T, [grads[0].T, grads[1]])
    assert transposed.wrong == ["∂E/∂W(1)"] and "is 3×2" in str(transposed)
    grads[1][1][2] += 1.0
    result = check_weight_gradients(model, X, T, grads)
    assert (
        result.wrong == ["∂E/∂w2[1,2]"] and "δ of z2[1]" in str(result) and "z1[2]" in str(result)
    )


def test_jacobian_entries_and_their_mistakes(model):
    _, _, w2 = hand_deltas(model)
    w1 = [[w.data for w in n.weights] for n in model.layers[0].neurons]
    jac = hand_jacobian(model)
    assert check_jacobian(model, X, jac)
    assert check_jacobian(model, X, np.array(jac))
    plain = [[sum(w2[k][j] * w1[j][i] for j in range(3)) for i in range(2)] for k in range(2)]
    answer = {(0, 1): jac[1][0], (1, 1): -jac[1][1], (1, 0): plain[1][0], (0, 0): None, (5, 0): 1}
    result = lines_of(check_jacobian(model, X, answer))
    assert "output index first" in result["J[0][1] = ∂y0/∂x1"][1]
    assert "sign is wrong" in result["J[1][1] = ∂y1/∂x1"][1]
    assert "left out the factors h'(a_j)" in result["J[1][0] = ∂y1/∂x0"][1]
    assert result["J[0][0] = ∂y0/∂x0"][0] == "not done yet"
    assert "no entry [5][0]" in result["J[5][0]"][1]
    assert check_jacobian(model, X, stub).summary == "not done yet"
    row_1_for_row_0 = {(0, 0): jac[1][0], (0, 1): jac[1][1]}  # a reverse pass seeded at y1
    hints = [hint for _, hint in lines_of(check_jacobian(model, X, row_1_for_row_0)).values()]
    assert "that is J[1][0] = ∂y1/∂x0, another entry" in hints[0]
    assert "that is J[1][1] = ∂y1/∂x1, another entry" in hints[1]


def test_hessian_entries_and_the_outer_product_mistake():
    tiny = nn.MLP(1, [1, 1], seed=1)  # y = w2 tanh(w1 x + b1) + b2
    w1, b1, w2, b2 = (p.data for p in tiny.parameters())
    x, t = 0.5, 1.0
    z = math.tanh(w1 * x + b1)
    y = w2 * z + b2
    # E = ½ (y - t)²: ∂E/∂w2 = (y - t) z; ∂²E/∂w1∂w2 = w2 (1 - z²) x z + (y - t)(1 - z²) x.
    outer = w2 * (1 - z**2) * x * z
    exact = outer + (y - t) * (1 - z**2) * x
    assert check_hessian(tiny, [x], t, {("w1[0,0]", "w2[0,0]"): exact, (np.int64(3), 3): 1.0})
    assert check_hessian(tiny, [x], t, jacobian_free_hessian(tiny, x, t))
    result = lines_of(check_hessian(tiny, [x], t, {("w1[0,0]", "w2[0,0]"): outer}))
    assert "outer-product approximation" in result["H[w1[0,0], w2[0,0]]"][1]
    result = lines_of(check_hessian(tiny, [x], t, {(0, 9): 1.0, ("b2[0]", "b2[0]"): 2.0}))
    assert "no such parameter" in result["H[0, 9]"][1]
    assert result["H[b2[0], b2[0]]"][0] == "wrong"
    assert check_hessian(tiny, [x], t, None).summary == "not done yet"


def jacobian_free_hessian(model, x, t):
    """The full 4 x 4 Hessian by forward-mode differences of the reverse-mode gradient."""
    params = model.parameters()
    start = [p.data for p in params]

    def gradient(*w):
        for p, wi in zip(params, w):
            p.data = wi
        model.zero_grad()
        nn.sse(model([x]), t).backward()
        return [p.grad for p in params]

    rows = []
    for i in range(len(start)):
        h = 1e-5
        up = gradient(*[w + (h if k == i else 0) for k, w in enumerate(start)])
        down = gradient(*[w - (h if k == i else 0) for k, w in enumerate(start)])
        rows.append([(u - d) / (2 * h) for u, d in zip(up, down)])
    gradient(*start)
    return rows


def test_text_groups_right_and_untouched_places_and_html_escapes_labels():
    answer = {"v1": 1.0, "v2": 2.0, "v3": 2.5}
    text = str(check_trace(f, [1.0, 2.0], primal=answer)).splitlines()
    assert text[1:] == [
        "  ✓ right: v1, v2",
        "  ✗ v3  v3 = exp(v1) does not give your v3: evaluate it from v1",
        "  … not done yet: v4, v5, v6",
    ]
    x = Value(2.0, label="<x>")
    html = check_grads(x * x, {"<x>": 1.0})._repr_html_()
    assert "&lt;x&gt;" in html and "<x>" not in html


EXERCISE_NOTEBOOKS = ["06_exercises_trace", "07_exercises_backprop", "08_exercises_derivatives"]


@pytest.mark.parametrize("name", EXERCISE_NOTEBOOKS)
def test_every_check_in_the_saved_teacher_notebooks_passes(name):
    path = Path(__file__).resolve().parent.parent / "notebooks" / f"{name}.ipynb"
    notebook = nbformat.read(path, as_version=4)
    checks = [cell for cell in notebook.cells if re.search(r"\bcheck_\w+\(", cell.source)]
    assert len(checks) >= 4
    for cell in checks:
        assert "### BEGIN SOLUTION" not in cell.source  # answers and checks in separate cells
        text = "".join(
            output.get("text", "") + output.get("data", {}).get("text/plain", "")
            for output in cell.outputs
        )
        verdicts = re.findall(r"^\S.*: (all \d+ right|.*(wrong|not done yet).*)$", text, re.M)
        assert verdicts and all(v[0].startswith("all ") for v in verdicts), (cell.source, text)


def broken():
    return 1 / 0


ODD_ANSWERS = [None, ..., "abc", 3, True, [1, 2], [[1, "x"], None], {"x": 1}, {(1,): 2}, object()]
ODD_ANSWERS += [float("nan"), [math.inf] * 6, {(0, 0): math.nan}, broken, stub, lambda: "abc"]
ODD_ANSWERS += [{("a", "b"): 1.0}, {(0.5, 1): 1.0}, {}]  # {}: no place graded is not all right


@pytest.mark.parametrize("answer", ODD_ANSWERS, ids=repr)
def test_no_answer_makes_a_checker_raise(answer, model):
    tiny = nn.MLP(1, [1, 1], seed=1)
    feedbacks = [
        check_trace(f, [1.0, 2.0], primal=answer, tangent=answer, adjoint=answer),
        check_grads(graph()[-1], answer),
        check_local_derivative(swish, lambda x: answer() if callable(answer) else answer),
        check_finite_differences(lambda *a: answer, lambda *a: answer),
        check_deltas(model, X, T, answer),
        check_weight_gradients(model, X, T, answer),
        check_jacobian(model, X, answer),
        check_hessian(tiny, [0.5], 1.0, answer),
    ]
    for feedback in feedbacks:
        assert not feedback and str(feedback) and feedback._repr_html_()


def planted(values: list[float], k: int) -> list[float]:
    """`values` with entry k made wrong by far more than the tolerance."""
    return [v * 1.5 + 0.25 if i == k else v for i, v in enumerate(values)]


@pytest.mark.parametrize("column", ["primal", "tangent", "adjoint"])
@pytest.mark.parametrize("k", range(6))
def test_trace_names_exactly_the_planted_cell(column, k):
    right = {"primal": PRIMAL, "tangent": TANGENT, "adjoint": ADJOINT}[column]
    result = check_trace(f, [1.0, 2.0], **{column: planted(right, k)})
    symbol = {"primal": "v", "tangent": "v̇", "adjoint": "v̄"}[column]
    assert result.wrong == [f"{symbol}{k + 1}"]
    assert "should be" not in str(result)


def test_deltas_gradients_and_jacobian_name_exactly_the_planted_entry(model):
    deltas, z, _ = hand_deltas(model)
    flat = [*deltas[0], *deltas[1]]
    names = ["z1[0]", "z1[1]", "z1[2]", "z2[0]", "z2[1]"]
    for k, name in enumerate(names):
        wrong = planted(flat, k)
        assert check_deltas(model, X, T, [wrong[:3], wrong[3:]]).wrong == [name]
    grads = [np.outer(deltas[0], X), np.outer(deltas[1], z)]
    for layer, matrix in enumerate(grads):
        for j, i in np.ndindex(matrix.shape):
            wrong = [g.copy() for g in grads]
            wrong[layer][j, i] = wrong[layer][j, i] * 1.5 + 0.25
            result = check_weight_gradients(model, X, T, wrong)
            assert result.wrong == [f"∂E/∂w{layer + 1}[{j},{i}]"]
    jac = hand_jacobian(model)
    for k, i in np.ndindex(2, 2):
        wrong = [list(row) for row in jac]
        wrong[k][i] = wrong[k][i] * 1.5 + 0.25
        assert check_jacobian(model, X, wrong).wrong == [f"J[{k}][{i}] = ∂y{k}/∂x{i}"]


def hand_jacobian(model):
    """J_ki = Σ_j w2_kj (1 - z_j²) w1_ji: (8.29)-(8.31) for one tanh layer and linear outputs."""
    _, z, w2 = hand_deltas(model)
    w1 = [[w.data for w in n.weights] for n in model.layers[0].neurons]
    return [
        [sum(w2[k][j] * (1 - z[j] ** 2) * w1[j][i] for j in range(3)) for i in range(2)]
        for k in range(2)
    ]


def test_hessian_names_exactly_the_planted_entry():
    tiny = nn.MLP(1, [1, 1], seed=1)
    full = jacobian_free_hessian(tiny, 0.5, 1.0)
    labels = [p.label for p in tiny.parameters()]
    for a, b in np.ndindex(4, 4):
        answer = {(p, q): full[p][q] for p, q in np.ndindex(4, 4)}
        answer[a, b] = answer[a, b] * 1.5 + 0.25
        assert check_hessian(tiny, [0.5], 1.0, answer).wrong == [f"H[{labels[a]}, {labels[b]}]"]


@settings(max_examples=60, deadline=None)
@given(program, inputs, st.sampled_from(["primal", "tangent", "adjoint"]), st.integers(0, 10**6))
def test_random_traces_pass_as_the_engine_fills_them_and_name_a_planted_cell(steps, xs, column, k):
    leaves = [Value(x) for x in xs]
    output = run(steps, leaves)
    output.backward()
    rows = ad.trace(output, wrt=leaves[0]).rows
    columns = {
        "primal": [row.value for row in rows],
        "tangent": [row.tangent for row in rows],
        "adjoint": [row.adjoint for row in rows],
    }
    assume(all(math.isfinite(v) for values in columns.values() for v in values))

    def program_f(*args):
        return run(steps, args)

    assert check_trace(program_f, xs, **columns)
    k %= len(rows)
    wrong = [v + 0.25 + 0.5 * abs(v) if i == k else v for i, v in enumerate(columns[column])]
    symbol = {"primal": "v", "tangent": "v̇", "adjoint": "v̄"}[column]
    assert check_trace(program_f, xs, **{column: wrong}).wrong == [f"{symbol}{k + 1}"]


def test_every_checker_hides_the_expected_number_unless_reveal(model):
    deltas, z, _ = hand_deltas(model)
    jac = hand_jacobian(model)
    tiny = nn.MLP(1, [1, 1], seed=1)
    hessian = jacobian_free_hessian(tiny, 0.5, 1.0)
    cases = [  # (checker with a wrong answer, the expected number it must keep back)
        (lambda r: check_trace(f, [1, 2], primal=[1, 2, 3, 2 * E, 0.5, 2 * E + 0.5], reveal=r), E),
        (lambda r: check_grads(graph()[-1], {"a": 24.0}, reveal=r), 16.0),
        (lambda r: check_local_derivative(swish, lambda x: 0.0, [0.4], reveal=r), swish_slope(0.4)),
        (lambda r: check_deltas(model, X, T, [deltas[0], [0.0, 0.0]], reveal=r), deltas[1][0]),
        (
            lambda r: check_weight_gradients(
                model, X, T, [np.outer(deltas[0], X), np.zeros((2, 3))], reveal=r
            ),
            deltas[1][0] * z[0],
        ),
        (lambda r: check_jacobian(model, X, {(1, 0): 0.0}, reveal=r), jac[1][0]),
        (lambda r: check_hessian(tiny, [0.5], 1.0, {(0, 2): 0.0}, reveal=r), hessian[0][2]),
    ]
    for checker, expected in cases:
        assert f"{expected:.4g}" not in str(checker(False)), expected
        assert f"should be {expected:.6g}" in str(checker(True)), expected
