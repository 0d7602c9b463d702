"""Hidden tests of a01's ``dense_equivalent_num_params``: the weights of the dense layer that maps
the same shapes."""

from __future__ import annotations

from functools import partial

from autograder.suites.a01_output_size.cases import (
    N_CASES,
    coin,
    dense_case,
    draw,
    families_test,
    invalid_test,
    torch_dense_params,
)


def with_bias(rng):
    return dense_case(rng, bias=True if coin(rng) else None)


test_against_pytorch = families_test("dense_equivalent_num_params", {
    "with bias (given or by default)": with_bias,
    "bias=False": partial(dense_case, bias=False),
}, torch_dense_params)


def non_positive(rng):
    cases = []
    for i in range(N_CASES):
        case = dense_case(rng)
        name = ("input_shape", "output_shape")[i % 2]
        shape = list(case[name])
        shape[draw(rng, 0, len(shape) - 1)] = draw(rng, -3, 0)
        cases.append(({**case, name: tuple(shape)}, (name,)))
    return cases


test_raises_value_error = invalid_test("dense_equivalent_num_params", {
    "a non-positive size in input_shape or output_shape": non_positive,
})
