"""Visible checks of output_size.py: the course examples and a few cases worked by hand.

Run ``pytest`` in this folder. Each case is a test of its own, named by its call, and a
failure says what was expected and what came back. The grader's hidden tests check many
more cases, against PyTorch's own shape inference.
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

# The course's parameter example: the 150x100x3 input, its 150x100x200 output.
INPUTS, OUTPUTS = 3 * 150 * 100, 200 * 150 * 100

#: Cases worked by hand: (function, positional arguments, keyword arguments, answer, why).
BY_HAND = [
    # 255x255 RGB, 30 filters 7x7, stride (3, 4), padding 2: (255 + 4 - 7) // 3 + 1 = 85
    # rows and (255 + 4 - 7) // 4 + 1 = 64 columns (the course writes it HWC: 85x64x30).
    (conv2d_output_shape, ((3, 255, 255), 30, 7), {"stride": (3, 4), "padding": 2},
     (30, 85, 64), "the course example"),
    (conv2d_num_params, (3, 200, 5), {}, 15_200, "200 * 3 * 5 * 5 weights + 200 biases"),
    (conv2d_macs, ((3, 150, 100), 200, 5), {"padding": "same"}, 225_000_000,
     "150 * 100 * 200 outputs, 3 * 5 * 5 multiply-adds each"),
    (conv_output_size, (7, 3), {}, 5, "windows start at 0..4"),
    (conv_output_size, (7, 3), {"stride": 2}, 3, "windows start at 0, 2, 4"),
    (conv_output_size, (8, 3), {"stride": 2}, 3, "0, 2, 4; pixel 7 is left over"),
    (conv_output_size, (6, 3), {"stride": 2}, 2, "0, 2; (6 - 3) / 2 = 1.5 rounds down"),
    (conv_output_size, (10, 3), {"stride": 4}, 2, "0, 4; (10 - 3) / 4 = 1.75 rounds down"),
    (conv_output_size, (7, 3), {"padding": 1}, 7, "padding (k - 1) // 2 keeps the size"),
    (conv_output_size, (7, 2), {"padding": (0, 1)}, 7, "an even kernel, padded after only"),
    (conv_output_size, (7, 3), {"dilation": 2}, 3, "taps 2 apart span 5 pixels"),
    (conv_output_size, (7, 4), {"stride": 2, "padding": "same"}, 4, "ceil(7 / 2)"),
    (conv_output_size, (7, 4), {"padding": "valid"}, 4, "no padding"),
    (conv_output_size, (8, 3), {"stride": 2, "padding": 1}, 4, "8 -> 4, undone below"),
    (pool_output_size, (6, 2), {}, 3, "stride defaults to kernel_size"),
    (pool_output_size, (7, 2), {}, 3, "the last pixel is dropped ..."),
    (pool_output_size, (7, 2), {"ceil_mode": True}, 4, "... unless ceil_mode keeps it"),
    # Size 5, padding 1 (7 padded pixels), windows of 2 every 2 pixels: ceil_mode would add
    # a window starting at 6, in the right padding only, so it is dropped.
    (pool_output_size, (5, 2), {"stride": 2, "padding": 1, "ceil_mode": True}, 3,
     "no window starts in the right padding"),
    (conv_transpose_output_size, (4, 3), {"stride": 2, "padding": 1}, 7,
     "(4 - 1) * 2 - 2 + 3"),
    (conv_transpose_output_size, (4, 3), {"stride": 2, "padding": 1, "output_padding": 1}, 8,
     "4 -> 8 undoes 8 -> 4"),
    (conv2d_output_shape, ((8, 3, 32, 32), 16, 3), {"padding": 1}, (8, 16, 32, 32),
     "a batch keeps N"),
    (conv2d_output_shape, ((3, 32, 32), 16, (3, 5)), {"padding": ((1, 1), (2, 2))},
     (16, 32, 32), "(top, bottom), (left, right) padding"),
    (dense_equivalent_num_params, ((3, 150, 100), (200, 150, 100)), {},
     INPUTS * OUTPUTS + OUTPUTS, "a dense layer between the course example's shapes"),
]


def call_text(function, args, kwargs) -> str:
    """``conv_output_size(8, 3, stride=2)``: the call as it is written."""
    arguments = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
    return f"{function.__name__}({', '.join(arguments)})"


@pytest.mark.parametrize("function, args, kwargs, expected, why", BY_HAND,
                         ids=[call_text(*case[:3]) for case in BY_HAND])
def test_by_hand(function, args, kwargs, expected, why):
    got = function(*args, **kwargs)
    call = call_text(function, args, kwargs)
    assert not isinstance(got, float), f"{call}: expected an int, got the float {got!r} (use //)"
    assert got == expected, f"{call}: expected {expected!r} ({why}), got {got!r}"


def test_window_larger_than_input_names_kernel_size():
    with pytest.raises(ValueError, match="kernel_size"):
        conv_output_size(4, 7)
