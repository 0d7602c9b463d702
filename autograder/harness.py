"""What a hidden suite imports: the ``graded`` marker and the checks that explain failures.

A hidden test is an ordinary pytest function that takes the ``student`` fixture (the
student's module, run in the sandbox; see ``autograder.student``) and, where it needs them,
``reference`` (the reference solution, imported in the trusted process) and ``rng`` (a
fresh, seeded ``numpy.random.Generator``)::

    @graded("conv_output_size", points=2)
    def test_dilation(student, reference):
        "dilation > 1"
        for case in CASES:
            assert_same(student.conv_output_size(**case), reference.conv_output_size(**case),
                        case=describe(case))

Its result's name is ``"<function>: <first docstring line> [<parameter id>]"``. A failing
check raises ``AssertionError`` whose message is the test's feedback, so each message names
the case, then what differs: type, shape, values (max abs/rel error, first differing index).
"""

from __future__ import annotations

import numbers
import re

import numpy as np
import pytest

from autograder.student import StudentRaised
from cnnlab.course import FLOAT64


class OraclesDisagree(RuntimeError):
    """The reference solution and the independent oracle (PyTorch) give different answers:
    the grader is wrong, not the student, and the plugin reports a grader error."""


def confirmed(oracle_value, reference_value, *, what: str):
    """``oracle_value``, once the reference solution agrees with it (float64 tolerance of
    the manifest, or exactly for anything not an array); ``OraclesDisagree`` otherwise.
    Every suite passes its expected values through here, so neither the reference nor the
    oracle is trusted alone."""
    if isinstance(oracle_value, np.ndarray):
        agree = np.shape(reference_value) == oracle_value.shape and np.allclose(
            reference_value, oracle_value, rtol=FLOAT64.rtol, atol=FLOAT64.atol)
    else:
        agree = reference_value == oracle_value
    if not agree:
        raise OraclesDisagree(f"the reference and PyTorch disagree on {what}")
    return oracle_value


def graded(function: str, weight: float = 1.0, kind: str = "cases"):
    """Mark a hidden test: the student ``function`` it checks, its weight and its kind.

    The function's points (the manifest's, ``cnnlab.course``) are shared by its tests in
    proportion to their weights; a parametrized test weighs ``weight`` for each case.
    ``kind`` is ``"cases"`` (generated inputs against the oracles), ``"errors"`` (the
    contract's ValueErrors) or ``"example"`` (worked examples): the last two count only
    once every ``"cases"`` test of the function passes.
    """
    return pytest.mark.graded(function=function, weight=weight, kind=kind)


def plain(value):
    """numpy integers (and tuples of them) as the Python ints PyTorch takes."""
    return tuple(int(v) for v in value) if isinstance(value, tuple) else int(value)


def describe(case: dict) -> str:
    """``{"size": 7, "stride": 2}`` -> ``"size=7, stride=2"``: a case as a reader writes it."""
    return ", ".join(f"{name}={value!r}" for name, value in case.items())


def assert_same(actual, expected, *, case: str) -> None:
    """Exact equality for ints, tuples of ints and the like; ints must be integers.

    Rejects a float where an int is expected (``85.0`` for ``85``: use ``//``).
    """
    problem = _difference(actual, expected)
    if problem:
        raise AssertionError(f"{case}: {problem}")


def _difference(actual, expected) -> str | None:
    if isinstance(expected, tuple):
        if not isinstance(actual, (tuple, list)) or len(actual) != len(expected):
            return f"expected {expected!r}, got {actual!r}"
        for index, (a, e) in enumerate(zip(actual, expected, strict=True)):
            if _difference(a, e):
                return f"expected {expected!r}, got {actual!r} (differs at position {index})"
        return None
    if isinstance(expected, numbers.Integral) and not isinstance(expected, bool):
        if isinstance(actual, bool) or not isinstance(actual, numbers.Integral):
            return (f"expected the int {expected}, got {type(actual).__name__} {actual!r}"
                    + (" (an int is needed: use // rather than /)"
                       if isinstance(actual, float) else ""))
    if actual != expected:
        return f"expected {expected!r}, got {actual!r}"
    return None


#: What a ``ValueError`` may call a window too large for the padded input (the contract's
#: list); suites add the arguments' own names (``w``, ``padding``).
WINDOW_NAMES = ("kernel_size", "kernel", "filter", "window", "weight")


def _words(text: str) -> str:
    """Lower case, underscores as spaces, white space folded: ``"Kernel_Size"`` and
    ``"kernel  size"`` both read ``"kernel size"``."""
    return " ".join(text.lower().replace("_", " ").split())


def names_any(message: str, names: tuple[str, ...]) -> bool:
    """Whether ``message`` names one of ``names``, as a whole word or words, whatever the
    case and whether it writes ``kernel_size`` or ``kernel size``."""
    text = _words(message)
    return any(re.search(rf"(?<![a-z0-9]){re.escape(_words(name))}(?![a-z0-9])", text)
               for name in names)


def assert_raises(exception: type[BaseException], call, *args, case: str,
                  names: tuple[str, ...] = (), **kwargs) -> None:
    """Check that ``call(*args, **kwargs)`` (a student function) raises ``exception``.

    Args:
        exception: the expected class; a subclass raised by the student counts.
        case: what is being tried, for the message.
        names: where given, the message must mention at least one of them (the contract
            asks a ``ValueError`` to name the argument at fault).
    """
    try:
        value = call(*args, **kwargs)
    except StudentRaised as raised:
        if raised.type_name == "NotImplementedError" != exception.__name__:
            raise  # its feedback says the function is not written yet
        if exception.__name__ not in raised.class_names:
            raise AssertionError(f"{case}: expected {exception.__name__}, but it raised "
                                 f"{raised.type_name}: {raised.message}") from None
        if names and not names_any(raised.message, names):
            raise AssertionError(f"{case}: raised {exception.__name__} as it should, but "
                                 f"its message {raised.message!r} does not name "
                                 f"{' or '.join(repr(n) for n in names)}") from None
        return
    raise AssertionError(f"{case}: expected {exception.__name__}, but it returned {value!r}")


def check_value_errors(call, cases: list[tuple[str, tuple, dict, tuple[str, ...]]]) -> None:
    """The table form of ``assert_raises``: each ``(what, args, kwargs, names)`` must make
    ``call`` raise ``ValueError`` naming one of ``names``; the first that does not fails."""
    for what, args, kwargs, names in cases:
        assert_raises(ValueError, call, *args, case=what, names=names, **kwargs)


def assert_array_close(actual, expected: np.ndarray, *, case: str, rtol: float = 1e-6,
                       atol: float = 1e-8) -> None:
    """Check a student's array against the expected one, in the manner of ``np.allclose``.

    The message names the case, then the first thing that differs: the type, the shape, the
    values (non-finite entries, max absolute and relative error, the first differing index
    with both values there, how many entries differ).
    """
    expected = np.asarray(expected)
    if not isinstance(actual, np.ndarray):
        raise AssertionError(f"{case}: expected a numpy array of shape {expected.shape}, "
                             f"got {type(actual).__name__} {_short(actual)}")
    if actual.shape != expected.shape:
        raise AssertionError(f"{case}: expected shape {expected.shape}, got {actual.shape}")
    if actual.dtype.kind not in "fiub":
        raise AssertionError(f"{case}: expected numbers, got an array of dtype {actual.dtype}")
    actual64, expected64 = actual.astype(np.float64), expected.astype(np.float64)
    bad = ~np.isclose(actual64, expected64, rtol=rtol, atol=atol, equal_nan=False)
    if not bad.any():
        return
    error = np.abs(actual64 - expected64)
    relative = error / np.maximum(np.abs(expected64), np.finfo(np.float64).tiny)
    first = tuple(int(i) for i in np.argwhere(bad)[0])
    finite = np.isfinite(error)
    raise AssertionError(
        f"{case}: values differ at {int(bad.sum())} of {bad.size} entries; "
        f"max abs error {np.max(error[finite], initial=0):.3g}, "
        f"max rel error {np.max(relative[finite], initial=0):.3g}"
        + ("" if finite.all() else f", {int((~finite).sum())} non-finite entries")
        + f"; first at index {first}: expected {expected64[first]:.6g}, "
        f"got {actual64[first]:.6g}"
    )


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
