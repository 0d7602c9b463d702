"""a04's case generators: each family draws the cases its name promises, whatever the seed,
so that the mistake it is there for cannot pass by chance."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.harness import Case
from autograder.suites.a04_receptive_field.cases import (
    empirical_oracle,
    has_holes,
    reachable_columns,
    span,
)
from autograder.suites.a04_receptive_field.mistakes import LAYERS_FROM_MODEL
from autograder.suites.a04_receptive_field.test_empirical_receptive_field import (
    FAMILIES,
    measured_cases,
)
from autograder.suites.a04_receptive_field.test_layers_from_model import (
    N_MODELS,
    layers_of,
    same_and_valid,
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
        assert has_holes(layers, size)
        assert span(reachable_columns(layers, size)) != empirical_oracle(case), case.label


def test_a_contiguous_field_has_no_holes():
    one_dilated = [{"kernel_size": 3, "dilation": 2}]
    assert reachable_columns(one_dilated, 9) == {2, 4, 6} and has_holes(one_dilated, 9)
    filled = one_dilated + [{"kernel_size": 2}]
    assert reachable_columns(filled, 9) == set(range(2, 8)) and not has_holes(filled, 9)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_every_model_of_the_same_padding_family_shows_the_dilation(seed):
    """Every model of the 'same' and 'valid' family has a 'same' layer whose padding the
    dilation changes, so that ignoring the dilation there is wrong on each."""
    (ignored,) = [m for m in LAYERS_FROM_MODEL if m.key == "'same' padding ignores dilation"]
    rng = np.random.default_rng(seed)
    for _ in range(N_MODELS):
        spec = same_and_valid(rng)
        assert ignored.answer(Case({"spec": spec})) != layers_of(spec), spec
