"""A training loop: gradient descent on E(w) = (1/N) Σ_n E_n(w) (+ an optional L2 penalty).

`train` runs the epochs with a progress bar (tqdm, which works in a terminal and in Jupyter)
showing the loss and accuracy, and returns the `History`; `evaluate` scores a model without
building a graph.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import autodiff
from autodiff.ops import to_float

from . import losses
from ._args import count, random_stream, rate
from .compiled import CompiledError, mean
from .live import LiveView, start_view
from .module import Module
from .optim import Optimizer

Loss = Callable[[Any, Any], Any]
Correct = Callable[[Any, Any], bool]


def _data(output: Any) -> float:
    return output.data if isinstance(output, autodiff.Value) else to_float(output, "model output")


def _score_has_sign_of_label(score: Any, target: Any) -> bool:
    """A hinge classifier is right when the score has the label's sign (t in {-1, +1})."""
    return (_data(score) > 0.0) == (target > 0)


def _logit_has_sign_of_label(logit: Any, target: Any) -> bool:
    """A logistic classifier is right when σ(a) > ½, i.e. a > 0, exactly for t = 1."""
    return (_data(logit) > 0.0) == (target == 1)


def _probability_over_half(probability: Any, target: Any) -> bool:
    """A probability p is right when p > ½ exactly for t = 1."""
    return (_data(probability) > 0.5) == (target == 1)


def _argmax_is_class(logits: Any, k: int) -> bool:
    """A softmax classifier is right when its largest logit is the true class k."""
    scores = [_data(a) for a in logits]
    return scores.index(max(scores)) == k


#: How to tell a right answer for each classification loss (regression losses have none).
CORRECT: dict[Loss, Correct] = {
    losses.hinge: _score_has_sign_of_label,
    losses.binary_cross_entropy_with_logits: _logit_has_sign_of_label,
    losses.binary_cross_entropy: _probability_over_half,
    losses.cross_entropy: _argmax_is_class,
}


@dataclass
class History:
    """Per epoch: the mean batch error (penalty included) and accuracy (empty without a rule)."""

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)


def _check_data(inputs: Sequence[Any], targets: Sequence[Any]) -> None:
    if len(inputs) != len(targets):
        raise ValueError(f"{len(inputs)} inputs but {len(targets)} targets")
    if len(inputs) == 0:
        raise ValueError("the data set is empty")


def _penalty(model: Module, l2: float) -> Any:
    """l2 · Σ_i w_i², as one dot node of the parameters with themselves."""
    parameters = model.parameters()
    return l2 * autodiff.dot(parameters, parameters)


def train(
    model: Module,
    inputs: Sequence[Any],
    targets: Sequence[Any],
    *,
    loss: Loss,
    optimizer: Optimizer,
    epochs: int = 100,
    batch_size: int | None = None,
    l2: float = 0.0,
    correct: Correct | None = None,
    seed: int | None = 0,
    progress: bool = True,
    compiled: bool = False,
    live: bool | LiveView = False,
) -> History:
    """Minimise (1/B) Σ_{n in batch} loss(model(x_n), t_n) + l2 Σ w² with `optimizer`, per epoch.

    `batch_size=None` uses the whole data set per step (batch gradient descent, Bishop (8.14));
    otherwise each epoch visits the points in an order shuffled by `seed`. The accuracy of an epoch
    is counted on the forward passes it made, before each update, using `correct(output, target)`
    (by default the rule for `loss` in `CORRECT`). `compiled=True` records one data point's error
    E_n as a program (autodiff.record) and replays it over each batch on numpy arrays: the same
    losses and weights, faster. Every point must run the same operations: a comparison of
    Values in the model is a guard, and a point that takes another branch raises GuardError.
    `live=True` (or an `nn.LiveView`) redraws the curves, the decision boundary and one point's
    network in place in Jupyter (nn/live.py).
    """
    _check_data(inputs, targets)
    epochs = count("epochs", epochs, 0)
    l2 = rate("l2", l2)
    size = len(inputs) if batch_size is None else count("batch_size", batch_size, 1)
    correct = correct or CORRECT.get(loss)
    rng = random_stream(seed)
    order = list(range(len(inputs)))
    history = History()
    replay = CompiledError(model, inputs, targets, loss) if compiled else None
    view = start_view(live, model, inputs, targets, loss, epochs)
    showing = view is not None and view.shows_itself  # the live figure replaces the bar
    bar = _progress_bar(epochs) if progress and not showing else None
    try:
        for _ in range(epochs):
            if batch_size is not None:
                rng.shuffle(order)
            total_loss = 0.0
            right = 0
            for start in range(0, len(order), size):
                batch = order[start : start + size]
                if replay is not None:
                    # 1-2. The same error and gradient by replaying E_n over the batch (x 1/B).
                    optimizer.zero_grad()
                    point_losses, outputs = replay.backward(batch, 1.0 / len(batch))
                    error_value = mean(point_losses)
                    if l2:
                        penalty = _penalty(model, l2)
                        penalty.backward()
                        error_value += penalty.data
                else:
                    outputs = [model(inputs[n]) for n in batch]
                    # 1. The batch's error: the mean of the per-point errors E_n, plus the penalty.
                    point_losses = [loss(out, targets[n]) for out, n in zip(outputs, batch)]
                    error = autodiff.sum(point_losses) / len(batch)
                    if l2:
                        error = error + _penalty(model, l2)
                    # 2. Backpropagation.
                    optimizer.zero_grad()
                    error.backward()
                    error_value = error.data
                # 3. One step down the gradient.
                optimizer.step()
                total_loss += error_value * len(batch)
                if correct is not None:
                    right += sum(correct(out, targets[n]) for out, n in zip(outputs, batch))
            history.loss.append(total_loss / len(inputs))
            if correct is not None:
                history.accuracy.append(right / len(inputs))
            if bar is not None:
                bar.set_postfix(_summary(history), refresh=False)
                bar.update()
            if view is not None:
                view.update(history)
    finally:
        if bar is not None:
            bar.close()
        if view is not None:
            view.close(history)
    return history


def _progress_bar(epochs: int) -> Any:
    from tqdm.auto import tqdm  # imported here: only the progress bar needs tqdm

    return tqdm(total=epochs, desc="training", unit="epoch")


def _summary(history: History) -> dict[str, str]:
    summary = {"loss": f"{history.loss[-1]:.4f}"}
    if history.accuracy:
        summary["accuracy"] = f"{history.accuracy[-1]:.1%}"
    return summary


def evaluate(
    model: Module,
    inputs: Sequence[Any],
    targets: Sequence[Any],
    *,
    loss: Loss,
    correct: Correct | None = None,
) -> tuple[float, float | None]:
    """(mean loss, accuracy) of `model` on a data set, computed without recording a graph."""
    _check_data(inputs, targets)
    correct = correct or CORRECT.get(loss)
    with autodiff.no_grad():
        outputs = [model(x) for x in inputs]
        mean_loss = sum(_data(loss(out, t)) for out, t in zip(outputs, targets)) / len(inputs)
    if correct is None:
        return mean_loss, None
    return mean_loss, sum(correct(out, t) for out, t in zip(outputs, targets)) / len(inputs)
