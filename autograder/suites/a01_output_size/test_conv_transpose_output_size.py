"""Hidden tests of a01's ``conv_transpose_output_size``: the output size of a transposed
convolution along one axis."""

from __future__ import annotations

from functools import partial

from autograder.suites.a01_output_size.cases import (
    N_CASES,
    cases_of,
    coin,
    dilated_output_padding_case,
    draw,
    families_test,
    invalid_test,
    non_positive_cases,
    pick,
    torch_transpose_size,
    transpose_case,
)


def dilated(rng):
    return transpose_case(rng, strided=coin(rng), dilated=True)


test_against_pytorch = families_test("conv_transpose_output_size", {
    "stride 1, no padding": partial(transpose_case, strided=False, dilated=False),
    "stride, padding and output_padding": partial(transpose_case, strided=True, dilated=False),
    "dilation > 1, with or without stride and padding": dilated,
    "dilation > 1 and output_padding > 0, even where the stride is 1":
        dilated_output_padding_case,
}, torch_transpose_size)


def output_padding_too_large(rng):
    return [(dilated_output_padding_case(rng, valid=False), ("output_padding",))
            for _ in range(N_CASES)]


def non_positive_or_negative_padding(rng):
    valid = cases_of(transpose_case, rng, strided=False, dilated=False)
    cases = non_positive_cases(valid, ("size", "kernel_size", "stride", "dilation"))
    for index in range(0, N_CASES, 3):
        name = pick(rng, ("padding", "output_padding"))
        cases[index] = ({**valid[index], name: -draw(rng, 1, 3)}, (name,))
    return cases


def empty_output(rng):
    cases = []
    for _ in range(N_CASES):
        case = {"size": draw(rng, 1, 4), "kernel_size": draw(rng, 1, 3),
                "stride": draw(rng, 1, 2)}
        largest = (case["size"] - 1) * case["stride"] + case["kernel_size"]
        case["padding"] = (largest + 1) // 2 + draw(rng, 0, 2)
        cases.append((case, ("padding",)))
    return cases


test_raises_value_error = invalid_test("conv_transpose_output_size", {
    "output_padding not below max(stride, dilation)": output_padding_too_large,
    "non-positive sizes, strides or dilation, or negative paddings":
        non_positive_or_negative_padding,
    "a padding that crops the whole output": empty_output,
})
