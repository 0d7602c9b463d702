"""avg_pool2d_forward against F.avg_pool2d(count_include_pad=True), and the arguments it
must refuse."""

import pytest

from autograder.harness import graded
from autograder.suites.a03_pooling.cases import (
    AVG_FAMILIES,
    INVALID_ARGUMENTS,
    check_forward,
    check_rejects,
)


@graded("avg_pool2d_forward")
@pytest.mark.parametrize("family", AVG_FAMILIES.values(), ids=AVG_FAMILIES.keys())
def test_matches_pytorch(student, reference, rng, family):
    "matches F.avg_pool2d(count_include_pad=True)"
    check_forward(student, reference, "avg", family, rng)


@graded("avg_pool2d_forward", weight=0.5, kind="errors")
@pytest.mark.parametrize("options, names", INVALID_ARGUMENTS)
def test_rejects_invalid_arguments(student, options, names):
    "raises ValueError naming the argument"
    check_rejects(student.avg_pool2d_forward, options, names, backward=False)
