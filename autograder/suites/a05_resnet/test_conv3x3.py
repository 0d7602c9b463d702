"""Hidden tests of a05's ``conv3x3``: an ``nn.Conv2d`` with the contract's settings
(written by ``cases.conv_tests``, as for the other convolution)."""

from autograder.suites.a05_resnet.cases import conv_tests

test_layer_settings = conv_tests("conv3x3")
