"""Hidden tests of a06's ``fc_to_conv``: the convolution's output at every position of a
larger input equals the linear layer applied to the flattened window there."""

from __future__ import annotations

import numpy as np
import pytest

from autograder.compare import assert_array_close
from autograder.harness import graded
from autograder.suites.a06_finetuning.cases import TOLERANCE, Driven

#: (in_channels, kernel_size as passed, out_features, bias, input (H, W))
LAYERS = [
    pytest.param(3, 4, 5, True, (9, 11), id="3 channels, kernel 4, bias"),
    pytest.param(2, (3, 5), 4, False, (7, 8), id="non-square kernel (3, 5), no bias"),
    pytest.param(4, (2, 2), 3, True, (2, 2), id="input exactly one window"),
    pytest.param(1, 1, 2, True, (3, 4), id="1x1 kernel"),
]


def windows_through(x: np.ndarray, weight: np.ndarray, bias, kh: int, kw: int) -> np.ndarray:
    """The linear layer on every flattened (C, kh, kw) window of x: (N, out, OH, OW)."""
    n, _, h, w = x.shape
    out = np.empty((n, weight.shape[0], h - kh + 1, w - kw + 1))
    for i in range(h - kh + 1):
        for j in range(w - kw + 1):
            out[:, :, i, j] = x[:, :, i:i + kh, j:j + kw].reshape(n, -1) @ weight.T
    return out if bias is None else out + bias[None, :, None, None]


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
    assert_array_close(report.get("output"), windows_through(x, weight, b, kh, kw),
                       case=case, **TOLERANCE)
