"""Hidden tests of a04's ``empirical_receptive_field``: the input columns that the centre
unit's gradient reaches, against the positions it depends on (holes and borders included)."""

from __future__ import annotations

from functools import partial

import pytest

from autograder.harness import Case, check_cases, check_raises, graded
from autograder.suites.a04_receptive_field.cases import (
    N_STACKS,
    draw,
    draw_stack,
    empirical_oracle,
    has_holes,
    layer,
    measurable,
    reachable_field,
)

#: Stacks per family: each is measured with autograd on an image, so fewer than for the
#: closed form.
N_MEASURED = N_STACKS // 2


def measured_cases(rng, generate, small_input: bool = False,
                   holes: bool = False) -> list[Case]:
    """``N_MEASURED`` cases of stacks from ``generate`` on an input wide enough for the whole
    field, or (``small_input``) narrower than it, so that the image's border cuts it;
    with ``holes``, only fields with holes (columns inside them that the unit does not
    depend on)."""
    cases = []
    while len(cases) < N_MEASURED:
        stack = generate(rng)
        size, jump, _ = reachable_field(Case({"layers": stack}))[-1]
        input_size = draw(rng, 1, size) if small_input else size + 2 * jump + draw(rng, 0, 8)
        if (input_size <= 96 and measurable(stack, input_size)
                and (not holes or has_holes(stack, input_size))):
            cases.append(Case({"layers": stack, "input_size": input_size}))
    return cases


#: Families of stacks: how each is drawn, and whether its fields must have holes.
FAMILIES = {
    "stride 1, no dilation: every pixel of the field": (partial(draw_stack, padding=True),
                                                        False),
    "strides: the field may have holes": (partial(draw_stack, strides=True, padding=True),
                                          False),
    "dilation: the field has holes": (partial(draw_stack, dilation=True), True),
    "pools between the convolutions": (partial(draw_stack, depth=(2, 5), pools=True,
                                               padding=True), False),
}


@graded("empirical_receptive_field", weight=2)
@pytest.mark.parametrize("family", FAMILIES.values(), ids=FAMILIES.keys())
def test_whole_field(student, reference, rng, family):
    "counts the input columns the centre unit depends on"
    generate, holes = family
    check_cases(student, reference, "empirical_receptive_field",
                measured_cases(rng, generate, holes=holes), empirical_oracle)


@graded("empirical_receptive_field")
def test_field_cut_by_the_border(student, reference, rng):
    "an input narrower than the field: only the columns inside the image count"
    check_cases(student, reference, "empirical_receptive_field",
                measured_cases(rng, partial(draw_stack, padding=True), small_input=True),
                empirical_oracle)


@graded("empirical_receptive_field", kind="errors")
def test_invalid_arguments(student):
    "raises ValueError naming the argument at fault"
    stack = [layer(3), layer(3)]  # 4 pixels -> 2 -> none
    check_raises(student, "empirical_receptive_field", [
        (Case({"layers": stack, "input_size": 0}), ("input_size",)),
        (Case({"layers": stack, "input_size": 4}, note="two 3x3 on 4 pixels"),
         ("input_size",)),
        (Case({"layers": [{"kernel_size": 0}], "input_size": 8}), ("kernel_size",)),
    ])
