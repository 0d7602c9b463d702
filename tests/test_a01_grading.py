"""The grader on a01, judged by what it does to submissions of every kind.

The reference earns full marks and the released stubs nothing; realistic bugs lose the
tests of their case family only; hostile submissions (a fake numpy, a conftest.py, a
forged results.json, sys.exit or an endless loop at import, reading the reference) gain
nothing and cost the grader bounded time. Every submission is graded in one run.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from support import (
    Mutant,
    assert_full_marks,
    assert_loses_exactly,
    assert_stubs_earn_nothing,
    copy_release,
    diagnoses,
    failed_tests,
    function_of,
    grade_mutants,
    lost_points,
    lost_tests,
    make_submission,
)

from cnnlab.course import REPO_ROOT, get_assignment

pytestmark = pytest.mark.slow

ASSIGNMENT = "a01_output_size"
LIMITS = get_assignment(ASSIGNMENT).limits
SHAPE_FUNCTIONS = {"conv_output_size", "conv2d_output_shape", "conv2d_macs"}

ROUNDS_INSTEAD_OF_FLOORING = '''
_exact_conv_output_size = conv_output_size


def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    """A classic bug: the windows that fit at stride 1, divided with / and round()."""
    _exact_conv_output_size(size, kernel_size, stride, padding, dilation)  # for its checks
    windows = _exact_conv_output_size(size, kernel_size, 1, padding, dilation)
    return int(round((windows - 1) / stride)) + 1
'''
IGNORES_DILATION = '''
_exact_conv_output_size = conv_output_size


def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    return _exact_conv_output_size(size, kernel_size, stride, padding)
'''
FAKE_NUMPY = '''
"""A numpy that finds everything equal, in the hope that the grader uses it."""
def allclose(*args, **kwargs):
    return True
def array_equal(*args, **kwargs):
    return True
'''
CHEATING_CONFTEST = '''
import pytest

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    outcome.get_result().outcome = "passed"
'''
READS_THE_REFERENCE = f'''
try:
    exec(open({str(REPO_ROOT / "solutions" / ASSIGNMENT / "output_size.py")!r}).read())
except OSError as error:
    print("could not read the reference:", error)
'''
KILLS_THE_GRADER = '''
import os, signal
os.kill(os.getppid(), signal.SIGKILL)
'''
FORGED_RESULTS = json.dumps({"score": 10, "max_score": 10, "tests": []})

#: Lines of the reference that mutants change.
CONV_RETURN = "return (padded - window) // stride + 1"
POOL_RETURN = "return (padded - kernel_size) // stride + 1"
TRANSPOSE_SIZE = ("out = (size - 1) * stride - 2 * padding + dilation * (kernel_size - 1) "
                  "+ output_padding + 1")
SHAPE_RETURN = "return (*batch, out_channels, out_h, out_w)"
PARAMS_WEIGHTS = "weights = out_channels * (in_channels // groups) * kernel_h * kernel_w"
PARAMS_RETURN = "return weights + (out_channels if bias else 0)"
DENSE_RETURN = "return inputs * outputs + (outputs if bias else 0)"
MACS_RETURN = "return out_h * out_w * weights"

#: Single-edit bugs of the reference (those the suite once missed, and one for each mistake
#: it recognises, named by its ``diagnosis``), and correct variants, by student id.
MUTANTS = {
    "output_padding_dropped_at_stride_1": Mutant(
        {"+ dilation * (kernel_size - 1) + output_padding + 1":
         "+ dilation * (kernel_size - 1) + (output_padding if stride > 1 else 0) + 1"},
        {"conv_transpose_output_size"}, diagnosis="output_padding ignored"),
    "output_padding_checked_against_stride_only": Mutant(
        {"if output_padding >= max(stride, dilation):": "if output_padding >= stride:"},
        {"conv_transpose_output_size"}),
    "stride_zero_taken_for_one": Mutant(
        {"    stride = _check_int(stride, \"stride\")\n    dilation":
         "    stride = _check_int(stride or 1, \"stride\")\n    dilation"},
        {"conv_output_size"}),
    # conv_output_size, and so conv2d_output_shape and conv2d_macs, which use it
    "rounds_up": Mutant(
        {CONV_RETURN: "return math.ceil((padded - window) / stride) + 1"},
        SHAPE_FUNCTIONS, diagnosis="rounded instead of floored"),
    "plus_one_forgotten": Mutant(
        {CONV_RETURN: "return (padded - window) // stride"},
        SHAPE_FUNCTIONS, diagnosis="off by one"),
    "padding_counted_once": Mutant(
        {"padded = size + before + after\n    if window > padded:":
         "padded = size + before\n    if window > padded:"},
        SHAPE_FUNCTIONS, diagnosis="padding counted once"),
    "dilated_window_too_wide": Mutant(
        {"    window = dilation * (kernel_size - 1) + 1\n    padded":
         "    window = dilation * kernel_size\n    padded"},
        SHAPE_FUNCTIONS, diagnosis="dilated window too wide"),
    "stride_ignored": Mutant(
        {CONV_RETURN: "return padded - window + 1"},
        SHAPE_FUNCTIONS, diagnosis="stride ignored"),
    "same_ignores_stride": Mutant(
        {"return (size + stride - 1) // stride  #": "return size  #"},
        SHAPE_FUNCTIONS, diagnosis="'same' ignores the stride"),
    "same_padded_evenly": Mutant(
        {"        return (size + stride - 1) // stride  # ceil(size / stride) in integers\n":
         "        padding = dilation * (kernel_size - 1) // 2\n"},
        SHAPE_FUNCTIONS, diagnosis="'same' padded evenly"),
    # pool_output_size
    "pool_stride_defaults_to_one": Mutant(
        {"stride = kernel_size if stride is None else": "stride = 1 if stride is None else"},
        {"pool_output_size"}, diagnosis="stride defaults to 1"),
    "pool_ceil_mode_ignored": Mutant(
        {f"    if not ceil_mode:\n        {POOL_RETURN}\n": f"    {POOL_RETURN}\n"},
        {"pool_output_size"}, diagnosis="ceil_mode ignored"),
    "pool_ceil_mode_keeps_a_window_in_the_padding": Mutant(
        {"    if (out - 1) * stride >= size + before:  # the last window would start in the "
         "right padding\n        out -= 1\n": ""},
        {"pool_output_size"}, diagnosis="ceil_mode keeps a window in the padding"),
    "pool_rounds_up": Mutant(
        {POOL_RETURN: "return -(-(padded - kernel_size) // stride) + 1"},
        {"pool_output_size"}, diagnosis="rounded instead of floored"),
    "pool_plus_one_forgotten": Mutant(
        {POOL_RETURN: "return (padded - kernel_size) // stride"},
        {"pool_output_size"}, diagnosis="off by one"),
    "pool_padding_counted_once": Mutant(
        {"padded = size + before + after\n    if kernel_size > padded:":
         "padded = size + before\n    if kernel_size > padded:"},
        {"pool_output_size"}, diagnosis="padding counted once"),
    # conv_transpose_output_size
    "transpose_by_the_convolution_formula": Mutant(
        {TRANSPOSE_SIZE: "out = (size + 2 * padding - dilation * (kernel_size - 1) - 1) "
                         "// stride + 1"},
        {"conv_transpose_output_size"}, diagnosis="convolution's formula"),
    "transpose_padding_added": Mutant(
        {"- 2 * padding +": "+ 2 * padding +"},
        {"conv_transpose_output_size"}, diagnosis="padding added"),
    "transpose_padding_cropped_once": Mutant(
        {"- 2 * padding +": "- padding +"},
        {"conv_transpose_output_size"}, diagnosis="padding counted once"),
    "transpose_dilation_ignored": Mutant(
        {"+ dilation * (kernel_size - 1) + output_padding + 1":
         "+ (kernel_size - 1) + output_padding + 1"},
        {"conv_transpose_output_size"}, diagnosis="dilation ignored"),
    "transpose_stride_ignored": Mutant(
        {"(size - 1) * stride - 2 * padding": "(size - 1) - 2 * padding"},
        {"conv_transpose_output_size"}, diagnosis="stride ignored"),
    "transpose_plus_one_forgotten": Mutant(
        {"+ output_padding + 1\n": "+ output_padding\n"},
        {"conv_transpose_output_size"}, diagnosis="off by one"),
    # conv2d_output_shape
    "batch_dropped": Mutant(
        {SHAPE_RETURN: "return (out_channels, out_h, out_w)"},
        {"conv2d_output_shape"}, diagnosis="batch dropped"),
    "in_channels_kept": Mutant(
        {SHAPE_RETURN: "return (*batch, input_shape[-3], out_h, out_w)"},
        {"conv2d_output_shape"}, diagnosis="in_channels kept"),
    "kernel_read_as_width_height": Mutant(
        {'kernel_h, kernel_w = _pair(kernel_size, "kernel_size")\n    stride_h':
         'kernel_w, kernel_h = _pair(kernel_size, "kernel_size")\n    stride_h'},
        {"conv2d_output_shape", "conv2d_macs"}, diagnosis="height and width swapped"),
    # conv2d_num_params (conv2d_macs counts the weights with it)
    "bias_forgotten": Mutant(
        {PARAMS_RETURN: "return weights"},
        {"conv2d_num_params"}, diagnosis="bias forgotten"),
    "bias_false_ignored": Mutant(
        {PARAMS_RETURN: "return weights + out_channels"},
        {"conv2d_num_params", "conv2d_macs"}, diagnosis="bias=False ignored"),
    "groups_ignored": Mutant(
        {PARAMS_WEIGHTS: "weights = out_channels * in_channels * kernel_h * kernel_w"},
        {"conv2d_num_params", "conv2d_macs"}, diagnosis="groups ignored"),
    "one_group_counted": Mutant(
        {PARAMS_WEIGHTS: "weights = (out_channels // groups) * (in_channels // groups) "
                         "* kernel_h * kernel_w"},
        {"conv2d_num_params", "conv2d_macs"}, diagnosis="one group counted"),
    "kernel_taken_as_square": Mutant(
        {PARAMS_WEIGHTS: "weights = out_channels * (in_channels // groups) * kernel_h "
                         "* kernel_h"},
        {"conv2d_num_params", "conv2d_macs"}, diagnosis="kernel taken as square"),
    # dense_equivalent_num_params
    "dense_bias_forgotten": Mutant(
        {DENSE_RETURN: "return inputs * outputs"},
        {"dense_equivalent_num_params"}, diagnosis="bias forgotten"),
    "dense_bias_false_ignored": Mutant(
        {DENSE_RETURN: "return inputs * outputs + outputs"},
        {"dense_equivalent_num_params"}, diagnosis="bias=False ignored"),
    "dense_bias_per_input": Mutant(
        {DENSE_RETURN: "return inputs * outputs + (inputs if bias else 0)"},
        {"dense_equivalent_num_params"}, diagnosis="a bias per input"),
    # conv2d_macs
    "macs_groups_ignored": Mutant(
        {"bias=False, groups=groups)": "bias=False)"},
        {"conv2d_macs"}, diagnosis="groups ignored"),
    "macs_bias_counted": Mutant(
        {"bias=False, groups=groups)": "bias=True, groups=groups)"},
        {"conv2d_macs"}, diagnosis="bias counted"),
    "macs_input_positions": Mutant(
        {MACS_RETURN: "return input_shape[1] * input_shape[2] * weights"},
        {"conv2d_macs"}, diagnosis="input positions"),
    "macs_counts_flops": Mutant(
        {MACS_RETURN: "return 2 * out_h * out_w * weights"},
        {"conv2d_macs"}, diagnosis="FLOPs counted"),
    "messages_in_words": Mutant({  # correct: each ValueError names its argument in words
        'raise ValueError(f"{name} must be {wanted}':
        'raise ValueError(f"{name.replace(\'_\', \' \').title()} must be {wanted}',
        'ValueError(f"kernel_size {': 'ValueError(f"Kernel size {',
        'ValueError(f"output_padding {': 'ValueError(f"Output padding {'}),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory, request) -> tuple[dict[str, dict], float, Path]:
    """Results by student id from one grading run, that run's wall time (s) and its
    output folder."""
    os.environ["CNNLAB_SEED"] = "20261123"  # the same cases for every submission
    request.addfinalizer(lambda: os.environ.pop("CNNLAB_SEED"))
    root = tmp_path_factory.mktemp("submitted")
    stub = get_assignment(ASSIGNMENT).release_dir / "output_size.py"
    make_submission(root, "reference", ASSIGNMENT)
    copy_release(root, "stubs", ASSIGNMENT)
    make_submission(root, "rounds", ASSIGNMENT, append=ROUNDS_INSTEAD_OF_FLOORING)
    make_submission(root, "no_dilation", ASSIGNMENT, append=IGNORES_DILATION)
    make_submission(root, "fake_numpy_and_conftest", ASSIGNMENT,
                    append=ROUNDS_INSTEAD_OF_FLOORING,
                    files={"numpy.py": FAKE_NUMPY, "conftest.py": CHEATING_CONFTEST})
    make_submission(root, "forged_results", ASSIGNMENT, source=stub,
                    files={"results.json": FORGED_RESULTS})
    make_submission(root, "reads_reference", ASSIGNMENT, source=stub,
                    append=READS_THE_REFERENCE)
    make_submission(root, "exits_at_import", ASSIGNMENT, append="import sys\nsys.exit(0)")
    make_submission(root, "loops_at_import", ASSIGNMENT, append="while True:\n    pass")
    make_submission(root, "kills_grader", ASSIGNMENT, append=KILLS_THE_GRADER)
    out = tmp_path_factory.mktemp("graded")
    started = time.monotonic()
    return grade_mutants(root, out, ASSIGNMENT, MUTANTS), time.monotonic() - started, out


def test_reference_earns_full_marks(graded):
    assert_full_marks(graded[0]["reference"])


def test_released_stubs_earn_nothing(graded):
    assert_stubs_earn_nothing(graded[0]["stubs"], {function_of(t) for t in graded[0][
        "reference"]["tests"]})


@pytest.mark.parametrize("student", MUTANTS)
def test_mutant_loses_points_only_in_its_function(graded, student):
    assert_loses_exactly(graded[0][student], MUTANTS[student])


def test_rounding_bug_fails_only_the_tests_where_rounding_matters(graded):
    failed = failed_tests(graded[0]["rounds"])
    assert {name.split(": ")[0] for name in failed} == SHAPE_FUNCTIONS, failed
    assert all(("rounding" in n or "pixels over" in n or "> 1" in n) and "ValueError" not in n
               for n in failed), failed
    assert "rounded instead of floored" in diagnoses(graded[0]["rounds"])


def test_error_messages_and_examples_count_only_once_the_cases_pass(graded):
    results = graded[0]["rounds"]
    gated = [t for t in results["tests"] if t["extra_data"]["kind"] != "cases"
             and function_of(t) in SHAPE_FUNCTIONS]
    assert gated and all(t["score"] == 0 and "counts once every generated case" in t["output"]
                         for t in gated), gated
    kept = [t for t in results["tests"] if t["extra_data"]["kind"] != "cases"
            and function_of(t) not in SHAPE_FUNCTIONS]
    assert kept and all(t["score"] == t["max_score"] for t in kept)


def test_ignored_dilation_fails_only_dilation_tests(graded):
    failed = failed_tests(graded[0]["no_dilation"])
    assert failed and {name.split(": ")[0] for name in failed} <= SHAPE_FUNCTIONS
    assert all("dilat" in name for name in failed), failed
    assert "dilation ignored" in diagnoses(graded[0]["no_dilation"])


def test_fake_numpy_and_conftest_change_nothing(graded):
    results = graded[0]
    assert lost_tests(results["fake_numpy_and_conftest"]) == lost_tests(results["rounds"])


@pytest.mark.parametrize("student", ["forged_results", "reads_reference"])
def test_forged_files_and_reading_the_reference_gain_nothing(graded, student):
    assert graded[0][student]["score"] == 0


@pytest.mark.parametrize("student, status, says", [
    ("exits_at_import", "import error", "could not be imported: SystemExit"),
    ("loops_at_import", "timeout", f"did not finish within {LIMITS.import_seconds:g} s"),
])
def test_broken_imports_score_zero_with_a_clear_message(graded, student, status, says):
    results = graded[0][student]
    assert results["score"] == 0 and results["status"] == status
    assert all(says in t["output"] for t in results["tests"])
    assert results["execution_time"] < LIMITS.import_seconds * LIMITS.wall_factor + 5


@pytest.mark.skipif(os.geteuid() != 0, reason="the worker has its own user only under root")
def test_the_worker_cannot_kill_the_grader(graded):
    results = graded[0]["kills_grader"]
    assert results["status"] == "import error"
    assert "PermissionError" in results["tests"][0]["output"]


def test_grading_log_shows_where_in_the_test_a_submission_failed(graded):
    """A wrong answer's traceback is the test's own lines and the message, without the
    grader's frames (pytest would read each one's file again for every failure)."""
    log = (graded[2] / "rounds" / ASSIGNMENT / "grading.log").read_text()
    assert "test_against_pytorch" in log and "check_cases(" in log
    assert "expected" in log and "got" in log
    assert "autograder/harness.py" not in log and "autograder/student.py" not in log


def test_a_module_that_cannot_be_imported_runs_no_test(graded):
    log = (graded[2] / "exits_at_import" / ASSIGNMENT / "grading.log").read_text()
    tests = len(graded[0]["exits_at_import"]["tests"])
    assert f"{tests} tests not run, each failing with: output_size.py could not be " \
           "imported: SystemExit" in log
    assert "FAILURES" not in log and " passed" not in log


def test_grading_time_is_bounded(graded):
    results, seconds, _ = graded
    assert seconds < len(results) * 15, f"{len(results)} submissions took {seconds:.0f} s"
    assert lost_points(results["reference"]) == {}
