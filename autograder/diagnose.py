"""Mistakes students make, recognised by the wrong answers they give.

A suite lists the mistakes it can recognise, per function, in a ``mistakes.py`` beside its
tests (``MISTAKES = {"conv2d_forward": (KERNEL_FLIPPED, ...)}``). A ``Mistake`` computes the
answer that a student who made it would give, from a case's inputs in float64, in the trusted
process. When a student's answer is wrong, ``harness.check_cases`` and ``check_example``
compare it with the answer of each of the function's mistakes; the first that matches is
named in the feedback, with a hint toward the fix (never the fix), and the results record its
key, which the class report counts.

A check that sees a mistake directly (BatchNorm statistics that moved while frozen) raises
``compare.Mismatch(message, mistake=...)`` itself, through ``diagnosed``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from autograder.compare import Mismatch, assert_matches
from autograder.student import student_failure

#: This module's frames are left out of a student's failure in grading.log.
__tracebackhide__ = student_failure


@dataclass(frozen=True)
class Mistake:
    """A mistake a student can make in one function.

    Attributes:
        key: its short name, counted in the class report (``"kernel flipped"``).
        says: what the student's code does, in the student's words (``"the kernel is
            flipped, as in the mathematical convolution"``).
        hint: where to look, without giving the fix away.
        answer: the answer this mistake gives for a case whose inputs are in float64
            (``Case -> value``), computed from the inputs with numpy or PyTorch; None for a
            mistake only a check of its own can see.
    """

    key: str
    says: str
    hint: str
    answer: Callable | None = None

    @property
    def words(self) -> str:
        """``"Likely mistake: <says>. Hint: <hint>."`` (a hint that asks keeps its "?")."""
        return f"Likely mistake: {self.says}. Hint: {self.hint.rstrip('.')}" + (
            "" if self.hint.endswith("?") else ".")


#: A mistake of every function that returns arrays: the right values, rounded to float32.
FLOAT32_RESULT = Mistake(
    "float32 for float64 inputs", "the answer is computed (or returned) in float32 although "
    "the inputs are float64, so it is off by about 1e-7", "keep the inputs' dtype: look for "
    "an array made with dtype=np.float32 or an astype")
#: The relative error that float32 rounding makes, at most (with some room).
FLOAT32_RTOL = 1e-5


def lost_precision(actual, expected) -> bool:
    """Whether ``actual`` is ``expected`` (float64) computed in float32."""
    return (isinstance(actual, np.ndarray) and isinstance(expected, np.ndarray)
            and actual.dtype == np.float32 and expected.dtype == np.float64
            and actual.shape == expected.shape
            and bool(np.allclose(actual, expected, rtol=FLOAT32_RTOL,
                                 atol=FLOAT32_RTOL * max(np.abs(expected).max(initial=0), 1))))


#: Errors a mistake's answer may raise for a case it cannot handle (a formula that gives a
#: negative size, a shape PyTorch refuses): that mistake is then not the one.
NO_ANSWER = (ValueError, RuntimeError, IndexError, ZeroDivisionError)


def whole(answer):
    """All of an answer (``recognise``'s default ``select``)."""
    return answer


def mistakes_of(assignment_id: str, function: str) -> tuple[Mistake, ...]:
    """The mistakes the suite of ``assignment_id`` recognises in ``function``."""
    name = f"autograder.suites.{assignment_id}.mistakes"
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as error:
        if error.name != name:
            raise
        return ()
    return tuple(module.MISTAKES.get(function, ()))


def first_giving(mistakes: tuple[Mistake, ...], case, gives: Callable) -> Mistake | None:
    """The first of ``mistakes`` whose answer to ``case`` satisfies ``gives(answer)``
    (mistakes without an answer, or with none for this case, are passed over)."""
    for mistake in mistakes:
        if mistake.answer is None:
            continue
        try:
            wrong = mistake.answer(case)
        except NO_ANSWER:
            continue
        if gives(wrong):
            return mistake
    return None


def recognise(actual, expected, case, mistakes: tuple[Mistake, ...],
              tolerance: dict[str, float], select: Callable = whole) -> Mistake | None:
    """The known mistake that gives the wrong answer ``actual`` to ``case`` instead of
    ``expected``: ``FLOAT32_RESULT``, or the first of ``mistakes`` whose answer is ``actual``
    (within ``tolerance``); ``select`` picks the part of an answer being checked (``dw`` of
    ``(dx, dw, db)``)."""
    if lost_precision(actual, expected):
        return FLOAT32_RESULT

    def gives(answer) -> bool:
        try:
            assert_matches(actual, select(answer), case="", tolerance=tolerance)
        except AssertionError:
            return False
        return True

    return first_giving(mistakes, case.in_float64(), gives)


def explained(error: AssertionError, mistake: Mistake | None) -> AssertionError:
    """``error`` with ``mistake`` (if any) named after its message, as a ``Mismatch`` that
    keeps the arrays ``error`` held."""
    if mistake is None:
        return error
    return Mismatch(f"{error} {mistake.words}", actual=getattr(error, "actual", None),
                    expected=getattr(error, "expected", None), mistake=mistake)


def diagnosed(message: str, mistake: Mistake) -> Mismatch:
    """The failure of a check that saw ``mistake`` itself, to ``raise``."""
    return Mismatch(f"{message} {mistake.words}", mistake=mistake)
