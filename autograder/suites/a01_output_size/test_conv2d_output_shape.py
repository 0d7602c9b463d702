"""Hidden tests of a01's ``conv2d_output_shape``: the output shape of a 2-D convolution layer."""

from __future__ import annotations

from autograder.harness import Case, check_example, graded
from autograder.suites.a01_output_size.cases import (
    N_CASES,
    TOO_LARGE,
    as_numpy_integers,
    coin,
    conv2d_case,
    draw,
    families_test,
    invalid_test,
    pick,
    torch_conv2d_shape,
)


@graded("conv2d_output_shape", kind="example")
def test_course_example(student):
    "the course example: 255x255 RGB, 30 filters 7x7, stride (3, 4), padding 2"
    check_example(student, "conv2d_output_shape", Case({
        "input_shape": (3, 255, 255), "out_channels": 30, "kernel_size": 7,
        "stride": (3, 4), "padding": 2}), (30, 85, 64))


def batch(rng):
    return conv2d_case(rng, batch=True, stride=coin(rng), padding=pick(rng, ("none", "int")))


def non_square(rng):
    return conv2d_case(rng, batch=coin(rng), square=False, stride=True)


def padding_int_or_hw(rng):
    return conv2d_case(rng, square=coin(rng), stride=coin(rng),
                       padding=pick(rng, ("int", "hw")))


def padding_pairs(rng):
    return conv2d_case(rng, batch=coin(rng), square=coin(rng), stride=coin(rng),
                       padding="pairs")


def same_or_valid(rng):
    if coin(rng):
        return conv2d_case(rng, batch=coin(rng), square=coin(rng), padding="same",
                           dilation=coin(rng))
    return conv2d_case(rng, square=coin(rng), stride=coin(rng), padding="valid")


def same_strided(rng):
    return conv2d_case(rng, batch=coin(rng), square=coin(rng), stride=True, padding="same",
                       exact=False)


def stride_rounding(rng):
    return conv2d_case(rng, batch=coin(rng), square=coin(rng), stride=True,
                       padding=pick(rng, ("none", "int", "hw")), exact=False)


def dilation(rng):
    return conv2d_case(rng, batch=coin(rng), square=coin(rng), stride=coin(rng),
                       padding=pick(rng, ("none", "int", "hw")), dilation=True)


def int_padding(rng):
    return conv2d_case(rng, batch=coin(rng), stride=coin(rng), padding="int")


test_against_pytorch = families_test("conv2d_output_shape", {
    "(C, H, W) input, square kernel, stride 1, no padding": conv2d_case,
    "(N, C, H, W) input keeps N": batch,
    "(height, width) pairs for kernel_size and stride": non_square,
    "padding as an int or (ph, pw)": padding_int_or_hw,
    "padding as ((top, bottom), (left, right))": padding_pairs,
    "'valid' padding, and 'same' with stride 1": same_or_valid,
    "'same' padding with strides > 1": same_strided,
    "strides that leave pixels over (rounding down)": stride_rounding,
    "dilation, an int or (height, width)": dilation,
    "numpy integers in input_shape and as arguments": as_numpy_integers(int_padding),
}, torch_conv2d_shape)


def invalid(rng):
    cases = []
    for i in range(N_CASES):
        case = conv2d_case(rng, batch=coin(rng))
        *_, channels, height, width = case["input_shape"]
        if i % 3 == 0:
            shape = (height, width) if coin(rng) else (2, 1, channels, height, width)
            cases.append(({**case, "input_shape": shape}, ("input_shape",)))
        elif i % 3 == 1:
            cases.append(({**case, "out_channels": draw(rng, -3, 0)}, ("out_channels",)))
        else:
            kernel = (height + draw(rng, 1, 3), 1) if coin(rng) else (1, width + draw(rng, 1, 3))
            cases.append(({**case, "kernel_size": kernel}, TOO_LARGE))
    return cases


test_raises_value_error = invalid_test("conv2d_output_shape", {
    "an input_shape of rank 2 or 5, non-positive out_channels, a kernel too large": invalid,
})
