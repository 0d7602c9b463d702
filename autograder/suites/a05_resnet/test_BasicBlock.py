"""Hidden tests of a05's ``BasicBlock``: its structure and shortcut, then its outputs against
the reference's with the same weights, for every combination of stride and channels
(written by ``cases.block_tests``, as for ``Bottleneck``): the stride on conv1, as in
torchvision."""

import pytest

from autograder.suites.a05_resnet.cases import block_tests, stride_on

#: (in_channels, out_channels, stride)
BLOCKS = [
    pytest.param((8, 8, 1), id="same channels, stride 1: identity shortcut"),
    pytest.param((8, 16, 1), id="channels change: 1x1 shortcut"),
    pytest.param((8, 8, 2), id="stride 2: 1x1 shortcut with stride 2"),
    pytest.param((8, 16, 2), id="stride 2 and channels change"),
]

test_structure, test_outputs, test_gradients_reach_the_input = block_tests(
    "BasicBlock", BLOCKS, expansion=1, gradient_args=(8, 16, 2),
    check_layout=stride_on("conv1", "the first 3x3"))
