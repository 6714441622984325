"""How `nn` reads the numbers users pass: sizes and counts, rates and seeds.

One rule throughout: a wrong type is a TypeError, a wrong value a ValueError, and every check
runs before anything is allocated. numpy scalars pass wherever Python's own numbers do (np.int64
has `__index__`, and numpy registers its ints and floats as `numbers.Real`).
"""

from __future__ import annotations

import math
import random
from typing import Any

from autodiff.ops import as_int, is_numpy_bool, is_real, to_float

Seed = int | random.Random | None

#: The largest count `nn` accepts (layer sizes, parameters, data points, epochs). Each unit of a
#: count is at least one Python object of ~100 bytes and some work, so ten million is already
#: gigabytes and minutes; a larger count fails at once instead of filling memory.
MAX_COUNT = 10_000_000


def is_bool(x: Any) -> bool:
    """True for Python's bool and numpy's bool."""
    return isinstance(x, bool) or is_numpy_bool(x)


def count(name: str, value: Any, minimum: int) -> int:
    """value as a Python int in [minimum, MAX_COUNT] (JSON-safe in a state_dict)."""
    number = as_int(value)  # a float, even 2.0, is no count: a size must be exact
    wanted = "a positive int" if minimum == 1 else f"an int >= {minimum}"
    if number is None:
        raise TypeError(f"{name} must be {wanted}, not {type(value).__name__}")
    if not minimum <= number <= MAX_COUNT:
        shown = number if number.bit_length() < 64 else f"an int of {len(str(number))} digits"
        raise ValueError(f"{name} must be {wanted} up to {MAX_COUNT:,}, got {shown}")
    return number


def random_stream(seed: Seed) -> random.Random:
    """The random stream to draw from: a given Random is shared, an int or None seeds a new one."""
    if isinstance(seed, random.Random):
        return seed
    number = as_int(seed)
    if seed is not None and number is None:
        # random.Random would take a float, a str or bytes too, and silently hash them.
        raise TypeError(f"seed must be an int or None, not {type(seed).__name__}")
    return random.Random(number)  # Python's int: random.Random refuses np.int64


def rate(name: str, number: Any, upper: float = math.inf, positive: bool = False) -> float:
    """A learning rate, momentum, penalty, noise or the like: a finite real >= 0 (and < upper;
    > 0 when `positive`)."""
    # numpy's float32 too (numpy registers it as numbers.Real); a bool is no rate.
    if is_bool(number) or not is_real(number):
        raise TypeError(f"{name} must be a number, not {type(number).__name__}")
    value = to_float(number, name)
    if not 0.0 <= value < upper or (positive and value == 0.0):  # inf and nan fail too
        lower = "> 0" if positive else ">= 0"
        bound = "" if upper == math.inf else f" and < {upper}"
        raise ValueError(f"{name} must be a finite number {lower}{bound}, got {number!r}")
    return value
