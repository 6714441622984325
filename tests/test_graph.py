"""Graph mechanics with exact answers: reuse, fan-out, diamonds, constants, accumulation, depth."""

import copy
import math
import pickle
import re
import sys
from fractions import Fraction

import numpy as np
import pytest

import autodiff
from autodiff import Value, ops
from autodiff.value import _apply_with_constants, adjoints


def test_bishop_example_gradients_match_closed_form():
    # f(x1, x2) = x1 x2 + exp(x1 x2) - sin(x2), Bishop (8.49).
    x1, x2 = Value(1.5, label="x1"), Value(0.5, label="x2")
    f = x1 * x2 + (x1 * x2).exp() - x2.sin()
    f.backward()
    u = 1.5 * 0.5
    assert f.data == pytest.approx(u + math.exp(u) - math.sin(0.5), rel=1e-15)
    assert x1.grad == pytest.approx(0.5 * (1 + math.exp(u)), rel=1e-15)
    assert x2.grad == pytest.approx(1.5 * (1 + math.exp(u)) - math.cos(0.5), rel=1e-15)


def test_square_counts_both_occurrences():
    x = Value(3.0)
    y = x * x
    assert y.parents == (x, x)
    y.backward()
    assert x.grad == 6.0


def test_self_addition():
    a = Value(-4.0)
    (a + a).backward()
    assert a.grad == 2.0


def test_fan_out():
    x = Value(2.0)
    y = x * 3.0
    z = y + y * y + y.exp()  # y feeds three consumers
    z.backward()
    assert y.grad == pytest.approx(1 + 2 * 6.0 + math.exp(6.0), rel=1e-15)
    assert x.grad == pytest.approx(3 * y.grad, rel=1e-15)


def test_diamond():
    x = Value(1.25)
    a = x * 2.0
    b = x * 3.0
    (a * b).backward()  # 6 x², slope 12 x
    assert x.grad == 15.0


def test_constants_are_folded_not_parents():
    x = Value(2.0)
    assert (x + 2).parents == (x,)
    assert (2 - x).parents == (x,)
    assert (x * 0.5).op == "* 0.5"
    assert (x + 2).op == "+ 2"
    assert (2 - x).op == "2 -"
    assert (x**3).op == "** 3"
    assert (1 / x).op == "1 /"
    y = 2 * x - 1 / x + x**3 + 2**x
    y.backward()
    assert x.grad == pytest.approx(2 + 1 / 4 + 3 * 4 + 4 * math.log(2), rel=1e-15)


OPERATORS = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "**": lambda a, b: a**b,
    "%": lambda a, b: a % b,
}


@pytest.mark.parametrize("name", sorted(OPERATORS))
@pytest.mark.parametrize(
    "constant", [3, -2, 2.5, True, np.float64(1.5), np.int64(2), Fraction(1, 4), 10**400]
)
def test_a_number_operand_gives_the_node_or_error_of_the_general_path(name, constant):
    # Ints and floats take a fast path: their nodes, and their errors (a negative base with a
    # fractional exponent, an int too large for a float), must be those of the general path.
    prim = ops.PRIMITIVES[name]
    x = Value(1.75)
    for inputs in ((x, constant), (constant, x)):
        try:
            general = _apply_with_constants(prim, inputs)
        except (ValueError, OverflowError) as error:
            with pytest.raises(type(error), match=re.escape(str(error))):
                OPERATORS[name](*inputs)
            continue
        node = OPERATORS[name](*inputs)
        assert type(node) is Value and node._rule is prim
        assert (node.data, node.parents, node.local_grads) == (
            general.data,
            general.parents,
            general.local_grads,
        )
        assert node.op == general.op and node._inputs == general._inputs
        assert all(type(k) is float for k in node._inputs if k is not x)


def test_every_operator_call_makes_one_node():
    x, y = Value(2.0), Value(3.0)
    for node in (x + y, x - 1, 3 * y, x / y, x**y, -x, +x, abs(x), x.tanh(), autodiff.exp(x)):
        assert all(parent in (x, y) for parent in node.parents)
        assert node.parents


def test_second_backward_adds_again():
    x = Value(1.5)
    y = x * x
    z = y * 3.0
    z.backward()
    z.backward()
    # Each pass contributes dz/dx = 6x; the intermediate adjoints must not compound.
    assert x.grad == 2 * 6 * 1.5
    assert y.grad == 6.0
    assert z.grad == 2.0


def test_backward_with_seed():
    x = Value(2.0)
    (x * x).backward(0.5)
    assert x.grad == 2.0


def test_gradients_sum_over_data_points():
    # Two data points sharing a parameter, as in batch learning (8.14).
    w = Value(0.5)
    for x, t in ((1.0, 2.0), (3.0, -1.0)):
        error = (w * x - t) ** 2 * 0.5
        error.backward()
    assert w.grad == pytest.approx((0.5 - 2.0) * 1.0 + (1.5 + 1.0) * 3.0, rel=1e-15)


def test_zero_grad_clears_node_and_ancestors():
    x, y = Value(1.0), Value(2.0)
    z = (x * y).tanh()
    z.backward()
    assert x.grad != 0.0
    z.zero_grad()
    assert (x.grad, y.grad, z.grad) == (0.0, 0.0, 0.0)


def test_leaf_grad_starts_at_zero_and_unreached_nodes_keep_it():
    x, unused = Value(1.0), Value(5.0)
    assert x.grad == 0.0
    (x * 2).backward()
    assert unused.grad == 0.0


def test_million_node_chain_at_default_recursion_limit():
    assert sys.getrecursionlimit() <= 1000 + 100  # pytest may add a little; far below the depth
    x = Value(0.0)
    y = x
    for _ in range(1_000_000):
        y = y + 1.0
    y.backward()
    assert y.data == 1_000_000.0
    assert x.grad == 1.0
    y.zero_grad()
    assert x.grad == 0.0
    del y  # freeing a deep chain must not overflow the C stack either


def test_doubling_graph_visits_nodes_not_paths():
    # 30 levels of y = y + y: 2**30 paths from output to x, but only 31 nodes.
    x = Value(1.0)
    y = x
    for _ in range(30):
        y = y + y
    y.backward()
    assert y.data == 2.0**30
    assert x.grad == 2.0**30


def test_creation_numbers_increase():
    a = Value(1.0)
    b = a * 2
    c = b.exp()
    assert a.serial < b.serial < c.serial


def test_equality_and_hash_are_identity():
    a, b = Value(1.0), Value(1.0)
    assert a != b
    assert a == a
    assert len({a, b, a}) == 2
    assert {a: 1}[a] == 1


def test_comparisons_use_data():
    a, b = Value(1.0), Value(2.0)
    assert a < b and a <= b and b > a and b >= a
    assert a < 1.5 and b < 2.5
    assert isinstance(a < b, bool)
    # SPEC: comparisons return bool, also against numpy scalars (not numpy's own bool)
    assert type(a < np.float64(1.5)) is bool and type(np.float64(1.5) > a) is bool
    assert type(autodiff.Dual(1.0, 1.0) <= np.float32(1.0)) is bool


def test_dot_and_sum_are_single_nodes():
    w = [Value(0.5), Value(-1.0)]
    x = [Value(2.0), Value(3.0)]
    b = Value(0.25)
    a = autodiff.dot(w, x, b)
    assert a.op == "dot"
    assert a.parents == (*w, *x, b)
    assert a.data == 0.5 * 2 - 3 + 0.25
    a.backward()
    assert [p.grad for p in (*w, *x, b)] == [2.0, 3.0, 0.5, -1.0, 1.0]
    s = autodiff.sum([w[0], 2.0, x[1]])
    assert s.parents == (w[0], x[1])
    assert s.data == 5.5


def test_dot_with_numbers_and_without_bias():
    w = [Value(0.5), Value(-1.0)]
    a = autodiff.dot(w, [2.0, 3.0])
    assert a.parents == tuple(w)
    assert a.local_grads == (2.0, 3.0)
    assert autodiff.dot([1, 2], [3, 4], 5) == 16.0
    assert autodiff.sum([1, 2, 3]) == 6.0
    empty = autodiff.sum([])  # no terms: the number 0.0, not a node with an int in it
    assert type(empty) is float and empty == 0.0


def test_numpy_scalars_are_numbers():
    x = Value(np.float64(2.0))
    assert type(x.data) is float
    y = np.float64(3.0) * x
    assert isinstance(y, Value)
    assert y.op == "3 *"
    z = x + np.int64(2)
    assert z.data == 4.0
    # numpy's bool is a numpy scalar too, though not registered as a number (Python's bool is)
    assert Value(np.True_).data == 1.0 and (x * np.False_).op == "* 0"
    assert autodiff.exp(np.True_) == math.e


def test_zero_adjoint_passes_nothing_back_even_through_infinite_slopes():
    # f(x) = 0 * sqrt(x) is 0 for every x >= 0, so df/dx = 0 at x = 0 too; the local derivative
    # of sqrt there is inf, and 0 * inf would be nan under IEEE rules.
    x = Value(0.0)
    (x.sqrt() * 0.0).backward()
    assert x.grad == 0.0
    # A non-zero adjoint through the same slope is infinite, as it should be.
    y = Value(0.0)
    y.sqrt().backward()
    assert y.grad == math.inf


def test_adjoints_returns_the_table_or_adds_to_grad_not_both():
    x = Value(2.0)
    y = x * x
    table = adjoints(y)
    assert table == {y: 1.0, x: 4.0}
    assert (x.grad, y.grad) == (0.0, 0.0)
    assert adjoints(y, add_to_grad=True) == {}
    assert (x.grad, y.grad) == (4.0, 1.0)


def test_a_subclass_of_value_is_a_node_in_every_kind_of_operation():
    class Parameter(Value):
        """What a user might write to mark trainable leaves."""

    w, x = Parameter(2.0, "w"), Value(3.0, "x")
    results = [w * x, x * w, w * 2, 2 * w, w + Parameter(1.0), autodiff.dot([w], [x]), w**w]
    assert [r.data for r in results] == [6.0, 6.0, 4.0, 4.0, 3.0, 6.0, 4.0]
    assert [len(r.parents) for r in results] == [2, 2, 1, 1, 2, 2, 2]
    assert results[2].op == "* 2" and results[3].op == "2 *"
    y = w * x + w.exp()
    y.backward()
    assert w.grad == pytest.approx(3.0 + math.exp(2.0), rel=1e-15) and x.grad == 2.0


def test_a_leaf_pickles_and_copies_with_its_data_grad_and_label():
    w = Value(0.5, "w")
    w.grad = 2.0
    for copied in (pickle.loads(pickle.dumps(w)), copy.deepcopy(w), copy.copy(w)):
        assert (copied.data, copied.grad, copied.label, copied.parents) == (0.5, 2.0, "w", ())
        assert copied is not w and copied.serial > w.serial  # a new node, made after w
        (copied * 3).backward()
        assert (copied.grad, w.grad) == (5.0, 2.0)


class Parameter(Value):
    """A subclass with an attribute of its own and another __init__ (module level: pickle)."""

    def __init__(self, label, data, trainable=True):
        super().__init__(data, label)
        self.trainable = trainable


def test_a_subclass_leaf_comes_back_as_itself_with_its_own_attributes():
    w = Parameter("w", 2.0, trainable=False)
    w.grad = 3.0
    for copied in (pickle.loads(pickle.dumps(w)), copy.deepcopy(w), copy.copy(w)):
        assert type(copied) is Parameter and copied is not w
        assert (copied.data, copied.grad, copied.label, copied.trainable) == (2.0, 3.0, "w", False)


def test_a_node_of_a_graph_refuses_pickle_and_copy_with_a_clear_error():
    # As PyTorch does for non-leaf tensors: creation numbers order a graph only in the process
    # that made it, and pickle would recurse once per node.
    y = Value(2.0) * Value(3.0)
    for save in (pickle.dumps, copy.deepcopy, copy.copy):
        with pytest.raises(TypeError, match=r"node made by op '\*', only leaves: use .detach"):
            save(y)
    assert pickle.loads(pickle.dumps(y.detach())).data == 6.0
    with autodiff.no_grad():
        assert copy.deepcopy(Value(2.0) * 3).data == 6.0  # no_grad results are leaves


def test_a_format_spec_formats_the_data_as_for_a_float():
    loss = Value(0.123456, label="E")
    assert f"{loss:.3f}" == "0.123" and f"{loss:>8.2e}" == "1.23e-01"
    assert f"{loss}" == str(loss) == "Value(data=0.123456, grad=0.0, label='E')"


def test_a_subclass_of_dual_works_in_the_n_ary_nodes():
    class Tangent(autodiff.Dual):
        pass

    a = autodiff.dot([Tangent(2.0, 1.0)], [3.0])
    s = autodiff.sum([Tangent(1.0, 1.0), Value(2.0), 1.0])
    assert (a.primal, a.tangent) == (6.0, 3.0)
    assert (s.primal.data, s.tangent) == (4.0, 1.0)
