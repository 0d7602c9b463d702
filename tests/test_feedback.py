"""The feedback of one submission: mistakes recognised, failures folded, Markdown, maps,
and the fingerprints that find submissions alike."""

from __future__ import annotations

import os

import numpy as np
import pytest

from autograder import results as model
from autograder.compare import Mismatch
from autograder.diagnose import FLOAT32_RESULT, Mistake, diagnosed, mistakes_of, recognise
from autograder.feedback import function_feedback, summary_markdown
from autograder.harness import Case
from autograder.similarity import fingerprint, read_source
from autograder.suites.a02_convolution.cases import torch_conv2d

EXACT = {"rtol": 1e-9, "atol": 1e-10}


def conv_case(rng, **options) -> Case:
    return Case({"x": rng.standard_normal((2, 3, 7, 7)), "w": rng.standard_normal((4, 3, 3, 3)),
                 "b": rng.standard_normal(4)}, options)


def test_a_flipped_kernel_is_recognised_and_a_random_answer_is_not():
    rng = np.random.default_rng(0)
    case = conv_case(rng, padding=1)
    expected = torch_conv2d(case)
    flipped = torch_conv2d(Case(case.inputs | {"w": case.inputs["w"][..., ::-1, ::-1].copy()},
                                case.options))
    mistakes = mistakes_of("a02_convolution", "conv2d_forward")
    assert recognise(flipped, expected, case, mistakes, EXACT).key == "kernel flipped"
    assert recognise(rng.standard_normal(expected.shape), expected, case, mistakes,
                     EXACT) is None


def test_an_answer_in_float32_is_recognised_whatever_the_function():
    expected = np.random.default_rng(1).standard_normal((3, 4))
    case = Case({"x": expected})
    assert recognise(expected.astype(np.float32), expected, case, (), EXACT) is FLOAT32_RESULT
    assert recognise(expected.astype(np.float32) + 1, expected, case, (), EXACT) is None


def test_a_mistake_that_cannot_answer_a_case_is_passed_over():
    def refuses(case):
        raise ValueError("no answer")

    mistakes = (Mistake("refuses", "", "", refuses), Mistake("zero", "", "",
                                                              lambda case: np.zeros(2)))
    found = recognise(np.zeros(2), np.ones(2), Case({"x": np.ones(2)}), mistakes, EXACT)
    assert found.key == "zero"


def test_an_assignment_without_a_mistakes_module_has_none():
    assert mistakes_of("a02_convolution", "no_such_function") == ()


def stub_tests(function: str, count: int) -> dict:
    return {f"{function}-{i}": model.TestResult(
        function, f"case {i}", "cases", 1.0, "not implemented",
        f"{function} is not implemented yet (it raises NotImplementedError) (seed 5)")
        for i in range(count)}


def test_a_stubs_repeated_failures_fold_into_one_line_per_function():
    result = model.SubmissionResult("a03_pooling", seed=5, isolation="namespaces")
    result.tests = stub_tests("max_pool2d_forward", 12) | stub_tests("global_avg_pool2d", 3)
    results = result.to_gradescope()
    [forward, average] = function_feedback(results)
    assert forward.function == "max_pool2d_forward"  # the manifest's order, not the tests'
    assert [(f.count, f.outcome) for f in forward.failures] == [(12, "not implemented")]
    assert (average.passed, average.total) == (0, 3)
    markdown = results["output"]
    assert results["output_format"] == "md"
    assert markdown.count("not implemented yet") == 2
    assert "12 checks: max\\_pool2d\\_forward is not implemented yet" in markdown
    assert "0 of 12 hidden checks passed" in markdown
    assert "seed 5" in markdown


def test_a_diagnosed_failure_names_its_mistake_once_per_function_and_keeps_its_map():
    mistake = Mistake("kernel flipped", "the kernel is turned round", "look at w[0, 0]")
    result = model.SubmissionResult("a02_convolution", seed=3, isolation="namespaces")
    for index in range(4):
        error = diagnosed(f"conv2d_forward(case {index}): values differ", mistake)
        result.tests[str(index)] = model.TestResult(
            "conv2d_forward", f"case {index}", "cases", 1.0, "wrong", str(error),
            diagnosis=mistake.key, maps=model.difference_map(np.ones((2, 2)),
                                                             np.zeros((2, 2))))
    results = result.to_gradescope()
    assert {t["extra_data"]["diagnosis"] for t in results["tests"]} == {"kernel flipped"}
    [feedback] = function_feedback(results)
    assert feedback.mistakes == {"Likely mistake: the kernel is turned round. Hint: look at "
                                 "w[0, 0].": 4}
    assert summary_markdown(results).count("the kernel is turned round") == 1
    assert "1 more check failed" in summary_markdown(results)
    assert isinstance(error, Mismatch) and error.mistake is mistake


def test_a_summary_never_shows_a_hidden_tests_source():
    result = model.SubmissionResult("a01_output_size", seed=1, isolation="namespaces")
    result.tests["t"] = model.TestResult("conv_output_size", "stride 2", "cases", 1.0,
                                         "wrong", "conv_output_size(8, 3, stride=2): expected "
                                         "3, got 4")
    markdown = result.to_gradescope()["output"]
    assert "def test" not in markdown and "check_cases" not in markdown
    assert "expected 3, got 4" in markdown


def test_a_difference_map_shows_the_slice_with_the_largest_error_cropped():
    expected = np.zeros((2, 3, 40, 40))
    actual = expected.copy()
    actual[1, 2, 30, 5] = 7.0
    actual[0, 0, 0, 0] = np.nan
    maps = model.difference_map(actual, expected)
    assert maps["where"] == "[0, 0, 0:16, 0:16]"  # the NaN is the worst error
    assert maps["got"][0][0] is None
    actual[0, 0, 0, 0] = 0.0
    maps = model.difference_map(actual, expected)
    assert maps["where"] == "[1, 2, 22:38, 0:16]"
    assert maps["got"][8][5] == 7.0
    assert np.shape(maps["expected"]) == (16, 16)
    assert model.difference_map(np.ones(3), np.zeros(3))["where"] == "[0:1, 0:3]"


STUB = '''
def area(width, height):
    """Width times height."""
    raise NotImplementedError("area: your code here")


def perimeter(width, height):
    raise NotImplementedError("perimeter: your code here")
'''


def written(area_body: str) -> str:
    return STUB.replace('raise NotImplementedError("area: your code here")', area_body)


def test_code_alike_up_to_names_comments_and_strings_has_one_fingerprint():
    first = written("result = width * height  # rows times columns\n    return result")
    renamed = written("# the area\n    a = width * height\n\n    return a")
    assert fingerprint(first, STUB) == fingerprint(renamed, STUB) is not None
    helper = "\n\ndef _product(a, b):\n    return a * b\n"
    assert fingerprint(first + helper, STUB) == fingerprint(
        renamed + helper.replace("_product", "_times"), STUB)
    assert fingerprint(written("return width * height + 0"), STUB) != fingerprint(first, STUB)


def test_released_stubs_and_unreadable_code_have_no_fingerprint(tmp_path):
    assert fingerprint(STUB, STUB) is None
    assert fingerprint("def broken(:\n", STUB) is None
    assert fingerprint(None, STUB) is None


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_module_that_is_a_pipe_or_a_link_is_not_read(tmp_path):
    os.mkfifo(tmp_path / "pipe.py")
    assert read_source(tmp_path / "pipe.py") is None  # and does not hang
    (tmp_path / "real.py").write_text("x = 1\n")
    (tmp_path / "link.py").symlink_to(tmp_path / "real.py")
    assert read_source(tmp_path / "link.py") is None
    assert read_source(tmp_path / "real.py") == "x = 1\n"
