"""Hidden tests of a01's ``conv2d_macs``: the multiply-accumulates of a convolution layer, against
PyTorch's shape inference (confirmed by the reference). Each test draws a fresh family of cases
(see ``cases.py``) and stops at the first wrong answer, so a mistake costs the family it belongs
to.
"""

from __future__ import annotations

from autograder.harness import assert_same, graded
from autograder.suites.a01_output_size.cases import (
    N_CASES,
    TOO_LARGE,
    check_cases,
    check_value_errors,
    coin,
    conv2d_case,
    draw,
    picks,
    torch_conv2d_macs,
)


@graded("conv2d_macs", kind="example")
def test_macs_course_example(student):
    "the course example: 200 filters 5x5, 'same', on a 150x100 RGB image"
    assert_same(student.conv2d_macs((3, 150, 100), 200, 5, padding="same"), 225_000_000,
                case="conv2d_macs((3, 150, 100), 200, 5, padding='same')")


@graded("conv2d_macs")
def test_macs_basic(student, reference, rng):
    "stride 1, no padding"
    cases = [conv2d_case(rng, square=coin(rng)) for _ in range(N_CASES)]
    check_cases(student, reference, "conv2d_macs", cases, torch_conv2d_macs)


@graded("conv2d_macs")
def test_macs_stride_padding(student, reference, rng):
    "strides and paddings that fit exactly, 'same' with stride 1"
    cases = [conv2d_case(rng, square=coin(rng), stride=form != "same", padding=form)
             for form in picks(rng, ("int", "hw", "same"))]
    check_cases(student, reference, "conv2d_macs", cases, torch_conv2d_macs)


@graded("conv2d_macs")
def test_macs_stride_rounding(student, reference, rng):
    "strides that leave pixels over, 'same' with strides > 1"
    cases = [conv2d_case(rng, square=coin(rng), stride=True, padding=form, exact=False)
             for form in picks(rng, ("none", "int", "same"))]
    check_cases(student, reference, "conv2d_macs", cases, torch_conv2d_macs)


@graded("conv2d_macs")
def test_macs_groups(student, reference, rng):
    "groups > 1"
    cases = [conv2d_case(rng, square=coin(rng), stride=coin(rng), padding="int",
                         groups=draw(rng, 2, 4)) for _ in range(N_CASES)]
    check_cases(student, reference, "conv2d_macs", cases, torch_conv2d_macs)


@graded("conv2d_macs")
def test_macs_dilation(student, reference, rng):
    "dilation, an int or (height, width)"
    cases = [conv2d_case(rng, square=coin(rng), stride=coin(rng), padding="int",
                         dilation=True) for _ in range(N_CASES)]
    check_cases(student, reference, "conv2d_macs", cases, torch_conv2d_macs)


@graded("conv2d_macs", kind="errors")
def test_macs_invalid(student, rng):
    "ValueError for groups that do not divide the channels, or a kernel larger than the input"
    cases = []
    for i in range(N_CASES):
        case = conv2d_case(rng)
        channels, height, width = case["input_shape"]
        if i % 2:
            groups = channels + draw(rng, 1, 3)
            cases.append(({**case, "groups": groups}, ("groups",)))
        else:
            cases.append(({**case, "kernel_size": (height + draw(rng, 1, 3), 1)},
                          TOO_LARGE))
    check_value_errors(student, "conv2d_macs", cases)
