"""Hidden tests of a05's ``conv1x1``: an ``nn.Conv2d`` with the contract's settings
(written by ``cases.conv_tests``, as for the other convolution)."""

from autograder.suites.a05_resnet.cases import conv_tests

test_layer_settings = conv_tests("conv1x1")
