"""The live view's cost: the demo's training with and without `live`, side by side in one run.

`python tests/bench_live.py [--epochs N] [--repeats R]` trains MLP(2, [16, 16, 1]) on two moons
(hinge + L2, Adam, as `make demo`) with no view, then with a LiveView that draws (show=True, as in
Jupyter, at its default refresh), alternating, and prints the median times and their ratio.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import time

import nn
from nn import MLP, Adam, LiveView, datasets, losses


def run(live: LiveView | bool, epochs: int) -> float:
    points, classes = datasets.make_moons(100, noise=0.1, seed=0)
    labels = [2 * c - 1 for c in classes]
    model = MLP(2, [16, 16, 1], seed=0)
    optimizer = Adam(model.parameters(), lr=0.05)
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):  # outside Jupyter, display() prints a repr
        nn.train(
            model, points, labels, loss=losses.hinge, optimizer=optimizer, epochs=epochs,
            l2=1e-4, progress=False, live=live,
        )  # fmt: skip
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    plain, live, frames, drawing = [], [], [], []
    for _ in range(args.repeats):
        plain.append(run(False, args.epochs))
        view = LiveView(show=True)
        live.append(run(view, args.epochs))
        frames.append(view.frames_drawn)
        drawing.append(view.seconds_drawing)
    ratio = statistics.median(live) / statistics.median(plain)
    print(f"training {args.epochs} epochs, median of {args.repeats}:")
    print(f"  without live view   {statistics.median(plain):7.2f} s")
    print(f"  with live view      {statistics.median(live):7.2f} s  ({frames} frames drawn)")
    print(f"  overhead            {100 * (ratio - 1):+6.1f} %  (ratio of the medians)")
    # The view's own time (figure set-up and frames) is less sensitive to a busy machine.
    share = statistics.median(d / p for d, p in zip(drawing, plain))
    own = statistics.median(drawing)
    print(f"  view's own time     {own:7.2f} s  = {100 * share:.1f} % of training")


if __name__ == "__main__":
    main()
