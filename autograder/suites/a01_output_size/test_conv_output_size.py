"""Hidden tests of a01's ``conv_output_size``: the output size of a convolution along one axis."""

from __future__ import annotations

from functools import partial

from autograder.suites.a01_output_size.cases import (
    N_CASES,
    TOO_LARGE,
    as_numpy_integers,
    axis_case,
    cases_of,
    coin,
    draw,
    families_test,
    invalid_test,
    non_positive_cases,
    pick,
    same_case,
    strided_axis_case,
    torch_conv_size,
)


def same_or_valid(rng):
    if coin(rng):
        return same_case(rng, strided=False)
    return {**strided_axis_case(rng), "padding": "valid"}


def dilated(rng):
    return strided_axis_case(rng, padding_form=pick(rng, ("none", "int")), dilated=True)


test_against_pytorch = families_test("conv_output_size", {
    "stride 1, no padding": axis_case,
    "a stride that leaves pixels over (rounding down)": partial(strided_axis_case, exact=False),
    "int padding, with and without stride": partial(strided_axis_case, padding_form="int"),
    "(before, after) padding pairs": partial(strided_axis_case, padding_form="pair"),
    "'valid' padding, and 'same' with stride 1": same_or_valid,
    "'same' padding with stride > 1: ceil(size / stride)": partial(same_case, strided=True),
    "dilation > 1, with stride and int padding": dilated,
    "numpy integers as arguments":
        as_numpy_integers(partial(strided_axis_case, padding_form="int")),
}, torch_conv_size)


def non_positive(rng):
    return non_positive_cases(cases_of(axis_case, rng),
                              ("size", "kernel_size", "stride", "dilation"))


def bad_padding(rng):
    bad = [-1, -3, (-1, 0), (2, -1), "full", "reflect"]
    return [({**axis_case(rng), "padding": bad[i % len(bad)]}, ("padding",))
            for i in range(N_CASES)]


def window_too_large(rng):
    cases = []
    for _ in range(N_CASES):
        size, padding = draw(rng, 1, 10), draw(rng, 0, 2)
        cases.append(({"size": size, "kernel_size": size + 2 * padding + draw(rng, 1, 3),
                       "padding": padding}, TOO_LARGE))
    return cases


def dilated_window_too_large(rng):
    cases = []
    while len(cases) < N_CASES:
        case = {"size": draw(rng, 1, 10), "kernel_size": draw(rng, 2, 6),
                "dilation": draw(rng, 2, 3)}
        window = case["dilation"] * (case["kernel_size"] - 1) + 1
        if case["kernel_size"] <= case["size"] < window:
            cases.append((case, ("kernel_size", "dilation")))
    return cases


test_raises_value_error = invalid_test("conv_output_size", {
    "a non-positive size, kernel_size, stride or dilation": non_positive,
    "negative padding or an unknown padding string": bad_padding,
    "a kernel larger than the padded input": window_too_large,
    "a dilated window larger than the input (the kernel alone fits)": dilated_window_too_large,
})
