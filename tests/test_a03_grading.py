"""The a03_pooling hidden suite, judged by the submissions it grades.

The reference and a correct plain-loops submission earn full marks, the released stubs earn
nothing, and each buggy submission (a mutant of the reference) loses points on exactly the
functions its bug breaks. Every submission is graded in one run of the grader.
"""

from __future__ import annotations

import pytest
from support import (
    Mutant,
    assert_loses_exactly,
    standard_grading_tests,
)

pytestmark = pytest.mark.slow

ASSIGNMENT = "a03_pooling"

MAX_FORWARD, MAX_BACKWARD = "max_pool2d_forward", "max_pool2d_backward"
AVG_FORWARD, AVG_BACKWARD = "avg_pool2d_forward", "avg_pool2d_backward"
GLOBAL = "global_avg_pool2d"

DX_CROPPED = "return dx[:, :, ph:ph + h, pw:pw + w]"

#: Single-edit bugs (named by the ``diagnosis`` the suite gives them, where it recognises
#: them) and correct variants of the reference, by student id.
MUTANTS = {
    "max_pads_with_zeros": Mutant(
        {"fill=-np.inf": "fill=0"},
        {MAX_FORWARD, MAX_BACKWARD}, diagnosis="zero padding"),
    "max_gradient_to_every_tie": Mutant(
        {"is_winner = np.arange(kh * kw) == winner[..., np.newaxis]":
         "is_winner = flat == flat.max(axis=-1, keepdims=True)"},
        {MAX_BACKWARD}, diagnosis="gradient to every tie"),
    "max_gradient_to_last_tie": Mutant(
        {"winner = np.argmax(flat, axis=-1)":
         "winner = kh * kw - 1 - np.argmax(flat[..., ::-1], axis=-1)"},
        {MAX_BACKWARD}, diagnosis="gradient to the last tie"),
    "overlapping_windows_overwrite": Mutant(
        {"dx[:, :, rows, columns] += dwindows": "dx[:, :, rows, columns] = dwindows"},
        {MAX_BACKWARD, AVG_BACKWARD}, diagnosis="overlapping windows overwritten"),
    "default_stride_one_everywhere": Mutant(
        {"stride = kernel if stride is None": "stride = (1, 1) if stride is None"},
        {MAX_FORWARD, MAX_BACKWARD, AVG_FORWARD, AVG_BACKWARD},
        diagnosis="stride defaults to 1"),
    "default_stride_one_in_avg_forward": Mutant(
        {"def avg_pool2d_forward(x: np.ndarray, kernel_size, stride=None, padding=0)":
         "def avg_pool2d_forward(x: np.ndarray, kernel_size, stride=1, padding=0)"},
        {AVG_FORWARD}, diagnosis="stride defaults to 1"),
    "avg_divides_by_non_padding_count": Mutant(
        {"return _windows(x, geometry, fill=0).mean(axis=(-2, -1))":
         "return (_windows(x, geometry, fill=0).sum(axis=(-2, -1))\n"
         "            / _windows(np.ones_like(x), geometry, fill=0).sum(axis=(-2, -1)))"},
        {AVG_FORWARD}, diagnosis="divided by the pixels inside the image"),
    "global_pool_over_wrong_axes": Mutant(
        {"return x.mean(axis=(2, 3))": "return x.mean(axis=(1, 2))"},
        {GLOBAL}, diagnosis="wrong axes"),
    "float32_result_for_float64_inputs": Mutant(
        {"return _windows(x, geometry, fill=0).mean(axis=(-2, -1))":
         "return _windows(x, geometry, fill=0).mean(axis=(-2, -1)).astype(np.float32)"},
        {AVG_FORWARD}, diagnosis="float32 for float64 inputs"),
    "global_pool_without_its_rank_check": Mutant(
        {"    if x.ndim != 4:\n        raise ValueError(f\"x must have shape (N, C, H, W), "
         "got shape {x.shape}\")\n    return x.mean(axis=(2, 3))":
         "    return x.mean(axis=(2, 3))"},
        {GLOBAL}),
    "stride_zero_taken_for_the_default": Mutant(
        {"stride = kernel if stride is None else": "stride = kernel if not stride else"},
        {MAX_FORWARD, MAX_BACKWARD, AVG_FORWARD, AVG_BACKWARD}),
    "padding_over_half_the_window_accepted": Mutant(
        {"    if any(p > k // 2 for p, k in zip(padding, kernel, strict=True)):":
         "    if False:"},
        {MAX_FORWARD, MAX_BACKWARD, AVG_FORWARD, AVG_BACKWARD}),
    "torch_in_avg_forward": Mutant(
        {"import numpy as np\n": "import numpy as np\nimport torch\n",
         "return _windows(x, geometry, fill=0).mean(axis=(-2, -1))":
         "return torch.nn.functional.avg_pool2d(torch.from_numpy(x), geometry.kernel,\n"
         "                                          geometry.stride, geometry.padding).numpy()"},
        {AVG_FORWARD}),
    "stride_ignored": Mutant(
        {"return every_position[:, :, ::sh, ::sw]": "return every_position"},
        {MAX_FORWARD, MAX_BACKWARD, AVG_FORWARD}, diagnosis="stride ignored"),
    "padding_ignored": Mutant(
        {"padded = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=fill)":
         "padded = x"},
        {MAX_FORWARD, MAX_BACKWARD, AVG_FORWARD}, diagnosis="padding ignored"),
    "dx_not_cropped": Mutant(
        {DX_CROPPED: "return dx"},
        {MAX_BACKWARD, AVG_BACKWARD}, diagnosis="padding not cropped"),
    "dx_cropped_on_one_side": Mutant(
        {DX_CROPPED: "return dx[:, :, :h, :w]"},
        {MAX_BACKWARD, AVG_BACKWARD}, diagnosis="padding cropped on one side"),
    "avg_gradient_not_divided": Mutant(
        {"share = dout / (kh * kw)": "share = dout"},
        {AVG_BACKWARD}, diagnosis="gradient not divided"),
    "avg_backward_divides_by_non_padding_count": Mutant(
        {"share = dout / (kh * kw)":
         "share = dout / _windows(np.ones_like(x), geometry, fill=0).sum(axis=(-2, -1))"},
        {AVG_BACKWARD}, diagnosis="divided by the pixels inside the image"),
    "global_pool_summed": Mutant(
        {"return x.mean(axis=(2, 3))": "return x.sum(axis=(2, 3))"},
        {GLOBAL}, diagnosis="summed instead of averaged"),
    "global_pool_keeps_spatial_axes": Mutant(
        {"return x.mean(axis=(2, 3))": "return x.mean(axis=(2, 3), keepdims=True)"},
        {GLOBAL}, diagnosis="spatial axes kept"),
    "messages_in_words": Mutant({  # correct: each ValueError names its argument in words
        'raise ValueError(f"{name} must be at least':
        'raise ValueError(f"{name.replace(\'_\', \' \').capitalize()} must be at least',
        'ValueError(f"kernel_size {kernel} is larger': 'ValueError(f"Kernel size {kernel} is '
                                                       'larger'}),
}


results, test_reference_earns_full_marks, \
    test_a_submission_in_another_style_earns_full_marks, \
    test_released_stubs_earn_nothing = standard_grading_tests(ASSIGNMENT, MUTANTS)


@pytest.mark.parametrize("student", MUTANTS)
def test_mutant_loses_points_only_where_it_is_wrong(results, student):
    assert_loses_exactly(results[student], MUTANTS[student])
