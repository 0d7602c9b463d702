"""How the hidden suites judge a student's answer, and explain a wrong one.

Every check raises ``AssertionError`` whose message is the student's feedback: it names the
case, then what differs (the type, the shape, the values: max absolute and relative error,
the first differing index with both values there), so that one reading tells the student
where to look. Arrays that differ in their values raise ``Mismatch``, which keeps both, so
that a report can draw them.
"""

from __future__ import annotations

import numbers
import re

import numpy as np

from autograder.student import StudentRaised, student_failure

#: This module's frames are left out of a student's failure in grading.log.
__tracebackhide__ = student_failure


class Mismatch(AssertionError):
    """A wrong answer, with what the feedback can show of it.

    Attributes:
        actual, expected: the student's array and the expected one, where they have the
            same shape and differ in their values (else None).
        mistake: the known mistake that gives this answer (``autograder.diagnose``), where
            one was recognised.
    """

    def __init__(self, message: str, *, actual: np.ndarray | None = None,
                 expected: np.ndarray | None = None, mistake=None) -> None:
        super().__init__(message)
        self.actual, self.expected, self.mistake = actual, expected, mistake


def describe(arguments: dict) -> str:
    """``{"size": 7, "stride": 2}`` -> ``"size=7, stride=2"``: arguments as a reader writes
    them; an array shows its shape (and its dtype, where not float64)."""
    return ", ".join(f"{name}{_value(value)}" for name, value in arguments.items())


def _value(value) -> str:
    if isinstance(value, np.ndarray):
        dtype = "" if value.dtype == np.float64 else f" {value.dtype.name}"
        return f" {value.shape}{dtype}"
    return f"={_short(value, 300)}"


def assert_matches(actual, expected, *, case: str, tolerance: dict[str, float]) -> None:
    """``assert_array_close`` with ``tolerance`` where an array is expected, ``assert_same``
    otherwise (ints and tuples of ints must be exact)."""
    if isinstance(expected, np.ndarray):
        assert_array_close(actual, expected, case=case, **tolerance)
    else:
        assert_same(actual, expected, case=case)


def assert_same(actual, expected, *, case: str) -> None:
    """Exact equality for ints, tuples of ints and the like; ints must be integers.

    Rejects a float where an int is expected (``85.0`` for ``85``: use ``//``).
    """
    problem = _difference(actual, expected)
    if problem:
        raise AssertionError(f"{case}: {problem}")


def _difference(actual, expected) -> str | None:
    if isinstance(expected, (tuple, list)):
        if not isinstance(actual, (tuple, list)) or len(actual) != len(expected):
            return f"expected {expected!r}, got {actual!r}"
        for index, (a, e) in enumerate(zip(actual, expected, strict=True)):
            if _difference(a, e):
                return f"expected {expected!r}, got {actual!r} (differs at position {index})"
        return None
    if isinstance(expected, numbers.Integral) and not isinstance(expected, bool):
        if isinstance(actual, bool) or not isinstance(actual, numbers.Integral):
            return (f"expected the int {expected}, got {type(actual).__name__} {_short(actual)}"
                    + (" (an int is needed: use // rather than /)"
                       if isinstance(actual, float) else ""))
    elif isinstance(expected, numbers.Real) and not isinstance(expected, bool) and (
            isinstance(actual, bool) or not isinstance(actual, numbers.Real)):
        return f"expected the number {expected!r}, got {type(actual).__name__} {_short(actual)}"
    try:
        differs = bool(actual != expected)
    except Exception:  # an array, or an object whose comparison fails: not the answer
        differs = True
    if differs:
        return f"expected {expected!r}, got {type(actual).__name__} {_short(actual, 200)}"
    return None


def assert_array_close(actual, expected: np.ndarray, *, case: str, rtol: float,
                       atol: float) -> None:
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
    raise Mismatch(
        f"{case}: values differ at {int(bad.sum())} of {bad.size} entries; "
        f"max abs error {np.max(error[finite], initial=0):.3g}, "
        f"max rel error {np.max(relative[finite], initial=0):.3g}"
        + ("" if finite.all() else f", {int((~finite).sum())} non-finite entries")
        + f"; first at index {first}: expected {expected64[first]:.6g}, "
        f"got {actual64[first]:.6g}",
        actual=actual64, expected=expected64)


def _short(value, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _words(text: str) -> str:
    """Lower case, underscores as spaces, white space folded: ``"Kernel_Size"`` and
    ``"kernel  size"`` both read ``"kernel size"``."""
    return " ".join(text.lower().replace("_", " ").split())


def names_any(message: str, names: tuple[str, ...]) -> bool:
    """Whether ``message`` names one of ``names``, as a whole word or words (a plural too),
    whatever the case and whether it writes ``kernel_size`` or ``kernel size``."""
    text = _words(message)
    return any(re.search(rf"(?<![a-z0-9]){re.escape(_words(name))}s?(?![a-z0-9])", text)
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
