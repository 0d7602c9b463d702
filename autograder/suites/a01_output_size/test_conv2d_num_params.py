"""Hidden tests of a01's ``conv2d_num_params``: the learnable parameters of a 2-D convolution
layer."""

from __future__ import annotations

from functools import partial

from autograder.harness import Case, check_example, graded
from autograder.suites.a01_output_size.cases import (
    N_CASES,
    cases_of,
    coin,
    draw,
    families_test,
    invalid_test,
    non_positive_cases,
    params_case,
    pick,
    torch_num_params,
)


@graded("conv2d_num_params", kind="example")
def test_course_example(student):
    "the course example: 200 filters 5x5 on RGB have 15,200 parameters"
    check_example(student, "conv2d_num_params", Case(
        {"in_channels": 3, "out_channels": 200, "kernel_size": 5}), 15_200)


def with_bias(rng):
    return params_case(rng, bias=True if coin(rng) else None)


test_against_pytorch = families_test("conv2d_num_params", {
    "with bias (given or by default), square and (KH, KW) kernels": with_bias,
    "bias=False": partial(params_case, bias=False),
    "groups > 1, depthwise included": partial(params_case, groups=True),
}, torch_num_params)


def invalid(rng):
    valid = cases_of(params_case, rng)
    cases = non_positive_cases(valid, ("in_channels", "out_channels"))
    for index in range(0, N_CASES, 2):
        groups = draw(rng, 2, 4)
        channels = {"in_channels": groups * draw(rng, 1, 4), "out_channels": groups}
        channels[pick(rng, tuple(channels))] += draw(rng, 1, groups - 1)
        cases[index] = ({**valid[index], **channels, "groups": groups}, ("groups",))
    return cases


test_raises_value_error = invalid_test("conv2d_num_params", {
    "groups that do not divide the channels, or non-positive channels": invalid,
})
