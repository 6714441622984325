"""How `nn` reads the numbers users pass: sizes and counts, class indices, rates and seeds.

numpy scalars (np.int64 from an array of labels, say) pass wherever Python's own numbers do,
through the standard protocols rather than type checks: `operator.index` accepts anything that is
an integer (np.int64 has `__index__`), and numpy registers its ints and floats as `numbers.Real`.
numpy's bool is the exception, neither an int nor a number, so it is recognised by its type.
"""

from __future__ import annotations

import math
import operator
import random
from typing import Any

from autodiff.ops import is_numpy_bool, is_real

Seed = int | random.Random | None


def is_bool(x: Any) -> bool:
    """True for Python's bool and numpy's bool."""
    return isinstance(x, bool) or is_numpy_bool(x)


def as_int(x: Any) -> int | None:
    """x as a Python int if it is an integer (numpy's too), else None; a bool is no count."""
    if is_bool(x):
        return None
    try:
        return operator.index(x)  # rejects floats, even 2.0: a size or index must be exact
    except TypeError:
        return None


def count(name: str, value: Any, minimum: int) -> int:
    """value as a Python int >= minimum (so it stays JSON-safe in a state_dict), else ValueError."""
    number = as_int(value)
    if number is None or number < minimum:
        wanted = "a positive int" if minimum == 1 else f"an int >= {minimum}"
        raise ValueError(f"{name} must be {wanted}, got {value!r}")
    return number


def random_stream(seed: Seed) -> random.Random:
    """The random stream to draw from: a given Random is shared, an int or None seeds a new one."""
    if isinstance(seed, random.Random):
        return seed
    number = as_int(seed)
    # random.Random takes Python's own types only (int, float, str, bytes, None), not np.int64.
    return random.Random(seed if number is None else number)


def rate(name: str, number: Any, upper: float = math.inf) -> float:
    """A learning rate, momentum, penalty or the like: a real number >= 0 (and < upper)."""
    # numpy's float32 too (numpy registers it as numbers.Real); a bool is no rate.
    if is_bool(number) or not is_real(number):
        raise TypeError(f"{name} must be a number, not {type(number).__name__}")
    if not 0.0 <= number < upper:  # inf and nan fail this too
        bound = "" if upper == math.inf else f" and < {upper}"
        raise ValueError(f"{name} must be a finite number >= 0{bound}, got {number!r}")
    return float(number)
