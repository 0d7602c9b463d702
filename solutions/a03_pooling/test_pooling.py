"""Visible checks for pooling.py: run ``pytest`` in this folder.

Small cases worked by hand, the tie rule, and a numerical gradient check. The grader runs
many more cases, compared with PyTorch, on fresh random inputs.
"""

import numpy as np
import pytest
from pooling import (
    avg_pool2d_backward,
    avg_pool2d_forward,
    global_avg_pool2d,
    max_pool2d_backward,
    max_pool2d_forward,
)

# One 4x4 image, one channel: 0, 1, ..., 15 in row-major order.
RAMP = np.arange(16.0).reshape(1, 1, 4, 4)


def rel_error(a: np.ndarray, b: np.ndarray) -> float:
    """Largest relative error between two arrays; around 1e-8 or less when they agree."""
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def numerical_gradient(f, x: np.ndarray, dout: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Centred differences of ``sum(f(x) * dout)`` with respect to every entry of ``x``."""
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        saved = x[index]
        x[index] = saved + h
        plus = np.sum(f(x) * dout)
        x[index] = saved - h
        minus = np.sum(f(x) * dout)
        x[index] = saved
        grad[index] = (plus - minus) / (2 * h)
    return grad


def test_max_pool_forward_by_hand():
    out = max_pool2d_forward(RAMP, kernel_size=2, stride=2)
    np.testing.assert_array_equal(out, [[[[5, 7], [13, 15]]]])


def test_stride_defaults_to_kernel_size():
    np.testing.assert_array_equal(max_pool2d_forward(RAMP, 2), max_pool2d_forward(RAMP, 2, 2))
    assert avg_pool2d_forward(RAMP, (2, 4)).shape == (1, 1, 2, 1)


def test_avg_pool_forward_by_hand():
    out = avg_pool2d_forward(RAMP, kernel_size=2, stride=2)
    np.testing.assert_allclose(out, [[[[2.5, 4.5], [10.5, 12.5]]]])


def test_padding_never_wins_a_max():
    x = -np.ones((1, 1, 2, 2))
    out = max_pool2d_forward(x, kernel_size=2, stride=1, padding=1)
    np.testing.assert_array_equal(out, -np.ones((1, 1, 3, 3)))


def test_avg_pool_counts_the_padding():
    # Every 2x2 window of the padded 4x4 holds one pixel of the image and three zeros.
    x = np.ones((1, 1, 2, 2))
    out = avg_pool2d_forward(x, kernel_size=2, stride=2, padding=1)
    np.testing.assert_allclose(out, np.full((1, 1, 2, 2), 0.25))


def test_tied_maxima_send_the_gradient_to_the_first():
    x = np.zeros((1, 1, 2, 2))                  # after a ReLU: four equal maxima
    dx = max_pool2d_backward(np.array([[[[3.0]]]]), x, kernel_size=2)
    np.testing.assert_array_equal(dx, [[[[3, 0], [0, 0]]]], err_msg=(
        "max_pool2d_backward with four tied maxima in a 2x2 window: the whole gradient goes "
        "to the first one in row-major order, as np.argmax picks it"))


def test_overlapping_windows_add_up():
    x = np.zeros((1, 1, 3, 3))
    x[0, 0, 1, 1] = 1.0                         # the centre wins all four 2x2 windows
    dout = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    dx = max_pool2d_backward(dout, x, kernel_size=2, stride=1)
    expected = np.zeros((1, 1, 3, 3))
    expected[0, 0, 1, 1] = 10.0
    np.testing.assert_array_equal(dx, expected)


@pytest.mark.parametrize("pool, backward", [(max_pool2d_forward, max_pool2d_backward),
                                            (avg_pool2d_forward, avg_pool2d_backward)])
def test_backward_matches_numerical_gradient(pool, backward):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 7, 6))       # distinct values: no ties, max is smooth
    options = dict(kernel_size=(3, 2), stride=(2, 1), padding=1)
    dout = rng.standard_normal(pool(x, **options).shape)
    expected = numerical_gradient(lambda v: pool(v, **options), x, dout)
    assert rel_error(backward(dout, x, **options), expected) < 1e-6


def test_global_avg_pool():
    x = np.arange(24.0).reshape(2, 3, 2, 2)
    out = global_avg_pool2d(x)
    assert out.shape == (2, 3)
    np.testing.assert_allclose(out, x.reshape(2, 3, 4).mean(axis=2))


def test_float32_stays_float32():
    x = RAMP.astype(np.float32)
    assert max_pool2d_forward(x, 2).dtype == np.float32
    assert avg_pool2d_forward(x, 2).dtype == np.float32
    assert global_avg_pool2d(x).dtype == np.float32


@pytest.mark.parametrize("options, name", [
    (dict(kernel_size=0), "kernel_size"),
    (dict(kernel_size=2, stride=0), "stride"),
    (dict(kernel_size=2, padding=-1), "padding"),
    (dict(kernel_size=5), "kernel_size"),       # larger than the 4x4 input
])
def test_invalid_arguments_raise_value_error_naming_them(options, name):
    with pytest.raises(ValueError, match=name):
        max_pool2d_forward(RAMP, **options)
