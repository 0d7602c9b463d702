"""The a02_convolution hidden suite, judged by the submissions it grades.

The reference and a correct plain-loops submission earn full marks, the released stubs earn
nothing, and each buggy submission (a mutant of the reference) loses points on exactly the
functions its bug breaks; for ``conv2d_backward``, on exactly the gradients (dx, dw, db) it
gets wrong. Every submission is graded in one run of the grader.
"""

from __future__ import annotations

import pytest
from support import (
    Mutant,
    assert_loses_exactly,
    failures,
    function_of,
    standard_grading_tests,
)

pytestmark = pytest.mark.slow

ASSIGNMENT = "a02_convolution"

FORWARD, BACKWARD, TRANSPOSE = "conv2d_forward", "conv2d_backward", "conv_transpose2d_forward"
FORWARD_START = ("    geometry = _conv2d_geometry(x.shape, w.shape, stride, padding, dilation, "
                 "groups)\n    n, filters, (oh, ow) = x.shape[0], w.shape[0], geometry.out\n"
                 "    w_rows")

#: Single-edit bugs and correct variants of the reference, by student id.
MUTANTS = {
    "depthwise_fast_path_forgets_padding": Mutant(
        {FORWARD_START: "    if groups == x.shape[1] > 1 and w.shape[1] == 1:\n"
                        "        padding = 0\n" + FORWARD_START},
        {FORWARD}, diagnosis="padding ignored"),
    "one_by_one_fast_path_forgets_stride": Mutant(
        {FORWARD_START: "    if w.shape[2:] == (1, 1):\n        stride = 1\n" + FORWARD_START},
        {FORWARD}, diagnosis="stride ignored"),
    "depthwise_dx_cropped_on_the_wrong_side": Mutant(
        {"return dx_padded[:, :, ph:ph + h, pw:pw + w_size]":
         "if geometry.groups > 1 and w.shape[1] == 1:\n"
         "        return dx_padded[:, :, 2 * ph:2 * ph + h, 2 * pw:2 * pw + w_size]\n"
         "    return dx_padded[:, :, ph:ph + h, pw:pw + w_size]"},
        {BACKWARD}, diagnosis="dx padding not cropped"),
    "float32_result_for_float64_inputs": Mutant(
        {"        out += b.reshape(1, filters, 1, 1)\n    return out\n":
         "        out += b.reshape(1, filters, 1, 1)\n    return out.astype(np.float32)\n"},
        {FORWARD}, diagnosis="float32 for float64 inputs"),
    "float32_gradients_for_float64_inputs": Mutant(
        {"    return dx, dw.reshape": "    return dx.astype(np.float32), dw.reshape"},
        {BACKWARD}, diagnosis="float32 for float64 inputs"),
    "flipped_kernel": Mutant(
        {"w_rows = w.reshape(geometry.groups,": "w_rows = w[:, :, ::-1, ::-1].reshape("
                                               "geometry.groups,"},
        {FORWARD}, diagnosis="kernel flipped"),
    "one_sided_padding": Mutant(
        {"(ph, ph), (pw, pw)": "(0, 2 * ph), (0, 2 * pw)"},
        {FORWARD, BACKWARD}, diagnosis="padding on one side"),
    "dx_cropped_on_one_side": Mutant(
        {"return dx_padded[:, :, ph:ph + h, pw:pw + w_size]":
         "return dx_padded[:, :, :h, :w_size]"},
        {BACKWARD, TRANSPOSE}, diagnosis="dx padding not cropped"),
    "stride_ignored_in_backward_dx": Mutant(
        {"dx = _conv2d_input_grad(dout, w, x.shape, geometry)":
         "dx = _conv2d_input_grad(dout, w, x.shape, geometry._replace(stride=(1, 1)))"},
        {BACKWARD}, diagnosis="stride ignored"),
    "stride_ignored_in_col2im": Mutant(
        {"rows = slice(i * dh, i * dh + (oh - 1) * sh + 1, sh)":
         "rows = slice(i * dh, i * dh + oh)"},
        {BACKWARD, TRANSPOSE}),
    "db_over_wrong_axes": Mutant(
        {"db = dout.sum(axis=(0, 2, 3))": "db = dout.sum(axis=(1, 2, 3))"},
        {BACKWARD}, diagnosis="db wrong axes"),
    "dw_from_first_image_only": Mutant(
        {"for partial in _for_each_chunk(chunk_weight_grad, _image_chunks(n, geometry)):":
         "for partial in _for_each_chunk(chunk_weight_grad, [slice(0, 1)]):"},
        {BACKWARD}, diagnosis="dw not summed over the batch"),
    "overlapping_windows_overwrite_dx": Mutant(
        {"by_channel[:, :, rows, columns] += dcols": "by_channel[:, :, rows, columns] = dcols"},
        {BACKWARD, TRANSPOSE}),
    "dilation_ignored_in_windows": Mutant(
        {"step_h * dh, step_w * dw,": "step_h, step_w,"},
        {FORWARD, BACKWARD}, diagnosis="dilation ignored"),
    "groups_all_see_the_first_group": Mutant(
        {"return windows.reshape(groups, c // groups * kh * kw, n * oh * ow)":
         "return windows[:c // groups].reshape(1, c // groups * kh * kw, n * oh * ow)"},
        {FORWARD, BACKWARD}),
    "bias_ignored_in_forward": Mutant(
        {"out += b.reshape(1, filters, 1, 1)": "out += 0"},
        {FORWARD}, diagnosis="bias forgotten"),
    "torch_in_forward": Mutant(
        {FORWARD_START: "    import torch\n    return torch.nn.functional.conv2d(x, w, b)\n"
                        + FORWARD_START},
        {FORWARD}),
    "torch_imported_at_top_used_in_forward": Mutant(
        {"import numpy as np\n": "import numpy as np\nimport torch\n",
         FORWARD_START: "    return torch.nn.functional.conv2d(x, w, b)\n" + FORWARD_START},
        {FORWARD}),
    "output_padding_ignored": Mutant(
        {"- 2 * p + k + op for": "- 2 * p + k for"},
        {TRANSPOSE}, diagnosis="output_padding ignored"),
    "transpose_with_flipped_kernel": Mutant(
        {"out = _conv2d_input_grad(x, w, out_shape, geometry)":
         "out = _conv2d_input_grad(x, w[:, :, ::-1, ::-1], out_shape, geometry)"},
        {TRANSPOSE}, diagnosis="kernel flipped"),
    # The transposed convolution still refuses stride 0 (output_padding >= stride).
    "stride_zero_accepted": Mutant(
        {'stride = _pair(stride, "stride", 1)': 'stride = _pair(stride, "stride", 0)'},
        {FORWARD, BACKWARD}),
    "float32_computed_in_float64": Mutant(  # not wrong: the contract fixes values, not dtypes
        {FORWARD_START: "    x, w = x.astype(np.float64), w.astype(np.float64)\n"
                        + FORWARD_START}),
    "messages_in_words": Mutant({  # correct: each ValueError names its argument in words
        'raise ValueError(f"{name} must be at least':
        'raise ValueError(f"{name.replace(\'_\', \' \').capitalize()} must be at least',
        'ValueError(f"the kernel of w, dilated to': 'ValueError(f"w, dilated to',
        'ValueError(f"output_padding {': 'ValueError(f"Output padding {'}),
}

#: The conv2d_backward tests that a mutant fails: "dx", "dw", "db" or "invalid" (none where
#: not listed).
LOST_GRADIENTS = {
    "depthwise_dx_cropped_on_the_wrong_side": {"dx"},
    "float32_gradients_for_float64_inputs": {"dx"},
    "one_sided_padding": {"dw"},
    "dx_cropped_on_one_side": {"dx"},
    "stride_ignored_in_backward_dx": {"dx"},
    "stride_ignored_in_col2im": {"dx"},
    "db_over_wrong_axes": {"db"},
    "dw_from_first_image_only": {"dw"},
    "overlapping_windows_overwrite_dx": {"dx"},
    "dilation_ignored_in_windows": {"dw"},
    "groups_all_see_the_first_group": {"dw"},
    "stride_zero_accepted": {"invalid"},
}


def lost_backward_tests(results: dict) -> set[str]:
    """What the conv2d_backward tests that failed check: ``"dx"``, ``"invalid"``, ..."""
    return {test["name"].split(": ", 1)[1].split()[0] for test in results["tests"]
            if function_of(test) == BACKWARD and test["extra_data"]["outcome"] != "passed"}


results, test_reference_earns_full_marks, \
    test_a_submission_in_another_style_earns_full_marks, \
    test_released_stubs_earn_nothing = standard_grading_tests(ASSIGNMENT, MUTANTS, jobs=4)


def test_plain_loops_submission_is_graded_in_time(results):
    assert results["plain_loops"]["execution_time"] < 60


@pytest.mark.parametrize("student", MUTANTS)
def test_mutant_loses_points_only_where_it_is_wrong(results, student):
    assert_loses_exactly(results[student], MUTANTS[student])
    if BACKWARD in MUTANTS[student].loses or "packed" not in results[student]:
        # (a mutant that shares its submission sees its packmates' gradients fail)
        assert lost_backward_tests(results[student]) == LOST_GRADIENTS.get(student, set()), \
            failures(results[student])


@pytest.mark.parametrize("student", ["torch_in_forward",
                                     "torch_imported_at_top_used_in_forward"])
def test_torch_earns_nothing_and_feedback_says_why(results, student):
    lost = [t for t in results[student]["tests"] if t["score"] < t["max_score"]]
    assert lost and all(function_of(t) == FORWARD for t in lost)
    assert all(t["score"] == 0 and "allows numpy only" in t["output"] for t in lost), \
        failures(results[student])
    assert sum(t["max_score"] for t in lost) == sum(
        t["max_score"] for t in results[student]["tests"] if function_of(t) == FORWARD)
