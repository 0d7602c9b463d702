"""The a04_receptive_field hidden suite, judged by the submissions it grades.

The reference and Alice's submission (a closed form, ``model.children()`` recursion and
``conv1d``) earn full marks, the released stubs nothing, and each single-edit bug loses
points on exactly the function it breaks. Every submission is graded in one run.
"""

from __future__ import annotations

import pytest
from support import (
    Mutant,
    assert_loses_exactly,
    standard_grading_tests,
)

pytestmark = pytest.mark.slow

ASSIGNMENT = "a04_receptive_field"
FIELD, LAYERS, MEASURED = "receptive_field", "layers_from_model", "empirical_receptive_field"

#: Single-edit bugs of the reference, by student id.
MUTANTS = {
    "start_ignores_padding": Mutant(
        {"start += ((window - 1) / 2 - padding) * jump": "start += (window - 1) / 2 * jump"},
        {FIELD}),
    "size_ignores_dilation": Mutant(
        {"size += (window - 1) * jump": "size += (kernel_size - 1) * jump"}, {FIELD}),
    "jump_updated_before_size": Mutant(
        {"        size += (window - 1) * jump\n":
         "        jump_before, jump = jump, jump * stride\n"
         "        size += (window - 1) * jump\n",
         "        jump *= stride\n": "        jump = jump_before * stride\n"},
        {FIELD}),
    "nested_sequentials_skipped": Mutant(
        {"    for module in model.modules():": "    for module in model.children():"},
        {LAYERS}),
    "same_padding_ignores_dilation": Mutant(
        {"padding = dilation * (kernel_size - 1) // 2": "padding = (kernel_size - 1) // 2"},
        {LAYERS}),
    "measured_from_unit_zero": Mutant(
        {"centre = out[0, 0, out.shape[2] // 2, out.shape[3] // 2]": "centre = out[0, 0, 0, 0]"},
        {MEASURED}),
    "holes_counted": Mutant(
        {"    return int((columns != 0).sum())":
         "    nonzero = (columns != 0).nonzero()\n"
         "    return int(nonzero.max() - nonzero.min() + 1)"},
        {MEASURED}),
    # Found by the red team: once a grader error.
    "start_as_an_array": Mutant(
        {"import numbers\n": "import numbers\n\nimport numpy as np\n",
         "fields.append(RF(size, jump, start))":
         "fields.append(RF(size, jump, np.array([start, start])))"},
        {FIELD}),
}


results, test_reference_earns_full_marks, \
    test_a_submission_in_another_style_earns_full_marks, \
    test_released_stubs_earn_nothing = standard_grading_tests(ASSIGNMENT, MUTANTS)


@pytest.mark.parametrize("student", MUTANTS)
def test_mutant_loses_points_only_where_it_is_wrong(results, student):
    assert_loses_exactly(results[student], MUTANTS[student])
