"""Hidden tests of max_pool2d_forward: against PyTorch, and the arguments it must refuse
(the four pooling functions share their tests: see ``cases.pooling_tests``)."""

from autograder.suites.a03_pooling.cases import pooling_tests

test_matches_pytorch, test_rejects_invalid_arguments = pooling_tests("max_pool2d_forward")
