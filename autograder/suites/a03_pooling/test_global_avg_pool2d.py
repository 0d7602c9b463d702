"""global_avg_pool2d against F.adaptive_avg_pool2d(x, 1), flattened to (N, C)."""

import numpy as np
import pytest

from autograder.harness import assert_array_close, assert_raises, confirmed, graded
from autograder.suites.a03_pooling.cases import A03, pytorch_global_avg_pool

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
    x = rng.standard_normal(shape).astype(dtype)
    expected = confirmed(pytorch_global_avg_pool(x),
                         reference.global_avg_pool2d(x.astype(np.float64)),
                         what=f"global_avg_pool2d of x.shape={shape}")
    assert_array_close(student.global_avg_pool2d(x), expected,
                       case=f"x.shape={shape}, x.dtype={x.dtype.name}", **A03.tolerance(dtype))


@graded("global_avg_pool2d", weight=0.5, kind="errors")
@pytest.mark.parametrize("shape", [(2, 3, 4), (1, 2, 3, 4, 5)], ids=["rank 3", "rank 5"])
def test_rejects_an_input_that_is_not_nchw(student, rng, shape):
    "raises ValueError for an input that is not (N, C, H, W)"
    assert_raises(ValueError, student.global_avg_pool2d, rng.standard_normal(shape),
                  case=f"x.shape={shape}")
