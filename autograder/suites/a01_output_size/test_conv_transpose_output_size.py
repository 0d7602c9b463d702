"""Hidden tests of a01's ``conv_transpose_output_size``: the one-axis output size of a transposed
convolution, against PyTorch's shape inference (confirmed by the reference). Each test draws a
fresh family of cases (see ``cases.py``) and stops at the first wrong answer, so a mistake costs
the family it belongs to.
"""

from __future__ import annotations

from autograder.harness import graded
from autograder.suites.a01_output_size.cases import (
    N_CASES,
    cases_of,
    check_cases,
    check_value_errors,
    coin,
    dilated_output_padding_case,
    draw,
    non_positive_cases,
    pick,
    torch_transpose_size,
    transpose_case,
)


@graded("conv_transpose_output_size")
def test_transpose_basic(student, reference, rng):
    "stride 1, no padding"
    cases = cases_of(transpose_case, rng, strided=False, dilated=False)
    check_cases(student, reference, "conv_transpose_output_size", cases, torch_transpose_size)


@graded("conv_transpose_output_size")
def test_transpose_stride_padding(student, reference, rng):
    "stride, padding and output_padding"
    cases = cases_of(transpose_case, rng, strided=True, dilated=False)
    check_cases(student, reference, "conv_transpose_output_size", cases, torch_transpose_size)


@graded("conv_transpose_output_size")
def test_transpose_dilation(student, reference, rng):
    "dilation > 1, with or without stride and padding"
    cases = [transpose_case(rng, strided=coin(rng), dilated=True) for _ in range(N_CASES)]
    check_cases(student, reference, "conv_transpose_output_size", cases, torch_transpose_size)


@graded("conv_transpose_output_size")
def test_transpose_output_padding_below_dilation(student, reference, rng):
    "dilation > 1 and output_padding > 0, even where the stride is 1"
    cases = [dilated_output_padding_case(rng) for _ in range(N_CASES)]
    check_cases(student, reference, "conv_transpose_output_size", cases, torch_transpose_size)


@graded("conv_transpose_output_size", kind="errors")
def test_transpose_output_padding_too_large(student, rng):
    "ValueError naming output_padding when it is not below max(stride, dilation)"
    cases = [(dilated_output_padding_case(rng, valid=False), ("output_padding",))
             for _ in range(N_CASES)]
    check_value_errors(student, "conv_transpose_output_size", cases)


@graded("conv_transpose_output_size", kind="errors")
def test_transpose_invalid(student, rng):
    "ValueError for non-positive sizes, strides or dilation, or negative paddings"
    valid = cases_of(transpose_case, rng, strided=False, dilated=False)
    cases = non_positive_cases(rng, valid, ("size", "kernel_size", "stride", "dilation"))
    for index in range(0, N_CASES, 3):
        name = pick(rng, ("padding", "output_padding"))
        cases[index] = ({**valid[index], name: -draw(rng, 1, 3)}, (name,))
    check_value_errors(student, "conv_transpose_output_size", cases)


@graded("conv_transpose_output_size", kind="errors")
def test_transpose_empty_output(student, rng):
    "ValueError for a padding that crops the whole output"
    cases = []
    for _ in range(N_CASES):
        case = {"size": draw(rng, 1, 4), "kernel_size": draw(rng, 1, 3),
                "stride": draw(rng, 1, 2)}
        largest = (case["size"] - 1) * case["stride"] + case["kernel_size"]
        case["padding"] = (largest + 1) // 2 + draw(rng, 0, 2)
        cases.append((case, ("padding",)))
    check_value_errors(student, "conv_transpose_output_size", cases)
