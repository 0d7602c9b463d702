"""Written by ``cnnlab release`` from the course manifest (do not edit): after the
visible checks, what the grader checks in a04_receptive_field."""

#: function -> (its points, its hidden tests)
HIDDEN_TESTS = {
    'receptive_field': (8, 14),
    'layers_from_model': (4, 5),
    'empirical_receptive_field': (8, 6),
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
