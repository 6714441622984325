"""The main job (`make demo`, `python -m nn.demo`): train the textbook network and draw what it did.

A tanh network MLP(2, [16, 16, 1]) learns the two moons (100 points) with the hinge loss and Adam,
then the run writes under `out/`, each picture sized for a slide: the decision boundary and loss
curve (PNG), the training as an animated GIF, one neuron's loss as a computation graph (SVG), the
network with its δ's for one point's sum-of-squares error and a small network for slides (SVG),
and Bishop's example (8.49) as a trace figure (SVG) and a trace table with its chain rules (text).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import autodiff
from autodiff import Value

from . import datasets, losses
from .draw import draw_network
from .live import LiveView
from .module import MLP, Neuron
from .optim import Adam
from .training import History, evaluate, train

HIDDEN = [16, 16]
LEARNING_RATE = 0.05
L2 = 1e-4
GRID = 60  # the decision boundary is evaluated on a GRID x GRID mesh
GIF_FRAMES = 12  # each frame costs about as much as a few epochs


@dataclass
class DemoResult:
    """What a run produced: the final training accuracy, the training time and the files written."""

    accuracy: float
    seconds: float
    files: list[Path]


def run(
    epochs: int = 100, seed: int = 0, out_dir: Path | str = "out", progress: bool = True
) -> DemoResult:
    """Train on two moons, print progress and accuracy, and write the pictures and the trace."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    points, classes = datasets.make_moons(100, noise=0.1, seed=seed)
    labels = [2 * label - 1 for label in classes]  # the hinge loss wants t in {-1, +1}
    model = MLP(2, [*HIDDEN, 1], activation="tanh", seed=seed)
    optimizer = Adam(model.parameters(), lr=LEARNING_RATE)
    print(f"training {model} on two moons ({len(points)} points), hinge loss + {L2} Σw², Adam")
    # The GIF's frames are drawn between epochs; `seconds` below includes them. Its network shows
    # the δ's of the point's sum-of-squares error: the hinge loss beyond the margin makes them 0.
    view = LiveView(
        point=0, show=False, gif=out / "training.gif", gif_frames=GIF_FRAMES, loss=losses.sse
    )
    start = time.perf_counter()
    history = train(
        model,
        points,
        labels,
        loss=losses.hinge,
        optimizer=optimizer,
        epochs=epochs,
        l2=L2,
        progress=progress,
        live=view,
    )
    seconds = time.perf_counter() - start
    loss, accuracy = evaluate(model, points, labels, loss=losses.hinge)
    print(
        f"final training loss {loss:.4f} (hinge, without the penalty the progress bar includes), "
        f"accuracy {accuracy:.1%} ({seconds:.1f} s)"
    )

    files = [
        _plot_decision_boundary(model, points, classes, out / "decision_boundary.png"),
        _plot_history(history, out / "loss.png"),
        out / "training.gif",
        _write_neuron_graph(points[0], labels[0], seed, out / "graph.svg"),
        _write_network(model, points[0], labels[0], out / "network.svg"),
        _write_network(
            MLP(2, [3, 1], activation="tanh", seed=seed),
            points[0],
            labels[0],
            out / "network_small.svg",
        ),
        *_write_trace(out / "trace.txt", out / "trace.svg"),
    ]
    for path in files:
        print(f"wrote {path}")
    return DemoResult(accuracy, seconds, files)


def _plot_decision_boundary(model: MLP, points: list, classes: list[int], path: Path) -> Path:
    """The score y(x) over the plane, its zero level (the decision boundary) and the data."""
    import matplotlib

    matplotlib.use("Agg")  # no display: render to files only
    import matplotlib.pyplot as plt

    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    left, right = min(xs) - 0.5, max(xs) + 0.5
    bottom, top = min(ys) - 0.5, max(ys) + 0.5
    grid_x = [left + (right - left) * i / (GRID - 1) for i in range(GRID)]
    grid_y = [bottom + (top - bottom) * j / (GRID - 1) for j in range(GRID)]
    with autodiff.no_grad():  # inference only: no graph is recorded
        scores = [[model([gx, gy]).data for gx in grid_x] for gy in grid_y]
    figure, axes = plt.subplots(figsize=(5.5, 4.5))
    filled = axes.contourf(grid_x, grid_y, scores, levels=20, cmap="RdBu", alpha=0.6)
    axes.contour(grid_x, grid_y, scores, levels=[0.0], colors="black", linewidths=1.5)
    figure.colorbar(filled, ax=axes, label="score y(x)")
    for label, color in ((0, "tab:red"), (1, "tab:blue")):
        members = [p for p, t in zip(points, classes) if t == label]
        axes.scatter(*zip(*members), c=color, edgecolors="black", s=25, label=f"class {label}")
    axes.set(title="Two moons: decision boundary y(x) = 0", xlabel="$x_1$", ylabel="$x_2$")
    axes.legend(loc="lower left")
    figure.tight_layout()
    figure.savefig(path, dpi=200)
    plt.close(figure)
    return path


def _plot_history(history: History, path: Path) -> Path:
    """The mean training loss (log scale) and the training accuracy, epoch by epoch."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = range(1, len(history.loss) + 1)
    figure, (loss_axes, accuracy_axes) = plt.subplots(1, 2, figsize=(9, 3.5))
    loss_axes.plot(epochs, history.loss)
    loss_axes.set(
        title="training loss", xlabel="epoch", ylabel="mean hinge loss + L2", yscale="log"
    )
    accuracy_axes.plot(epochs, history.accuracy, color="tab:green")
    accuracy_axes.set(title="training accuracy", xlabel="epoch", ylabel="accuracy", ylim=(0, 1.05))
    figure.tight_layout()
    figure.savefig(path, dpi=200)
    plt.close(figure)
    return path


def _write_neuron_graph(x: list[float], target: int, seed: int, path: Path) -> Path:
    """The computation graph of one tanh neuron's error E = ½ (z - t)², after its backward pass."""
    inputs = [Value(x[0], "x1"), Value(x[1], "x2")]
    neuron = Neuron(2, activation="tanh", seed=seed)
    error = losses.sse(neuron(inputs), target)
    error.label = "E"
    error.backward()
    # Compact boxes: the five inputs side by side still fit a slide.
    path.write_bytes(autodiff.draw_dot(error, style="compact").pipe(format="svg"))
    return path


def _write_network(model: MLP, x: list[float], target: int, path: Path) -> Path:
    """The trained network with each unit's a, z and δ for one point's error E_n = ½ (y - t)²."""
    # NOTE: not the hinge loss the network was trained on: once a point is classified with a
    # margin it is 0 there, and so would be every δ in the picture. The sum-of-squares error
    # (8.17) is the chapter's own example, with δ = y - t at the linear output (8.11).
    error = losses.sse(model(x), target)
    error.label = "E_n = ½(y - t)²"  # the caption names the error it shows
    error.backward()
    picture = draw_network(model, target=target, error=error)
    path.write_bytes(picture.pipe(format="svg"))
    return path


def _write_trace(path: Path, figure_path: Path) -> tuple[Path, Path]:
    """Bishop's example f = x1 x2 + exp(x1 x2) - sin x2 (8.49): its trace, chain rules, figure."""
    x1, x2 = Value(1.5, "x1"), Value(0.5, "x2")
    v3 = x1 * x2
    v4 = x2.sin()
    v5 = v3.exp()
    v6 = v3 - v4
    v7 = v5 + v6
    v7.backward()
    header = "Bishop (8.49): f(x1, x2) = x1 x2 + exp(x1 x2) - sin(x2) at x1 = 1.5, x2 = 0.5\n\n"
    rules = "\n".join(str(autodiff.explain(node)) for node in (x2, v3))
    text = f"{header}{autodiff.trace(v7, wrt=x1)}\n\nTwo adjoints, term by term:\n{rules}\n"
    path.write_text(text, encoding="utf-8")
    figure = autodiff.draw_trace(v7, wrt=x1, adjoints=True)
    figure_path.write_bytes(figure.pipe(format="svg"))
    return path, figure_path


def main(argv: Sequence[str] | None = None) -> DemoResult:
    """The command line: `python -m nn.demo [--epochs N] [--seed S] [--out DIR] [--quiet]`."""
    parser = argparse.ArgumentParser(
        prog="python -m nn.demo",
        description="Train the textbook tanh network on two moons and write plots and graphs.",
    )
    parser.add_argument("--epochs", type=int, default=100, help="training epochs (default 100)")
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the data and weights (default 0)"
    )
    parser.add_argument("--out", default="out", help="directory for the outputs (default out/)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error("--epochs must be at least 1")
    return run(epochs=args.epochs, seed=args.seed, out_dir=args.out, progress=not args.quiet)


if __name__ == "__main__":
    main()
