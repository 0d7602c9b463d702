"""Hidden tests of a01's ``conv2d_macs``: the multiply-adds of a 2-D convolution layer."""

from __future__ import annotations

from autograder.harness import Case, check_example, graded
from autograder.suites.a01_output_size.cases import (
    N_CASES,
    TOO_LARGE,
    coin,
    conv2d_case,
    draw,
    families_test,
    invalid_test,
    pick,
    torch_conv2d_macs,
)


@graded("conv2d_macs", kind="example")
def test_course_example(student):
    "the course example: 200 filters 5x5, 'same', on a 150x100 RGB image"
    check_example(student, "conv2d_macs", Case(
        {"input_shape": (3, 150, 100), "out_channels": 200, "kernel_size": 5},
        {"padding": "same"}), 225_000_000)


def basic(rng):
    return conv2d_case(rng, square=coin(rng))


def stride_padding(rng):
    form = pick(rng, ("int", "hw", "same"))
    return conv2d_case(rng, square=coin(rng), stride=form != "same", padding=form)


def stride_rounding(rng):
    return conv2d_case(rng, square=coin(rng), stride=True,
                       padding=pick(rng, ("none", "int", "same")), exact=False)


def groups(rng):
    return conv2d_case(rng, square=coin(rng), stride=coin(rng), padding="int",
                       groups=draw(rng, 2, 4))


def dilation(rng):
    return conv2d_case(rng, square=coin(rng), stride=coin(rng), padding="int", dilation=True)


test_against_pytorch = families_test("conv2d_macs", {
    "stride 1, no padding": basic,
    "strides and paddings that fit exactly, 'same' with stride 1": stride_padding,
    "strides that leave pixels over, 'same' with strides > 1": stride_rounding,
    "groups > 1": groups,
    "dilation, an int or (height, width)": dilation,
}, torch_conv2d_macs)


def invalid(rng):
    cases = []
    for i in range(N_CASES):
        case = conv2d_case(rng)
        channels, height, width = case["input_shape"]
        if i % 2:
            cases.append(({**case, "groups": channels + draw(rng, 1, 3)}, ("groups",)))
        else:
            cases.append(({**case, "kernel_size": (height + draw(rng, 1, 3), 1)}, TOO_LARGE))
    return cases


test_raises_value_error = invalid_test("conv2d_macs", {
    "groups that do not divide the channels, or a kernel larger than the input": invalid,
})
