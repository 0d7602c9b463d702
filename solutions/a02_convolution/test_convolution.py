"""Visible checks for convolution.py: run ``pytest`` in this folder.

The course's worked examples, a few properties, and numerical gradient checks. The grader
runs many more cases, compared with PyTorch, on fresh random inputs.
"""

import numpy as np
import pytest
from convolution import conv2d_backward, conv2d_forward, conv_transpose2d_forward
from gradient_check import eval_numerical_gradient_array, rel_error

# The course's worked example: a 6x6 binary image and a 3x3 diagonal filter, as (1, 1, H, W).
IMAGE = np.array([[1, 0, 0, 0, 0, 1],
                  [0, 1, 0, 0, 1, 0],
                  [0, 0, 1, 1, 0, 0],
                  [1, 0, 0, 0, 1, 0],
                  [0, 1, 0, 0, 1, 0],
                  [0, 0, 1, 0, 1, 0]], dtype=np.float64)[np.newaxis, np.newaxis]
DIAGONAL = np.array([[1, -1, -1],
                     [-1, 1, -1],
                     [-1, -1, 1]], dtype=np.float64)[np.newaxis, np.newaxis]


def test_course_example_stride_1():
    out = conv2d_forward(IMAGE, DIAGONAL)
    np.testing.assert_allclose(out[0, 0], [[3, -1, -3, -1],
                                           [-3, 1, 0, -3],
                                           [-3, -3, 0, 1],
                                           [3, -2, -2, -1]])


def test_course_example_stride_2():
    np.testing.assert_allclose(conv2d_forward(IMAGE, DIAGONAL, stride=2)[0, 0],
                               [[3, -3], [-3, 0]])


def test_the_kernel_is_not_flipped():
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    w = np.zeros((1, 1, 3, 3))
    w[0, 0, 0, 0] = 1.0  # picks the top-left pixel of each window: cross-correlation
    np.testing.assert_allclose(conv2d_forward(x, w), [[[[0.0]]]])


@pytest.mark.parametrize("kwargs, shape", [
    ({}, (2, 4, 5, 6)),
    ({"padding": 1}, (2, 4, 7, 8)),
    ({"padding": (2, 0)}, (2, 4, 9, 6)),
    ({"stride": 2}, (2, 4, 3, 3)),
    ({"dilation": 2}, (2, 4, 3, 4)),
    ({"stride": (3, 2), "padding": 1, "dilation": (1, 2)}, (2, 4, 3, 3)),
])
def test_output_shape(kwargs, shape):
    x, w = np.ones((2, 3, 7, 8)), np.ones((4, 3, 3, 3))
    assert conv2d_forward(x, w, **kwargs).shape == shape


def test_bias_is_added_to_every_pixel():
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((2, 3, 5, 5)), rng.standard_normal((4, 3, 3, 3)), np.arange(4.0)
    difference = conv2d_forward(x, w, b) - conv2d_forward(x, w)
    np.testing.assert_allclose(difference, np.broadcast_to(b[:, None, None], (2, 4, 3, 3)))


def test_a_1x1_convolution_mixes_channels_pixel_by_pixel():
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((2, 3, 4, 5)), rng.standard_normal((6, 3, 1, 1))
    np.testing.assert_allclose(conv2d_forward(x, w),
                               np.einsum("fc,nchw->nfhw", w[:, :, 0, 0], x))


def test_groups_are_separate_convolutions():
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((2, 4, 6, 6)), rng.standard_normal((6, 2, 3, 3))
    separate = [conv2d_forward(x[:, 2 * g:2 * g + 2], w[3 * g:3 * g + 3], padding=1)
                for g in range(2)]
    np.testing.assert_allclose(conv2d_forward(x, w, padding=1, groups=2),
                               np.concatenate(separate, axis=1))


def test_invalid_stride_raises_value_error():
    with pytest.raises(ValueError, match="stride"):
        conv2d_forward(np.ones((1, 1, 5, 5)), np.ones((1, 1, 3, 3)), stride=0)


@pytest.mark.parametrize("kwargs", [
    {},
    {"stride": 2, "padding": 1},
    {"padding": (1, 2), "dilation": 2},
    {"groups": 2, "stride": (1, 2)},
])
def test_backward_matches_numerical_gradients(kwargs):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 4, 5, 6))
    w = rng.standard_normal((4, 4 // kwargs.get("groups", 1), 3, 3))
    b = rng.standard_normal(4)
    dout = rng.standard_normal(conv2d_forward(x, w, b, **kwargs).shape)
    dx, dw, db = conv2d_backward(dout, x, w, **kwargs)
    assert rel_error(dx, eval_numerical_gradient_array(
        lambda x_: conv2d_forward(x_, w, b, **kwargs), x, dout)) < 1e-6
    assert rel_error(dw, eval_numerical_gradient_array(
        lambda w_: conv2d_forward(x, w_, b, **kwargs), w, dout)) < 1e-6
    assert rel_error(db, eval_numerical_gradient_array(
        lambda b_: conv2d_forward(x, w, b_, **kwargs), b, dout)) < 1e-6


def test_transposed_convolution_spreads_each_pixel():
    x = w = np.array([[0.0, 1.0], [2.0, 3.0]])[np.newaxis, np.newaxis]
    np.testing.assert_allclose(conv_transpose2d_forward(x, w)[0, 0],
                               [[0, 0, 1], [0, 4, 6], [4, 12, 9]])
    np.testing.assert_allclose(conv_transpose2d_forward(x, w, stride=2)[0, 0],
                               [[0, 0, 0, 1], [0, 0, 2, 3], [0, 2, 0, 3], [4, 6, 6, 9]])


def test_transposed_convolution_is_the_backward_of_the_convolution():
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal((2, 3, 8, 7)), rng.standard_normal((4, 3, 3, 3))
    dout = rng.standard_normal(conv2d_forward(x, w, stride=2, padding=1).shape)  # (2, 4, 4, 4)
    dx, _, _ = conv2d_backward(dout, x, w, stride=2, padding=1)
    # 8 = (4 - 1) * 2 - 2 + 3 + 1 rows, 7 = (4 - 1) * 2 - 2 + 3 + 0 columns
    out = conv_transpose2d_forward(dout, w, stride=2, padding=1, output_padding=(1, 0))
    np.testing.assert_allclose(out, dx)
