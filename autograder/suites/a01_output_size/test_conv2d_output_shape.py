"""Hidden tests of a01's ``conv2d_output_shape``: the output shape of a 2-D convolution layer,
against PyTorch's shape inference (confirmed by the reference). Each test draws a fresh family
of cases (see ``cases.py``) and stops at the first wrong answer, so a mistake costs the family
it belongs to.
"""

from __future__ import annotations

import numpy as np

from autograder.harness import assert_same, graded
from autograder.suites.a01_output_size.cases import (
    N_CASES,
    TOO_LARGE,
    cases_of,
    check_cases,
    check_value_errors,
    coin,
    conv2d_case,
    draw,
    picks,
    torch_conv2d_shape,
)


@graded("conv2d_output_shape", kind="example")
def test_shape_course_example(student):
    "the course example: 255x255 RGB, 30 filters 7x7, stride (3, 4), padding 2"
    assert_same(student.conv2d_output_shape((3, 255, 255), 30, 7, (3, 4), 2), (30, 85, 64),
                case="conv2d_output_shape((3, 255, 255), 30, 7, (3, 4), 2)")


@graded("conv2d_output_shape")
def test_shape_basic(student, reference, rng):
    "(C, H, W) input, square kernel, stride 1, no padding"
    check_cases(student, reference, "conv2d_output_shape", cases_of(conv2d_case, rng),
                torch_conv2d_shape)


@graded("conv2d_output_shape")
def test_shape_batch(student, reference, rng):
    "(N, C, H, W) input keeps N"
    cases = [conv2d_case(rng, batch=True, stride=coin(rng), padding=form)
             for form in picks(rng, ("none", "int"))]
    check_cases(student, reference, "conv2d_output_shape", cases, torch_conv2d_shape)


@graded("conv2d_output_shape")
def test_shape_non_square(student, reference, rng):
    "(height, width) pairs for kernel_size and stride"
    cases = [conv2d_case(rng, batch=coin(rng), square=False, stride=True)
             for _ in range(N_CASES)]
    check_cases(student, reference, "conv2d_output_shape", cases, torch_conv2d_shape)


@graded("conv2d_output_shape")
def test_shape_padding_int_or_hw(student, reference, rng):
    "padding as an int or (ph, pw)"
    cases = [conv2d_case(rng, square=coin(rng), stride=coin(rng), padding=form)
             for form in picks(rng, ("int", "hw"))]
    check_cases(student, reference, "conv2d_output_shape", cases, torch_conv2d_shape)


@graded("conv2d_output_shape")
def test_shape_padding_pairs(student, reference, rng):
    "padding as ((top, bottom), (left, right))"
    cases = [conv2d_case(rng, batch=coin(rng), square=coin(rng), stride=coin(rng),
                         padding="pairs") for _ in range(N_CASES)]
    check_cases(student, reference, "conv2d_output_shape", cases, torch_conv2d_shape)


@graded("conv2d_output_shape")
def test_shape_same_and_valid(student, reference, rng):
    "'valid' padding, and 'same' with stride 1"
    cases = [conv2d_case(rng, batch=coin(rng), square=coin(rng), padding="same",
                         dilation=coin(rng)) if coin(rng)
             else conv2d_case(rng, square=coin(rng), stride=coin(rng), padding="valid")
             for _ in range(N_CASES)]
    check_cases(student, reference, "conv2d_output_shape", cases, torch_conv2d_shape)


@graded("conv2d_output_shape")
def test_shape_same_strided(student, reference, rng):
    "'same' padding with strides > 1"
    cases = [conv2d_case(rng, batch=coin(rng), square=coin(rng), stride=True, padding="same",
                         exact=False) for _ in range(N_CASES)]
    check_cases(student, reference, "conv2d_output_shape", cases, torch_conv2d_shape)


@graded("conv2d_output_shape")
def test_shape_stride_rounding(student, reference, rng):
    "strides that leave pixels over (rounding down)"
    cases = [conv2d_case(rng, batch=coin(rng), square=coin(rng), stride=True,
                         padding=form, exact=False)
             for form in picks(rng, ("none", "int", "hw"))]
    check_cases(student, reference, "conv2d_output_shape", cases, torch_conv2d_shape)


@graded("conv2d_output_shape")
def test_shape_dilation(student, reference, rng):
    "dilation, an int or (height, width)"
    cases = [conv2d_case(rng, batch=coin(rng), square=coin(rng), stride=coin(rng),
                         padding=form, dilation=True)
             for form in picks(rng, ("none", "int", "hw"))]
    check_cases(student, reference, "conv2d_output_shape", cases, torch_conv2d_shape)


@graded("conv2d_output_shape")
def test_shape_numpy_integers(student, reference, rng):
    "numpy integers in input_shape and as arguments"
    cases = []
    for _ in range(N_CASES):
        case = conv2d_case(rng, batch=coin(rng), stride=coin(rng), padding="int")
        case = {name: tuple(np.int64(v) for v in value) if name == "input_shape"
                else np.int64(value) for name, value in case.items()}
        cases.append(case)
    check_cases(student, reference, "conv2d_output_shape", cases, torch_conv2d_shape)


@graded("conv2d_output_shape", kind="errors")
def test_shape_invalid(student, rng):
    "ValueError for an input_shape of rank 2 or 5, non-positive out_channels, a kernel too large"
    cases = []
    for i in range(N_CASES):
        case = conv2d_case(rng, batch=coin(rng))
        *batch, channels, height, width = case["input_shape"]
        if i % 3 == 0:
            shape = (height, width) if coin(rng) else (2, 1, channels, height, width)
            cases.append(({**case, "input_shape": shape}, ("input_shape",)))
        elif i % 3 == 1:
            cases.append(({**case, "out_channels": draw(rng, -3, 0)}, ("out_channels",)))
        else:
            kernel = (height + draw(rng, 1, 3), 1) if coin(rng) else (1, width + draw(rng, 1, 3))
            cases.append(({**case, "kernel_size": kernel}, TOO_LARGE))
    check_value_errors(student, "conv2d_output_shape", cases)
