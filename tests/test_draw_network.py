"""draw_network: an MLP as units and weights, with activations and the deltas of backprop."""

import math
import re
import warnings
import xml.etree.ElementTree as ET

import pytest

import nn
from autodiff import Value, jacobian, no_grad
from nn.module import MLP

SVG = "{http://www.w3.org/2000/svg}"


def rendered(digraph):
    """{title: (texts, first y coordinate, stroke colour)} for every node and edge group."""
    root = ET.fromstring(digraph.pipe(format="svg"))
    groups = {}
    for group in root.iter(f"{SVG}g"):
        kind = group.get("class", "")
        if kind not in ("node", "edge"):
            continue
        texts = [t.text for t in group.iter(f"{SVG}text")]
        first = group.find(f"{SVG}text")
        path = group.find(f"{SVG}path")
        groups[group.find(f"{SVG}title").text] = (
            texts,
            float(first.get("y")) if first is not None else None,
            path.get("stroke") if path is not None else None,
        )
    return groups


def shown_number(texts, name):
    """The number after `name` ("δ", "z", "a", "x", "b") in a unit's texts."""
    for text in texts:
        if text.startswith(name + " "):
            return float(text.split()[1])
    raise AssertionError(f"no {name} in {texts}")


def trained_step(model, x, t):
    """One forward pass and the backward pass of E = ½ (y - t)²."""
    y = model(x)
    loss = 0.5 * (y - t) ** 2
    loss.backward()
    return y


def hand_deltas(model, x, t):
    """Bishop's Algorithm 8.1 in floats: output δ = y - t, then δ_j = h'(a_j) Σ_k w_kj δ_k."""
    z = list(x)
    activations = []
    for layer in model.layers:
        a = [
            sum(w.data * zi for w, zi in zip(n.weights, z, strict=True)) + n.bias.data
            for n in layer.neurons
        ]
        z = [math.tanh(v) if layer.activation == "tanh" else v for v in a]
        activations.append(z)
    deltas = [[z[0] - t]]  # linear output unit, sum-of-squares error
    for number in range(len(model.layers) - 2, -1, -1):
        above = model.layers[number + 1]
        z_here = activations[number]
        deltas.insert(
            0,
            [
                (1 - z_here[j] ** 2)
                * sum(n.weights[j].data * d for n, d in zip(above.neurons, deltas[0], strict=True))
                for j in range(len(z_here))
            ],
        )
    return deltas


def test_units_and_weights_of_a_small_network():
    model = MLP(2, [3, 2, 1], seed=0)
    trained_step(model, [0.5, -1.0], 1.0)
    groups = rendered(nn.draw_network(model))
    units = [title for title in groups if "->" not in title]
    weights = [title for title in groups if "->" in title]
    assert sorted(units) == sorted(["x0", "x1", "L1_0", "L1_1", "L1_2", "L2_0", "L2_1", "L3_0"])
    assert len(weights) == 2 * 3 + 3 * 2 + 2 * 1
    assert shown_number(groups["x0"][0], "x") == 0.5 and shown_number(groups["x1"][0], "x") == -1.0


def test_units_show_activation_and_the_textbook_delta():
    model = MLP(2, [3, 2, 1], seed=1)
    x, t = [0.4, -0.7], 0.3
    trained_step(model, x, t)
    groups = rendered(nn.draw_network(model))
    deltas = hand_deltas(model, x, t)
    for number, layer in enumerate(model.layers, start=1):
        for j, neuron in enumerate(layer.neurons):
            texts = groups[f"L{number}_{j}"][0]
            assert texts[0] == f"z{number}[{j}]"
            assert shown_number(texts, "z") == pytest.approx(neuron.output.data, rel=1e-3)
            assert shown_number(texts, "a") == pytest.approx(neuron.preactivation.data, rel=1e-3)
            assert shown_number(texts, "b") == pytest.approx(neuron.bias.data, rel=1e-3)
            assert shown_number(texts, "δ") == pytest.approx(deltas[number - 1][j], rel=1e-3)


def test_units_of_a_tall_layer_show_z_and_the_textbook_delta_on_one_line():
    model = MLP(2, [8, 1], seed=1)  # more than 6 units in a layer: one line per unit
    x, t = [0.4, -0.7], 0.3
    trained_step(model, x, t)
    groups = rendered(nn.draw_network(model))
    deltas = hand_deltas(model, x, t)
    for number, layer in enumerate(model.layers, start=1):
        for j, neuron in enumerate(layer.neurons):
            title, line = groups[f"L{number}_{j}"][0]
            assert title == f"z{number}[{j}]"
            _, z, _, delta = line.split()  # "z 0.123  δ -0.05", a no-break space between
            assert float(z) == pytest.approx(neuron.output.data, rel=1e-2)
            assert float(delta) == pytest.approx(deltas[number - 1][j], rel=1e-2)


def test_a_forward_mode_pass_leaves_the_drawing_of_the_last_reverse_mode_call():
    model = MLP(2, [3, 1], seed=0)
    trained_step(model, [0.4, -0.7], 0.3)
    before = nn.draw_network(model).source
    jacobian(lambda a, b: model([a, b]), mode="forward")(0.1, 0.2)  # calls the units with Duals
    assert nn.draw_network(model).source == before


def test_weight_edges_are_coloured_by_sign_and_sized_by_magnitude():
    model = MLP(2, [4, 1], seed=2)
    trained_step(model, [1.0, 2.0], 0.0)
    graph = nn.draw_network(model, weights="edges")
    groups = rendered(graph)
    widths = {}
    for number, layer in enumerate(model.layers, start=1):
        sources = [f"x{i}" for i in range(2)] if number == 1 else [f"L1_{i}" for i in range(4)]
        for j, neuron in enumerate(layer.neurons):
            for source, weight in zip(sources, neuron.weights, strict=True):
                texts, _, stroke = groups[f"{source}->L{number}_{j}"]
                assert stroke == ("#1f77b4" if weight.data >= 0 else "#ff7f0e")
                assert float(texts[0]) == pytest.approx(weight.data, rel=1e-2)  # on the edge
                line = re.search(
                    rf"\b{source} -> L{number}_{j} \[.*penwidth=([\d.]+)", graph.source
                )
                widths[abs(weight.data)] = float(line[1])
    ordered = [widths[w] for w in sorted(widths)]
    assert ordered == sorted(ordered) and ordered[-1] == 4.0  # the largest weight is the thickest


def test_pen_width_is_proportional_to_the_weight_size_with_a_visible_minimum():
    # width = 0.3 + 3.7 |w| / max |w|; here the largest weight is negative: |-2| = 2.
    model = MLP(2, [2, 1], seed=0)
    parameters = [-2.0, 0.0, 0.1, 1.0, 0.5, 0.2, -0.5, 1.5, 0.3]
    model.load_state_dict({"nin": 2, "nouts": [2, 1], "parameters": parameters})
    source = nn.draw_network(model).source
    expected = {
        ("x0", "L1_0"): 4.0,
        ("x1", "L1_0"): 0.3,  # a zero weight is still drawn
        ("x0", "L1_1"): 0.3 + 3.7 * 0.5,
        ("x1", "L1_1"): 0.3 + 3.7 * 0.25,
        ("L1_0", "L2_0"): 0.3 + 3.7 * 0.25,
        ("L1_1", "L2_0"): 0.3 + 3.7 * 0.75,
    }
    for (source_id, target), width in expected.items():
        line = re.search(rf"\b{source_id} -> {target} \[.*penwidth=([\d.]+)", source)
        assert float(line[1]) == pytest.approx(width, abs=0.006), (source_id, target)


def caption_texts(digraph):
    """The texts of the picture's caption (the graph's own label), in order."""
    root = ET.fromstring(digraph.pipe(format="svg"))
    graph = next(g for g in root.iter(f"{SVG}g") if g.get("class") == "graph")
    return [t.text for t in graph.findall(f"{SVG}text")]


def test_weights_are_in_a_table_up_to_40_weights():
    def has_table(model):
        return "W(1)" in caption_texts(nn.draw_network(model))

    assert has_table(MLP(40, [1], seed=0)) and not has_table(MLP(41, [1], seed=0))
    model = MLP(2, [2, 1], seed=0)
    parameters = [-2.0, 0.0, 0.1, 1.0, 0.5, 0.2, -0.5, 1.5, 0.3]
    model.load_state_dict({"nin": 2, "nouts": [2, 1], "parameters": parameters})
    texts = caption_texts(nn.draw_network(model))
    start = texts.index("W(1)")
    # W(1): header x[0] x[1] b, then a row per unit: z1[j], w_j0, w_j1, b_j
    assert texts[start : start + 12] == [
        "W(1)", "x[0]", "x[1]", "b", "z1[0]", "-2", "0", "0.1", "z1[1]", "1", "0.5", "0.2",
    ]  # fmt: skip
    assert texts[start + 12 : start + 20] == [
        "W(2)",
        "z1[0]",
        "z1[1]",
        "b",
        "z2[0]",
        "-0.5",
        "1.5",
        "0.3",
    ]
    source = nn.draw_network(model).source
    assert '<FONT COLOR="#ff7f0e">-2</FONT>' in source  # coloured as its edge
    assert '<FONT COLOR="#1f77b4">1</FONT>' in source


def test_caption_gives_the_point_target_and_error_and_a_legend():
    model = MLP(2, [3, 1], seed=0)
    y = model([0.5, -1.0])
    error = nn.sse(y, 1.0)
    error.backward()
    texts = " ".join(caption_texts(nn.draw_network(model, target=1.0, error=error)))
    assert "x = (0.5, -1)" in texts and "t = 1" in texts
    assert f"= {error.data:.4g}" in texts and "E" in texts
    assert "w > 0" in texts and "w < 0" in texts and "line width ∝ |w|" in texts
    assert "δ = ∂E" in texts
    many = " ".join(caption_texts(nn.draw_network(model, target=[1.0, 0.0])))
    assert "t = 1, 0" in many


def test_a_large_network_draws_each_units_strongest_inputs_and_says_how_many_are_hidden():
    model = MLP(2, [16, 16, 1], seed=0)
    trained_step(model, [0.5, -1.0], 1.0)
    graph = nn.draw_network(model)  # 304 weights: "auto" keeps 3 per unit
    visible = [line for line in graph.body if "->" in line and "invis" not in line]
    assert len(visible) == 2 * 16 + 3 * 16 + 3
    texts = " ".join(caption_texts(graph))
    assert "83 of 304 weights (221 hidden" in texts
    # the 3 drawn into z2[0] are its 3 largest |w|
    neuron = model.layers[1].neurons[0]
    largest = sorted(range(16), key=lambda i: -abs(neuron.weights[i].data))[:3]
    drawn = sorted(
        int(re.match(r"\s*L1_(\d+) -> L2_0 ", line)[1]) for line in visible if "-> L2_0 " in line
    )
    assert drawn == sorted(largest)
    assert "hidden" not in " ".join(caption_texts(nn.draw_network(model, strongest=None)))
    with pytest.raises(ValueError, match="strongest"):
        nn.draw_network(model, strongest=0)
    with pytest.raises(ValueError, match="weights"):
        nn.draw_network(model, weights="all")


def test_layers_are_boxed_with_their_names_and_activations():
    model = MLP(2, [3, 2, 1], activation="relu", output_activation="sigmoid", seed=0)
    root = ET.fromstring(nn.draw_network(model).pipe(format="svg"))
    clusters = {
        group.find(f"{SVG}title").text: " ".join(t.text for t in group.iter(f"{SVG}text"))
        for group in root.iter(f"{SVG}g")
        if group.get("class") == "cluster"
    }
    assert clusters == {
        "cluster_inputs": "inputs",
        "cluster_1": "hidden layer 1 (relu)",
        "cluster_2": "hidden layer 2 (relu)",
        "cluster_3": "output layer (sigmoid)",
    }


def test_weights_can_be_left_out_and_are_left_out_for_big_networks():
    model = MLP(2, [3, 1], seed=0)
    unlabelled = rendered(nn.draw_network(model, weights="none"))
    assert all(texts == [] for title, (texts, _, _) in unlabelled.items() if "->" in title)
    assert "W(1)" not in caption_texts(nn.draw_network(model, weights="none"))
    big = MLP(2, [8, 8, 1], seed=0)  # 88 weights
    assert "label=" not in "".join(line for line in nn.draw_network(big).body if "->" in line)
    assert "W(1)" not in caption_texts(nn.draw_network(big))


def test_units_of_each_layer_stay_in_index_order():
    model = MLP(4, [10, 6, 3], seed=3)
    model([0.1, 0.2, 0.3, 0.4])
    groups = rendered(nn.draw_network(model))
    for prefix, count in [("x", 4), ("L1_", 10), ("L2_", 6), ("L3_", 3)]:
        heights = [groups[f"{prefix}{k}"][1] for k in range(count)]
        assert heights == sorted(heights), prefix  # top to bottom by index


def test_before_any_call_units_show_only_names_and_biases():
    model = MLP(2, [2, 1], seed=0)
    groups = rendered(nn.draw_network(model))
    assert groups["x0"][0] == ["x[0]"]
    assert [text.split()[0] for text in groups["L1_0"][0]] == ["z1[0]", "b"]


def test_inputs_given_as_values_and_calls_under_no_grad():
    model = MLP(2, [2, 1], seed=0)
    model([Value(0.25), Value(-0.5)])
    groups = rendered(nn.draw_network(model))
    assert shown_number(groups["x1"][0], "x") == -0.5
    with no_grad():
        model([0.9, 0.9])
    groups = rendered(nn.draw_network(model))
    assert groups["x0"][0] == ["x[0]"]  # a no_grad call records no inputs
    assert shown_number(groups["L1_0"][0], "z") == pytest.approx(
        model.layers[0].neurons[0].output.data, rel=1e-3
    )


def test_same_network_gives_the_same_dot_text():
    first, second = MLP(3, [4, 2], seed=5), MLP(3, [4, 2], seed=5)
    for model in (first, second):
        outputs = model([0.1, 0.2, 0.3])
        (outputs[0] * outputs[1]).backward()
    assert nn.draw_network(first).source == nn.draw_network(second).source


def test_too_many_weights_warns_and_draws_one_box_per_layer():
    model = MLP(50, [50, 10], seed=0)  # 3000 weights
    with pytest.warns(UserWarning, match="3000 weights"):
        summary = nn.draw_network(model)
    groups = rendered(summary)
    assert sorted(groups) == sorted(["inputs", "L1", "L2", "inputs->L1", "L1->L2"])
    assert groups["L1"][0] == ["hidden layer 1", "50 tanh units", "2500 weights"]
    everything = nn.draw_network(model, max_edges=None).source
    assert everything.count("->") == 3000


def test_summary_boxes_give_each_layers_own_activation_and_size():
    model = MLP(30, [40, 2], activation="relu", output_activation="sigmoid", seed=0)
    with pytest.warns(UserWarning, match="1280 weights, more than max_edges=1000"):
        groups = rendered(nn.draw_network(model, max_edges=1000))
    assert groups["inputs"][0] == ["inputs", "30 inputs"]
    assert groups["L1"][0] == ["hidden layer 1", "40 relu units", "1200 weights"]
    assert groups["L2"][0] == ["output layer", "2 sigmoid units", "80 weights"]


def test_a_network_of_exactly_max_edges_is_drawn_whole():
    model = MLP(2, [3, 1], seed=0)  # 6 + 3 weights
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        groups = rendered(nn.draw_network(model, max_edges=9))
    assert len([title for title in groups if "->" in title]) == 9
    with pytest.warns(UserWarning, match="9 weights, more than max_edges=8"):
        nn.draw_network(model, max_edges=8)


def test_bad_arguments():
    with pytest.raises(TypeError, match="MLP"):
        nn.draw_network(Value(1.0))
    with pytest.raises(ValueError, match="rankdir"):
        nn.draw_network(MLP(1, [1]), rankdir="up")


def test_caption_lines_are_whole_texts_without_subscript_runs():
    # No <SUB>: a browser draws its runs with gaps where Graphviz measured another font.
    model = MLP(2, [3, 1], seed=0)
    error = nn.sse(model([0.5, -1.0]), 1.0)
    error.backward()
    graph = nn.draw_network(model, target=1.0, error=error)
    assert "baseline-shift" not in graph.pipe(format="svg").decode()
    texts = caption_texts(graph)
    assert f"E_n = {error.data:.4g}" in " ".join(texts)
    assert "unit: a = Σ_i w_ji z_i + b (8.5), z = h(a), δ = ∂E_n/∂a (8.8), b bias" in texts


def test_without_an_error_the_caption_does_not_call_delta_the_errors_derivative():
    # Notebook 04 runs backward() from an output y_1: its δ's are ∂y_1/∂a, not ∂E_n/∂a.
    model = MLP(2, [3, 2], seed=0)
    model([0.5, -1.0])[1].backward()
    texts = " ".join(caption_texts(nn.draw_network(model)))
    assert "δ = ∂E_n/∂a" not in texts
    assert "δ = a's adjoint from the last backward()" in texts
