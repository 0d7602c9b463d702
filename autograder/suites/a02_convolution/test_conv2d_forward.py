"""Hidden tests of conv2d_forward: the course's worked examples, then PyTorch on fresh inputs."""

from __future__ import annotations

import numpy as np
import pytest

from autograder.harness import assert_array_close, check_value_errors, graded
from autograder.suites.a02_convolution.cases import (
    CONV_CASES,
    FLOAT32_CASES,
    KERNEL_NAMES,
    check_close,
    chosen,
    expected_forward,
    ids,
    in_both_dtypes,
)

#: The course's worked example: a 6x6 binary image and a 3x3 diagonal filter.
COURSE_IMAGE = np.array([[1, 0, 0, 0, 0, 1],
                         [0, 1, 0, 0, 1, 0],
                         [0, 0, 1, 1, 0, 0],
                         [1, 0, 0, 0, 1, 0],
                         [0, 1, 0, 0, 1, 0],
                         [0, 0, 1, 0, 1, 0]], dtype=np.float64)
COURSE_FILTER = np.array([[1, -1, -1],
                          [-1, 1, -1],
                          [-1, -1, 1]], dtype=np.float64)
COURSE_MAPS = {1: [[3, -1, -3, -1], [-3, 1, 0, -3], [-3, -3, 0, 1], [3, -2, -2, -1]],
               2: [[3, -3], [-3, 0]]}

#: The vertical-edge example: a 6x6 grey image and the vertical-edge filter.
EDGE_IMAGE = np.array([[3, 0, 1, 2, 7, 4],
                       [1, 5, 8, 9, 3, 1],
                       [2, 7, 2, 5, 1, 3],
                       [0, 1, 3, 1, 7, 8],
                       [4, 2, 1, 6, 2, 8],
                       [2, 4, 5, 2, 3, 9]], dtype=np.float64)
EDGE_FILTER = np.array([[1, 0, -1]] * 3, dtype=np.float64)
EDGE_MAP = [[-5, -4, 0, 8], [-10, -2, 2, 3], [0, -2, -4, -7], [-3, -2, -3, -16]]

NO_BIAS_CASES = chosen(CONV_CASES, "3x3, defaults", "depthwise",
                       "stride, padding, dilation and groups")


def as_batch(image: np.ndarray) -> np.ndarray:
    """(H, W) -> (1, 1, H, W)."""
    return image[np.newaxis, np.newaxis]


@graded("conv2d_forward", weight=2, kind="example")
def test_course_example(student):
    "the course's 6x6 worked example, stride 1 and 2"
    for stride, expected in COURSE_MAPS.items():
        actual = student.conv2d_forward(as_batch(COURSE_IMAGE), as_batch(COURSE_FILTER),
                                        stride=stride)
        assert_array_close(actual, as_batch(np.array(expected, dtype=np.float64)),
                           case=f"the 6x6 example with stride {stride}")


@graded("conv2d_forward", kind="example")
def test_vertical_edge_example(student):
    "the 6x6 vertical-edge example (cross-correlation: the kernel is not flipped)"
    actual = student.conv2d_forward(as_batch(EDGE_IMAGE), as_batch(EDGE_FILTER))
    assert_array_close(actual, as_batch(np.array(EDGE_MAP, dtype=np.float64)),
                       case="the vertical-edge example")


@graded("conv2d_forward")
@pytest.mark.parametrize("case, dtype", in_both_dtypes(CONV_CASES, FLOAT32_CASES))
def test_against_pytorch(student, reference, rng, case, dtype):
    "against PyTorch"
    x, w, b = case.draw(rng, dtype)
    check_close(student.conv2d_forward(x, w, b, **case.kwargs),
                expected_forward(reference, case, x, w, b), case=case.describe(), dtype=dtype)


@graded("conv2d_forward")
@pytest.mark.parametrize("case", NO_BIAS_CASES, ids=ids(NO_BIAS_CASES))
def test_without_bias(student, reference, rng, case):
    "b=None, against PyTorch"
    x, w, _ = case.draw(rng, bias=False)
    check_close(student.conv2d_forward(x, w, None, **case.kwargs),
                expected_forward(reference, case, x, w, None), case=f"b=None, {case.describe()}")


@graded("conv2d_forward", kind="errors")
def test_invalid_arguments(student, rng):
    "invalid arguments raise ValueError naming the argument"
    x, w = rng.standard_normal((1, 2, 6, 6)), rng.standard_normal((3, 2, 3, 3))
    check_value_errors(student.conv2d_forward, [
        ("stride=0", (x, w), {"stride": 0}, ("stride",)),
        ("stride=(1, -1)", (x, w), {"stride": (1, -1)}, ("stride",)),
        ("padding=-1", (x, w), {"padding": -1}, ("padding",)),
        ("dilation=0", (x, w), {"dilation": 0}, ("dilation",)),
        ("groups=0", (x, w), {"groups": 0}, ("groups",)),
        ("groups=2 with 3 input channels", (rng.standard_normal((1, 3, 6, 6)),
                                            rng.standard_normal((4, 1, 3, 3))),
         {"groups": 2}, ("groups",)),
        ("a 7x7 kernel on a 6x6 input", (x, rng.standard_normal((3, 2, 7, 7))), {},
         KERNEL_NAMES),
        ("a 3x3 kernel dilated to 7x7 on a 6x6 input", (x, w), {"dilation": 3},
         KERNEL_NAMES + ("dilation",)),
    ])
