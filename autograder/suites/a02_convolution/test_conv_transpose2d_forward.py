"""Hidden tests of conv_transpose2d_forward: a worked example, then PyTorch on fresh inputs."""

from __future__ import annotations

import numpy as np
import pytest

from autograder.harness import assert_array_close, check_value_errors, graded
from autograder.suites.a02_convolution.cases import (
    TRANSPOSE_CASES,
    TRANSPOSE_FLOAT32_CASES,
    check_close,
    chosen,
    expected_transpose,
    ids,
    in_both_dtypes,
)

#: A worked example (Dive into Deep Learning, 14.10): each input pixel adds itself times
#: the kernel to the output, at its own place times the stride.
SMALL = np.array([[0, 1], [2, 3]], dtype=np.float64)
SPREAD = {1: [[0, 0, 1], [0, 4, 6], [4, 12, 9]],
          2: [[0, 0, 0, 1], [0, 0, 2, 3], [0, 2, 0, 3], [4, 6, 6, 9]]}

NO_BIAS_CASES = chosen(TRANSPOSE_CASES, "stride 2, output_padding 1",
                       "stride, padding and output_padding")
OUTPUT_PADDING_NAMES = ("output_padding", "output padding")


@graded("conv_transpose2d_forward", weight=2, kind="example")
def test_worked_example(student):
    "a 2x2 input spread by a 2x2 kernel, stride 1 and 2"
    batch = SMALL[np.newaxis, np.newaxis]
    for stride, expected in SPREAD.items():
        assert_array_close(student.conv_transpose2d_forward(batch, batch, stride=stride),
                           np.array(expected, dtype=np.float64)[np.newaxis, np.newaxis],
                           case=f"x = w = [[0, 1], [2, 3]], stride {stride}")


@graded("conv_transpose2d_forward")
@pytest.mark.parametrize("case, dtype",
                         in_both_dtypes(TRANSPOSE_CASES, TRANSPOSE_FLOAT32_CASES))
def test_against_pytorch(student, reference, rng, case, dtype):
    "against PyTorch's conv_transpose2d"
    x, w, b = case.draw(rng, dtype)
    check_close(student.conv_transpose2d_forward(x, w, b, **case.kwargs),
                expected_transpose(reference, case, x, w, b), case=case.describe(),
                dtype=dtype)


@graded("conv_transpose2d_forward")
@pytest.mark.parametrize("case", NO_BIAS_CASES, ids=ids(NO_BIAS_CASES))
def test_without_bias(student, reference, rng, case):
    "b=None, against PyTorch's conv_transpose2d"
    x, w, _ = case.draw(rng, bias=False)
    check_close(student.conv_transpose2d_forward(x, w, None, **case.kwargs),
                expected_transpose(reference, case, x, w, None),
                case=f"b=None, {case.describe()}")


@graded("conv_transpose2d_forward", kind="errors")
def test_invalid_arguments(student, rng):
    "invalid arguments raise ValueError naming the argument"
    x, w = rng.standard_normal((1, 2, 4, 4)), rng.standard_normal((2, 3, 3, 3))
    check_value_errors(student.conv_transpose2d_forward, [
        ("stride=0", (x, w), {"stride": 0}, ("stride",)),
        ("padding=-1", (x, w), {"padding": -1}, ("padding",)),
        ("output_padding=-1", (x, w), {"output_padding": -1}, OUTPUT_PADDING_NAMES),
    ])  # PyTorch also refuses output_padding >= stride; the contract does not, so no test
