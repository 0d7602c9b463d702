"""Visible checks of output_size.py: the course examples and a few cases worked by hand.

Run ``pytest`` in this folder. The grader's hidden tests check many more cases, against
PyTorch's own shape inference.
"""

import pytest
from output_size import (
    conv2d_macs,
    conv2d_num_params,
    conv2d_output_shape,
    conv_output_size,
    conv_transpose_output_size,
    dense_equivalent_num_params,
    pool_output_size,
)


def test_course_example_output_shape():
    # 255x255 RGB, 30 filters 7x7, stride (3, 4), padding 2: (255 + 4 - 7) // 3 + 1 = 85
    # rows and (255 + 4 - 7) // 4 + 1 = 64 columns (the course writes it HWC: 85x64x30).
    assert conv2d_output_shape((3, 255, 255), 30, 7, stride=(3, 4), padding=2) == (30, 85, 64)


def test_course_example_params_and_macs():
    # 200 filters 5x5 on RGB: 200 * 3 * 5 * 5 weights + 200 biases.
    assert conv2d_num_params(3, 200, 5) == 15_200
    # 'same' keeps 150x100; each of the 150 * 100 * 200 outputs takes 3 * 5 * 5 multiply-adds.
    assert conv2d_macs((3, 150, 100), 200, 5, padding="same") == 225_000_000


def test_conv_output_size_by_hand():
    assert conv_output_size(7, 3) == 5                      # windows start at 0..4
    assert conv_output_size(7, 3, stride=2) == 3            # 0, 2, 4
    assert conv_output_size(8, 3, stride=2) == 3            # 0, 2, 4; pixel 7 is left over
    assert conv_output_size(7, 3, padding=1) == 7           # padding (k - 1) // 2 keeps the size
    assert conv_output_size(7, 2, padding=(0, 1)) == 7      # an even kernel, padded after only
    assert conv_output_size(7, 3, dilation=2) == 3          # taps 2 apart span 5 pixels
    assert conv_output_size(7, 4, stride=2, padding="same") == 4   # ceil(7 / 2)
    assert conv_output_size(7, 4, padding="valid") == 4


def test_results_are_ints():
    assert type(conv_output_size(255, 7, stride=3, padding=2)) is int


def test_pool_output_size_by_hand():
    assert pool_output_size(6, 2) == 3                      # stride defaults to kernel_size
    assert pool_output_size(7, 2) == 3                      # the last pixel is dropped ...
    assert pool_output_size(7, 2, ceil_mode=True) == 4      # ... unless ceil_mode keeps it
    # Size 5, padding 1 (7 padded pixels), windows of 2 every 2 pixels: ceil_mode would add a
    # window starting at 6, in the right padding only, so it is dropped.
    assert pool_output_size(5, 2, stride=2, padding=1, ceil_mode=True) == 3


def test_conv_transpose_output_size_by_hand():
    assert conv_transpose_output_size(4, 3, stride=2, padding=1) == 7
    assert conv_transpose_output_size(4, 3, stride=2, padding=1, output_padding=1) == 8
    # It undoes the convolution's size: 8 -> 4 -> 8.
    assert conv_output_size(8, 3, stride=2, padding=1) == 4


def test_conv2d_output_shape_forms():
    assert conv2d_output_shape((8, 3, 32, 32), 16, 3, padding=1) == (8, 16, 32, 32)
    assert conv2d_output_shape((3, 32, 32), 16, (3, 5), padding=((1, 1), (2, 2))) == (16, 32, 32)


def test_dense_equivalent():
    # Producing the course example's 150x100x200 output from its 150x100x3 input densely.
    inputs, outputs = 3 * 150 * 100, 200 * 150 * 100
    assert dense_equivalent_num_params((3, 150, 100), (200, 150, 100)) == \
        inputs * outputs + outputs


def test_window_larger_than_input_names_kernel_size():
    with pytest.raises(ValueError, match="kernel_size"):
        conv_output_size(4, 7)
