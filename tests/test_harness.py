"""The suite kit (``autograder.harness`` and ``autograder.compare``) on its own, without a
sandbox: what it accepts, what it refuses, and what its messages say."""

from __future__ import annotations

import numpy as np
import pytest

from autograder import harness
from autograder.compare import assert_same, names_any
from autograder.diagnose import Mistake
from autograder.harness import Case, OraclesDisagree, check_cases, check_raises
from autograder.student import StudentError, StudentRaised, student_failure
from cnnlab.course import get_assignment


class LocalStudent:
    """Stands in for ``StudentModule``: the given functions, called in this process."""

    import_failure = None

    def __init__(self, **functions) -> None:
        self.assignment = get_assignment("a02_convolution")
        self.functions = functions

    def __getattr__(self, name: str):
        return self.functions[name]


class Reference:
    """A reference module whose ``scale`` doubles ``x``."""

    @staticmethod
    def scale(x, factor=2):
        return x * factor


def doubled(case: Case) -> np.ndarray:
    return case.inputs["x"] * case.options.get("factor", 2)


def raised(type_name: str, message: str, outcome: str = "raised") -> StudentRaised:
    return StudentRaised(f"scale raised {type_name}: {message}", type_name,
                         [type_name, "Exception"], message, outcome)


def test_a_right_answer_passes_and_a_wrong_one_names_the_case_and_where():
    x = np.arange(6.0).reshape(2, 3)
    case = Case({"x": x}, {"factor": 3}, "a 2x3 input")
    check_cases(LocalStudent(scale=lambda x, factor: x * factor), Reference, "scale", [case],
                doubled)

    def off_by_one(x, factor):
        y = x * factor
        y[1, 2] += 1
        return y

    with pytest.raises(AssertionError) as failure:
        check_cases(LocalStudent(scale=off_by_one), Reference, "scale", [case], doubled)
    message = str(failure.value)
    assert message.startswith("scale(a 2x3 input: x (2, 3), factor=3)")
    assert "1 of 6 entries" in message and "index (1, 2)" in message


def test_the_failure_shown_is_a_wrong_answer_a_known_mistake_explains(monkeypatch):
    """A first wrong answer that no mistake explains alone (two give it) is passed over for
    a later one that one does; with none explained, the first is shown after at most
    ``WRONG_ANSWERS_EXAMINED`` wrong answers."""
    def squared(case: Case) -> np.ndarray:
        if case.note == "ambiguous":
            raise ValueError("another mistake gives the same answer")
        return case.inputs["x"] ** 2

    monkeypatch.setattr(harness, "mistakes_of", lambda assignment, function: (
        Mistake("squared", "x is squared", "look at the operator", squared),))
    cases = [Case({"x": np.full(2, 3.0 + i)}, note=note)
             for i, note in enumerate(["ambiguous", "a first", "a second"])]
    with pytest.raises(AssertionError) as failure:
        check_cases(LocalStudent(scale=lambda x: x ** 2), Reference, "scale", cases, doubled)
    assert str(failure.value).startswith("scale(a first:")
    assert failure.value.mistake.key == "squared"

    calls = []

    def wrong(x):
        calls.append(x)
        return x + 1

    many = [Case({"x": np.full(2, 3.0 + i)}, note=f"case {i}") for i in range(10)]
    with pytest.raises(AssertionError) as failure:
        check_cases(LocalStudent(scale=wrong), Reference, "scale", many, doubled)
    assert str(failure.value).startswith("scale(case 0:")
    assert len(calls) == harness.WRONG_ANSWERS_EXAMINED < len(many)

    def wrong_then_raises(x):
        if x[0] > 3:
            raise raised("RuntimeError", "boom")
        return x + 1

    with pytest.raises(AssertionError) as failure:
        check_cases(LocalStudent(scale=wrong_then_raises), Reference, "scale", many, doubled)
    assert str(failure.value).startswith("scale(case 0:")


def test_the_tolerance_is_the_inputs_dtype():
    x64 = np.random.default_rng(0).standard_normal((4, 4))
    rounded = LocalStudent(scale=lambda x: (x * 2).astype(np.float32))
    check_cases(rounded, Reference, "scale", [Case({"x": x64.astype(np.float32)})], doubled)
    with pytest.raises(AssertionError, match="values differ"):
        check_cases(rounded, Reference, "scale", [Case({"x": x64})], doubled)


def test_a_shape_or_type_mistake_says_so():
    x = np.ones((2, 3))
    with pytest.raises(AssertionError, match=r"expected shape \(2, 3\), got \(3, 2\)"):
        check_cases(LocalStudent(scale=lambda x: (2 * x).T), Reference, "scale",
                    [Case({"x": x})], doubled)
    with pytest.raises(AssertionError, match="expected a numpy array of shape"):
        check_cases(LocalStudent(scale=lambda x: (2 * x).tolist()), Reference, "scale",
                    [Case({"x": x})], doubled)


def test_a_reference_that_disagrees_with_the_oracle_is_the_graders_error():
    with pytest.raises(OraclesDisagree, match="scale"):
        check_cases(LocalStudent(scale=lambda x: 2 * x), Reference, "scale",
                    [Case({"x": np.ones(3)})], lambda case: 3 * case.inputs["x"])


def test_one_part_of_a_tuple_is_checked_and_a_missing_tuple_is_explained():
    class Pair:
        @staticmethod
        def both(x):
            return x, 2 * x

    def oracle(case):
        return case.inputs["x"], 2 * case.inputs["x"]

    def wrong_second(x):
        return x, 3 * x

    case = [Case({"x": np.ones(3)})]
    check_cases(LocalStudent(both=wrong_second), Pair, "both", case, oracle, part="first",
                parts=("first", "second"))
    with pytest.raises(AssertionError, match=r"^second of both\(x \(3,\)\)"):
        check_cases(LocalStudent(both=wrong_second), Pair, "both", case, oracle,
                    part="second", parts=("first", "second"))
    with pytest.raises(AssertionError, match=r"expected a tuple \(first, second\)"):
        check_cases(LocalStudent(both=lambda x: x), Pair, "both", case, oracle,
                    part="first", parts=("first", "second"))


def test_a_crash_names_the_case_but_a_stub_does_not_repeat_it():
    def crashes(x):
        raise raised("IndexError", "index 3 is out of bounds")

    def stub(x):
        raise raised("NotImplementedError", "", outcome="not implemented")

    case = [Case({"x": np.ones(3)}, note="three ones")]
    with pytest.raises(StudentRaised) as error:
        check_cases(LocalStudent(scale=crashes), Reference, "scale", case, doubled)
    assert error.value.feedback.startswith("scale(three ones: x (3,)): scale raised IndexError")
    with pytest.raises(StudentRaised) as error:
        check_cases(LocalStudent(scale=stub), Reference, "scale", case, doubled)
    assert error.value.feedback.startswith("scale raised NotImplementedError")


@pytest.mark.parametrize("message", [
    "kernel_size must be positive", "Kernel size 9 is larger than the input",
    "KERNEL SIZE too large", "the kernel_sizes do not fit", "w is larger than the input"])
def test_a_message_may_name_the_argument_in_words(message):
    assert names_any(message, ("kernel_size", "w"))


@pytest.mark.parametrize("message", ["kernelsize must be positive", "window too large",
                                     "wrong value", "bad input"])
def test_a_message_must_name_the_argument_as_a_whole_word(message):
    assert not names_any(message, ("kernel_size", "w"))


def test_check_raises_wants_a_value_error_that_names_the_argument():
    def refuses(x, stride=1):
        raise raised("ValueError", f"Stride must be positive, got {stride}")

    def says_nothing(x, stride=1):
        raise raised("ValueError", "invalid")

    def wrong_type(x, stride=1):
        raise raised("ZeroDivisionError", "division by zero")

    cases = [(Case({"x": np.ones(3)}, {"stride": 0}), ("stride",))]
    check_raises(LocalStudent(scale=refuses), "scale", cases)
    with pytest.raises(AssertionError, match="does not name 'stride'"):
        check_raises(LocalStudent(scale=says_nothing), "scale", cases)
    with pytest.raises(AssertionError, match="expected ValueError, but it raised Zero"):
        check_raises(LocalStudent(scale=wrong_type), "scale", cases)
    with pytest.raises(AssertionError, match=r"scale\(x \(3,\), stride=0\): expected "
                                             r"ValueError, but it returned"):
        check_raises(LocalStudent(scale=lambda x, stride: x), "scale", cases)


def test_an_int_answer_must_be_an_int():
    assert_same(7, 7, case="size")
    assert_same((2, 3), (np.int64(2), 3), case="shape")
    with pytest.raises(AssertionError, match="use // rather than /"):
        assert_same(7.0, 7, case="size")
    with pytest.raises(AssertionError, match="differs at position 1"):
        assert_same((2, 4), (2, 3), case="shape")


@pytest.mark.parametrize("error, students", [
    (StudentError("the module could not be imported"), True),
    (AssertionError("values differ"), True),
    (TypeError("a bug in the grader"), False),
])
def test_the_graders_frames_are_left_out_of_a_students_failure_only(error, students):
    """``student_failure`` is the ``__tracebackhide__`` of the grader's modules."""
    try:
        raise error
    except Exception:
        info = pytest.ExceptionInfo.from_current()
    assert student_failure(info) is students
