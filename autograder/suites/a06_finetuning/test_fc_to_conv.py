"""Hidden tests of a06's ``fc_to_conv``: the convolution's output at every position of a
larger input equals the linear layer applied to the flattened window there (a kernel that
reads the weights in another order than the flattening's is named)."""

from __future__ import annotations

import numpy as np
import pytest

from autograder.compare import assert_array_close
from autograder.diagnose import Mistake, explained, first_giving
from autograder.harness import graded
from autograder.suites.a06_finetuning.cases import TOLERANCE, Driven, windows_through
from autograder.suites.a06_finetuning.mistakes import MISTAKES, fc_to_conv_case

#: (in_channels, kernel_size as passed, out_features, bias, input (H, W))
LAYERS = [
    pytest.param(3, 4, 5, True, (9, 11), id="3 channels, kernel 4, bias"),
    pytest.param(2, (3, 5), 4, False, (7, 8), id="non-square kernel (3, 5), no bias"),
    pytest.param(4, (2, 2), 3, True, (2, 2), id="input exactly one window"),
    pytest.param(1, 1, 2, True, (3, 4), id="1x1 kernel"),
]


@graded("fc_to_conv")
@pytest.mark.parametrize("channels, kernel_size, out_features, bias, size", LAYERS)
def test_same_function_on_every_window(student, rng, channels, kernel_size, out_features,
                                       bias, size):
    "conv output at (i, j) = linear(flattened window at (i, j))"
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    weight = rng.standard_normal((out_features, channels * kh * kw))
    b = rng.standard_normal(out_features) if bias else None
    x = rng.standard_normal((2, channels, *size))
    drive = Driven(student, "fc_to_conv")
    case = (f"fc_to_conv(nn.Linear({channels * kh * kw}, {out_features}, bias={bias}), "
            f"{channels}, {kernel_size!r}) on x of shape {x.shape}")
    report = drive.report("fc_to_conv", drive("linear", weight, b), channels, kernel_size, x,
                          schema={"type": str})
    if report["type"] != "Conv2d":
        raise AssertionError(f"{case} returned a {report['type']}, expected an nn.Conv2d")
    got = report.get("output")
    try:
        assert_array_close(got, windows_through(x, weight, b, kh, kw), case=case, **TOLERANCE)
    except AssertionError as error:
        raise explained(error, mistake_giving(got, fc_to_conv_case(x, weight, b, kh, kw))
                        ) from None


def mistake_giving(got, case) -> Mistake | None:
    """The first known mistake of ``fc_to_conv`` whose output (computed here) is ``got``."""
    if not isinstance(got, np.ndarray) or got.dtype.kind != "f":
        return None
    return first_giving(MISTAKES["fc_to_conv"], case, lambda wrong: np.shape(got) == wrong.shape
                        and np.allclose(got, wrong, **TOLERANCE))
