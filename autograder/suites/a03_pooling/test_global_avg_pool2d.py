"""global_avg_pool2d against F.adaptive_avg_pool2d(x, 1), flattened to (N, C)."""

import numpy as np
import pytest

from autograder.harness import assert_array_close, graded
from autograder.suites.a03_pooling.cases import pytorch_global_avg_pool

SHAPES = [
    pytest.param((2, 3, 5, 4), np.float64, id="several images and channels, H != W"),
    pytest.param((1, 1, 6, 6), np.float64, id="batch of one"),
    pytest.param((3, 4, 1, 1), np.float64, id="one pixel per channel"),
    pytest.param((2, 3, 7, 5), np.float32, id="float32"),
]


@graded("global_avg_pool2d")
@pytest.mark.parametrize("shape, dtype", SHAPES)
def test_matches_pytorch(student, rng, shape, dtype):
    "matches F.adaptive_avg_pool2d(x, 1).flatten(1)"
    x = rng.standard_normal(shape).astype(dtype)
    tolerances = {"rtol": 1e-5, "atol": 1e-6} if dtype == np.float32 else {}
    assert_array_close(student.global_avg_pool2d(x), pytorch_global_avg_pool(x),
                       case=f"x.shape={shape}, x.dtype={x.dtype.name}", **tolerances)
