"""check_engine grades a student's Value class: a correct one passes every case, and each classic
mistake, planted in a class of its own, is caught by the case made for it with that case's hint.
"""

from __future__ import annotations

import math
import threading
import time

import pytest

import autodiff
from autodiff.exercises import check_engine, engine

DOUBLING = "doubling y = y + y"


class Good:
    """A correct student engine: recorded local derivatives and an iterative reverse pass."""

    def __init__(self, data, parents=(), local_grads=()):
        self.data = float(data)
        self.grad = 0.0
        self.parents = tuple(parents)
        self.local_grads = tuple(local_grads)

    @classmethod
    def wrap(cls, x):
        return x if isinstance(x, Good) else cls(x)

    def __add__(self, other):
        other = self.wrap(other)
        return self.make(self.data + other.data, (self, other), (1.0, 1.0))

    __radd__ = __add__

    def __mul__(self, other):
        other = self.wrap(other)
        return self.make(self.data * other.data, (self, other), (other.data, self.data))

    __rmul__ = __mul__

    def tanh(self):
        t = math.tanh(self.data)
        return self.make(t, (self,), (1 - t * t,))

    def make(self, data, parents, local_grads):
        return type(self)(data, parents, local_grads)

    def link(self, parents, local_grads):
        """Hook for the buggy classes: how the parents are stored."""
        return parents, local_grads

    def order(self):
        """The nodes, each after all its parents (iterative depth-first search)."""
        order, seen, stack = [], {id(self)}, [(self, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
                continue
            stack.append((node, True))
            for parent in node.parents:
                if id(parent) not in seen:
                    seen.add(id(parent))
                    stack.append((parent, False))
        return order

    def backward(self):
        order = self.order()
        for node in order:
            if node.parents:
                node.grad = 0.0
        self.grad += 1.0
        for node in reversed(order):
            for parent, local in zip(node.parents, node.local_grads):
                parent.grad += local * node.grad


class SetOfParents(Good):
    """Parents kept in a dict (a set with derivatives): a + a and x * x count once."""

    def __init__(self, data, parents=(), local_grads=()):
        super().__init__(data)
        links = dict(zip(parents, local_grads))
        self.parents, self.local_grads = tuple(links), tuple(links.values())


class Assigns(Good):
    """parent.grad = ... instead of +=: fan-out keeps only the last child's term."""

    def backward(self):
        order = self.order()
        self.grad = 1.0
        for node in reversed(order):
            for parent, local in zip(node.parents, node.local_grads):
                parent.grad = local * node.grad


class BreadthFirst(Good):
    """Passes each adjoint on when first reached breadth first, before it is complete."""

    def backward(self):
        for node in self.order():
            if node.parents:
                node.grad = 0.0
        self.grad += 1.0
        queue, seen = [self], {id(self)}
        for node in queue:
            for parent, local in zip(node.parents, node.local_grads):
                parent.grad += local * node.grad
                if id(parent) not in seen:
                    seen.add(id(parent))
                    queue.append(parent)


class Recursive(Good):
    """micrograd's recursive topological sort: RecursionError on a deep chain."""

    def order(self):
        order, seen = [], set()

        def visit(node):
            if id(node) not in seen:
                seen.add(id(node))
                for parent in node.parents:
                    visit(parent)
                order.append(node)

        visit(self)
        return order


class WalksPaths(Good):
    """Pushes an adjoint along every path: right numbers, 2^depth work on y = y + y."""

    def backward(self):
        self.grad += 1.0
        stack = [(self, 1.0)]
        while stack:
            node, adjoint = stack.pop()
            for parent, local in zip(node.parents, node.local_grads):
                parent.grad += local * adjoint
                stack.append((parent, local * adjoint))


class KeepsInnerAdjoints(Good):
    """micrograd's backward: the output's grad is set to 1, the inner nodes keep the last pass's."""

    def backward(self):
        order = self.order()
        self.grad = 1.0
        for node in reversed(order):
            for parent, local in zip(node.parents, node.local_grads):
                parent.grad += local * node.grad


class Replaces(Good):
    """Zeroes every grad first: a second backward() replaces the gradient instead of adding."""

    def backward(self):
        order = self.order()
        for node in order:
            node.grad = 0.0
        super().backward()


class NoTanh(Good):
    tanh = None


class Stub(Good):
    def backward(self):
        raise NotImplementedError


class Hangs(Good):
    def backward(self):
        while True:
            pass


def rows(report):
    return {row.case: row for row in report.results}


def failing(report):
    return {row.case for row in report.results if not row.passed}


def test_a_correct_engine_passes_every_case():
    report = check_engine(Good)
    assert report, str(report)
    assert all(row.status == "ok" for row in report.results)
    assert "all pass" in str(report) and "all pass" in report._repr_html_()


@pytest.mark.parametrize(
    ("engine", "caught_by", "also", "words"),
    [
        (SetOfParents, {"a + a", "x * x"}, {DOUBLING}, "not a set"),
        (
            Assigns,
            {"fan-out: a * b + a * c"},
            {"a + a", "x * x", "uneven diamond", "backward() twice", DOUBLING},
            "+=",
        ),
        (BreadthFirst, {"uneven diamond"}, set(), "reverse topological order"),
        (Recursive, {"deep chain (10,000 nodes)"}, set(), "RecursionError"),
        (WalksPaths, {DOUBLING}, set(), "exponential"),
        (KeepsInnerAdjoints, {"backward() twice"}, set(), "inner nodes still held"),
        (Replaces, {"backward() twice"}, set(), "replaced the first gradient"),
    ],
)
def test_each_classic_mistake_is_caught_by_its_own_case(engine, caught_by, also, words):
    report = check_engine(engine)
    assert not report
    assert caught_by <= failing(report) <= caught_by | also, str(report)
    for case in caught_by:
        assert words in rows(report)[case].hint
    assert words in str(report)


def test_a_wrong_adjoint_shows_the_input_the_expected_and_the_students_number():
    row = rows(check_engine(Assigns))["fan-out: a * b + a * c"]
    assert (row.status, row.where, row.expected, row.yours) == ("WRONG", "a.grad", 2.0, 5.0)
    assert "(8.69)" in row.hint and "Σ_j" in row.hint


def test_the_doubling_case_stops_on_its_budget_and_names_the_growth():
    start = time.perf_counter()
    row = rows(check_engine(WalksPaths))[DOUBLING]
    assert time.perf_counter() - start < 15  # the budget is 3 s; never the 2^40 steps
    assert row.status == "SLOW" and "exponential" in row.hint and "×" in row.hint


def test_one_pause_of_a_busy_machine_is_not_taken_for_exponential_growth():
    class PausesOnce(Good):
        def backward(self):
            if len(self.order()) == 4:  # only the doubling graph of depth 3 has 4 nodes
                time.sleep(0.3)  # longer than one level may take (3 s / 12)
            super().backward()

    assert rows(check_engine(PausesOnce))[DOUBLING].status == "ok"


def test_missing_tanh_is_skipped_not_failed():
    report = check_engine(NoTanh)
    assert report
    assert rows(report)["tanh(x * w + b)"].status == "skipped"
    assert "1 skipped" in str(report)


def test_a_stub_is_not_done_yet_never_a_traceback():
    report = check_engine(Stub)
    assert not report
    assert {row.status for row in report.results} == {"not done yet"}
    text = str(report)
    assert "not done yet" in text.splitlines()[0]
    assert "Traceback" not in text and "in backward" in text
    assert text.count("hint:") == 1  # the same hint for every row is printed once


def test_a_runaway_loop_is_stopped_and_reported_once_not_once_per_case():
    report = check_engine(Hangs, time_limit=0.1)
    first, *rest = report.results
    assert first.status == "SLOW" and "did not finish in 0.1 s" in str(report)
    assert {row.status for row in rest} == {"not run"} and not report
    assert "did not finish" in rest[0].hint
    time.sleep(0.2)
    assert not [t for t in threading.enumerate() if t.name == "check_engine"]  # all stopped


@pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_stop_landing_after_the_work_gave_up_is_never_printed(capfd):
    # Sent just as the work ends, a stop can surface in the worker's clean-up or in a garbage
    # collector callback there; Python would print both under the student's report.
    check_engine(Hangs, time_limit=0.1)

    class DiesLoudly:
        def __del__(self):
            raise engine._Stopped

    def late_stops():
        DiesLoudly()  # unraisable, as in a collector callback
        raise engine._Stopped  # uncaught, as in the thread's clean-up

    worker = threading.Thread(target=late_stops)
    worker.start()
    worker.join()
    assert "_Stopped" not in capfd.readouterr().err


class NoSeed(Good):
    """Forgets f̄ = 1: every adjoint stays 0."""

    def backward(self):
        order = self.order()
        for node in reversed(order):
            for parent, local in zip(node.parents, node.local_grads):
                parent.grad += local * node.grad


class SwapsProductDerivatives(Good):
    """∂(u·v)/∂u = u instead of v: wrong on the first backward() already."""

    def __mul__(self, other):
        other = self.wrap(other)
        return self.make(self.data * other.data, (self, other), (self.data, other.data))

    __rmul__ = __mul__


class ListsNodesTwice(Good):
    """No visited set: a node reached along two paths is listed, and passes its adjoint, twice."""

    def order(self):
        order, stack = [], [(self, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
                continue
            stack.append((node, True))
            stack.extend((parent, False) for parent in node.parents)
        return order


class ReturnsNumbers(Good):
    def __add__(self, other):
        return self.data + self.wrap(other).data

    __radd__ = __add__


def test_a_class_without_backward_says_so_once_not_an_attribute_error_per_case():
    class Redefined(Good):  # the class cell run again, the cell adding backward not
        backward = None

    report = check_engine(Redefined)
    assert {row.status for row in report.results} == {"ERROR"}
    assert str(report).count("hint:") == 1 and "has no backward()" in str(report)
    assert "AttributeError" not in str(report)


def test_an_adjoint_that_stayed_zero_says_none_reached_it():
    row = rows(check_engine(NoSeed))["a * b + c"]
    assert (row.status, row.yours) == ("WRONG", 0.0) and "f̄ = 1" in row.hint
    assert "stayed 0" in row.hint  # not the case's own hint, which also says f̄ = 1
    assert "stayed 0" in rows(check_engine(NoSeed))[DOUBLING].hint


def test_each_hint_fits_the_failure_it_explains():
    report = rows(check_engine(SwapsProductDerivatives))
    twice, chain = report["backward() twice"], report["deep chain (10,000 nodes)"]
    assert twice.where == "a.grad after backward() #1" and "already wrong" in twice.hint
    assert chain.status == "WRONG" and "recursi" not in chain.hint and "product" in chain.hint
    doubling = rows(check_engine(ListsNodesTwice))[DOUBLING]
    assert doubling.status == "WRONG" and "more than once" in doubling.hint
    add = rows(check_engine(ReturnsNumbers))["a * b + c"]
    assert add.status == "ERROR" and "returned a plain number" in add.hint


def test_a_wrong_forward_value_names_f_data():
    class Subtracts(Good):
        def __add__(self, other):
            other = self.wrap(other)
            return self.make(self.data - other.data, (self, other), (1.0, -1.0))

    row = rows(check_engine(Subtracts))["a * b + c"]
    assert (row.status, row.where, row.expected, row.yours) == ("WRONG", "f.data", 4.0, -16.0)


def test_an_error_in_the_students_code_is_a_row_naming_where():
    class NoRadd(Good):
        __radd__ = None

    report = check_engine(NoRadd)
    row = rows(report)["(2 + a) * (3 * b) + 4"]
    assert row.status == "ERROR" and "TypeError" in row.hint and "__radd__" in row.hint
    assert failing(report) == {"(2 + a) * (3 * b) + 4"}


def test_the_html_table_escapes_and_colours():
    html = check_engine(Assigns)._repr_html_()
    assert html.startswith("<table>") and "WRONG" in html and "#cf222e" in html
    assert '<td style="white-space:nowrap">a.grad</td>' in html


def test_bad_arguments():
    with pytest.raises(TypeError, match="class"):
        check_engine(Good(1.0))
    with pytest.raises(ValueError, match="time_limit"):
        check_engine(Good, time_limit=0)


def test_the_engine_itself_passes():
    assert check_engine(autodiff.Value)
