"""Written by ``cnnlab release`` from the course manifest (do not edit): after the
visible checks, what the grader checks in a01_output_size."""

#: function -> (its points, its hidden tests)
HIDDEN_TESTS = {
    'conv_output_size': (2, 12),
    'pool_output_size': (1.5, 7),
    'conv_transpose_output_size': (1.5, 7),
    'conv2d_output_shape': (1.5, 12),
    'conv2d_num_params': (1, 5),
    'dense_equivalent_num_params': (1, 3),
    'conv2d_macs': (1.5, 7),
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
