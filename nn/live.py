"""Training seen as it happens: `train(..., live=True)` or `train(..., live=LiveView(...))`.

One figure, redrawn in place in Jupyter: the loss and accuracy curves, the decision boundary for
2-D inputs, and one data point's network with each unit's a_j, z_j and δ_j = ∂E_n/∂a_j (8.8). It
redraws only as often as keeps its cost near a twentieth of the training time; outside Jupyter it
draws nothing (train shows its progress bar) unless it is saving an animated GIF.
"""

from __future__ import annotations

import io
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import autodiff

from .draw import weight_colour
from .module import MLP, Module

SCREEN_DPI = 80
FIRST_GUESS = 0.3  # seconds per frame, until the first frame has been timed
SHARE = 0.05  # redraw when the training since the last frame took 1/SHARE times a frame's cost


def in_jupyter() -> bool:
    """True inside a Jupyter kernel (where a picture can be updated in place)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")


class LiveView:
    """The live figure of a training run; pass it to `train(..., live=view)`.

    `point` is the index of the data point whose network is drawn; `show=None` shows the figure
    when running in Jupyter; `gif` is a path to save `gif_frames` frames, evenly spaced over the
    epochs, as an animated GIF (at `gif_dpi`); `min_interval` is the least time in seconds
    between two redraws on screen; `grid` the decision boundary's resolution (grid x grid);
    `loss` the error E_n whose δ's the network shows (by default the training loss; the hinge
    loss of a point beyond the margin is 0, and so is every δ, where `nn.sse` is not).
    """

    def __init__(
        self,
        point: int = 0,
        *,
        show: bool | None = None,
        gif: str | Path | None = None,
        gif_frames: int = 20,
        gif_dpi: int = SCREEN_DPI,
        min_interval: float = 0.5,
        grid: int = 40,
        loss: Any = None,
    ) -> None:
        if type(point) is not int or point < 0:
            raise ValueError(f"point must be a data point's index (an int >= 0), not {point!r}")
        if type(gif_frames) is not int or gif_frames < 1:
            raise ValueError(f"gif_frames must be a positive int, not {gif_frames!r}")
        if not isinstance(min_interval, (int, float)) or not min_interval >= 0:
            raise ValueError(f"min_interval must be a number >= 0, not {min_interval!r}")
        for name, number, least in (("gif_dpi", gif_dpi, 10), ("grid", grid, 2)):
            if type(number) is not int or number < least:
                raise ValueError(f"{name} must be an int >= {least}, not {number!r}")
        self.point = point
        self.show = in_jupyter() if show is None else bool(show)
        self.gif = None if gif is None else Path(gif)
        self.gif_frames = gif_frames
        self.gif_dpi = gif_dpi
        self.min_interval = float(min_interval)
        self.grid = grid
        self.point_loss = loss  # E_n of the drawn point; None: the training loss
        self.frames_drawn = 0  # how many times the figure was drawn (for the record and tests)
        self.seconds_drawing = 0.0  # the view's own time: setting up the figure and every frame

    @property
    def shows_itself(self) -> bool:
        """True when the figure replaces the progress bar (in Jupyter)."""
        return self.show

    # --- the training loop's hooks ---------------------------------------------------------

    def start(
        self, model: Module, inputs: Sequence[Any], targets: Sequence[Any], loss: Any, epochs: int
    ) -> None:
        """Set up the figure for this run (called by `train` before the first epoch)."""
        if self.point >= len(inputs):
            raise ValueError(f"point {self.point} is not a data point: there are {len(inputs)}")
        self.model, self.inputs, self.targets, self.loss = model, inputs, targets, loss
        self.epochs = epochs
        self._last_draw = time.perf_counter()
        self._cost = FIRST_GUESS
        self._handle = None
        self._frames = []  # the GIF's frames, in full colour until the GIF is written
        self._shown_epoch = -1  # the epoch of the last frame shown on screen
        self._gif_epochs = set()
        if not (self.show or self.gif):
            return
        start = time.perf_counter()
        self._build_figure()
        self.seconds_drawing += time.perf_counter() - start
        if self.gif is not None:
            # Evenly spread, the last epoch among them: frames k·epochs/gif_frames, k = 1, 2, ...
            frames = min(self.gif_frames, epochs)
            self._gif_epochs = {round(k * epochs / frames) for k in range(1, frames + 1)}

    def update(self, history: Any) -> None:
        """After each epoch: redraw when it is due, and grab a GIF frame when one is due."""
        if not (self.show or self.gif):
            return
        epoch = len(history.loss)
        now = time.perf_counter()
        # Due when the training since the last frame took at least 1/SHARE times a frame's cost,
        # so drawing costs at most about SHARE of the run, and not more often than min_interval.
        due_on_screen = self.show and now - self._last_draw >= max(
            self.min_interval, self._cost / SHARE
        )
        due_in_gif = epoch in self._gif_epochs
        if due_on_screen or due_in_gif:
            self._frame(history, due_on_screen, due_in_gif)
            self._last_draw = time.perf_counter()
            if due_on_screen:
                self._shown_epoch = epoch

    def close(self, history: Any) -> None:
        """After the last epoch: the final picture stays (in a saved notebook too); GIF written."""
        if not (self.show or self.gif):
            return
        if self.show and history.loss and self._shown_epoch != len(history.loss):
            self._frame(history, True, False)
        if self._frames:
            from PIL import Image

            # One palette for every frame, the last one's (it has every colour of the run): the
            # GIF then stores only what changed from frame to frame. No dithering: flat areas
            # stay flat and compress well.
            palette = self._frames[-1].quantize(colors=128, dither=Image.Dither.NONE)
            first, *rest = [
                frame.quantize(palette=palette, dither=Image.Dither.NONE) for frame in self._frames
            ]
            # ~6 frames a second, the last one held for 2 s; loop=0 repeats for ever.
            durations = [160] * len(rest) + [2000]
            first.save(self.gif, save_all=True, append_images=rest, duration=durations, loop=0)
            self._frames = []

    # --- drawing ---------------------------------------------------------------------------

    def _build_figure(self) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        two_d = len(self.inputs[0]) == 2
        network = isinstance(self.model, MLP)
        panels = 1 + two_d + network
        width = 3.6 * panels + 0.8 * network
        # No wider than 2.8:1, so the figure fits a 16:9 slide or a notebook cell.
        self.figure = Figure(figsize=(width, max(3.4, width / 2.8)), dpi=SCREEN_DPI)
        FigureCanvasAgg(self.figure)  # renders to memory, whatever backend pyplot uses
        ratios = [1.0] * (1 + two_d) + [1.4] * network
        # A fixed layout: a layout engine would cost more than drawing, on every frame. The
        # margins are in inches (the loss axis label needs 0.7 in; the accuracy axis label, at
        # the right edge when the loss panel is the only one, 0.65 in), whatever the width.
        right = 1 - (0.65 if panels == 1 else 0.15) / width
        axes = self.figure.subplots(
            1, panels, squeeze=False, width_ratios=ratios,
            gridspec_kw={"left": 0.7 / width, "right": right, "bottom": 0.2, "top": 0.9,
                         "wspace": 0.55},
        )[0]  # fmt: skip
        self.loss_axes = axes[0]
        self.boundary_axes = axes[1] if two_d else None
        self.network_axes = axes[-1] if network else None
        self.loss_axes.set(xlabel="epoch", ylabel="mean loss", title="training")
        (self._loss_line,) = self.loss_axes.plot([], [], color="tab:blue", label="loss")
        self.accuracy_axes = self.loss_axes.twinx()
        self.accuracy_axes.set(ylabel="accuracy", ylim=(0, 1.05))
        (self._accuracy_line,) = self.accuracy_axes.plot(
            [], [], color="tab:green", label="accuracy"
        )
        self.loss_axes.legend(
            handles=[self._loss_line, self._accuracy_line], loc="center right", fontsize=8
        )
        self._contours = []
        if self.boundary_axes is not None:
            self._setup_boundary()
        if self.network_axes is not None:
            self._setup_network()

    def _frame(self, history: Any, on_screen: bool, in_gif: bool) -> None:
        """Draw the figure once; show it and/or keep it as a GIF frame. Its cost sets the pace."""
        from PIL import Image

        start = time.perf_counter()
        self._draw(history)
        canvas = self.figure.canvas
        canvas.draw()
        image = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba())
        image = image.convert("RGB")
        if in_gif:
            scale = self.gif_dpi / SCREEN_DPI
            size = (round(image.width * scale), round(image.height * scale))
            self._frames.append(image.resize(size, Image.Resampling.LANCZOS))
        if on_screen:
            self._display(image)
        self.frames_drawn += 1
        self._cost = time.perf_counter() - start
        self.seconds_drawing += self._cost

    def _draw(self, history: Any) -> None:
        """Bring every panel up to date with the model and the history."""
        epochs = range(1, len(history.loss) + 1)
        self._loss_line.set_data(epochs, history.loss)
        self._accuracy_line.set_data(epochs[: len(history.accuracy)], history.accuracy)
        if not history.accuracy and self.accuracy_axes.get_visible():
            # No accuracy for these targets (regression): no empty axis, no legend entry for it.
            self.accuracy_axes.set_visible(False)
            self.loss_axes.legend(handles=[self._loss_line], loc="center right", fontsize=8)
        finite = [x for x in history.loss if math.isfinite(x)]
        if finite:
            self.loss_axes.set_ylim(min(0.0, min(finite)), max(finite) * 1.05 or 1.0)
        self.loss_axes.set_xlim(0, max(self.epochs, 1))
        self.loss_axes.set_title(f"epoch {len(history.loss)}/{self.epochs}", fontsize=10)
        if self.boundary_axes is not None:
            self._draw_boundary()
        if self.network_axes is not None:
            self._draw_network()

    def _display(self, picture: Any) -> None:
        """Show the frame in the notebook, in place of the previous one."""
        from IPython.display import Image, display

        buffer = io.BytesIO()
        picture.save(buffer, format="png", compress_level=1)
        image = Image(data=buffer.getvalue(), format="png")
        if self._handle is None:
            self._handle = display(image, display_id=True)
        else:
            self._handle.update(image)

    # --- decision boundary -------------------------------------------------------------

    def _setup_boundary(self) -> None:
        xs = [float(p[0]) for p in self.inputs]
        ys = [float(p[1]) for p in self.inputs]
        pad_x, pad_y = 0.1 * (max(xs) - min(xs)) + 0.1, 0.1 * (max(ys) - min(ys)) + 0.1
        self._extent = (min(xs) - pad_x, max(xs) + pad_x, min(ys) - pad_y, max(ys) + pad_y)
        axes = self.boundary_axes
        classes = sorted({_class_of(t) for t in self.targets})
        colours = ["tab:red", "tab:blue", "tab:green", "tab:purple", "tab:olive"]
        for k, label in enumerate(classes):
            members = [(x, y) for x, y, t in zip(xs, ys, self.targets) if _class_of(t) == label]
            axes.scatter(*zip(*members), s=12, c=colours[k % 5], edgecolors="black", lw=0.3)
        axes.scatter(
            [xs[self.point]], [ys[self.point]], s=120, facecolors="none", edgecolors="black", lw=1.5
        )
        axes.set(xlim=self._extent[:2], ylim=self._extent[2:], title="decision boundary")
        axes.set_xlabel("$x_1$")
        axes.set_ylabel("$x_2$")

    def _draw_boundary(self) -> None:
        left, right, bottom, top = self._extent
        n = self.grid
        grid_x = [left + (right - left) * i / (n - 1) for i in range(n)]
        grid_y = [bottom + (top - bottom) * j / (n - 1) for j in range(n)]
        scores = _scores(self.model, grid_x, grid_y)
        for contour in self._contours:
            contour.remove()
        axes = self.boundary_axes
        level = 0.5 if self.model_outputs_probability else 0.0
        span = max(max(abs(s - level) for row in scores for s in row), 1e-9)
        self._contours = [
            axes.contourf(
                grid_x,
                grid_y,
                scores,
                levels=12,
                cmap="RdBu",
                alpha=0.45,
                vmin=level - span,
                vmax=level + span,
                zorder=0,
            ),
            axes.contour(grid_x, grid_y, scores, levels=[level], colors="black", linewidths=1.2),
        ]

    @property
    def model_outputs_probability(self) -> bool:
        """A sigmoid output unit gives probabilities: its boundary is at ½, a score's at 0."""
        return isinstance(self.model, MLP) and self.model.output_activation == "sigmoid"

    # --- one point's network -----------------------------------------------------------

    def _setup_network(self) -> None:
        from matplotlib.collections import LineCollection

        axes = self.network_axes
        sizes = [self.model.nin, *(len(layer.neurons) for layer in self.model.layers)]
        tallest = max(sizes)
        self._positions = [
            [(column, (size - 1) / 2 - k) for k in range(size)]  # each column centred on 0
            for column, size in enumerate(sizes)
        ]
        segments = [
            [self._positions[n][i], self._positions[n + 1][j]]
            for n, layer in enumerate(self.model.layers)
            for j in range(len(layer.neurons))
            for i in range(layer.nin)
        ]
        self._edges = LineCollection(segments, zorder=1)
        axes.add_collection(self._edges)
        # Three small squares per unit: a_j, z_j, δ_j; one square per input: x_i.
        width = 0.22
        self._markers = {}
        for name, offset in (("a", -width), ("z", 0.0), ("δ", width)):
            points = [p for column in self._positions[1:] for p in column]
            self._markers[name] = axes.scatter(
                [x + offset for x, _ in points],
                [y for _, y in points],
                c=[0.0] * len(points),
                marker="s",
                s=_marker_size(tallest),
                cmap="coolwarm",
                edgecolors="black",
                lw=0.3,
                zorder=2,
            )
            axes.text(1 + offset, (tallest - 1) / 2 + 0.9, name, ha="center", fontsize=8)
        inputs = self._positions[0]
        self._markers["x"] = axes.scatter(
            [x for x, _ in inputs], [y for _, y in inputs], c=[0.0] * len(inputs), marker="s",
            s=_marker_size(tallest), cmap="coolwarm", edgecolors="black", lw=0.3, zorder=2,
        )  # fmt: skip
        axes.text(0, (tallest - 1) / 2 + 0.9, "x", ha="center", fontsize=8)
        axes.set_xlim(-0.5, len(sizes) - 0.5)
        axes.set_ylim(-(tallest - 1) / 2 - 1.2, (tallest - 1) / 2 + 1.5)
        axes.set_axis_off()
        self._network_text = axes.text(
            0.5, 0.0, "", transform=axes.transAxes, ha="center", va="top", fontsize=8
        )

    def _draw_network(self) -> None:
        x, t = self.inputs[self.point], self.targets[self.point]
        output = self.model(x)
        point_loss = self.point_loss or self.loss
        error = point_loss(output, t)
        neurons = [neuron for layer in self.model.layers for neuron in layer.neurons]
        preactivations = [neuron.preactivation for neuron in neurons]
        # δ_j = ∂E_n/∂a_j (8.8), without touching any grad (the optimiser's are left alone).
        deltas = autodiff.gradients(error, preactivations)
        values = {
            "a": [a.data for a in preactivations],
            "z": [neuron.output.data for neuron in neurons],
            "δ": deltas,
            "x": [float(v) for v in x],
        }
        for name, numbers in values.items():
            span = max(max(abs(v) for v in numbers), 1e-12)
            self._markers[name].set_array(numbers)
            self._markers[name].set_clim(-span, span)
        weights = [
            w.data
            for layer in self.model.layers
            for neuron in layer.neurons
            for w in neuron.weights
        ]
        largest = max(max(abs(w) for w in weights), 1e-12)
        self._edges.set_color([weight_colour(w) for w in weights])
        self._edges.set_linewidth([0.2 + 2.3 * abs(w) / largest for w in weights])
        self._edges.set_alpha(0.7)
        self.network_axes.set_title(
            f"point {self.point}: t = {_short(t)}, {_error_name(point_loss)} = {_short(error)}",
            fontsize=10,
        )
        self._network_text.set_text(
            "squares: a, z and δ = ∂E_n/∂a, red > 0 > blue,\n"
            "each scaled to its largest |value|\n"
            "lines: w > 0 blue, w < 0 orange, width ∝ |w|"
        )


def _class_of(target: Any) -> Any:
    """The class a target stands for: ±1 and 0/1 labels as they are, a list by its argmax."""
    if isinstance(target, (list, tuple)):
        return max(range(len(target)), key=target.__getitem__)
    return target


def _short(x: Any) -> str:
    value = x.data if isinstance(x, autodiff.Value) else x
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def _error_name(loss: Any) -> str:
    """E_n with the loss it is, "E_n (sse)": the δ's may be another error's than training's."""
    name = getattr(loss, "__name__", "")
    return f"E_n ({name})" if name.isidentifier() else "E_n"  # a lambda: just E_n


def _marker_size(tallest: int) -> float:
    """Square markers (area in pt²) that shrink as a column holds more units."""
    return min(120.0, max(10.0, 600.0 / tallest))


def _scores(model: Module, grid_x: list[float], grid_y: list[float]) -> list[list[float]]:
    """The model's output (the first one, for several) over the grid, without building a graph."""
    if isinstance(model, MLP):
        return _mlp_scores(model, grid_x, grid_y)
    with autodiff.no_grad():
        rows = []
        for gy in grid_y:
            outputs = [model([gx, gy]) for gx in grid_x]
            rows.append([_first(out) for out in outputs])
    return rows


def _first(output: Any) -> float:
    first = output[0] if isinstance(output, (list, tuple)) else output
    return first.data if isinstance(first, autodiff.Value) else float(first)


_NUMPY_ACTIVATIONS = {
    "tanh": lambda np, a: np.tanh(a),
    "sigmoid": lambda np, a: 0.5 * (1.0 + np.tanh(0.5 * a)),  # σ(a), stable for any a
    "relu": lambda np, a: np.maximum(a, 0.0),
    "linear": lambda np, a: a,
}


def _mlp_scores(model: MLP, grid_x: list[float], grid_y: list[float]) -> list[list[float]]:
    """The MLP's forward pass over the whole grid at once with numpy (a frame must be cheap)."""
    import numpy as np

    xs, ys = np.meshgrid(np.array(grid_x), np.array(grid_y))
    z = np.stack([xs.ravel(), ys.ravel()])  # 2 x G²
    for layer in model.layers:
        weights = np.array([[w.data for w in n.weights] for n in layer.neurons])
        biases = np.array([[n.bias.data] for n in layer.neurons])
        z = _NUMPY_ACTIVATIONS[layer.activation](np, weights @ z + biases)
    return z[0].reshape(xs.shape).tolist()


def start_view(
    live: bool | LiveView,
    model: Module,
    inputs: Sequence[Any],
    targets: Sequence[Any],
    loss: Any,
    epochs: int,
) -> LiveView | None:
    """`train`'s `live` argument as a started view (None for False)."""
    if live is False:
        return None
    if live is True:
        live = LiveView()
    if not isinstance(live, LiveView):
        raise TypeError(f"live must be a bool or an nn.LiveView, not {type(live).__name__}")
    live.start(model, inputs, targets, loss, epochs)
    return live
