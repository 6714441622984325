"""Finite differences, gradcheck and Figure 8.2: the checkers checked, including failing."""

import math
import sys

import matplotlib
import pytest

from autodiff import (
    Value,
    fd_error_curve,
    grad,
    gradcheck,
    numerical_grad,
    plot_fd_error_curve,
)
from autodiff.check import GUIDE_BELOW, FdErrorRow, GradcheckResult

matplotlib.use("Agg")


def bishop(x1, x2):
    """Bishop (8.49): f = x1 x2 + exp(x1 x2) - sin(x2)."""
    return x1 * x2 + (x1 * x2).exp() - x2.sin()


def bishop_gradient(x1, x2):
    e = math.exp(x1 * x2)
    return [x2 + x2 * e, x1 + x1 * e - math.cos(x2)]


def erf(x, slope=None):
    """A user-defined primitive; `slope` plants a wrong local derivative when given."""
    if slope is None:
        slope = 2 / math.sqrt(math.pi) * math.exp(-x.data * x.data)
    return Value(math.erf(x.data), parents=(x,), local_grads=(slope,), op="erf")


def wrong_erf(x):
    return erf(x, slope=math.exp(-x.data * x.data))  # forgot the factor 2/√π


def slope_of(rows, attribute, low, high):
    """The least-squares slope of log10(error) against log10(eps) for low <= eps <= high."""
    points = [
        (math.log10(r.eps), math.log10(getattr(r, attribute))) for r in rows if low <= r.eps <= high
    ]
    mean_x = sum(p[0] for p in points) / len(points)
    mean_y = sum(p[1] for p in points) / len(points)
    covariance = sum((x - mean_x) * (y - mean_y) for x, y in points)
    return covariance / sum((x - mean_x) ** 2 for x, _ in points)


# --- numerical_grad --------------------------------------------------------------------------


def test_central_differences_are_second_order_accurate():
    numeric = numerical_grad(bishop, [1.5, 0.5])
    for n, exact in zip(numeric, bishop_gradient(1.5, 0.5), strict=True):
        assert abs(n - exact) < 1e-8


def test_forward_differences_are_first_order_accurate():
    numeric = numerical_grad(bishop, [1.5, 0.5], eps=1e-7, method="forward")
    errors = [abs(n - e) for n, e in zip(numeric, bishop_gradient(1.5, 0.5), strict=True)]
    assert max(errors) < 1e-5
    assert max(errors) > 1e-9  # O(eps): visibly less accurate than central differences


def test_forward_difference_error_is_half_eps_times_second_derivative():
    # (e^(x+h) - e^x) / h = e^x (1 + h/2 + ...): the O(eps) term of (8.24) in closed form.
    h, x = 1e-3, 0.2
    (numeric,) = numerical_grad(lambda t: t.exp(), [x], eps=h, method="forward")
    assert numeric - math.exp(x) == pytest.approx(math.exp(x) * h / 2, rel=1e-3)


def test_step_is_relative_to_the_size_of_the_input():
    # At x = 1e8 an absolute step of 1e-6 would be lost in the rounding of x² ≈ 1e16;
    # h = eps·|x| = 100 keeps the quotient accurate (and is exact for a quadratic).
    (numeric,) = numerical_grad(lambda x: x * x, [1e8])
    assert numeric == pytest.approx(2e8, rel=1e-9)


def test_numerical_grad_calls_f_with_values_and_accepts_number_results():
    seen = []

    def f(x):
        seen.append(type(x))
        return 3.0

    assert numerical_grad(f, [1.0]) == [0.0]
    assert set(seen) == {Value}


def test_numerical_grad_rejects_bad_input():
    with pytest.raises(ValueError, match="method"):
        numerical_grad(bishop, [1.0, 2.0], method="backward")
    with pytest.raises(ValueError, match="eps"):
        numerical_grad(bishop, [1.0, 2.0], eps=0.0)
    with pytest.raises(ValueError, match="eps"):
        numerical_grad(bishop, [1.0, 2.0], eps=math.nan)
    with pytest.raises(ValueError, match="positive finite"):
        numerical_grad(bishop, [1.0, 2.0], eps=math.inf)
    with pytest.raises(ValueError, match="too small"):
        numerical_grad(bishop, [1.0, 2.0], eps=1e-20)
    with pytest.raises(TypeError, match="list or tuple"):
        numerical_grad(bishop, 1.0)
    with pytest.raises(TypeError, match=r"xs\[1\] must be a real number"):
        numerical_grad(bishop, [1.0, "2"])
    with pytest.raises(ValueError, match="at least one"):
        numerical_grad(bishop, [])
    with pytest.raises(TypeError, match="must return a Value or a real number"):
        numerical_grad(lambda x: [x], [1.0])


# --- gradcheck -------------------------------------------------------------------------------


def test_gradcheck_passes_on_correct_functions():
    for f, xs in [
        (bishop, [1.5, 0.5]),
        (lambda x, y, z: (x * y).tanh() * z.sigmoid() + (x / z).log(), [0.3, -0.7, 0.9]),
        (lambda x: erf(x * 2) * x.cos(), [0.4]),
    ]:
        result = gradcheck(f, xs, raise_on_fail=True)
        assert isinstance(result, GradcheckResult) and result
        assert [row.index for row in result.inputs] == list(range(len(xs)))
        assert all(row.ok for row in result.inputs)


def test_gradcheck_rows_hold_both_values_and_their_errors():
    result = gradcheck(bishop, [1.5, 0.5])
    for row, exact in zip(result.inputs, bishop_gradient(1.5, 0.5), strict=True):
        assert row.analytic == pytest.approx(exact, rel=1e-14)
        assert row.numeric == pytest.approx(exact, rel=1e-8)
        assert row.abs_error == abs(row.analytic - row.numeric)
        assert row.rel_error == pytest.approx(row.abs_error / abs(row.analytic), rel=1e-6)
    assert [row.name for row in result.inputs] == ["x1", "x2"]


def test_gradcheck_fails_on_a_planted_wrong_local_derivative():
    def f(x, y):
        return wrong_erf(x) + y * y

    result = gradcheck(f, [0.4, 0.3])
    assert not result
    bad, good = result.inputs
    assert not bad.ok and good.ok
    right = 2 / math.sqrt(math.pi) * math.exp(-0.16)
    assert bad.analytic == pytest.approx(right * math.sqrt(math.pi) / 2, rel=1e-12)
    assert bad.numeric == pytest.approx(right, rel=1e-8)
    table = str(result)
    assert "FAILED: 1 of 2 inputs disagree" in table
    header = table.splitlines()[1]
    assert "analytic" in header and "numeric" in header
    failing_line = next(line for line in table.splitlines() if line.endswith("FAIL"))
    assert failing_line.startswith("x ")  # names the input
    assert f"{bad.analytic:.12g}" in failing_line and f"{bad.numeric:.12g}" in failing_line


def test_gradcheck_raise_on_fail_raises_with_the_table():
    with pytest.raises(AssertionError) as error:
        gradcheck(wrong_erf, [0.4], raise_on_fail=True)
    message = str(error.value)
    assert message == str(gradcheck(wrong_erf, [0.4]))
    assert "FAIL" in message and "analytic" in message and "numeric" in message


def test_gradcheck_names_inputs_of_variadic_functions_by_position():
    result = gradcheck(lambda *xs: xs[0] * xs[1], [2.0, 3.0])
    assert [row.name for row in result.inputs] == ["x[0]", "x[1]"]


def test_gradcheck_tolerance_catches_a_small_relative_error():
    # A derivative off by 0.1% is far outside rtol = 1e-4 and the rounding term.
    result = gradcheck(
        lambda x: erf(x, slope=1.001 * 2 / math.sqrt(math.pi) * math.exp(-0.25)), [0.5]
    )
    assert not result


def test_gradcheck_allows_for_rounding_where_the_differences_still_resolve_the_slope():
    # f ≈ 1e9: each value is rounded to ~1e-7, so (8.25) with h = 1e-2 is off by up to ~1e-4.
    def f(x):
        return 1e9 + x * x

    result = gradcheck(f, [0.5], eps=1e-2)
    (row,) = result.inputs
    rounding = 4 * sys.float_info.epsilon * 1e9 / 1e-2
    assert row.tolerance == pytest.approx(1e-6 + 1e-4 * max(1.0, row.numeric) + rounding)
    assert row.resolved and result


def test_gradcheck_will_not_pass_a_slope_that_rounding_hides_and_says_so():
    # At h = 1e-6 the rounding of f ≈ 1e9 (~0.9 in the quotient) swamps the tolerance asked for:
    # a wrong slope would pass as easily as the right one, so neither does.
    (row,) = gradcheck(lambda x: 1e9 + x * x, [0.5]).inputs
    assert not row.resolved and not row.ok and row.analytic == 1.0

    def wrong_square(x):  # x² claiming the slope 3x
        return Value(x.data**2, parents=(x,), local_grads=(3 * x.data,), op="sq")

    # |f| is large through y alone; x's wrong slope used to pass under its rounding allowance
    result = gradcheck(lambda x, y: wrong_square(x) + y.exp(), [1.0, 25.0])
    assert [row.ok for row in result.inputs] == [False, True]
    text = str(result)
    assert "FAILED: 1 of 2 cannot be checked at this eps" in text and "try a larger eps" in text
    assert text.splitlines()[2].split()[-1] == "UNSURE"


@pytest.mark.parametrize("local", [math.nan, math.inf, -math.inf])
def test_gradcheck_fails_on_a_non_finite_derivative(local):
    # An infinite analytic derivative makes the error and the allowed error both infinite;
    # it must still fail against a finite difference quotient of 1.
    def f(x):
        return Value(x.data, parents=(x,), local_grads=(local,), op="broken")

    result = gradcheck(f, [1.0])
    assert not result
    assert "FAIL" in str(result)


def test_gradcheck_rejects_bad_tolerances():
    with pytest.raises(ValueError, match="atol"):
        gradcheck(bishop, [1.0, 2.0], atol=-1.0)
    with pytest.raises(ValueError, match="rtol"):
        gradcheck(bishop, [1.0, 2.0], rtol=math.inf)


def test_gradcheck_accepts_zero_tolerances_and_passes_an_exact_match():
    result = gradcheck(lambda x: x * 0.0, [1.0], atol=0.0, rtol=0.0)
    (row,) = result.inputs
    assert (row.analytic, row.numeric, row.abs_error, row.tolerance) == (0.0, 0.0, 0.0, 0.0)
    assert row.rel_error == 0.0  # no division by a zero derivative
    assert row.ok and result


def test_gradcheck_error_equal_to_the_allowed_error_passes():
    def flat(x):  # f = 0 everywhere, with a planted slope 0.5: abs_error is exactly 0.5
        return Value(0.0, parents=(x,), local_grads=(0.5,), op="flat")

    assert gradcheck(flat, [1.0], atol=0.5, rtol=0.0)
    assert not gradcheck(flat, [1.0], atol=0.25, rtol=0.0)


def test_gradcheck_tolerance_uses_the_larger_derivative_and_the_larger_end_value():
    # atol + rtol·max(|analytic|, |numeric|) + 4 ε |f|/h, |f| the larger of f(x ± h).
    def planted_zero_slope(x):
        return Value(math.exp(-20 * x.data), parents=(x,), local_grads=(0.0,), op="decay")

    (row,) = gradcheck(planted_zero_slope, [0.0], eps=0.1, atol=0.0, rtol=1e-2).inputs
    numeric = (math.exp(-2.0) - math.exp(2.0)) / 0.2
    rounding = 4 * sys.float_info.epsilon * math.exp(2.0) / 0.1
    assert row.analytic == 0.0 and row.numeric == pytest.approx(numeric, rel=1e-12)
    assert row.tolerance == pytest.approx(1e-2 * abs(numeric) + rounding, rel=1e-12)
    (row,) = gradcheck(lambda x: (x * -20).exp(), [0.0], eps=0.1, atol=0.0, rtol=0.0).inputs
    assert row.tolerance == pytest.approx(rounding, rel=1e-12, abs=0.0)  # |f(-h)| = e², not e⁻²


# --- Figure 8.2 ------------------------------------------------------------------------------

STEPS = [10 ** (-k / 2) for k in range(2, 29)]  # 1e-1 down to 1e-14


def fig_8_2_rows():
    return fd_error_curve(lambda x, y: (x * y).exp() + x.sin() * y, [0.4, 0.7], STEPS)


def test_fd_error_curve_has_one_row_per_step():
    rows = fig_8_2_rows()
    assert [r.eps for r in rows] == STEPS
    assert all(isinstance(r, FdErrorRow) and r.forward >= 0 and r.central >= 0 for r in rows)


def test_fd_error_curve_slopes_are_one_and_two_in_the_truncation_regime():
    rows = fig_8_2_rows()
    assert slope_of(rows, "forward", 1e-6, 1e-2) == pytest.approx(1.0, abs=0.05)
    assert slope_of(rows, "central", 1e-4, 1e-2) == pytest.approx(2.0, abs=0.05)


def test_fd_error_curve_rounding_regime_grows_as_eps_shrinks():
    rows = {r.eps: r for r in fig_8_2_rows()}
    best_forward = min(r.forward for r in rows.values())
    best_central = min(r.central for r in rows.values())
    assert best_central < 1e-3 * best_forward  # central differences are far more accurate
    assert rows[1e-12].forward > 100 * best_forward
    assert rows[1e-12].central > 100 * best_central
    assert rows[1e-5].central < 1e-10 < rows[1e-12].central


def test_plot_fd_error_curve_draws_log_log_axes_with_reference_slopes(tmp_path):
    rows = fig_8_2_rows()
    ax = plot_fd_error_curve(rows)
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == [
        "forward differences (8.24)",
        "slope 1",
        "central differences (8.25)",
        "slope 2",
    ]
    slope_one = ax.get_lines()[1].get_ydata()
    assert slope_one[0] / slope_one[2] == pytest.approx(STEPS[0] / STEPS[2])
    slope_two = ax.get_lines()[3].get_ydata()
    assert slope_two[0] / slope_two[2] == pytest.approx((STEPS[0] / STEPS[2]) ** 2)
    # Each guide lies a visible factor below its curve, not on top of it (central differences
    # follow ε² so closely that a guide through their points would be hidden).
    assert slope_one[0] == pytest.approx(rows[0].forward / GUIDE_BELOW)
    assert slope_two[0] == pytest.approx(rows[0].central / GUIDE_BELOW)
    assert GUIDE_BELOW >= 3
    # The reference lines stop at the smallest error drawn, so the data fill the y-axis.
    smallest = min(e for row in rows for e in (row.forward, row.central) if e > 0)
    assert min(slope_one) >= smallest and min(slope_two) >= smallest
    assert len(slope_two) < len(rows)  # ε² runs below the data before the sweep ends
    assert ax.get_ylim()[0] > smallest / 100
    path = tmp_path / "fig_8_2.png"
    ax.figure.savefig(path)
    assert path.stat().st_size > 1000


def test_plot_fd_error_curve_uses_the_given_axes():
    import matplotlib.pyplot as plt

    figure, ax = plt.subplots()
    assert plot_fd_error_curve(fig_8_2_rows()[:5], ax=ax) is ax
    plt.close(figure)
    with pytest.raises(ValueError, match="no rows"):
        plot_fd_error_curve([])


def test_fd_error_curve_reports_nan_wherever_the_nan_stands():
    # Reverse mode gives x² + sqrt(y - y) the gradient (2, nan): sqrt'(0) = inf reaches y along
    # both paths of y - y, inf - inf. No step size agrees with it.
    rows = [
        fd_error_curve(lambda x, y: x * x + (y - y).sqrt(), [1.0, 0.0], [1e-2]),
        fd_error_curve(lambda y, x: x * x + (y - y).sqrt(), [0.0, 1.0], [1e-2]),
    ]
    assert all(math.isnan(row.forward) and math.isnan(row.central) for (row,) in rows)


def test_fd_error_curve_rows_are_the_largest_error_against_autodiff():
    def f(x, y):
        return (x * y).exp() + x.sin() * y

    xs = [0.4, 0.7]
    exact = grad(f, argnums=(0, 1))(*xs)
    for row in fd_error_curve(f, xs, [1e-2, 1e-4, 1e-6]):
        for method in ("forward", "central"):
            numeric = numerical_grad(f, xs, row.eps, method)
            errors = [abs(n - e) for n, e in zip(numeric, exact, strict=True)]
            assert getattr(row, method) == max(errors) > 0.0
