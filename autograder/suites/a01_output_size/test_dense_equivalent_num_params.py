"""Hidden tests of a01's ``dense_equivalent_num_params``: the weights of the dense layer that maps
the same shapes, against PyTorch's shape inference (confirmed by the reference). Each test draws
a fresh family of cases (see ``cases.py``) and stops at the first wrong answer, so a mistake
costs the family it belongs to.
"""

from __future__ import annotations

from autograder.harness import graded
from autograder.suites.a01_output_size.cases import (
    N_CASES,
    cases_of,
    check_cases,
    check_value_errors,
    coin,
    dense_case,
    draw,
    torch_dense_params,
)


@graded("dense_equivalent_num_params")
def test_dense_bias(student, reference, rng):
    "with bias (given or by default)"
    cases = [dense_case(rng, bias=True if coin(rng) else None) for _ in range(N_CASES)]
    check_cases(student, reference, "dense_equivalent_num_params", cases, torch_dense_params)


@graded("dense_equivalent_num_params")
def test_dense_no_bias(student, reference, rng):
    "bias=False"
    cases = cases_of(dense_case, rng, bias=False)
    check_cases(student, reference, "dense_equivalent_num_params", cases, torch_dense_params)


@graded("dense_equivalent_num_params", kind="errors")
def test_dense_invalid(student, rng):
    "ValueError for a non-positive size in input_shape or output_shape"
    cases = []
    for i in range(N_CASES):
        case = dense_case(rng)
        name = ("input_shape", "output_shape")[i % 2]
        shape = list(case[name])
        shape[draw(rng, 0, len(shape) - 1)] = draw(rng, -3, 0)
        cases.append(({**case, name: tuple(shape)}, (name,)))
    check_value_errors(student, "dense_equivalent_num_params", cases)
