"""Training by replay: one data point's error recorded as a program, run over a whole batch.

`CompiledError` records E_n = loss(model(x_n), t_n) once (per label, for a loss that branches on
its label) with the parameters and the input as the program's inputs, then replays it over numpy
arrays holding a batch's inputs: the same numbers as building the graph for every point.
NOTE: numbers a loss reads from `.data` are frozen at the recorded point: cross_entropy's shift
max_j a_j stays that point's, which changes no value but could overflow for far larger logits.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import autodiff
from autodiff.ops import is_real, to_float

from . import losses
from .module import Module

#: Losses that use the target in arithmetic only: it is an input of the program. Any other loss
#: may branch on its target (hinge on t = ±1), so it gets one program per target value.
TARGET_IS_INPUT = (losses.sse, losses.mse)


class CompiledError:
    """Σ_n E_n over a batch, by replaying the recorded E_n on arrays (Bishop (8.14))."""

    def __init__(
        self,
        model: Module,
        inputs: Sequence[Any],
        targets: Sequence[Any],
        loss: Callable[[Any, Any], Any],
    ) -> None:
        try:
            import numpy as np  # imported here: only compiled training needs numpy
        except ImportError as error:
            raise ImportError(
                "train(compiled=True) replays on numpy arrays: install numpy"
            ) from error

        self.model = model
        self.loss = loss
        self.parameters = model.parameters()
        # Row i holds component i of every input x_n: the arrays a batch replay reads.
        self.columns = np.array(_table(inputs, "input", _is_vector)).T
        self.target_is_input = loss in TARGET_IS_INPUT
        if self.target_is_input:  # a loss takes a list (or tuple) of targets, or one number
            self.target_columns = np.array(_table(targets, "target", _is_list)).T
        self.targets = targets
        self.programs: dict[Any, autodiff.Program] = {}
        self.output_is_list = False  # whether the model returns a list (set while recording)

    def _group(self, n: int) -> Any:
        """Which program data point n replays: one for all, or one per target value."""
        return None if self.target_is_input else _key(self.targets[n])

    def _program(self, n: int) -> autodiff.Program:
        """The program for data point n: E_n and the model's outputs, of parameters and input."""
        key = self._group(n)
        program = self.programs.get(key)
        if program is None:
            width = len(self.columns)
            target = self.targets[n]

            def error(*args: Any) -> tuple:
                x = args[len(self.parameters) : len(self.parameters) + width]
                t = target
                if self.target_is_input:  # the target's numbers as Values, shaped as given
                    given = args[len(self.parameters) + width :]
                    t = list(given) if isinstance(target, (list, tuple)) else given[0]
                outputs = self.model(list(x))
                e_n = self.loss(outputs, t)
                self.output_is_list = isinstance(outputs, list)
                return (e_n, *outputs) if self.output_is_list else (e_n, outputs)

            point = [*self.columns[:, n]]
            if self.target_is_input:
                point += [*self.target_columns[:, n]]
            program = autodiff.record(error, *self.parameters, *point)
            self.programs[key] = program
        return program

    def backward(self, batch: Sequence[int], scale: float) -> tuple[list[float], list[Any]]:
        """Add scale · Σ_n ∂E_n/∂w to each parameter's grad; return each E_n and model output
        (a Value, or a list of them, as the model gives it: what `correct` reads)."""
        import numpy as np

        groups: dict[Any, list[int]] = {}
        for n in batch:
            groups.setdefault(self._group(n), []).append(n)
        weights = [p.data for p in self.parameters]
        totals = [0.0] * len(weights)
        errors: dict[int, float] = {}
        outputs: dict[int, Any] = {}
        for members in groups.values():
            program = self._program(members[0])
            arrays = list(self.columns[:, members])
            if self.target_is_input:
                arrays += list(self.target_columns[:, members])
            values, grads = program.value_and_grad(*weights, *arrays)
            totals = [a + b for a, b in zip(totals, grads)]
            # An output that ignores the input is one number for the group: one per point here.
            values = [np.broadcast_to(y, len(members)).tolist() for y in values]
            errors.update(zip(members, values[0]))
            rows = zip(*[[autodiff.Value(y) for y in column] for column in values[1:]])
            outputs.update(zip(members, (list(r) if self.output_is_list else r[0] for r in rows)))
        for parameter, total in zip(self.parameters, totals):
            parameter.grad += scale * total
        return [errors[n] for n in batch], [outputs[n] for n in batch]


def _is_vector(x: Any) -> bool:
    """An input the model reads as a vector: a list, a tuple or a numpy array."""
    return hasattr(x, "__len__")


def _is_list(x: Any) -> bool:
    return isinstance(x, (list, tuple))


def _table(items: Sequence[Any], what: str, is_row: Callable[[Any], bool]) -> list[list[float]]:
    """The inputs (or targets) as rows of floats of one length (a bare number is a row of one).

    NOTE: checked here, as the graph checks them: numpy would make None a silent nan."""
    rows = []
    for n, item in enumerate(items):
        numbers = list(item) if is_row(item) else None
        row = []
        for i, x in enumerate([item] if numbers is None else numbers):
            name = f"{what} {n}" if numbers is None else f"{what} {n}[{i}]"
            if not is_real(x):
                raise TypeError(f"{name} must be a number, not {type(x).__name__}")
            row.append(to_float(x, name))
        if rows and len(row) != len(rows[0]):
            raise ValueError(f"{what} {n} has {len(row)} numbers, {what} 0 has {len(rows[0])}")
        rows.append(row)
    return rows


def _key(target: Any) -> Any:
    """A target as a dict key: a list or numpy array of numbers becomes a tuple."""
    return tuple(target) if _is_vector(target) else target


def mean(errors: Sequence[float]) -> float:
    """(1/B) Σ_n E_n, summed exactly as autodiff.sum does (fsum), so both paths agree."""
    return math.fsum(errors) / len(errors)
