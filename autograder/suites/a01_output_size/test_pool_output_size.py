"""Hidden tests of a01's ``pool_output_size``: the one-axis output size of max or average pooling,
against PyTorch's shape inference (confirmed by the reference). Each test draws a fresh family
of cases (see ``cases.py``) and stops at the first wrong answer, so a mistake costs the family
it belongs to.
"""

from __future__ import annotations

from autograder.harness import graded
from autograder.suites.a01_output_size.cases import (
    N_CASES,
    TOO_LARGE,
    cases_of,
    check_cases,
    check_value_errors,
    coin,
    draw,
    non_positive_cases,
    picks,
    pool_case,
    torch_pool_size,
)


@graded("pool_output_size")
def test_pool_default_stride(student, reference, rng):
    "stride defaults to kernel_size (windows that tile the input)"
    cases = cases_of(pool_case, rng, default_stride=True)
    check_cases(student, reference, "pool_output_size", cases, torch_pool_size)


@graded("pool_output_size")
def test_pool_stride_and_padding(student, reference, rng):
    "explicit stride and padding, windows that fit exactly, either ceil_mode"
    cases = [pool_case(rng, padded=coin(rng), ceil_mode=coin(rng)) for _ in range(N_CASES)]
    check_cases(student, reference, "pool_output_size", cases, torch_pool_size)


@graded("pool_output_size")
def test_pool_floor(student, reference, rng):
    "ceil_mode=False drops a last window that does not fit"
    cases = [pool_case(rng, default_stride=fit == "partial" and coin(rng), padded=coin(rng),
                       ceil_mode=False if coin(rng) else None, fit=fit)
             for fit in picks(rng, ("partial", "drop"))]
    check_cases(student, reference, "pool_output_size", cases, torch_pool_size)


@graded("pool_output_size")
def test_pool_ceil_mode(student, reference, rng):
    "ceil_mode=True keeps a partial last window"
    cases = [pool_case(rng, default_stride=coin(rng), padded=coin(rng), ceil_mode=True,
                       fit="partial") for _ in range(N_CASES)]
    check_cases(student, reference, "pool_output_size", cases, torch_pool_size)


@graded("pool_output_size")
def test_pool_ceil_mode_drops_window_in_padding(student, reference, rng):
    "ceil_mode=True drops a last window that would start in the right padding"
    cases = [pool_case(rng, padded=coin(rng), ceil_mode=True, fit="drop")
             for _ in range(N_CASES)]
    check_cases(student, reference, "pool_output_size", cases, torch_pool_size)


@graded("pool_output_size", kind="errors")
def test_pool_invalid(student, rng):
    "ValueError for a non-positive size, kernel_size or stride, or negative padding"
    valid = cases_of(pool_case, rng)
    cases = non_positive_cases(rng, valid, ("size", "kernel_size", "stride"))
    cases[::4] = [({**case, "padding": -draw(rng, 1, 3)}, ("padding",))
                  for case in valid[::4]]
    check_value_errors(student, "pool_output_size", cases)


@graded("pool_output_size", kind="errors")
def test_pool_window_too_large(student, rng):
    "ValueError naming kernel_size or padding for a window larger than the padded input"
    cases = []
    for _ in range(N_CASES):
        size = draw(rng, 1, 10)
        case = {"size": size, "kernel_size": size + draw(rng, 1, 3)}
        if coin(rng):
            case["padding"] = 1
            case["kernel_size"] += 2
        cases.append((case, TOO_LARGE))
    check_value_errors(student, "pool_output_size", cases)
