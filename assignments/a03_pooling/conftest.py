"""Written by ``cnnlab release`` from the course manifest (do not edit): after the
visible checks, what the grader checks in a03_pooling."""

#: function -> (its points, its hidden tests)
HIDDEN_TESTS = {
    'max_pool2d_forward': (4, 17),
    'max_pool2d_backward': (5, 17),
    'avg_pool2d_forward': (4, 16),
    'avg_pool2d_backward': (4, 16),
    'global_avg_pool2d': (3, 6),
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
