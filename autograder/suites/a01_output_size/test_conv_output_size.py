"""Hidden tests of a01's ``conv_output_size``: the one-axis output size of a convolution, against
PyTorch's shape inference (confirmed by the reference). Each test draws a fresh family of cases
(see ``cases.py``) and stops at the first wrong answer, so a mistake costs the family it belongs
to.
"""

from __future__ import annotations

import numpy as np

from autograder.harness import graded
from autograder.suites.a01_output_size.cases import (
    N_CASES,
    TOO_LARGE,
    axis_case,
    cases_of,
    check_cases,
    check_value_errors,
    coin,
    draw,
    non_positive_cases,
    picks,
    same_case,
    strided_axis_case,
    torch_conv_size,
)


@graded("conv_output_size")
def test_conv_basic(student, reference, rng):
    "stride 1, no padding"
    check_cases(student, reference, "conv_output_size", cases_of(axis_case, rng), torch_conv_size)


@graded("conv_output_size")
def test_conv_stride_rounding(student, reference, rng):
    "a stride that leaves pixels over (rounding down)"
    cases = cases_of(strided_axis_case, rng, exact=False)
    check_cases(student, reference, "conv_output_size", cases, torch_conv_size)


@graded("conv_output_size")
def test_conv_symmetric_padding(student, reference, rng):
    "int padding, with and without stride"
    cases = cases_of(strided_axis_case, rng, padding_form="int")
    check_cases(student, reference, "conv_output_size", cases, torch_conv_size)


@graded("conv_output_size")
def test_conv_padding_pair(student, reference, rng):
    "(before, after) padding pairs"
    cases = cases_of(strided_axis_case, rng, padding_form="pair")
    check_cases(student, reference, "conv_output_size", cases, torch_conv_size)


@graded("conv_output_size")
def test_conv_same_and_valid(student, reference, rng):
    "'valid' padding, and 'same' with stride 1"
    cases = [same_case(rng, strided=False) if coin(rng)
             else {**strided_axis_case(rng), "padding": "valid"} for _ in range(N_CASES)]
    check_cases(student, reference, "conv_output_size", cases, torch_conv_size)


@graded("conv_output_size")
def test_conv_same_strided(student, reference, rng):
    "'same' padding with stride > 1: ceil(size / stride)"
    cases = cases_of(same_case, rng, strided=True)
    check_cases(student, reference, "conv_output_size", cases, torch_conv_size)


@graded("conv_output_size")
def test_conv_dilation(student, reference, rng):
    "dilation > 1, with stride and int padding"
    cases = [strided_axis_case(rng, padding_form=form, dilated=True)
             for form in picks(rng, ("none", "int"))]
    check_cases(student, reference, "conv_output_size", cases, torch_conv_size)


@graded("conv_output_size")
def test_conv_numpy_integers(student, reference, rng):
    "numpy integers as arguments"
    cases = [{name: np.int64(value) for name, value in
              strided_axis_case(rng, padding_form="int").items()}
             for _ in range(N_CASES)]
    check_cases(student, reference, "conv_output_size", cases, torch_conv_size)


@graded("conv_output_size", kind="errors")
def test_conv_non_positive(student, rng):
    "ValueError for a non-positive size, kernel_size, stride or dilation"
    valid = cases_of(axis_case, rng)
    check_value_errors(student, "conv_output_size", non_positive_cases(
        rng, valid, ("size", "kernel_size", "stride", "dilation")))


@graded("conv_output_size", kind="errors")
def test_conv_bad_padding(student, rng):
    "ValueError for negative padding or an unknown padding string"
    bad = [-1, -3, (-1, 0), (2, -1), "full", "reflect"]
    cases = [({**axis_case(rng), "padding": bad[i % len(bad)]}, ("padding",))
             for i in range(N_CASES)]
    check_value_errors(student, "conv_output_size", cases)


@graded("conv_output_size", kind="errors")
def test_conv_window_too_large(student, rng):
    "ValueError naming kernel_size or padding for a kernel larger than the padded input"
    cases = []
    for _ in range(N_CASES):
        size, padding = draw(rng, 1, 10), draw(rng, 0, 2)
        case = {"size": size, "kernel_size": size + 2 * padding + draw(rng, 1, 3),
                "padding": padding}
        cases.append((case, TOO_LARGE))
    check_value_errors(student, "conv_output_size", cases)


@graded("conv_output_size", kind="errors")
def test_conv_dilated_window_too_large(student, rng):
    "ValueError for a dilated window larger than the padded input (kernel alone fits)"
    cases = []
    while len(cases) < N_CASES:
        case = {"size": draw(rng, 1, 10), "kernel_size": draw(rng, 2, 6),
                "dilation": draw(rng, 2, 3)}
        window = case["dilation"] * (case["kernel_size"] - 1) + 1
        if case["kernel_size"] <= case["size"] < window:
            cases.append((case, ("kernel_size", "dilation")))
    check_value_errors(student, "conv_output_size", cases)
