"""Small generated data sets for classification: XOR and two interleaving half-moons.

Each returns `(X, y)`: X a list of [x1, x2] float pairs, y a list of 0/1 ints. Nothing is
downloaded; randomness comes from a seeded `random.Random`, so the same seed gives the same data.
"""

from __future__ import annotations

import math

from ._args import count, random_stream, rate


def xor() -> tuple[list[list[float]], list[int]]:
    """The four corners of the unit square, y = x1 XOR x2: not linearly separable."""
    return [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [0, 1, 1, 0]


def _half_circle(count: int) -> list[float]:
    """count angles evenly spaced over [0, π], both ends included."""
    if count == 1:
        return [0.0]
    return [math.pi * i / (count - 1) for i in range(count)]


def make_moons(
    n: int = 100, noise: float = 0.1, seed: int | None = 0
) -> tuple[list[list[float]], list[int]]:
    """Two half-circles: class 0 on (cos θ, sin θ), class 1 on (1 - cos θ, 1/2 - sin θ), θ ∈ [0, π].

    As scikit-learn's make_moons: n // 2 points on the upper moon, the rest on the lower, shuffled,
    then Gaussian noise of standard deviation `noise` added to each coordinate.
    """
    n = count("n", n, 2)
    noise = rate("noise", noise)  # a finite real >= 0, as a float: the coordinates stay floats
    rng = random_stream(seed)
    upper = [([math.cos(a), math.sin(a)], 0) for a in _half_circle(n // 2)]
    lower = [([1.0 - math.cos(a), 0.5 - math.sin(a)], 1) for a in _half_circle(n - n // 2)]
    points = upper + lower
    rng.shuffle(points)
    inputs = [[x1 + rng.gauss(0.0, noise), x2 + rng.gauss(0.0, noise)] for (x1, x2), _ in points]
    return inputs, [label for _, label in points]
