"""Hidden tests of a05's ``resnet50``: torchvision's structure and parameter count (written by
``cases.factory_tests``, as for the other two factories)."""

from autograder.suites.a05_resnet.cases import factory_tests

test_torchvision_state_dict, test_parameter_count, test_num_classes = factory_tests("resnet50")
