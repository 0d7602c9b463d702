"""What a hidden suite is made of: the ``graded`` marker, the ``Case``, and the checks.

A hidden test is an ordinary pytest function that takes the ``student`` fixture (the
student's module, run in the sandbox; see ``autograder.student``) and, where it needs them,
``reference`` (the reference solution, imported in the trusted process) and ``rng`` (a
fresh generator, seeded by the run's seed, which every failure message prints)::

    @graded("conv_output_size", weight=2)
    def test_dilation(student, reference, rng):
        "dilation > 1"
        cases = [Case(options=draw_dilated(rng)) for _ in range(30)]
        check_cases(student, reference, "conv_output_size", cases, pytorch_conv_size)

``check_cases`` asks the oracle (PyTorch) and the reference for the expected answer of each
case (they must agree: see ``confirmed``), calls the student's function, and fails where
an answer differs, with a message that names the case and what differs (and the mistake
that gives such an answer, where the suite knows one: see ``check_cases``).
``check_raises`` checks the contract's ``ValueError``s, ``check_example`` a worked example.
Results of float arrays are compared with the manifest's tolerance of the inputs' dtype.

A test's result is named ``"<function>: <first docstring line> [<parameter id>]"``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pytest

from autograder.compare import assert_matches, assert_raises, describe
from autograder.diagnose import explained, mistakes_of, recognise, whole
from autograder.student import StudentError, student_failure
from cnnlab.course import FLOAT64

#: This module's frames are left out of a student's failure in grading.log.
__tracebackhide__ = student_failure

#: What a ``ValueError`` may call a window too large for the padded input (the contract's
#: list); suites add the arguments' own names (``w``, ``padding``).
WINDOW_NAMES = ("kernel_size", "kernel", "filter", "window", "weight")


def graded(function: str, weight: float = 1.0, kind: str = "cases"):
    """Mark a hidden test: the student ``function`` it checks, its weight and its kind.

    The function's points (the manifest's, ``cnnlab.course``) are shared by its tests in
    proportion to their weights; a parametrized test weighs ``weight`` for each case.
    ``kind`` is ``"cases"`` (generated inputs against the oracles), ``"errors"`` (the
    contract's ValueErrors) or ``"example"`` (worked examples): the last two count only
    once every ``"cases"`` test of the function passes.
    """
    return pytest.mark.graded(function=function, weight=weight, kind=kind)


@dataclass(frozen=True)
class Case:
    """One call of a student function.

    Attributes:
        inputs: the positional arguments by name, in order (``{"x": x, "w": w}``); arrays
            are drawn fresh on every grading run.
        options: the keyword arguments (``{"stride": 2}``).
        note: what the case tries, in words (``"depthwise"``), for the feedback.
    """

    inputs: dict = field(default_factory=dict)
    options: dict = field(default_factory=dict)
    note: str = ""

    @property
    def label(self) -> str:
        """``"depthwise: x (2, 4, 6, 6), w (4, 1, 3, 3), groups=4"``: the case in words."""
        arguments = describe(self.inputs | self.options)
        return f"{self.note}: {arguments}" if self.note else arguments

    @property
    def dtype(self) -> np.dtype | None:
        """The dtype of the first floating-point array input, whose tolerance applies."""
        return next((value.dtype for value in self.inputs.values()
                     if isinstance(value, np.ndarray) and value.dtype.kind == "f"), None)

    def in_float64(self) -> Case:
        """The same case with its float arrays in float64: what the oracles compute on."""
        return Case({name: value.astype(np.float64)
                     if isinstance(value, np.ndarray) and value.dtype.kind == "f" else value
                     for name, value in self.inputs.items()}, self.options, self.note)

    def call(self, function: Callable):
        return function(*self.inputs.values(), **self.options)


class OraclesDisagree(RuntimeError):
    """The reference solution and the independent oracle (PyTorch) give different answers:
    the grader is wrong, not the student, and the plugin reports a grader error."""


def confirmed(oracle_value, reference_value, *, what: str):
    """``oracle_value``, once the reference solution agrees with it (float64 tolerance of
    the manifest for arrays, element by element for tuples, exactly for anything else);
    ``OraclesDisagree`` otherwise. Every expected value passes through here, so neither
    the reference nor the oracle is trusted alone."""
    if not _agree(oracle_value, reference_value):
        raise OraclesDisagree(f"the reference and PyTorch disagree on {what}")
    return oracle_value


def _agree(oracle_value, reference_value) -> bool:
    if isinstance(oracle_value, np.ndarray):
        return np.shape(reference_value) == oracle_value.shape and np.allclose(
            reference_value, oracle_value, rtol=FLOAT64.rtol, atol=FLOAT64.atol)
    if isinstance(oracle_value, tuple) and any(isinstance(v, np.ndarray) for v in oracle_value):
        return (isinstance(reference_value, tuple)
                and len(reference_value) == len(oracle_value)
                and all(_agree(o, r) for o, r in zip(oracle_value, reference_value,
                                                     strict=True)))
    return reference_value == oracle_value


#: How many wrong answers ``check_cases`` examines for a known mistake before it reports the
#: first: a submission wrong everywhere costs that many calls, not all its cases.
WRONG_ANSWERS_EXAMINED = 5


def check_cases(student, reference, function: str, cases: Sequence[Case],
                oracle: Callable[[Case], object], *, part: str | None = None,
                parts: tuple[str, ...] = ()) -> None:
    """Check ``student.<function>`` on every case; a wrong answer fails.

    The failure reported is the first wrong answer that a known mistake explains, looking at
    up to ``WRONG_ANSWERS_EXAMINED`` of them, or else the first: a case where two mistakes
    give the same answer names neither, and the next case usually tells them apart. A call
    that fails (raises, times out) after a wrong answer ends the search; the wrong answer is
    reported. A failing test thus makes at most the calls a passing one makes.

    Args:
        cases: the calls to make, inputs in whatever dtype the test wants.
        oracle: the expected answer of a case (given in float64), computed independently
            of the reference (by PyTorch); the reference must agree with it.
        part, parts: for a function that returns a tuple named ``parts``
            (``("dx", "dw", "db")``), check only its element ``part``, so that each
            element can be a test of its own.
    """
    unexplained: AssertionError | None = None
    wrong_answers = 0
    for case in cases:
        call = f"{function}({case.label})"
        exact = case.in_float64()
        expected = confirmed(oracle(exact), exact.call(getattr(reference, function)),
                             what=call)
        try:
            actual = _student_answer(student, function, case, call)
        except StudentError:
            if unexplained is None:
                raise
            break
        if part is not None:
            if not isinstance(actual, (tuple, list)) or len(actual) != len(parts):
                raise AssertionError(f"{call}: expected a tuple ({', '.join(parts)}), got "
                                     f"{type(actual).__name__}")
            actual, expected = actual[parts.index(part)], expected[parts.index(part)]
            call = f"{part} of {call}"
        try:
            _judge(student, function, case, call, actual, expected,
                   select=(lambda answer: answer[parts.index(part)]) if part else whole)
        except AssertionError as failure:
            wrong_answers += 1
            if getattr(failure, "mistake", None) is not None:
                raise
            unexplained = unexplained or failure
            if wrong_answers == WRONG_ANSWERS_EXAMINED:
                break
    if unexplained is not None:
        raise unexplained


def _judge(student, function: str, case: Case, call: str, actual, expected,
           select: Callable = whole) -> None:
    """Compare ``actual`` with ``expected`` (the manifest's tolerance); where they differ,
    fail naming the suite's known mistake of ``function`` that gives ``actual``, if any
    (``select`` picks the part of a mistake's answer that is checked)."""
    tolerance = _tolerance(student, case)
    try:
        assert_matches(actual, expected, case=call, tolerance=tolerance)
    except AssertionError as error:
        mistake = recognise(actual, expected, case,
                            mistakes_of(student.assignment.id, function), tolerance, select)
        raise explained(error, mistake) from None


def _tolerance(student, case: Case) -> dict[str, float]:
    """The manifest's tolerance for the dtype of ``case``'s inputs; exact without any."""
    if case.dtype is None:
        return {"rtol": 0.0, "atol": 0.0}
    return student.assignment.tolerance(case.dtype)


#: Failures of one call, whose feedback the call's case makes clearer (a stub's "not
#: implemented yet" or a failed import is the same for every case).
CASE_OUTCOMES = ("raised", "timeout", "crashed")


def _student_answer(student, function: str, case: Case, call: str):
    """The student's answer to ``case``; a failure's feedback starts with the call."""
    try:
        return case.call(getattr(student, function))
    except StudentError as error:
        if error.outcome in CASE_OUTCOMES and student.import_failure is None:
            error.feedback = f"{call}: {error.feedback}"
        raise


def check_example(student, function: str, case: Case, expected: np.ndarray) -> None:
    """A worked example of the course: ``case``'s answer must be ``expected``."""
    call = f"{function}({case.label})"
    _judge(student, function, case, call, _student_answer(student, function, case, call),
           expected)


def check_raises(student, function: str, cases: Sequence[tuple[Case, tuple[str, ...]]]) -> None:
    """Each ``(case, names)``: ``student.<function>`` must raise ``ValueError`` for
    ``case``, with a message that names one of ``names`` (the argument at fault; see
    ``compare.names_any``). The first case that does not fails."""
    for case, names in cases:
        assert_raises(ValueError, getattr(student, function), *case.inputs.values(),
                      case=f"{function}({case.label})", names=names, **case.options)


def plain(value):
    """numpy integers (and tuples of them) as the Python ints PyTorch takes."""
    return tuple(int(v) for v in value) if isinstance(value, tuple) else int(value)


def conforms(value, schema) -> bool:
    """Whether ``value`` has the form of ``schema``: a type (exactly it: a bool is not an
    int, a numpy float not a float, a dict's subclass not a dict), a tuple of such
    alternatives, ``[item]`` (a list of items), ``{str: item}`` (a dict of str keys to items)
    or ``{key: item, ...}`` (a dict holding at least those keys)."""
    if isinstance(schema, type):
        return type(value) is schema
    if isinstance(schema, tuple):
        return any(conforms(value, alternative) for alternative in schema)
    if isinstance(schema, list):
        return type(value) is list and all(conforms(item, schema[0]) for item in value)
    if type(value) is not dict:
        return False
    if list(schema) == [str]:
        return all(type(k) is str and conforms(v, schema[str]) for k, v in value.items())
    return all(key in value and conforms(value[key], item) for key, item in schema.items())


def readable_report(report, schema, what: str):
    """A driver's ``report``, checked to have the form of ``schema`` (see ``conforms``):
    the student's code runs beside the driver and could change what it sends, so anything
    else is the submission's failure, never the grader's. ``what`` names the report."""
    if not conforms(report, schema):
        raise AssertionError(f"{what} is not one the grader can read (did the code change "
                             f"the driver, the module or torch?): {report!r:.300}")
    return report

