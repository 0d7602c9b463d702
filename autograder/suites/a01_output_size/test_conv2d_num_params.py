"""Hidden tests of a01's ``conv2d_num_params``: the parameter count of a convolution layer, against
PyTorch's shape inference (confirmed by the reference). Each test draws a fresh family of cases
(see ``cases.py``) and stops at the first wrong answer, so a mistake costs the family it belongs
to.
"""

from __future__ import annotations

from autograder.harness import assert_same, graded
from autograder.suites.a01_output_size.cases import (
    N_CASES,
    cases_of,
    check_cases,
    check_value_errors,
    coin,
    draw,
    non_positive_cases,
    params_case,
    pick,
    torch_num_params,
)


@graded("conv2d_num_params", kind="example")
def test_params_course_example(student):
    "the course example: 200 filters 5x5 on RGB have 15,200 parameters"
    assert_same(student.conv2d_num_params(3, 200, 5), 15_200,
                case="conv2d_num_params(3, 200, 5)")


@graded("conv2d_num_params")
def test_params_bias(student, reference, rng):
    "with bias (given or by default), square and (KH, KW) kernels"
    cases = [params_case(rng, bias=True if coin(rng) else None) for _ in range(N_CASES)]
    check_cases(student, reference, "conv2d_num_params", cases, torch_num_params)


@graded("conv2d_num_params")
def test_params_no_bias(student, reference, rng):
    "bias=False"
    cases = cases_of(params_case, rng, bias=False)
    check_cases(student, reference, "conv2d_num_params", cases, torch_num_params)


@graded("conv2d_num_params")
def test_params_groups(student, reference, rng):
    "groups > 1, depthwise included"
    cases = cases_of(params_case, rng, groups=True)
    check_cases(student, reference, "conv2d_num_params", cases, torch_num_params)


@graded("conv2d_num_params", kind="errors")
def test_params_invalid(student, rng):
    "ValueError for groups that do not divide the channels, or non-positive channels"
    valid = cases_of(params_case, rng)
    cases = non_positive_cases(rng, valid, ("in_channels", "out_channels"))
    for index in range(0, N_CASES, 2):
        groups = draw(rng, 2, 4)
        channels = {"in_channels": groups * draw(rng, 1, 4), "out_channels": groups}
        channels[pick(rng, tuple(channels))] += draw(rng, 1, groups - 1)
        cases[index] = ({**valid[index], **channels, "groups": groups}, ("groups",))
    check_value_errors(student, "conv2d_num_params", cases)
