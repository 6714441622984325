"""The textbook network: `Module`, `Neuron`, `Layer` and `MLP` built on `autodiff.Value`.

A neuron's pre-activation a_j = Σ_i w_ji z_i + b_j is one `autodiff.dot` node (Bishop (8.5)), so
after a backward pass its adjoint is the textbook's δ_j = ∂E/∂a_j (8.8). Each neuron keeps the
nodes of its last call as `preactivation` (a_j) and `output` (z_j = h(a_j), (8.6)) for drawings
and tests.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from operator import methodcaller
from typing import Any

from autodiff import Dual, Value, dot
from autodiff.ops import is_real, to_float

from ._args import MAX_COUNT, Seed, count, random_stream

#: The activation functions h(a) a unit may use; "linear" is h(a) = a and adds no node. Each calls
#: the method of that name, so it works on a Value and on a Dual (a forward-mode pass) alike.
ACTIVATIONS: dict[str, Callable[[Value], Value] | None] = {
    "tanh": methodcaller("tanh"),
    "sigmoid": methodcaller("sigmoid"),
    "relu": methodcaller("relu"),
    "linear": None,
}


class Module:
    """Anything with trainable parameters: a Neuron, a Layer, an MLP or a user's own model."""

    def parameters(self) -> list[Value]:
        """The trainable Values w, in a fixed order."""
        return []

    def zero_grad(self) -> None:
        """Set ∂E/∂w = 0 on every parameter before the next backward pass."""
        for parameter in self.parameters():
            parameter.grad = 0.0

    def _shape(self) -> dict[str, Any]:
        """The sizes a state must match (e.g. {"nin": 2, "nouts": [16, 1]}); none by default."""
        return {}

    def state_dict(self) -> dict[str, Any]:
        """The parameter values as JSON-safe data: the shape, and w in parameters() order."""
        return {**self._shape(), "parameters": [p.data for p in self.parameters()]}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Set every parameter from state_dict() data, after checking that the shapes match."""
        if not isinstance(state, Mapping):
            raise TypeError(f"load_state_dict expects a dict, not {type(state).__name__}")
        expected = {**self._shape(), "parameters": None}
        if set(state) != set(expected):
            raise ValueError(f"state has keys {sorted(state)}, expected {sorted(expected)}")
        for key, size in self._shape().items():
            found = list(state[key]) if isinstance(state[key], (list, tuple)) else state[key]
            if found != size:
                raise ValueError(f"state is for {key}={found!r}, this model has {key}={size!r}")
        parameters = self.parameters()
        values = state["parameters"]
        if not isinstance(values, (list, tuple)):
            raise TypeError(f"state parameters must be a list, not {type(values).__name__}")
        if len(values) != len(parameters):
            raise ValueError(
                f"state has {len(values)} parameters, this model has {len(parameters)}"
            )
        # Every value is checked and converted before any parameter changes: all or nothing.
        numbers = []
        for index, number in enumerate(values):
            if not is_real(number):
                raise TypeError(f"parameter {index} must be a number, not {type(number).__name__}")
            numbers.append(to_float(number, f"parameter {index}"))
        for parameter, number in zip(parameters, numbers):
            parameter.data = number


def _check_parameter_count(sizes: list[int]) -> None:
    """Refuse, before allocating any, a network with more than MAX_COUNT weights and biases."""
    total = sum((nin + 1) * nout for nin, nout in itertools.pairwise(sizes))
    if total > MAX_COUNT:
        raise ValueError(
            f"layer sizes {sizes} make {total:,} parameters, more than {MAX_COUNT:,}: "
            "each is a Value of its own"
        )


def _check_activation(activation: str) -> str:
    if activation not in ACTIVATIONS:
        raise ValueError(
            f"unknown activation {activation!r}; choose one of {', '.join(ACTIVATIONS)}"
        )
    return activation


def _input_vector(inputs: Any, nin: int) -> Sequence[Any]:
    """The input vector as a list or tuple of nin items (a bare number, Value or Dual when nin = 1:
    forward mode calls a 1-input model with one Dual, as reverse mode calls it with one Value)."""
    if type(inputs) is not list and type(inputs) is not tuple:
        is_one = isinstance(inputs, (Value, Dual)) or is_real(inputs)
        inputs = [inputs] if is_one else list(inputs)
    if len(inputs) != nin:
        raise ValueError(f"expected {nin} inputs, got {len(inputs)}")
    return inputs


def _as_inputs(inputs: Any, nin: int) -> tuple[Any, ...]:
    """The input vector for a forward pass: numbers become leaves x[0], x[1], ... (Bishop's input
    units z_i = x_i); Values, and Duals in forward mode, are used as they are."""
    # NOTE: one leaf per input, shared by every unit of the first layer, is also the fast case:
    # a `dot` node whose operands are all Values skips the folding of constants.
    vector = _input_vector(inputs, nin)
    return tuple(
        [
            Value(to_float(x, f"x[{i}]"), f"x[{i}]") if is_real(x) else x
            for i, x in enumerate(vector)
        ]
    )


class Neuron(Module):
    """One unit: a_j = Σ_i w_ji z_i + b_j (8.5), then z_j = h(a_j) (8.6).

    Initialisation (as PyTorch's nn.Linear): each weight, then the bias, is drawn from
    U(-1/√nin, 1/√nin) by `seed`'s stream. `seed` is an int (or None for a random start) or a
    `random.Random`, which Layer and MLP pass down so the whole network comes from one seed.
    """

    def __init__(self, nin: int, activation: str = "tanh", seed: Seed = None) -> None:
        self.nin = count("nin", nin, 1)
        self.activation = _check_activation(activation)
        self._activate = ACTIVATIONS[activation]
        rng = random_stream(seed)
        bound = 1.0 / math.sqrt(self.nin)
        self.weights = tuple([Value(rng.uniform(-bound, bound)) for _ in range(self.nin)])
        self.bias = Value(rng.uniform(-bound, bound))
        self.preactivation: Value | None = None  # a_j of the last call
        self.output: Value | None = None  # z_j of the last call (the same node when linear)
        self._name("", "")

    def _name(self, layer: str, unit: str) -> None:
        """Label the parameters and nodes after the unit's place: w1[3,0], b1[3], a1[3], z1[3]."""
        where = f"[{unit}]" if unit else ""
        prefix = f"{unit}," if unit else ""
        for i, weight in enumerate(self.weights):
            weight.label = f"w{layer}[{prefix}{i}]"
        self.bias.label = f"b{layer}{where}"
        self._labels = (f"a{layer}{where}", f"z{layer}{where}")

    def __call__(self, inputs: Any) -> Value:
        """z_j = h(Σ_i w_ji z_i + b_j) for one input vector (numbers or Values)."""
        return self._forward(_as_inputs(inputs, self.nin))

    def _forward(self, inputs: Sequence[Any]) -> Value:
        """The unit on inputs already checked to be nin long (Layer and MLP check once for all)."""
        preactivation = dot(self.weights, inputs, self.bias)  # (8.5): one node, its adjoint is δ_j
        output = preactivation if self._activate is None else self._activate(preactivation)  # (8.6)
        if type(output) is Value:  # a forward-mode pass gives Duals here: not kept, no labels
            self.preactivation, self.output = preactivation, output  # the same node when linear
            preactivation.label = self._labels[0]
            if output is not preactivation:
                output.label = self._labels[1]
        return output

    def __getstate__(self) -> dict:
        # pickle and copy: the last call's nodes belong to a graph, which is not saved.
        return {**self.__dict__, "preactivation": None, "output": None}

    def parameters(self) -> list[Value]:
        """[w_j1, ..., w_jn, b_j]."""
        return [*self.weights, self.bias]

    def _shape(self) -> dict[str, Any]:
        return {"nin": self.nin}

    def __repr__(self) -> str:
        return f"Neuron({self.nin}, activation={self.activation!r})"


class Layer(Module):
    """nout units that all read the same inputs: z_j = h(Σ_i w_ji z_i + b_j) for j = 1..nout."""

    def __init__(self, nin: int, nout: int, activation: str = "tanh", seed: Seed = None) -> None:
        self.nin = count("nin", nin, 1)
        self.nout = count("nout", nout, 1)
        self.activation = _check_activation(activation)
        _check_parameter_count([self.nin, self.nout])
        rng = random_stream(seed)
        self.neurons = [Neuron(self.nin, activation, rng) for _ in range(self.nout)]
        self._name("")

    def _name(self, layer: str) -> None:
        for j, neuron in enumerate(self.neurons):
            neuron._name(layer, str(j))

    def __call__(self, inputs: Any) -> Value | list[Value]:
        """The layer's outputs: a Value when nout = 1, else a list of nout Values."""
        inputs = _as_inputs(inputs, self.nin)
        outputs = [neuron._forward(inputs) for neuron in self.neurons]
        return outputs[0] if self.nout == 1 else outputs

    def parameters(self) -> list[Value]:
        """Each neuron's parameters in turn."""
        return [p for neuron in self.neurons for p in neuron.parameters()]

    def _shape(self) -> dict[str, Any]:
        return {"nin": self.nin, "nout": self.nout}

    def __repr__(self) -> str:
        return f"Layer({self.nin}, {self.nout}, activation={self.activation!r})"


class MLP(Module):
    """A multilayer perceptron: layers of sizes `nouts`, y = h_L(... h_1(W_1 x + b_1) ...).

    Hidden layers use `activation`, the last layer `output_activation`. Layer l (counted from 1,
    as Bishop's superscript w^(l)) labels its parameters w{l}[j,i] and b{l}[j].
    """

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: str = "tanh",
        output_activation: str = "linear",
        seed: Seed = None,
    ) -> None:
        self.nin = count("nin", nin, 1)
        if not isinstance(nouts, Iterable) or isinstance(nouts, str):  # a list, tuple or array
            raise TypeError(f"nouts must be a list of layer sizes, not {type(nouts).__name__}")
        given = list(nouts)
        if not given:
            raise ValueError(f"nouts must be a non-empty list of layer sizes, got {nouts!r}")
        self.nouts = [count(f"layer size nouts[{k}]", size, 1) for k, size in enumerate(given)]
        self.activation = _check_activation(activation)
        self.output_activation = _check_activation(output_activation)
        sizes = [self.nin, *self.nouts]
        _check_parameter_count(sizes)
        rng = random_stream(seed)
        last = len(self.nouts) - 1
        self.layers = [
            Layer(sizes[k], sizes[k + 1], output_activation if k == last else activation, rng)
            for k in range(len(self.nouts))
        ]
        for number, layer in enumerate(self.layers, start=1):
            layer._name(str(number))

    def __call__(self, inputs: Any) -> Value | list[Value]:
        """The output y(x, w): a Value, or a list of Values when the last layer has several."""
        z = _as_inputs(inputs, self.nin)
        for layer in self.layers:  # forward propagation, layer by layer
            z = tuple([neuron._forward(z) for neuron in layer.neurons])  # `dot` keeps a tuple
        return z[0] if len(z) == 1 else list(z)

    def parameters(self) -> list[Value]:
        """Layer by layer, neuron by neuron: weights in input order, then the bias."""
        return [p for layer in self.layers for p in layer.parameters()]

    def _shape(self) -> dict[str, Any]:
        return {"nin": self.nin, "nouts": list(self.nouts)}

    def __repr__(self) -> str:
        return (
            f"MLP({self.nin}, {self.nouts}, activation={self.activation!r}, "
            f"output_activation={self.output_activation!r})"
        )
