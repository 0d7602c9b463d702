"""Helpers for the check cells of the assignment notebooks (given: nothing to write here).

Every assignment folder gets a copy of this file (``solutions/<id>/notebook_checks.py`` is a
link to it, and ``cnnlab release`` copies its text), so a notebook needs only::

    from notebook_checks import check, needs_your_code

    with needs_your_code():
        check("conv_output_size(8, 3, stride=2)", conv_output_size(8, 3, stride=2), 3)

- ``needs_your_code`` lets "Run All" go past a function that is still a stub: the cell
  prints a note instead of stopping the notebook, so the figures further down still appear.
- ``check`` prints the call and its answer, then what differs from the expected one (the
  shape, or the largest difference and where it is), and only then asserts.
"""

from __future__ import annotations

import contextlib

import numpy as np


@contextlib.contextmanager
def needs_your_code():
    """Run the body of a cell that calls your functions; while one of them still raises
    ``NotImplementedError``, print a note instead of stopping the notebook."""
    try:
        yield
    except NotImplementedError as stub:
        which = f" ({stub})" if str(stub) else ""
        print(f"not implemented yet{which}: this cell runs once you have written it")


def check(call: str, got, expected, *, rtol: float = 1e-7, atol: float = 1e-9) -> None:
    """Print ``call`` with what it returned; if that differs from ``expected``, print how,
    then raise ``AssertionError`` with the same words.

    Args:
        call: the call as you would write it, e.g. ``"conv2d_forward(x, w, stride=2)"``.
        got: what it returned.
        expected: the right answer: an int, a tuple, or an array (compared as
            ``np.allclose(got, expected, rtol, atol)`` does).
    """
    problem = _difference(got, expected, rtol, atol)
    if problem is None:
        print(f"ok   {call} = {_short(got)}")
        return
    print(f"FAIL {call}: {problem}")
    raise AssertionError(f"{call}: {problem}")


def _difference(got, expected, rtol: float, atol: float) -> str | None:
    if not isinstance(expected, np.ndarray):
        if isinstance(got, float) and isinstance(expected, int):
            return f"expected the int {expected}, got the float {got!r} (use //, not /)"
        return None if got == expected else f"expected {expected!r}, got {got!r}"
    if not isinstance(got, np.ndarray):
        return f"expected an array of shape {expected.shape}, got {type(got).__name__}"
    if got.shape != expected.shape:
        return f"expected shape {expected.shape}, got {got.shape}"
    wrong = ~np.isclose(got, expected, rtol=rtol, atol=atol)
    if not wrong.any():
        return None
    first = tuple(int(i) for i in np.argwhere(wrong)[0])
    return (f"{int(wrong.sum())} of {wrong.size} values differ, by up to "
            f"{np.max(np.abs(got - expected)):.3g}; the first at index {first}: "
            f"expected {expected[first]:.6g}, got {got[first]:.6g}")


def _short(value) -> str:
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape}"
    return repr(value)
