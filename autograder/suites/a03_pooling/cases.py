"""Cases for the a03_pooling suite, and what PyTorch says about them.

A case family is a function ``family(rng) -> list[Case]`` that draws fresh inputs on every
grading run; the families are listed, by the name a student reads in the feedback, in
``MAX_FAMILIES`` and ``AVG_FAMILIES``. Expected values come from PyTorch in float64
(``F.max_pool2d``, ``F.avg_pool2d(count_include_pad=True)``, autograd for the backward
passes). On the CPU, PyTorch's max pooling sends a window's gradient to the first of several
equal maxima in row-major order, which is the contract's rule, so the tie cases use it too.
PyTorch refuses padding wider than half the kernel; every case here stays within that.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from autograder.harness import (
    WINDOW_NAMES,
    assert_array_close,
    assert_raises,
    confirmed,
    describe,
    plain,
)
from cnnlab.course import get_assignment

A03 = get_assignment("a03_pooling")

#: Arguments that every pooling function must refuse, for an input ``x`` of shape
#: ``INVALID_INPUT_SHAPE``: keyword arguments, and the names of which the ``ValueError``'s
#: message must mention one; the id says what is wrong.
INVALID_INPUT_SHAPE = (1, 2, 5, 5)
INVALID_ARGUMENTS = [
    pytest.param(dict(kernel_size=0), ("kernel_size",), id="kernel_size=0"),
    pytest.param(dict(kernel_size=(2, -1)), ("kernel_size",), id="kernel_size=(2, -1)"),
    pytest.param(dict(kernel_size=2, stride=0), ("stride",), id="stride=0"),
    pytest.param(dict(kernel_size=2, stride=(1, -2)), ("stride",), id="stride=(1, -2)"),
    pytest.param(dict(kernel_size=3, padding=-1), ("padding",), id="padding=-1"),
    pytest.param(dict(kernel_size=(8, 2), padding=1), (*WINDOW_NAMES, "padding"),
                 id="window 8 rows high over 5 rows padded by 1"),
    pytest.param(dict(kernel_size=2, padding=2), ("padding",),
                 id="padding 2 over half of a 2x2 window"),
]


@dataclass(frozen=True)
class Case:
    """One pooling problem. ``stride is None`` means the call leaves ``stride`` out."""

    x: np.ndarray
    kernel_size: int | tuple[int, int]
    stride: int | tuple[int, int] | None = None
    padding: int | tuple[int, int] = 0

    def options(self) -> dict:
        """Keyword arguments of the student's call, ``x`` (and ``dout``) aside."""
        options = {"kernel_size": self.kernel_size, "padding": self.padding}
        return options if self.stride is None else options | {"stride": self.stride}

    def label(self) -> str:
        """The case as the feedback names it: the input's shape and dtype, the arguments."""
        return describe({"x.shape": self.x.shape, "x.dtype": self.x.dtype.name}
                        | self.options())

    @property
    def tolerances(self) -> dict:
        """``rtol`` and ``atol`` for ``assert_array_close``: those of the inputs' dtype."""
        return A03.tolerance(self.x.dtype)


# -- inputs -----------------------------------------------------------------------------


def normal(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.standard_normal(shape)


def all_negative(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Every entry below -1: a max that lets zero padding in is wrong everywhere it does."""
    return -1.0 - np.abs(rng.standard_normal(shape))


def after_relu(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Small integers through a ReLU: about half zeros, and ties in almost every window."""
    return np.maximum(rng.integers(-2, 3, shape), 0).astype(np.float64)


# -- case families ----------------------------------------------------------------------


def non_overlapping(rng):
    return [Case(normal(rng, (2, 3, 8, 6)), 2, 2),
            Case(normal(rng, (2, 2, 10, 7)), 3, 3)]            # leftover rows and columns


def overlapping(rng):
    return [Case(normal(rng, (2, 3, 7, 7)), 3, 1),
            Case(normal(rng, (2, 2, 9, 8)), 3, 2),
            Case(normal(rng, (1, 2, 8, 9)), 4, (1, 3))]


def gaps_between_windows(rng):
    return [Case(normal(rng, (2, 3, 9, 9)), 2, 3),                 # rows and columns skipped
            Case(normal(rng, (2, 2, 11, 8)), (2, 1), (4, 3), (1, 0)),
            Case(normal(rng, (1, 2, 10, 10)), 3, 4, 1)]


def padded_all_negative(rng):
    return [Case(all_negative(rng, (2, 3, 7, 7)), 3, 2, 1),
            Case(all_negative(rng, (2, 2, 5, 6)), 2, 2, 1),
            Case(all_negative(rng, (1, 2, 6, 6)), 5, 1, 2)]


def padded(rng):
    return [Case(normal(rng, (2, 3, 7, 7)), 3, 2, 1),
            Case(normal(rng, (2, 2, 5, 6)), 2, 2, 1),
            Case(normal(rng, (1, 2, 6, 6)), 5, 1, 2)]


def ties_after_relu(rng):
    return [Case(after_relu(rng, (2, 3, 8, 8)), 2, 2),
            Case(after_relu(rng, (2, 3, 8, 7)), 3, 1, 1),
            Case(after_relu(rng, (2, 2, 9, 9)), 3, 2, 1)]


def default_stride(rng):
    return [Case(normal(rng, (2, 3, 8, 6)), 2),
            Case(normal(rng, (2, 2, 9, 10)), (3, 2), padding=1)]


def non_square(rng):
    return [Case(normal(rng, (2, 3, 7, 9)), (2, 3), (1, 2), (1, 0)),
            Case(normal(rng, (2, 2, 6, 11)), (3, 2), (2, 3), (1, 1))]


def batch_of_one(rng):
    return [Case(normal(rng, (1, 1, 6, 6)), 2, 1),
            Case(normal(rng, (1, 1, 5, 7)), 3, 2, 1)]


def numpy_integers(rng):
    return [Case(normal(rng, (2, 2, 7, 7)), np.int64(3), np.int64(2), np.int64(1)),
            Case(normal(rng, (2, 2, 8, 8)), (np.int32(2), np.int32(3)), None, 0)]


def float32(rng):
    return [Case(normal(rng, (2, 3, 8, 8)).astype(np.float32), 2, 2),
            Case(normal(rng, (2, 3, 7, 7)).astype(np.float32), 3, 2, 1)]


MAX_FAMILIES = {
    "non-overlapping windows": non_overlapping,
    "overlapping windows (stride < kernel)": overlapping,
    "gaps between windows (stride > kernel)": gaps_between_windows,
    "padding, all inputs negative": padded_all_negative,
    "ties after a ReLU": ties_after_relu,
    "default stride": default_stride,
    "non-square kernel, stride and padding": non_square,
    "numpy integer arguments": numpy_integers,
    "batch of one": batch_of_one,
    "float32 input": float32,
}
AVG_FAMILIES = {
    "non-overlapping windows": non_overlapping,
    "overlapping windows (stride < kernel)": overlapping,
    "gaps between windows (stride > kernel)": gaps_between_windows,
    "padding counts in the mean": padded,
    "default stride": default_stride,
    "non-square kernel, stride and padding": non_square,
    "numpy integer arguments": numpy_integers,
    "batch of one": batch_of_one,
    "float32 input": float32,
}


# -- what PyTorch says ------------------------------------------------------------------


def _pytorch_pool(kind: str):
    if kind == "max":
        return F.max_pool2d
    return lambda x, *args: F.avg_pool2d(x, *args, count_include_pad=True)


def pytorch_forward_backward(kind: str, case: Case,
                             rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray,
                                                                np.ndarray]:
    """Run PyTorch's pooling (``kind`` "max" or "avg") on ``case`` in float64.

    Returns a tuple of:
    - out: (N, C, OH, OW), the forward pass
    - dout: (N, C, OH, OW), a random upstream gradient, of the dtype of ``case.x``
    - dx: (N, C, H, W), the gradient with respect to x for that ``dout`` (autograd)
    """
    x = torch.from_numpy(case.x.astype(np.float64)).requires_grad_()
    stride = None if case.stride is None else plain(case.stride)
    out = _pytorch_pool(kind)(x, plain(case.kernel_size), stride, plain(case.padding))
    dout = rng.standard_normal(tuple(out.shape)).astype(case.x.dtype)
    out.backward(torch.from_numpy(dout.astype(np.float64)))
    return out.detach().numpy(), dout, x.grad.numpy()


def pytorch_global_avg_pool(x: np.ndarray) -> np.ndarray:
    """(N, C, H, W) -> (N, C), with ``F.adaptive_avg_pool2d`` in float64."""
    return F.adaptive_avg_pool2d(torch.from_numpy(x.astype(np.float64)), 1).flatten(1).numpy()


# -- checks -----------------------------------------------------------------------------


def check_forward(student, reference, kind: str, family, rng: np.random.Generator) -> None:
    """The student's ``<kind>_pool2d_forward`` against PyTorch (confirmed by the reference)
    on every case of ``family``."""
    function = f"{kind}_pool2d_forward"
    for case in family(rng):
        expected, _, _ = pytorch_forward_backward(kind, case, rng)
        x64 = case.x.astype(np.float64)
        confirmed(expected, getattr(reference, function)(x64, **case.options()),
                  what=f"{function}({case.label()})")
        actual = getattr(student, function)(case.x, **case.options())
        assert_array_close(actual, expected, case=case.label(), **case.tolerances)


def check_backward(student, reference, kind: str, family, rng: np.random.Generator) -> None:
    """The student's ``<kind>_pool2d_backward`` against PyTorch's autograd (confirmed by
    the reference) on every case of ``family``."""
    function = f"{kind}_pool2d_backward"
    for case in family(rng):
        _, dout, expected = pytorch_forward_backward(kind, case, rng)
        confirmed(expected, getattr(reference, function)(
            dout.astype(np.float64), case.x.astype(np.float64), **case.options()),
            what=f"{function}({case.label()})")
        actual = getattr(student, function)(dout, case.x, **case.options())
        assert_array_close(actual, expected, case=f"dx for {case.label()}", **case.tolerances)


def check_rejects(student_function, options: dict, names: tuple[str, ...], *,
                  backward: bool) -> None:
    """The student's function raises ``ValueError`` naming one of ``names`` for ``options``.

    A backward pass gets a ``dout`` of shape (N, C, 1, 1): the arguments are wrong whatever
    its shape.
    """
    x = np.zeros(INVALID_INPUT_SHAPE)
    args = (np.zeros((*INVALID_INPUT_SHAPE[:2], 1, 1)), x) if backward else (x,)
    assert_raises(ValueError, student_function, *args,
                  case=describe({"x.shape": x.shape} | options), names=names, **options)
