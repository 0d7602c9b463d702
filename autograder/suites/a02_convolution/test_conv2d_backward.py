"""Hidden tests of conv2d_backward against PyTorch's autograd on fresh inputs.

dx, dw and db are checked by separate tests, so each earns its own points.
"""

from __future__ import annotations

import pytest

from autograder.harness import check_value_errors, graded
from autograder.suites.a02_convolution.cases import (
    CONV_CASES,
    FLOAT32_CASES,
    KERNEL_NAMES,
    ConvCase,
    check_close,
    chosen,
    expected_backward,
    in_both_dtypes,
    output_shape,
)

GRADIENTS = ("dx", "dw", "db")
DB_CASES = chosen(CONV_CASES, "3x3, defaults", "stride 3, rows left over", "padding (2, 1)",
                  "groups 2", "batch of one", "stride, padding, dilation and groups")


def check_gradient(student, reference, rng, case: ConvCase, dtype, name: str) -> None:
    """Call the student's conv2d_backward on fresh inputs; check the gradient ``name``."""
    x, w, _ = case.draw(rng, dtype, bias=False)
    dout = rng.standard_normal(output_shape(case)).astype(dtype)
    expected = expected_backward(reference, case, dout, x, w)
    grads = student.conv2d_backward(dout, x, w, **case.kwargs)
    if not isinstance(grads, (tuple, list)) or len(grads) != 3:
        raise AssertionError(f"{case.describe()}: conv2d_backward must return a tuple "
                             f"(dx, dw, db), got {type(grads).__name__}")
    index = GRADIENTS.index(name)
    check_close(grads[index], expected[index], case=f"{name}, {case.describe()}", dtype=dtype)


@graded("conv2d_backward", weight=2)
@pytest.mark.parametrize("case, dtype", in_both_dtypes(CONV_CASES, FLOAT32_CASES))
def test_dx(student, reference, rng, case, dtype):
    "dx against PyTorch"
    check_gradient(student, reference, rng, case, dtype, "dx")


@graded("conv2d_backward", weight=2)
@pytest.mark.parametrize("case, dtype", in_both_dtypes(CONV_CASES, FLOAT32_CASES))
def test_dw(student, reference, rng, case, dtype):
    "dw against PyTorch"
    check_gradient(student, reference, rng, case, dtype, "dw")


@graded("conv2d_backward")
@pytest.mark.parametrize("case, dtype", in_both_dtypes(DB_CASES, FLOAT32_CASES))
def test_db(student, reference, rng, case, dtype):
    "db against PyTorch"
    check_gradient(student, reference, rng, case, dtype, "db")


@graded("conv2d_backward", kind="errors")
def test_invalid_arguments(student, rng):
    "invalid arguments raise ValueError naming the argument"
    dout = rng.standard_normal((1, 3, 4, 4))
    x, w = rng.standard_normal((1, 2, 6, 6)), rng.standard_normal((3, 2, 3, 3))
    check_value_errors(student.conv2d_backward, [
        ("stride=0", (dout, x, w), {"stride": 0}, ("stride",)),
        ("padding=-1", (dout, x, w), {"padding": -1}, ("padding",)),
        ("dilation=0", (dout, x, w), {"dilation": 0}, ("dilation",)),
        ("groups=0", (dout, x, w), {"groups": 0}, ("groups",)),
        ("a 7x7 kernel on a 6x6 input", (dout, x, rng.standard_normal((3, 2, 7, 7))), {},
         KERNEL_NAMES),
    ])
