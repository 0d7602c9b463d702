"""a04's case generators: each family draws the cases its name promises, whatever the seed."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.suites.a04_receptive_field.cases import (
    empirical_oracle,
    has_holes,
    reachable_columns,
)
from autograder.suites.a04_receptive_field.test_empirical_receptive_field import (
    FAMILIES,
    measured_cases,
)

HOLES = "dilation: the field has holes"


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_every_field_of_the_holes_family_has_holes(seed):
    """Counting the field from its first column to its last is wrong on every case."""
    generate, holes = FAMILIES[HOLES]
    assert holes
    for case in measured_cases(np.random.default_rng(seed), generate, holes=holes):
        layers, size = case.inputs["layers"], case.inputs["input_size"]
        columns = reachable_columns(layers, size)
        assert has_holes(layers, size)
        assert max(columns) - min(columns) + 1 != empirical_oracle(case), case.label


def test_a_contiguous_field_has_no_holes():
    one_dilated = [{"kernel_size": 3, "dilation": 2}]
    assert reachable_columns(one_dilated, 9) == {2, 4, 6} and has_holes(one_dilated, 9)
    filled = one_dilated + [{"kernel_size": 2}]
    assert reachable_columns(filled, 9) == set(range(2, 8)) and not has_holes(filled, 9)
