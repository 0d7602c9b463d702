"""global_avg_pool2d against F.adaptive_avg_pool2d(x, 1), flattened to (N, C)."""

import numpy as np
import pytest

from autograder.harness import Case, check_cases, check_raises, graded
from autograder.suites.a03_pooling.cases import pytorch_global_avg_pool

SHAPES = [
    pytest.param((2, 3, 5, 4), np.float64, id="several images and channels, H != W"),
    pytest.param((1, 1, 6, 6), np.float64, id="batch of one"),
    pytest.param((3, 4, 1, 1), np.float64, id="one pixel per channel"),
    pytest.param((2, 3, 7, 5), np.float32, id="float32"),
]


@graded("global_avg_pool2d")
@pytest.mark.parametrize("shape, dtype", SHAPES)
def test_matches_pytorch(student, reference, rng, shape, dtype):
    "matches F.adaptive_avg_pool2d(x, 1).flatten(1)"
    case = Case({"x": rng.standard_normal(shape).astype(dtype)})
    check_cases(student, reference, "global_avg_pool2d", [case], pytorch_global_avg_pool)


@graded("global_avg_pool2d", weight=0.5, kind="errors")
@pytest.mark.parametrize("shape", [(2, 3, 4), (1, 2, 3, 4, 5)], ids=["rank 3", "rank 5"])
def test_rejects_an_input_that_is_not_nchw(student, rng, shape):
    "raises ValueError for an input that is not (N, C, H, W)"
    check_raises(student, "global_avg_pool2d", [(Case({"x": rng.standard_normal(shape)}), ())])
