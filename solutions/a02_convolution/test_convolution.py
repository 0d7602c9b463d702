"""Visible checks for convolution.py: run ``pytest`` in this folder.

The course's worked examples, a few properties, and numerical gradient checks of dx, dw and
db one by one. The grader runs many more cases, compared with PyTorch, on fresh random
inputs.
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


# The course's vertical-edge example: a grey 6x6 image and the vertical-edge filter, which is
# not symmetric, so a flipped kernel gives another map.
EDGE_IMAGE = np.array([[3, 0, 1, 2, 7, 4],
                       [1, 5, 8, 9, 3, 1],
                       [2, 7, 2, 5, 1, 3],
                       [0, 1, 3, 1, 7, 8],
                       [4, 2, 1, 6, 2, 8],
                       [2, 4, 5, 2, 3, 9]], dtype=np.float64)[np.newaxis, np.newaxis]
VERTICAL_EDGE = np.array([[1, 0, -1]] * 3, dtype=np.float64)[np.newaxis, np.newaxis]
EDGE_MAP = [[-5, -4, 0, 8], [-10, -2, 2, 3], [0, -2, -4, -7], [-3, -2, -3, -16]]


def test_course_vertical_edge_example():
    out = conv2d_forward(EDGE_IMAGE, VERTICAL_EDGE)
    np.testing.assert_allclose(out[0, 0], EDGE_MAP, err_msg="conv2d_forward on the "
                               "vertical-edge example (a flipped kernel gives the negatives)")


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


def forward_passes_the_examples() -> bool:
    """Whether conv2d_forward gets the course's examples right: the numerical gradients
    below differentiate it, so they mean nothing until it does."""
    try:
        return (np.allclose(conv2d_forward(EDGE_IMAGE, VERTICAL_EDGE)[0, 0], EDGE_MAP)
                and np.allclose(conv2d_forward(IMAGE, DIAGONAL, stride=2)[0, 0],
                                [[3, -3], [-3, 0]]))
    except Exception:  # a stub or a crash: its own tests say so
        return False


@pytest.mark.parametrize("gradient", ["dx", "dw", "db"])
@pytest.mark.parametrize("kwargs", [
    {},
    {"stride": 2, "padding": 1},
    {"padding": (1, 2), "dilation": 2},
    {"groups": 2, "stride": (1, 2)},
], ids=["defaults", "stride 2, padding 1", "padding (1, 2), dilation 2", "groups 2, stride (1, 2)"])
def test_backward_matches_numerical_gradients(kwargs, gradient):
    if not forward_passes_the_examples():
        pytest.skip("conv2d_forward fails the course examples: fix it first, the gradient "
                    "check differentiates it")
    rng = np.random.default_rng(3)
    inputs = {"x": rng.standard_normal((2, 4, 5, 6)),
              "w": rng.standard_normal((4, 4 // kwargs.get("groups", 1), 3, 3)),
              "b": rng.standard_normal(4)}
    dout = rng.standard_normal(conv2d_forward(*inputs.values(), **kwargs).shape)
    dx, dw, db = conv2d_backward(dout, inputs["x"], inputs["w"], **kwargs)
    got = {"dx": dx, "dw": dw, "db": db}[gradient]
    wrt = gradient[1:]  # "dx" is the gradient with respect to "x"

    def forward(value):
        return conv2d_forward(*(inputs | {wrt: value}).values(), **kwargs)

    expected = eval_numerical_gradient_array(forward, inputs[wrt], dout)
    assert got.shape == expected.shape, \
        f"{gradient} for {kwargs}: expected shape {expected.shape}, got {got.shape}"
    error = rel_error(got, expected)
    assert error < 1e-6, (f"{gradient} for {kwargs}: relative error {error:.2g} against the "
                          "numerical gradient (a correct backward pass stays well below "
                          "1e-6)")


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
