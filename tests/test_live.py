"""The live training view: what it draws, when it draws, the GIF, and that it changes no number."""

import pytest
from PIL import Image

import autodiff
import nn
from nn import MLP, SGD, LiveView, Neuron, datasets, losses


def moons(n=20):
    points, classes = datasets.make_moons(n, noise=0.1, seed=0)
    return points, [2 * c - 1 for c in classes]


def fit(live, model=None, epochs=4, progress=False):
    points, labels = moons()
    model = model or MLP(2, [3, 1], seed=0)
    history = nn.train(
        model, points, labels, loss=losses.hinge, optimizer=SGD(model.parameters(), lr=0.1),
        epochs=epochs, progress=progress, live=live,
    )  # fmt: skip
    return model, history


def fit_one_input(live, model):
    """Two epochs on two 1-D points: no decision boundary panel."""
    nn.train(
        model, [[0.1], [0.9]], [-1, 1], loss=losses.hinge,
        optimizer=SGD(model.parameters(), lr=0.1), epochs=2, progress=False, live=live,
    )  # fmt: skip


def test_outside_jupyter_it_draws_nothing_and_the_progress_bar_stays(capsys):
    view = LiveView()
    assert view.show is False  # pytest is not a Jupyter kernel
    fit(view, progress=True)
    assert view.frames_drawn == 0 and not hasattr(view, "figure")
    assert "training" in capsys.readouterr().err  # tqdm's bar


def test_live_true_is_a_default_view():
    _, history = fit(True)
    assert len(history.loss) == 4


def test_shown_it_replaces_the_bar_and_leaves_a_final_picture(capsys):
    view = LiveView(show=True, min_interval=0.0)
    _, history = fit(view, progress=True)
    shown = capsys.readouterr()
    assert "training" not in shown.err  # no progress bar under the live figure
    assert "Image" in shown.out  # IPython's display() outside a kernel prints the object
    assert view.frames_drawn >= 1  # at least the final frame
    # The loss panel holds the whole history; the title says how far it got.
    _, ys = view._loss_line.get_data()
    assert list(ys) == history.loss and view.loss_axes.get_title() == "epoch 4/4"


def test_the_network_panel_shows_the_points_a_z_and_delta():
    view = LiveView(point=5, show=True)
    model, _ = fit(view)
    points, labels = moons()
    output = model(points[5])
    error = losses.hinge(output, labels[5])
    neurons = [n for layer in model.layers for n in layer.neurons]
    deltas = autodiff.gradients(error, [n.preactivation for n in neurons])
    assert list(view._markers["δ"].get_array()) == pytest.approx(deltas, rel=1e-12)
    assert list(view._markers["a"].get_array()) == pytest.approx(
        [n.preactivation.data for n in neurons], rel=1e-12
    )
    assert list(view._markers["z"].get_array()) == pytest.approx(
        [n.output.data for n in neurons], rel=1e-12
    )
    assert "point 5" in view.network_axes.get_title()


def test_the_network_panel_can_show_another_errors_deltas():
    view = LiveView(point=5, show=True, loss=nn.sse)
    model, _ = fit(view)
    points, labels = moons()
    output = model(points[5])
    neurons = [n for layer in model.layers for n in layer.neurons]
    deltas = autodiff.gradients(nn.sse(output, labels[5]), [n.preactivation for n in neurons])
    assert list(view._markers["δ"].get_array()) == pytest.approx(deltas, rel=1e-12)
    assert deltas[-1] == pytest.approx(output.data - labels[5])  # δ = y - t at a linear output
    # The title names the error: E_n = 7.5 at 100% accuracy is the sse, not the training loss.
    assert "E_n (sse) = " in view.network_axes.get_title()


def test_the_network_panel_title_names_the_training_loss_by_default():
    view = LiveView(point=5, show=True)
    fit(view)
    assert "E_n (hinge) = " in view.network_axes.get_title()
    unnamed = LiveView(point=5, show=True, loss=lambda y, t: nn.sse(y, t))
    fit(unnamed)
    assert ", E_n = " in unnamed.network_axes.get_title()


def test_the_view_changes_no_parameter_and_no_grad():
    quiet, _ = fit(False)
    watched, _ = fit(LiveView(show=True, min_interval=0.0))
    assert [p.data for p in watched.parameters()] == [p.data for p in quiet.parameters()]
    assert [p.grad for p in watched.parameters()] == [p.grad for p in quiet.parameters()]


def test_gif_has_evenly_spaced_frames_and_fits_a_slide(tmp_path):
    path = tmp_path / "training.gif"
    view = LiveView(gif=path, gif_frames=5)
    fit(view, epochs=10)
    assert view.frames_drawn == 5  # no frame is drawn for a screen that is not there
    spread = LiveView(gif=tmp_path / "spread.gif", gif_frames=4)
    fit(spread, epochs=30)  # epochs 8, 15, 22, 30 (steps of 30 // 4 = 7 would make 5 frames)
    with Image.open(tmp_path / "spread.gif") as gif:
        assert gif.n_frames == 4
    with Image.open(path) as gif:
        assert gif.n_frames == 5  # epochs 2, 4, 6, 8, 10
        width, height = gif.size
    assert 0.5 <= width / height <= 3.0


def test_other_models_and_inputs_draw_the_panels_that_apply():
    view = LiveView(show=True)
    fit(view, model=Neuron(2, activation="linear", seed=0))  # not an MLP: no network panel
    assert view.network_axes is None and view.boundary_axes is not None
    one_d = LiveView(show=True)
    fit_one_input(one_d, MLP(1, [2, 1], seed=0))
    assert one_d.boundary_axes is None and one_d.network_axes is not None


def test_every_axis_label_stays_inside_the_figure():
    # With two panels the fixed 6% left margin cut the loss axis label ("ean loss").
    only_loss = LiveView(show=True)
    fit_one_input(only_loss, Neuron(1, activation="linear", seed=0))
    two = LiveView(show=True)
    fit_one_input(two, MLP(1, [2, 1], seed=0))
    three = LiveView(show=True)
    fit(three)
    for view in (only_loss, two, three):
        renderer = view.figure.canvas.get_renderer()
        width = view.figure.bbox.width
        for axis in (view.loss_axes.yaxis, view.accuracy_axes.yaxis):
            box = axis.label.get_window_extent(renderer)
            assert box.x0 >= 0 and box.x1 <= width, (view.figure.get_size_inches(), box)


def test_bad_arguments():
    with pytest.raises(TypeError, match=r"live must be a bool or an nn\.LiveView"):
        fit("yes")
    with pytest.raises(ValueError, match="not a data point"):
        fit(LiveView(point=20))
    for bad in (-1, 1.5, "0"):
        with pytest.raises(ValueError, match="point"):
            LiveView(point=bad)
    with pytest.raises(ValueError, match="gif_frames"):
        LiveView(gif_frames=0)
    with pytest.raises(ValueError, match="min_interval"):
        LiveView(min_interval=-1)
    with pytest.raises(ValueError, match="gif_dpi"):
        LiveView(gif_dpi=0)
    with pytest.raises(ValueError, match="grid"):
        LiveView(grid=1.5)


def test_without_an_accuracy_there_is_no_accuracy_axis_or_legend_entry():
    view = LiveView(show=True, point=1)
    model = MLP(3, [4, 2], seed=0)
    inputs = [[0.1 * i, -0.2 * i, 0.3] for i in range(6)]
    targets = [[1.0, -1.0] if i % 2 else [-1.0, 1.0] for i in range(6)]  # regression: no rule
    history = nn.train(
        model, inputs, targets, loss=losses.sse, optimizer=SGD(model.parameters(), lr=0.1),
        epochs=3, progress=False, live=view,
    )  # fmt: skip
    assert history.accuracy == []
    assert not view.accuracy_axes.get_visible()
    assert [t.get_text() for t in view.loss_axes.get_legend().get_texts()] == ["loss"]
    classified = LiveView(show=True)
    fit(classified)
    assert classified.accuracy_axes.get_visible()


def test_on_screen_it_redraws_no_more_often_than_min_interval():
    view = LiveView(show=True, min_interval=3600.0)
    fit(view, epochs=4)
    assert view.frames_drawn == 1  # only the final picture, not one per epoch


def test_gif_frames_end_on_the_last_epoch(tmp_path):
    view = LiveView(gif=tmp_path / "unused.gif", gif_frames=4)
    view.start(MLP(2, [3, 1], seed=0), *moons(), losses.hinge, 30)
    assert view._gif_epochs == {8, 15, 22, 30}


@pytest.mark.parametrize("hidden", ["tanh", "relu", "sigmoid", "linear"])
def test_the_boundarys_numpy_forward_pass_is_the_models(hidden):
    from nn.live import _scores

    model = MLP(2, [4, 3, 1], activation=hidden, output_activation="sigmoid", seed=3)
    grid_x, grid_y = [-1.5, 0.0, 0.7], [-0.4, 2.0]
    scores = _scores(model, grid_x, grid_y)
    expected = [[model([gx, gy]).data for gx in grid_x] for gy in grid_y]
    assert scores == [pytest.approx(row, rel=1e-12, abs=1e-15) for row in expected]


def test_a_probability_output_draws_its_boundary_at_one_half():
    points, classes = datasets.make_moons(20, noise=0.1, seed=0)
    model = MLP(2, [3, 1], output_activation="sigmoid", seed=0)
    view = LiveView(show=True)
    nn.train(
        model, points, classes, loss=losses.binary_cross_entropy,
        optimizer=SGD(model.parameters(), lr=0.1), epochs=2, progress=False, live=view,
    )  # fmt: skip
    assert list(view._contours[1].levels) == [0.5]
    scored = LiveView(show=True)
    fit(scored)
    assert list(scored._contours[1].levels) == [0.0]  # a score's boundary is at 0
