"""Written by ``cnnlab release`` from the course manifest (do not edit): after the
visible checks, what the grader checks in a05_resnet."""

#: function -> (its points, its hidden tests)
HIDDEN_TESTS = {
    'conv3x3': (1, 3),
    'conv1x1': (1, 3),
    'BasicBlock': (8, 9),
    'Bottleneck': (8, 9),
    'ResNet': (6, 7),
    'resnet18': (2, 4),
    'resnet34': (2, 4),
    'resnet50': (2, 4),
}


def pytest_terminal_summary(terminalreporter):
    terminalreporter.section("what the grader checks after these")
    terminalreporter.write_line(
        "These checks are a sample. The grader runs its own tests, on fresh inputs, against "
        "PyTorch:")
    for function, (points, tests) in HIDDEN_TESTS.items():
        terminalreporter.write_line(f"  {function:<30} {points:>4g} points over "
                                    f"{tests} hidden tests")
    terminalreporter.write_line(
        "A function's error-message and worked-example tests count once all its generated "
        "cases pass.")
