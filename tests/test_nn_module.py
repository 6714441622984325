"""nn.Module, Neuron, Layer, MLP: node structure, parameter order, seeding, gradients, state."""

from __future__ import annotations

import copy
import json
import math
import pickle
import random

import pytest

import autodiff
from autodiff import Value
from autodiff.value import ancestors
from nn import MLP, Layer, Module, Neuron, sse

ACTIVATION_NAMES = ["tanh", "sigmoid", "relu", "linear"]


# --- structure ------------------------------------------------------------------------------


def test_preactivation_is_one_dot_node_whose_inputs_are_weights_inputs_and_bias():
    neuron = Neuron(16, activation="tanh", seed=0)
    inputs = [Value(0.1 * i) for i in range(16)]
    z = neuron(inputs)
    a = neuron.preactivation
    assert a.op == "dot"
    assert a.parents == (*neuron.weights, *inputs, neuron.bias)
    assert z.op == "tanh" and z.parents == (a,)
    assert neuron.output is z
    # A 16-input neuron adds exactly two nodes to the graph: the dot and the activation.
    made = [node for node in ancestors(z) if node.parents]
    assert made == [a, z]
    assert a.data == pytest.approx(
        sum(w.data * x.data for w, x in zip(neuron.weights, inputs)) + neuron.bias.data
    )


def test_linear_unit_adds_no_node_and_its_output_is_the_preactivation():
    neuron = Neuron(3, activation="linear", seed=1)
    z = neuron([1.0, 2.0, 3.0])
    assert z is neuron.preactivation is neuron.output
    assert z.op == "dot"


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu"])
def test_each_activation_is_the_engine_primitive_of_that_name(activation):
    neuron = Neuron(2, activation=activation, seed=3)
    z = neuron([0.4, -0.7])
    a = neuron.preactivation.data
    assert z.op == activation
    assert z.data == pytest.approx(getattr(autodiff, activation)(a), abs=1e-15)


def test_number_inputs_become_labelled_leaves_of_the_dot_node():
    neuron = Neuron(2, activation="linear", seed=0)
    w0, w1 = neuron.weights
    a = neuron([0.5, -1.5])
    x0, x1 = a.parents[2:4]
    assert a.parents == (w0, w1, x0, x1, neuron.bias)
    assert (x0.label, x0.data, x1.label, x1.data) == ("x[0]", 0.5, "x[1]", -1.5)
    assert a.local_grads == (0.5, -1.5, w0.data, w1.data, 1.0)
    a.backward()
    assert (x0.grad, x1.grad) == (w0.data, w1.data)  # ∂a/∂x_i = w_i


def test_the_first_layer_shares_one_leaf_per_input_and_values_are_used_as_given():
    model = MLP(2, [3, 1], seed=0)
    model([0.5, -1.5])
    first = [unit.preactivation.parents[2:4] for unit in model.layers[0].neurons]
    assert first[0] == first[1] == first[2]  # the same two leaves, not copies
    x = [Value(0.5), Value(-1.5)]
    model(x)
    assert model.layers[0].neurons[0].preactivation.parents[2:4] == tuple(x)


def test_mlp_output_is_a_value_for_one_unit_and_a_list_for_several():
    assert isinstance(MLP(2, [3, 1], seed=0)([1.0, 2.0]), Value)
    outputs = MLP(2, [3, 2], seed=0)([1.0, 2.0])
    assert isinstance(outputs, list) and len(outputs) == 2
    assert all(isinstance(y, Value) for y in outputs)
    assert isinstance(Layer(2, 1, seed=0)([1.0, 2.0]), Value)
    assert len(Layer(2, 4, seed=0)([1.0, 2.0])) == 4


def test_mlp_layers_use_hidden_and_output_activations():
    model = MLP(3, [4, 5, 2], activation="relu", output_activation="sigmoid", seed=0)
    assert [layer.activation for layer in model.layers] == ["relu", "relu", "sigmoid"]
    assert [(layer.nin, layer.nout) for layer in model.layers] == [(3, 4), (4, 5), (5, 2)]
    outputs = model([0.1, 0.2, 0.3])
    assert [y.op for y in outputs] == ["sigmoid", "sigmoid"]


def test_mlp_forward_equals_layer_by_layer_formula():
    model = MLP(2, [3, 1], seed=5)
    x = [0.3, -0.8]
    hidden = [
        math.tanh(sum(w.data * xi for w, xi in zip(n.weights, x)) + n.bias.data)
        for n in model.layers[0].neurons
    ]
    (out_neuron,) = model.layers[1].neurons
    expected = sum(w.data * z for w, z in zip(out_neuron.weights, hidden)) + out_neuron.bias.data
    assert model(x).data == pytest.approx(expected, rel=1e-14)


def test_inputs_may_be_values_a_tuple_or_one_number():
    model = MLP(1, [2, 1], seed=0)
    x = Value(0.25)
    assert model(x).data == model([0.25]).data == model((0.25,)).data
    assert x in ancestors(model(x))


# --- parameters -----------------------------------------------------------------------------


def test_parameter_count_of_the_textbook_network():
    model = MLP(2, [16, 16, 1], seed=0)
    assert len(model.parameters()) == (2 + 1) * 16 + (16 + 1) * 16 + (16 + 1) * 1 == 337
    assert len(set(model.parameters())) == 337


def test_parameter_order_is_layer_neuron_weights_then_bias():
    model = MLP(2, [3, 2], seed=0)
    expected = [
        p
        for layer in model.layers
        for neuron in layer.neurons
        for p in [*neuron.weights, neuron.bias]
    ]
    assert model.parameters() == expected
    labels = [p.label for p in model.parameters()]
    assert labels[:3] == ["w1[0,0]", "w1[0,1]", "b1[0]"]
    assert labels[-4:] == ["w2[1,0]", "w2[1,1]", "w2[1,2]", "b2[1]"]


def test_nodes_of_the_last_call_are_labelled_by_layer_and_unit():
    model = MLP(2, [2, 1], seed=0)
    y = model([1.0, 1.0])
    assert y.label == "a2[0]"
    assert model.layers[0].neurons[1].preactivation.label == "a1[1]"
    assert model.layers[0].neurons[1].output.label == "z1[1]"


def test_zero_grad_clears_every_parameter():
    model = MLP(2, [3, 1], seed=0)
    sse(model([1.0, -1.0]), 0.5).backward()
    assert any(p.grad != 0.0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


def test_base_module_has_no_parameters():
    assert Module().parameters() == []
    assert Module().state_dict() == {"parameters": []}


# --- seeded initialisation ------------------------------------------------------------------


def test_same_seed_gives_same_weights_and_other_seeds_differ():
    first = [p.data for p in MLP(2, [4, 1], seed=7).parameters()]
    again = [p.data for p in MLP(2, [4, 1], seed=7).parameters()]
    other = [p.data for p in MLP(2, [4, 1], seed=8).parameters()]
    assert first == again
    assert first != other


def test_init_draws_uniform_within_one_over_sqrt_fan_in_from_one_stream():
    model = MLP(4, [9, 3], seed=11)
    for layer in model.layers:
        bound = 1.0 / math.sqrt(layer.nin)
        values = [p.data for p in layer.parameters()]
        assert all(-bound <= v <= bound for v in values)
        assert max(values) - min(values) > bound  # spread out, not constant
    rng = random.Random(11)
    expected = [rng.uniform(-0.5, 0.5) for _ in range(5 * 9)]
    assert [p.data for p in model.layers[0].parameters()] == expected


def test_neuron_and_layer_accept_a_shared_random_stream():
    neuron = Neuron(3, seed=random.Random(2))
    rng = random.Random(2)
    assert [p.data for p in neuron.parameters()] == [
        rng.uniform(-1 / 3**0.5, 1 / 3**0.5) for _ in range(4)
    ]


def test_layer_with_an_int_seed_draws_its_units_from_one_stream():
    layer = Layer(3, 2, seed=5)
    rng = random.Random(5)
    bound = 1 / 3**0.5
    assert [p.data for p in layer.parameters()] == [rng.uniform(-bound, bound) for _ in range(8)]
    first, second = layer.neurons
    assert [p.data for p in first.parameters()] != [p.data for p in second.parameters()]


def test_neuron_and_layer_default_to_tanh_units():
    x = [0.4, -0.7]
    neuron = Neuron(2, seed=3)
    z = neuron(x)
    a = sum(w.data * xi for w, xi in zip(neuron.weights, x)) + neuron.bias.data
    assert z.op == "tanh"
    assert z.data == pytest.approx(math.tanh(a), rel=1e-14)
    layer = Layer(2, 3, seed=3)
    outputs = layer(x)
    assert layer.activation == "tanh"
    for unit, output in zip(layer.neurons, outputs):
        a = sum(w.data * xi for w, xi in zip(unit.weights, x)) + unit.bias.data
        assert output.op == "tanh"
        assert output.data == pytest.approx(math.tanh(a), rel=1e-14)


# --- gradients against central differences --------------------------------------------------


def _error(model, x, t):
    return sse(model(x), t)


def _central_differences(model, x, t, h=1e-6):
    estimates = []
    with autodiff.no_grad():
        for p in model.parameters():
            saved = p.data
            p.data = saved + h
            up = _error(model, x, t).data
            p.data = saved - h
            down = _error(model, x, t).data
            p.data = saved
            estimates.append((up - down) / (2 * h))
    return estimates


@pytest.mark.parametrize("output_activation", ACTIVATION_NAMES)
@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
def test_mlp_gradients_match_central_differences(activation, output_activation):
    model = MLP(3, [5, 4, 2], activation=activation, output_activation=output_activation, seed=4)
    x, t = [0.7, -1.3, 0.4], [0.5, -0.25]
    error = _error(model, x, t)
    error.backward()
    # relu's kink: the finite difference is only meaningful away from a = 0
    assert all(abs(n.preactivation.data) > 1e-3 for layer in model.layers for n in layer.neurons)
    for p, numeric in zip(model.parameters(), _central_differences(model, x, t)):
        assert p.grad == pytest.approx(numeric, rel=1e-6, abs=1e-9), p.label


def test_gradient_with_respect_to_value_inputs_matches_central_differences():
    model = MLP(2, [4, 1], seed=9)
    xs = [Value(0.2), Value(-0.6)]
    _error(model, xs, 1.0).backward()
    h = 1e-6
    for i, x in enumerate(xs):
        up = [v.data + (h if k == i else 0.0) for k, v in enumerate(xs)]
        down = [v.data - (h if k == i else 0.0) for k, v in enumerate(xs)]
        numeric = (_error(model, up, 1.0).data - _error(model, down, 1.0).data) / (2 * h)
        assert x.grad == pytest.approx(numeric, rel=1e-6, abs=1e-9)


def test_no_grad_forward_records_nothing():
    model = MLP(2, [3, 1], seed=0)
    with autodiff.no_grad():
        y = model([1.0, 2.0])
    assert y.parents == () and y.op == ""
    assert y.data == model([1.0, 2.0]).data


# --- state_dict -----------------------------------------------------------------------------


def test_state_dict_round_trips_through_json():
    model = MLP(2, [3, 2], seed=1)
    state = json.loads(json.dumps(model.state_dict()))
    assert state["nin"] == 2 and state["nouts"] == [3, 2]
    copy = MLP(2, [3, 2], seed=99)
    copy.load_state_dict(state)
    assert [p.data for p in copy.parameters()] == [p.data for p in model.parameters()]
    x = [0.3, 0.9]
    assert [y.data for y in copy(x)] == [y.data for y in model(x)]


def test_neuron_and_layer_state_dicts_round_trip():
    for make in (lambda s: Neuron(3, seed=s), lambda s: Layer(3, 2, seed=s)):
        source, target = make(1), make(2)
        target.load_state_dict(json.loads(json.dumps(source.state_dict())))
        assert [p.data for p in target.parameters()] == [p.data for p in source.parameters()]


def test_load_state_dict_rejects_another_shape():
    state = MLP(2, [3, 1], seed=0).state_dict()
    with pytest.raises(ValueError, match=r"nouts=\[3, 1\].*nouts=\[4, 1\]"):
        MLP(2, [4, 1]).load_state_dict(state)
    with pytest.raises(ValueError, match="nin"):
        MLP(3, [3, 1]).load_state_dict(state)


def test_load_state_dict_rejects_wrong_count_keys_and_values():
    model = MLP(2, [3, 1], seed=0)
    state = model.state_dict()
    before = [p.data for p in model.parameters()]
    state["parameters"] = [v + 1.0 for v in state["parameters"]]
    with pytest.raises(ValueError, match="12 parameters, this model has 13"):
        model.load_state_dict({**state, "parameters": state["parameters"][:-1]})
    with pytest.raises(ValueError, match="keys"):
        model.load_state_dict({"parameters": state["parameters"]})
    with pytest.raises(TypeError, match="parameter 4 must be a number, not str"):
        model.load_state_dict(
            {**state, "parameters": [*state["parameters"][:4], "x", *state["parameters"][5:]]}
        )
    with pytest.raises(TypeError, match="dict"):
        model.load_state_dict([1.0, 2.0])
    assert [p.data for p in model.parameters()] == before  # failed loads changed nothing


# --- bad arguments --------------------------------------------------------------------------


def test_unknown_activation_lists_the_valid_names():
    with pytest.raises(ValueError, match=r"'softmax'.*tanh, sigmoid, relu, linear"):
        MLP(2, [3, 1], activation="softmax")
    with pytest.raises(ValueError, match="unknown activation"):
        Neuron(2, activation="Tanh")
    with pytest.raises(ValueError, match="unknown activation"):
        MLP(2, [3, 1], output_activation="softmax")


def test_wrong_input_length_is_an_error():
    with pytest.raises(ValueError, match="expected 2 inputs, got 3"):
        MLP(2, [3, 1], seed=0)([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="expected 2 inputs, got 1"):
        Neuron(2, seed=0)(1.0)


@pytest.mark.parametrize(
    ("bad", "error"),
    [(0, ValueError), (-1, ValueError), (2.0, TypeError), (True, TypeError), ("3", TypeError)],
)
def test_bad_sizes_are_errors(bad, error):
    with pytest.raises(error, match="positive int"):
        Neuron(bad)
    with pytest.raises(error, match="positive int"):
        MLP(2, [bad, 1])


def test_nouts_must_be_a_list_of_sizes():
    with pytest.raises(TypeError, match="list of layer sizes"):
        MLP(2, 3)
    with pytest.raises(TypeError, match="nouts must be a list of layer sizes, not str"):
        MLP(2, "31")  # iterable, but its characters are no sizes
    with pytest.raises(ValueError, match="non-empty list"):
        MLP(2, [])


def test_non_number_inputs_raise_type_error():
    with pytest.raises(TypeError):
        MLP(2, [1], seed=0)(["a", "b"])


def test_reprs_name_the_shape_and_activations():
    assert repr(MLP(2, [16, 1])) == "MLP(2, [16, 1], activation='tanh', output_activation='linear')"
    assert repr(Layer(3, 4, activation="relu")) == "Layer(3, 4, activation='relu')"
    assert repr(Neuron(5, activation="sigmoid")) == "Neuron(5, activation='sigmoid')"


def test_a_model_that_has_run_pickles_and_deep_copies():
    # After a call each unit keeps its last a_j and z_j nodes (for nn.draw_network): they must
    # not stop a trained model from being saved with pickle, as PyTorch users save theirs.
    model = MLP(2, [3, 1], seed=0)
    sse(model([0.5, -1.0]), 1.0).backward()
    for copied in (pickle.loads(pickle.dumps(model)), copy.deepcopy(model)):
        assert [p.data for p in copied.parameters()] == [p.data for p in model.parameters()]
        assert not set(copied.parameters()) & set(model.parameters())
        assert copied([0.25, 0.75]).data == model([0.25, 0.75]).data
