"""Cases for the a03_pooling suite, what PyTorch says about them, and the suite's tests.

A case family is a function ``family(rng) -> list[Case]`` that draws fresh inputs on every
grading run; the families are listed, by the name a student reads in the feedback, in
``MAX_FAMILIES`` and ``AVG_FAMILIES``. Expected values come from PyTorch in float64
(``F.max_pool2d``, ``F.avg_pool2d(count_include_pad=True)``, autograd for the backward
passes), confirmed by the reference. On the CPU, PyTorch's max pooling sends a window's
gradient to the first of several equal maxima in row-major order, which is the contract's
rule, so the tie cases use it too. PyTorch refuses padding wider than half the kernel; every
case here stays within that.

The four pooling functions are tested alike, so ``pooling_tests`` writes their tests; each
``test_<function>.py`` takes its own.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from autograder.harness import WINDOW_NAMES, Case, check_cases, check_raises, graded, plain

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


def pool(x: np.ndarray, kernel_size, stride=None, padding=0) -> Case:
    """A call of a pooling forward pass; ``stride=None`` leaves ``stride`` out of it."""
    options = {"kernel_size": kernel_size}
    if stride is not None:
        options["stride"] = stride
    return Case({"x": x}, options | {"padding": padding})


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
    return [pool(normal(rng, (2, 3, 8, 6)), 2, 2),
            pool(normal(rng, (2, 2, 10, 7)), 3, 3)]            # leftover rows and columns


def overlapping(rng):
    return [pool(normal(rng, (2, 3, 7, 7)), 3, 1),
            pool(normal(rng, (2, 2, 9, 8)), 3, 2),
            pool(normal(rng, (1, 2, 8, 9)), 4, (1, 3))]


def gaps_between_windows(rng):
    return [pool(normal(rng, (2, 3, 9, 9)), 2, 3),                 # rows and columns skipped
            pool(normal(rng, (2, 2, 11, 8)), (2, 1), (4, 3), (1, 0)),
            pool(normal(rng, (1, 2, 10, 10)), 3, 4, 1)]


def padded_all_negative(rng):
    return [pool(all_negative(rng, (2, 3, 7, 7)), 3, 2, 1),
            pool(all_negative(rng, (2, 2, 5, 6)), 2, 2, 1),
            pool(all_negative(rng, (1, 2, 6, 6)), 5, 1, 2)]


def padded(rng):
    return [pool(normal(rng, (2, 3, 7, 7)), 3, 2, 1),
            pool(normal(rng, (2, 2, 5, 6)), 2, 2, 1),
            pool(normal(rng, (1, 2, 6, 6)), 5, 1, 2)]


def ties_after_relu(rng):
    return [pool(after_relu(rng, (2, 3, 8, 8)), 2, 2),
            pool(after_relu(rng, (2, 3, 8, 7)), 3, 1, 1),
            pool(after_relu(rng, (2, 2, 9, 9)), 3, 2, 1)]


def default_stride(rng):
    return [pool(normal(rng, (2, 3, 8, 6)), 2),
            pool(normal(rng, (2, 2, 9, 10)), (3, 2), padding=1)]


def non_square(rng):
    return [pool(normal(rng, (2, 3, 7, 9)), (2, 3), (1, 2), (1, 0)),
            pool(normal(rng, (2, 2, 6, 11)), (3, 2), (2, 3), (1, 1))]


def batch_of_one(rng):
    return [pool(normal(rng, (1, 1, 6, 6)), 2, 1),
            pool(normal(rng, (1, 1, 5, 7)), 3, 2, 1)]


def numpy_integers(rng):
    return [pool(normal(rng, (2, 2, 7, 7)), np.int64(3), np.int64(2), np.int64(1)),
            pool(normal(rng, (2, 2, 8, 8)), (np.int32(2), np.int32(3)), None, 0)]


def float32(rng):
    return [pool(normal(rng, (2, 3, 8, 8)).astype(np.float32), 2, 2),
            pool(normal(rng, (2, 3, 7, 7)).astype(np.float32), 3, 2, 1)]


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


# -- what PyTorch says (each oracle takes a case in float64) -----------------------------


def _pytorch_pool(kind: str, x: torch.Tensor, options: dict) -> torch.Tensor:
    """PyTorch's ``kind`` ("max" or "avg") pooling of ``x`` with a case's options."""
    arguments = (plain(options["kernel_size"]), plain(options.get("stride", ())) or None,
                 plain(options["padding"]))
    if kind == "max":
        return F.max_pool2d(x, *arguments)
    return F.avg_pool2d(x, *arguments, count_include_pad=True)


def pytorch_forward(kind: str):
    """The oracle of ``<kind>_pool2d_forward``: (N, C, H, W) -> (N, C, OH, OW)."""
    def oracle(case: Case) -> np.ndarray:
        return _pytorch_pool(kind, torch.from_numpy(case.inputs["x"]), case.options).numpy()
    return oracle


def pytorch_backward(kind: str):
    """The oracle of ``<kind>_pool2d_backward``: dx (N, C, H, W) by autograd for ``dout``."""
    def oracle(case: Case) -> np.ndarray:
        x = torch.from_numpy(case.inputs["x"]).requires_grad_()
        _pytorch_pool(kind, x, case.options).backward(torch.from_numpy(case.inputs["dout"]))
        return x.grad.numpy()
    return oracle


def with_upstream_gradient(kind: str, case: Case, rng: np.random.Generator) -> Case:
    """The backward pass's call for a forward ``case``: a fresh ``dout`` of the output's
    shape and of the input's dtype, then ``x``."""
    x = case.inputs["x"]
    shape = _pytorch_pool(kind, torch.empty(x.shape, device="meta"), case.options).shape
    dout = rng.standard_normal(tuple(shape)).astype(x.dtype)
    return Case({"dout": dout, "x": x}, case.options, case.note)


def pytorch_global_avg_pool(case: Case) -> np.ndarray:
    """(N, C, H, W) -> (N, C), with ``F.adaptive_avg_pool2d``."""
    return F.adaptive_avg_pool2d(torch.from_numpy(case.inputs["x"]), 1).flatten(1).numpy()


# -- the tests of each pooling function --------------------------------------------------


def pooling_tests(function: str):
    """The hidden tests of ``function`` (``"max_pool2d_backward"``, ...): every family of
    its kind against PyTorch, then each of ``INVALID_ARGUMENTS``. A backward pass weighs
    twice a forward one."""
    kind, _, direction = function.partition("_pool2d_")
    families = MAX_FAMILIES if kind == "max" else AVG_FAMILIES
    backward = direction == "backward"
    oracle = pytorch_backward(kind) if backward else pytorch_forward(kind)

    @graded(function, weight=2 if backward else 1)
    @pytest.mark.parametrize("family", families.values(), ids=families.keys())
    def test_matches_pytorch(student, reference, rng, family):
        cases = family(rng)
        if backward:
            cases = [with_upstream_gradient(kind, case, rng) for case in cases]
        check_cases(student, reference, function, cases, oracle)

    pytorch = ("F.max_pool2d" if kind == "max" else "F.avg_pool2d(count_include_pad=True)")
    test_matches_pytorch.__doc__ = (f"matches autograd through {pytorch}" if backward
                                    else f"matches {pytorch}")

    @graded(function, weight=0.5, kind="errors")
    @pytest.mark.parametrize("options, names", INVALID_ARGUMENTS)
    def test_rejects_invalid_arguments(student, options, names):
        "raises ValueError naming the argument"
        x = np.zeros(INVALID_INPUT_SHAPE)
        inputs = {"dout": np.zeros((*x.shape[:2], 1, 1)), "x": x} if backward else {"x": x}
        check_raises(student, function, [(Case(inputs, options), names)])

    return test_matches_pytorch, test_rejects_invalid_arguments
