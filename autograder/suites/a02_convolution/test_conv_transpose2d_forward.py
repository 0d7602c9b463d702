"""Hidden tests of conv_transpose2d_forward: a worked example, then PyTorch on fresh inputs."""

from __future__ import annotations

import numpy as np

from autograder.harness import Case, check_example, check_raises, graded
from autograder.suites.a02_convolution.cases import (
    TRANSPOSED_FLOAT32_LAYERS,
    TRANSPOSED_LAYERS,
    chosen,
    forward_tests,
    torch_conv_transpose2d,
)

#: A worked example (Dive into Deep Learning, 14.10): each input pixel adds itself times
#: the kernel to the output, at its own place times the stride.
SMALL = np.array([[0, 1], [2, 3]], dtype=np.float64)
SPREAD = {1: [[0, 0, 1], [0, 4, 6], [4, 12, 9]],
          2: [[0, 0, 0, 1], [0, 0, 2, 3], [0, 2, 0, 3], [4, 6, 6, 9]]}

NO_BIAS_LAYERS = chosen(TRANSPOSED_LAYERS, "stride 2, output_padding 1",
                        "stride, padding and output_padding")
OUTPUT_PADDING_NAMES = ("output_padding", "output padding")


@graded("conv_transpose2d_forward", weight=2, kind="example")
def test_worked_example(student):
    "a 2x2 input spread by a 2x2 kernel, stride 1 and 2"
    batch = SMALL[np.newaxis, np.newaxis]
    for stride, expected in SPREAD.items():
        check_example(student, "conv_transpose2d_forward", Case(
            {"x": batch, "w": batch}, {"stride": stride}, "x = w = [[0, 1], [2, 3]]"),
            np.array(expected, dtype=np.float64)[np.newaxis, np.newaxis])


test_against_pytorch, test_without_bias = forward_tests(
    "conv_transpose2d_forward", TRANSPOSED_LAYERS, TRANSPOSED_FLOAT32_LAYERS, NO_BIAS_LAYERS,
    torch_conv_transpose2d, "conv_transpose2d")


@graded("conv_transpose2d_forward", kind="errors")
def test_invalid_arguments(student, rng):
    "invalid arguments raise ValueError naming the argument"
    inputs = {"x": rng.standard_normal((1, 2, 4, 4)), "w": rng.standard_normal((2, 3, 3, 3))}
    check_raises(student, "conv_transpose2d_forward", [
        (Case(inputs, {"stride": 0}), ("stride",)),
        (Case(inputs, {"padding": -1}), ("padding",)),
        (Case(inputs, {"output_padding": -1}), OUTPUT_PADDING_NAMES),
    ])  # PyTorch also refuses output_padding >= stride; the contract does not, so no test
