"""Cases and oracles for the a02_convolution hidden suite.

A case fixes shapes and keyword arguments; the inputs are drawn fresh from the test's ``rng``
(standard normal). The expected answer comes from PyTorch in float64 (``conv2d`` and autograd,
``conv_transpose2d``), cross-checked against the reference solution: where the two disagree
the grader is wrong, not the student (``harness.confirmed`` raises ``OraclesDisagree``, which
the plugin reports as a grader error).

Sizes are small on purpose: a plain six-nested-loop implementation must pass every test well
within the per-call limit (see ``examples/submitted/alice/a02_convolution/convolution.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from autograder.harness import (
    WINDOW_NAMES,
    assert_array_close,
    confirmed,
    describe,
    plain,
)
from cnnlab.course import get_assignment

# The oracles' tensors are tiny: one thread spares each call the start-up of a thread pool,
# which costs ~20 ms a call on a busy machine (against ~20 us on one thread).
torch.set_num_threads(1)

A02 = get_assignment("a02_convolution")

#: Names a message may use for the kernel when it does not fit the padded input.
KERNEL_NAMES = (*WINDOW_NAMES, "w")


@dataclass(frozen=True)
class ConvCase:
    """One convolution: ``x`` of ``x_shape``, ``w`` of ``w_shape``, keyword arguments."""

    id: str
    x_shape: tuple[int, int, int, int]
    w_shape: tuple[int, int, int, int]
    kwargs: dict = field(default_factory=dict)

    def describe(self) -> str:
        """``"x (2, 3, 7, 7), w (4, 3, 3, 3), stride=2"``: the call, for a message."""
        return ", ".join([f"x {self.x_shape}", f"w {self.w_shape}",
                          *([describe(self.kwargs)] if self.kwargs else [])])

    @property
    def out_channels(self) -> int:
        return self.w_shape[0]

    def draw(self, rng: np.random.Generator, dtype=np.float64, bias: bool = True):
        """Fresh ``(x, w, b)`` of ``dtype``; ``b`` is None without bias."""
        x = rng.standard_normal(self.x_shape).astype(dtype)
        w = rng.standard_normal(self.w_shape).astype(dtype)
        b = rng.standard_normal(self.out_channels).astype(dtype) if bias else None
        return x, w, b


class TransposeCase(ConvCase):
    """One transposed convolution: ``w_shape`` is ``(C_in, C_out, KH, KW)``."""

    @property
    def out_channels(self) -> int:
        return self.w_shape[1]


def ids(cases: list[ConvCase]) -> list[str]:
    """The cases' ids, for ``pytest.mark.parametrize``."""
    return [case.id for case in cases]


def in_both_dtypes(cases: list[ConvCase], float32_cases: list[ConvCase]) -> list:
    """``(case, dtype)`` parameters: ``cases`` in float64, then ``float32_cases`` in float32."""
    return ([pytest.param(case, np.float64, id=case.id) for case in cases]
            + [pytest.param(case, np.float32, id=f"float32, {case.id}")
               for case in float32_cases])


#: Convolutions for conv2d_forward and conv2d_backward.
CONV_CASES = [
    ConvCase("3x3, defaults", (2, 3, 7, 7), (4, 3, 3, 3)),
    ConvCase("stride 2", (2, 3, 9, 9), (4, 3, 3, 3), {"stride": 2}),
    ConvCase("stride 3, rows left over", (2, 2, 10, 11), (3, 2, 3, 3), {"stride": 3}),
    ConvCase("stride (1, 2)", (2, 3, 7, 8), (4, 3, 3, 3), {"stride": (1, 2)}),
    ConvCase("padding 1", (2, 3, 6, 6), (4, 3, 3, 3), {"padding": 1}),
    ConvCase("padding (2, 1)", (2, 3, 6, 7), (4, 3, 3, 3), {"padding": (2, 1)}),
    ConvCase("padding (0, 2)", (2, 2, 6, 5), (3, 2, 3, 3), {"padding": (0, 2)}),
    ConvCase("dilation 2", (2, 3, 9, 9), (4, 3, 3, 3), {"dilation": 2}),
    ConvCase("dilation (1, 3)", (2, 2, 6, 10), (3, 2, 3, 3), {"dilation": (1, 3)}),
    ConvCase("groups 2", (2, 4, 6, 6), (6, 2, 3, 3), {"groups": 2}),
    ConvCase("depthwise", (2, 4, 6, 6), (4, 1, 3, 3), {"groups": 4}),
    ConvCase("depthwise, 2 filters per channel", (2, 3, 6, 6), (6, 1, 3, 3), {"groups": 3}),
    ConvCase("depthwise, stride 2, padding (1, 2)", (2, 3, 7, 8), (3, 1, 3, 3),
             {"groups": 3, "stride": 2, "padding": (1, 2)}),
    ConvCase("depthwise, dilation 2, padding 2", (2, 2, 8, 7), (2, 1, 3, 3),
             {"groups": 2, "dilation": 2, "padding": 2}),
    ConvCase("1x1 kernel", (2, 4, 5, 6), (3, 4, 1, 1)),
    ConvCase("1x1 kernel, stride 2", (2, 4, 7, 6), (3, 4, 1, 1), {"stride": 2}),
    ConvCase("1x1 kernel, padding 1", (2, 4, 5, 6), (3, 4, 1, 1), {"padding": 1}),
    ConvCase("1x1 kernel, stride (2, 3), padding (1, 0)", (2, 3, 7, 8), (2, 3, 1, 1),
             {"stride": (2, 3), "padding": (1, 0)}),
    ConvCase("stride 2, dilation 2", (2, 3, 11, 11), (4, 3, 3, 3),
             {"stride": 2, "dilation": 2}),
    ConvCase("stride 3, dilation (2, 3), padding 1", (2, 2, 12, 13), (3, 2, 3, 2),
             {"stride": 3, "dilation": (2, 3), "padding": 1}),
    ConvCase("kernel as large as the padded input", (2, 2, 5, 6), (3, 2, 7, 8),
             {"padding": 1}),
    ConvCase("dilated kernel as large as the input", (2, 2, 7, 5), (3, 2, 3, 3),
             {"dilation": (3, 2)}),
    ConvCase("batch of one", (1, 3, 6, 6), (4, 3, 3, 3), {"padding": 1}),
    ConvCase("non-square image and kernel", (2, 3, 7, 10), (4, 3, 2, 4)),
    ConvCase("stride, padding, dilation and groups", (2, 4, 11, 9), (6, 2, 3, 2),
             {"stride": (2, 3), "padding": (2, 1), "dilation": (2, 1), "groups": 2}),
    ConvCase("numpy integers as arguments", (2, 4, 8, 7), (4, 2, 3, 3),
             {"stride": np.int64(2), "padding": (np.int32(1), np.int64(0)),
              "dilation": np.int64(1), "groups": np.int64(2)}),
]

def chosen(cases: list[ConvCase], *wanted: str) -> list[ConvCase]:
    """The cases with the ``wanted`` ids, in that order. An id that names no case is the
    suite's error (a renamed case must not drop out of a subset unnoticed)."""
    by_id = {case.id: case for case in cases}
    missing = [name for name in wanted if name not in by_id]
    if missing:
        raise LookupError(f"no case with the id {missing}")
    return [by_id[name] for name in wanted]


#: Convolutions also checked with float32 inputs.
FLOAT32_CASES = chosen(CONV_CASES, "3x3, defaults", "stride, padding, dilation and groups")

#: Transposed convolutions.
TRANSPOSE_CASES = [
    TransposeCase("3x3, defaults", (2, 3, 4, 5), (3, 2, 3, 3)),
    TransposeCase("stride 2", (2, 3, 4, 4), (3, 2, 3, 3), {"stride": 2}),
    TransposeCase("stride 2, kernel 2: no overlap", (2, 2, 3, 4), (2, 3, 2, 2), {"stride": 2}),
    TransposeCase("stride 2, output_padding 1", (2, 3, 4, 4), (3, 2, 3, 3),
             {"stride": 2, "output_padding": 1}),
    TransposeCase("stride 3, output_padding 2", (2, 2, 3, 4), (2, 3, 3, 3),
             {"stride": 3, "output_padding": 2}),
    TransposeCase("padding 1", (2, 3, 4, 5), (3, 2, 3, 3), {"padding": 1}),
    TransposeCase("padding (2, 0), stride 2", (2, 3, 4, 4), (3, 2, 4, 3),
             {"stride": 2, "padding": (2, 0)}),
    TransposeCase("stride (2, 3), output_padding (1, 2)", (2, 2, 4, 3), (2, 3, 3, 3),
             {"stride": (2, 3), "output_padding": (1, 2)}),
    TransposeCase("1x1 kernel, stride 2", (2, 3, 4, 5), (3, 2, 1, 1), {"stride": 2}),
    TransposeCase("batch of one", (1, 3, 4, 4), (3, 2, 3, 3), {"stride": 2, "padding": 1}),
    TransposeCase("non-square image and kernel", (2, 2, 3, 6), (2, 3, 2, 4), {"stride": 2}),
    TransposeCase("stride, padding and output_padding", (2, 3, 5, 4), (3, 4, 4, 3),
             {"stride": (3, 2), "padding": (2, 1), "output_padding": (1, 1)}),
    TransposeCase("numpy integers as arguments", (2, 2, 4, 4), (2, 3, 3, 3),
             {"stride": np.int64(2), "padding": (np.int32(1), np.int64(0)),
              "output_padding": np.int64(1)}),
]


#: Transposed convolutions also checked with float32 inputs.
TRANSPOSE_FLOAT32_CASES = chosen(TRANSPOSE_CASES, "3x3, defaults",
                                 "stride, padding and output_padding")


# -- oracles ------------------------------------------------------------------------------


def _tensor(array: np.ndarray | None, grad: bool = False) -> torch.Tensor | None:
    if array is None:
        return None
    return torch.tensor(array, dtype=torch.float64, requires_grad=grad)


def torch_conv2d(x, w, b, kwargs: dict) -> np.ndarray:
    """``F.conv2d`` in float64."""
    arguments = {name: plain(value) for name, value in kwargs.items()}
    return F.conv2d(_tensor(x), _tensor(w), _tensor(b), **arguments).numpy()


def torch_conv2d_grads(dout, x, w, kwargs: dict) -> tuple[np.ndarray, ...]:
    """``(dx, dw, db)`` of ``F.conv2d`` by autograd, in float64."""
    arguments = {name: plain(value) for name, value in kwargs.items()}
    tx, tw, tb = _tensor(x, True), _tensor(w, True), _tensor(np.zeros(w.shape[0]), True)
    grads = torch.autograd.grad(F.conv2d(tx, tw, tb, **arguments), (tx, tw, tb), _tensor(dout))
    return tuple(g.numpy() for g in grads)


def torch_conv_transpose2d(x, w, b, kwargs: dict) -> np.ndarray:
    """``F.conv_transpose2d`` in float64."""
    arguments = {name: plain(value) for name, value in kwargs.items()}
    return F.conv_transpose2d(_tensor(x), _tensor(w), _tensor(b), **arguments).numpy()


def expected_forward(reference, case: ConvCase, x, w, b) -> np.ndarray:
    """What ``conv2d_forward(x, w, b, **case.kwargs)`` must return, in float64."""
    x, w, b = (None if a is None else a.astype(np.float64) for a in (x, w, b))
    return confirmed(torch_conv2d(x, w, b, case.kwargs),
                     reference.conv2d_forward(x, w, b, **case.kwargs),
                     what=f"conv2d_forward({case.describe()})")


def expected_backward(reference, case: ConvCase, dout, x, w) -> tuple[np.ndarray, ...]:
    """What ``conv2d_backward(dout, x, w, **case.kwargs)`` must return, in float64."""
    dout, x, w = (a.astype(np.float64) for a in (dout, x, w))
    ours = reference.conv2d_backward(dout, x, w, **case.kwargs)
    return tuple(confirmed(theirs, mine, what=f"{name} of conv2d_backward({case.describe()})")
                 for name, theirs, mine in zip(("dx", "dw", "db"),
                                               torch_conv2d_grads(dout, x, w, case.kwargs),
                                               ours, strict=True))


def expected_transpose(reference, case: ConvCase, x, w, b) -> np.ndarray:
    """What ``conv_transpose2d_forward(x, w, b, **case.kwargs)`` must return, in float64."""
    x, w, b = (None if a is None else a.astype(np.float64) for a in (x, w, b))
    return confirmed(torch_conv_transpose2d(x, w, b, case.kwargs),
                     reference.conv_transpose2d_forward(x, w, b, **case.kwargs),
                     what=f"conv_transpose2d_forward({case.describe()})")


def output_shape(case: ConvCase) -> tuple[int, ...]:
    """Shape of the convolution's output, for drawing ``dout``."""
    x = torch.empty(case.x_shape, device="meta")
    w = torch.empty(case.w_shape, device="meta")
    arguments = {name: plain(value) for name, value in case.kwargs.items()}
    return tuple(F.conv2d(x, w, **arguments).shape)


# -- checks -------------------------------------------------------------------------------


def check_close(actual, expected: np.ndarray, *, case: str, dtype=np.float64) -> None:
    """``assert_array_close`` with the tolerance of the inputs' ``dtype``."""
    label = f"float32 inputs, {case}" if dtype == np.float32 else case
    assert_array_close(actual, expected, case=label, **A02.tolerance(np.dtype(dtype)))
