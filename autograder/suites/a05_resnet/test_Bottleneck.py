"""Hidden tests of a05's ``Bottleneck``: its structure, where the stride goes, its shortcut,
then its outputs against the reference's with the same weights (written by
``cases.block_tests``, as for ``BasicBlock``)."""

import pytest

from autograder.suites.a05_resnet.cases import block_tests, stride_on

#: (in_channels, width, stride); the output has 4 * width channels.
BLOCKS = [
    pytest.param((32, 8, 1), id="in = 4 * width, stride 1: identity shortcut"),
    pytest.param((16, 8, 1), id="channels change: 1x1 shortcut"),
    pytest.param((32, 8, 2), id="stride 2: 1x1 shortcut with stride 2"),
    pytest.param((16, 4, 2), id="stride 2 and channels change"),
]


test_structure, test_outputs, test_gradients_reach_the_input = block_tests(
    "Bottleneck", BLOCKS, expansion=4, gradient_args=(16, 4, 2),
    check_layout=stride_on("conv2", "the 3x3"))
