"""Written by ``cnnlab release`` from the course manifest (do not edit): after the
visible checks, what the grader checks in a06_finetuning."""

#: function -> (its points, its hidden tests)
HIDDEN_TESTS = {
    'replace_head': (3, 4),
    'freeze_backbone': (4, 4),
    'unfreeze': (2, 2),
    'make_optimizer': (4, 6),
    'train_one_epoch': (4, 3),
    'evaluate': (3, 2),
    'fine_tune': (5, 3),
    'fc_to_conv': (5, 4),
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
