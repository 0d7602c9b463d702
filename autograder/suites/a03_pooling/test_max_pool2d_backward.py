"""max_pool2d_backward against autograd through F.max_pool2d, and the arguments it must
refuse."""

import pytest

from autograder.harness import graded
from autograder.suites.a03_pooling.cases import (
    INVALID_ARGUMENTS,
    MAX_FAMILIES,
    check_backward,
    check_rejects,
)


@graded("max_pool2d_backward", weight=2)
@pytest.mark.parametrize("family", MAX_FAMILIES.values(), ids=MAX_FAMILIES.keys())
def test_matches_pytorch(student, reference, rng, family):
    "matches autograd through F.max_pool2d"
    check_backward(student, reference, "max", family, rng)


@graded("max_pool2d_backward", weight=0.5, kind="errors")
@pytest.mark.parametrize("options, names", INVALID_ARGUMENTS)
def test_rejects_invalid_arguments(student, options, names):
    "raises ValueError naming the argument"
    check_rejects(student.max_pool2d_backward, options, names, backward=True)
