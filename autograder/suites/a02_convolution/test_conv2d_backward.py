"""Hidden tests of conv2d_backward against PyTorch's autograd on fresh inputs.

dx, dw and db are checked by separate tests, so each earns its own points.
"""

from __future__ import annotations

import pytest

from autograder.harness import Case, check_cases, check_raises, graded
from autograder.suites.a02_convolution.cases import (
    FLOAT32_LAYERS,
    GRADIENTS,
    KERNEL_NAMES,
    LAYERS,
    chosen,
    in_both_dtypes,
    torch_conv2d_grads,
)

DB_LAYERS = chosen(LAYERS, "3x3, defaults", "stride 3, rows left over", "padding (2, 1)",
                   "groups 2", "batch of one", "stride, padding, dilation and groups")


def check_gradient(student, reference, rng, layer, dtype, name: str) -> None:
    """The student's conv2d_backward on fresh inputs: its gradient ``name`` against
    autograd."""
    check_cases(student, reference, "conv2d_backward", [layer.backward(rng, dtype)],
                torch_conv2d_grads, part=name, parts=GRADIENTS)


@graded("conv2d_backward", weight=2)
@pytest.mark.parametrize("layer, dtype", in_both_dtypes(LAYERS, FLOAT32_LAYERS))
def test_dx(student, reference, rng, layer, dtype):
    "dx against PyTorch"
    check_gradient(student, reference, rng, layer, dtype, "dx")


@graded("conv2d_backward", weight=2)
@pytest.mark.parametrize("layer, dtype", in_both_dtypes(LAYERS, FLOAT32_LAYERS))
def test_dw(student, reference, rng, layer, dtype):
    "dw against PyTorch"
    check_gradient(student, reference, rng, layer, dtype, "dw")


@graded("conv2d_backward")
@pytest.mark.parametrize("layer, dtype", in_both_dtypes(DB_LAYERS, FLOAT32_LAYERS))
def test_db(student, reference, rng, layer, dtype):
    "db against PyTorch"
    check_gradient(student, reference, rng, layer, dtype, "db")


@graded("conv2d_backward", kind="errors")
def test_invalid_arguments(student, rng):
    "invalid arguments raise ValueError naming the argument"
    inputs = {"dout": rng.standard_normal((1, 3, 4, 4)), "x": rng.standard_normal((1, 2, 6, 6)),
              "w": rng.standard_normal((3, 2, 3, 3))}
    check_raises(student, "conv2d_backward", [
        (Case(inputs, {"stride": 0}), ("stride",)),
        (Case(inputs, {"padding": -1}), ("padding",)),
        (Case(inputs, {"dilation": 0}), ("dilation",)),
        (Case(inputs, {"groups": 0}), ("groups",)),
        (Case(inputs | {"w": rng.standard_normal((3, 2, 7, 7))}, {},
              "a 7x7 kernel on a 6x6 input"), KERNEL_NAMES),
    ])
