"""Worked examples shared by several test files."""

from autodiff import Value


def bishop_trace(x1_value: float = 1.5, x2_value: float = 0.5) -> tuple[Value, ...]:
    """Bishop's (8.49) written as his trace (8.50)-(8.56): returns (v1, v2, ..., v7)."""
    x1, x2 = Value(x1_value, label="x1"), Value(x2_value, label="x2")
    v3 = x1 * x2
    v4 = x2.sin()
    v5 = v3.exp()
    v6 = v3 - v4
    v7 = v5 + v6
    return x1, x2, v3, v4, v5, v6, v7
