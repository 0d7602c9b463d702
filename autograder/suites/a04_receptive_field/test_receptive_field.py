"""Hidden tests of a04's ``receptive_field``: size, jump and start after every layer, against
the input positions each unit reaches (and the published figures)."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest

from autograder.harness import Case, check_cases, check_raises, graded
from autograder.suites.a04_receptive_field.cases import (
    N_STACKS,
    PUBLISHED,
    draw,
    draw_stack,
    layer,
    reachable_field,
    stack_case,
)


def three_by_three(rng):
    return [layer(3, 1, 1)] * draw(rng, 2, 6)


def numpy_integers(rng):
    return [{name: np.int64(value) for name, value in one.items()}
            for one in draw_stack(rng, strides=True, padding=True, dilation=True)]


FAMILIES = {
    "3x3 convolutions, stride 1, padding 1": three_by_three,
    "any kernels, stride 1": draw_stack,
    "strides > 1: the jump grows": partial(draw_stack, strides=True),
    "padding: the start moves left": partial(draw_stack, strides=True, padding=True),
    "dilation > 1": partial(draw_stack, strides=True, dilation=True),
    "pools between the convolutions": partial(draw_stack, depth=(3, 8), strides=True,
                                              padding=True, pools=True),
    "numpy integers in the layers": numpy_integers,
}


@graded("receptive_field", weight=2)
@pytest.mark.parametrize("family", FAMILIES.values(), ids=FAMILIES.keys())
def test_against_reachable_positions(student, reference, rng, family):
    "against the input positions each unit reaches"
    cases = [stack_case(family(rng)) for _ in range(N_STACKS)]
    check_cases(student, reference, "receptive_field", cases, reachable_field)


@graded("receptive_field")
@pytest.mark.parametrize("name", PUBLISHED)
def test_published_networks(student, reference, name):
    "the published figures (Araujo, Norris and Sim, Distill 2019)"
    check_cases(student, reference, "receptive_field", [stack_case(PUBLISHED[name], name)],
                reachable_field)


@graded("receptive_field", kind="errors")
def test_invalid_layers(student):
    "raises ValueError naming the setting at fault"
    check_raises(student, "receptive_field", [
        (stack_case([layer(3), {"kernel_size": 0}]), ("kernel_size",)),
        (stack_case([{"kernel_size": 3, "stride": 0}]), ("stride",)),
        (stack_case([{"kernel_size": 3, "padding": -1}]), ("padding",)),
        (stack_case([{"kernel_size": 3, "dilation": 0}]), ("dilation",)),
        (stack_case([{"stride": 2}], "a layer without kernel_size"), ("kernel_size",)),
    ])


@graded("receptive_field", kind="example")
def test_no_layers(student, reference):
    "no layers: no fields"
    check_cases(student, reference, "receptive_field", [Case({"layers": []})],
                reachable_field)
