"""Hidden tests of a01's ``pool_output_size``: the output size of max or average pooling along
one axis."""

from __future__ import annotations

from functools import partial

from autograder.suites.a01_output_size.cases import (
    N_CASES,
    TOO_LARGE,
    cases_of,
    coin,
    draw,
    families_test,
    invalid_test,
    non_positive_cases,
    pick,
    pool_case,
    torch_pool_size,
)


def exact_fit(rng):
    return pool_case(rng, padded=coin(rng), ceil_mode=coin(rng))


def floor_drops_the_last_window(rng):
    fit = pick(rng, ("partial", "drop"))
    return pool_case(rng, default_stride=fit == "partial" and coin(rng), padded=coin(rng),
                     ceil_mode=False if coin(rng) else None, fit=fit)


def ceil_keeps_a_partial_window(rng):
    return pool_case(rng, default_stride=coin(rng), padded=coin(rng), ceil_mode=True,
                     fit="partial")


def ceil_drops_a_window_in_padding(rng):
    return pool_case(rng, padded=coin(rng), ceil_mode=True, fit="drop")


test_against_pytorch = families_test("pool_output_size", {
    "stride defaults to kernel_size (windows that tile the input)":
        partial(pool_case, default_stride=True),
    "explicit stride and padding, windows that fit exactly, either ceil_mode": exact_fit,
    "ceil_mode=False drops a last window that does not fit": floor_drops_the_last_window,
    "ceil_mode=True keeps a partial last window": ceil_keeps_a_partial_window,
    "ceil_mode=True drops a last window that would start in the right padding":
        ceil_drops_a_window_in_padding,
}, torch_pool_size)


def non_positive_or_negative_padding(rng):
    valid = cases_of(pool_case, rng)
    cases = non_positive_cases(valid, ("size", "kernel_size", "stride"))
    cases[::4] = [({**case, "padding": -draw(rng, 1, 3)}, ("padding",)) for case in valid[::4]]
    return cases


def window_too_large(rng):
    cases = []
    for _ in range(N_CASES):
        size = draw(rng, 1, 10)
        case = {"size": size, "kernel_size": size + draw(rng, 1, 3)}
        if coin(rng):
            case["padding"] = 1
            case["kernel_size"] += 2
        cases.append((case, TOO_LARGE))
    return cases


test_raises_value_error = invalid_test("pool_output_size", {
    "a non-positive size, kernel_size or stride, or negative padding":
        non_positive_or_negative_padding,
    "a window larger than the padded input": window_too_large,
})
