"""Dave's a01: one function loops forever, and the folder tries to cheat the grader."""

import numpy as np


def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    return (size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1


def pool_output_size(size, kernel_size, stride=None, padding=0, ceil_mode=False):
    while True:  # an endless loop: the grader must stop it and go on
        pass


def conv2d_num_params(in_channels, out_channels, kernel_size, bias=True, groups=1):
    np.testing.assert_allclose(0, 1)  # "patched" below, so he hopes nothing fails
    return 0
