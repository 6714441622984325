"""The main job, `python -m nn.demo`: run in-process with few epochs, check every file it writes."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from nn import MLP, demo, hinge

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SVG_NAMESPACE = "{http://www.w3.org/2000/svg}"
SVG = f"{SVG_NAMESPACE}svg"


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    out = tmp_path_factory.mktemp("out") / "nested"  # the demo creates the directory
    return demo.main(["--epochs", "3", "--seed", "1", "--out", str(out), "--quiet"]), out


def test_demo_writes_its_pictures_and_the_trace(result):
    run, out = result
    names = sorted(path.name for path in out.iterdir())
    assert names == [
        "decision_boundary.png",
        "graph.svg",
        "loss.png",
        "network.svg",
        "network_small.svg",
        "trace.svg",
        "trace.txt",
        "training.gif",
    ]
    assert sorted(path.name for path in run.files) == names


@pytest.mark.parametrize("name", ["decision_boundary.png", "loss.png"])
def test_plots_are_png_images(result, name):
    data = (result[1] / name).read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    assert len(data) > 5000  # a real picture, not an empty canvas


@pytest.mark.parametrize("name", ["graph.svg", "network.svg", "network_small.svg", "trace.svg"])
def test_graphs_are_svg_that_parses_as_xml(result, name):
    root = ET.parse(result[1] / name).getroot()
    assert root.tag == SVG
    assert len(root.findall(f".//{SVG_NAMESPACE}g")) > 5


def test_neuron_graph_shows_one_neurons_error(result):
    text = (result[1] / "graph.svg").read_text(encoding="utf-8")
    for name in ("x1", "x2", "w[0]", "w[1]", "dot", "tanh", "E"):
        assert name in text


def test_network_picture_shows_nonzero_deltas_where_the_hinge_loss_is_zero(tmp_path):
    # A trained classifier's hinge loss is 0 at most points (margin t·y >= 1), and so would be
    # every δ of that loss; the picture draws the δ's of the sum-of-squares error instead.
    model = MLP(2, [3, 1], seed=0)
    model.layers[-1].neurons[0].bias.data = 5.0  # y(x) > 1 at this point: hinge(y, +1) = 0
    x = [0.5, -0.25]
    assert hinge(model(x), 1).data == 0.0
    root = ET.parse(demo._write_network(model, x, 1, tmp_path / "network.svg")).getroot()
    texts = [t.text for t in root.iter(f"{SVG_NAMESPACE}text") if t.text]
    deltas = [float(text.split()[1]) for text in texts if text.startswith("δ ")]
    assert len(deltas) == 3 + 1  # one per unit
    assert deltas[-1] == pytest.approx(model(x).data - 1.0, abs=1e-3)  # δ = y - t, 4 digits shown
    assert all(delta != 0.0 for delta in deltas)


def test_trace_is_bishops_seven_rows_and_two_chain_rules(result):
    text = (result[1] / "trace.txt").read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith("v") and "(8." not in line]
    assert [row.split()[0] for row in rows] == [f"v{i}" for i in range(1, 8)]
    assert "v5 = exp(v3)" in text
    assert "v̄3 = v̄5 ∂v5/∂v3 + v̄6 ∂v6/∂v3 = 1 × 2.117 + 1 × 1 = 3.117   (8.69)" in text


def test_trace_figure_and_networks_carry_their_captions(result):
    out = result[1]
    figure = (out / "trace.svg").read_text(encoding="utf-8")
    assert "tangent, forward mode (8.57)" in figure and "adjoint, reverse mode (8.68)" in figure
    for name in ("network.svg", "network_small.svg"):
        text = (out / name).read_text(encoding="utf-8")
        assert "x = (" in text and "t = " in text and "line width ∝ |w|" in text
    assert "of 304 weights" in (out / "network.svg").read_text(encoding="utf-8")
    assert "W(1)" in (out / "network_small.svg").read_text(encoding="utf-8")


def test_demo_reports_accuracy_and_time(result):
    run, _ = result
    assert 0.0 <= run.accuracy <= 1.0
    assert run.seconds > 0.0


def test_help_lists_the_options():
    completed = subprocess.run(
        [sys.executable, "-m", "nn.demo", "--help"],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    for option in ("--epochs", "--seed", "--out", "--quiet"):
        assert option in completed.stdout


def test_bad_epochs_exit_with_a_usage_error():
    with pytest.raises(SystemExit) as exit_info:
        demo.main(["--epochs", "0"])
    assert exit_info.value.code == 2
