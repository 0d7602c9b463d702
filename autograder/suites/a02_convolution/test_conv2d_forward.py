"""Hidden tests of conv2d_forward: the course's worked examples, then PyTorch on fresh inputs."""

from __future__ import annotations

import numpy as np

from autograder.harness import Case, check_example, check_raises, graded
from autograder.suites.a02_convolution.cases import (
    FLOAT32_LAYERS,
    KERNEL_NAMES,
    LAYERS,
    chosen,
    forward_tests,
    torch_conv2d,
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

NO_BIAS_LAYERS = chosen(LAYERS, "3x3, defaults", "depthwise",
                        "stride, padding, dilation and groups")


def as_batch(image) -> np.ndarray:
    """(H, W) -> (1, 1, H, W), in float64."""
    return np.asarray(image, dtype=np.float64)[np.newaxis, np.newaxis]


@graded("conv2d_forward", weight=2, kind="example")
def test_course_example(student):
    "the course's 6x6 worked example, stride 1 and 2"
    for stride, expected in COURSE_MAPS.items():
        check_example(student, "conv2d_forward", Case(
            {"x": as_batch(COURSE_IMAGE), "w": as_batch(COURSE_FILTER)}, {"stride": stride},
            "the 6x6 example"), as_batch(expected))


@graded("conv2d_forward", kind="example")
def test_vertical_edge_example(student):
    "the 6x6 vertical-edge example (cross-correlation: the kernel is not flipped)"
    check_example(student, "conv2d_forward", Case(
        {"x": as_batch(EDGE_IMAGE), "w": as_batch(EDGE_FILTER)}, {},
        "the vertical-edge example"), as_batch(EDGE_MAP))


test_against_pytorch, test_without_bias = forward_tests(
    "conv2d_forward", LAYERS, FLOAT32_LAYERS, NO_BIAS_LAYERS, torch_conv2d, "conv2d")


@graded("conv2d_forward", kind="errors")
def test_invalid_arguments(student, rng):
    "invalid arguments raise ValueError naming the argument"
    x, w = rng.standard_normal((1, 2, 6, 6)), rng.standard_normal((3, 2, 3, 3))
    check_raises(student, "conv2d_forward", [
        (Case({"x": x, "w": w}, {"stride": 0}), ("stride",)),
        (Case({"x": x, "w": w}, {"stride": (1, -1)}), ("stride",)),
        (Case({"x": x, "w": w}, {"padding": -1}), ("padding",)),
        (Case({"x": x, "w": w}, {"dilation": 0}), ("dilation",)),
        (Case({"x": x, "w": w}, {"groups": 0}), ("groups",)),
        (Case({"x": rng.standard_normal((1, 3, 6, 6)), "w": rng.standard_normal((4, 1, 3, 3))},
              {"groups": 2}, "groups=2 with 3 input channels"), ("groups",)),
        (Case({"x": x, "w": rng.standard_normal((3, 2, 7, 7))}, {},
              "a 7x7 kernel on a 6x6 input"), KERNEL_NAMES),
        (Case({"x": x, "w": w}, {"dilation": 3}, "a 3x3 kernel dilated to 7x7 on a 6x6 input"),
         (*KERNEL_NAMES, "dilation")),
    ])
