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

START = "start += ((window - 1) / 2 - padding) * jump"
MEASURED_RETURN = "    return int((columns != 0).sum())"

#: Single-edit bugs of the reference, by student id, each named by the ``diagnosis`` the
#: suite gives it where it recognises the mistake.
MUTANTS = {
    "start_ignores_padding": Mutant(
        {START: "start += (window - 1) / 2 * jump"},
        {FIELD}, diagnosis="padding ignored"),
    "size_ignores_dilation": Mutant(
        {"size += (window - 1) * jump": "size += (kernel_size - 1) * jump"}, {FIELD},
        diagnosis="dilation ignored"),
    "jump_updated_before_size": Mutant(
        {"        size += (window - 1) * jump\n":
         "        jump_before, jump = jump, jump * stride\n"
         "        size += (window - 1) * jump\n",
         "        jump *= stride\n": "        jump = jump_before * stride\n"},
        {FIELD}, diagnosis="jump updated too early"),
    "nested_sequentials_skipped": Mutant(
        {"    for module in model.modules():": "    for module in model.children():"},
        {LAYERS}, diagnosis="nested Sequentials skipped"),
    "same_padding_ignores_dilation": Mutant(
        {"padding = dilation * (kernel_size - 1) // 2": "padding = (kernel_size - 1) // 2"},
        {LAYERS}, diagnosis="'same' padding ignores dilation"),
    "measured_from_unit_zero": Mutant(
        {"centre = out[0, 0, out.shape[2] // 2, out.shape[3] // 2]": "centre = out[0, 0, 0, 0]"},
        {MEASURED}, diagnosis="measured from unit 0"),
    "holes_counted": Mutant(
        {MEASURED_RETURN:
         "    nonzero = (columns != 0).nonzero()\n"
         "    return int(nonzero.max() - nonzero.min() + 1)"},
        {MEASURED}, diagnosis="holes counted"),
    "jump_not_multiplied": Mutant(
        {"        jump *= stride\n": "        jump = stride\n"},
        {FIELD}, diagnosis="jump not multiplied"),
    "jump_never_updated": Mutant(
        {"        jump *= stride\n": ""},
        {FIELD}, diagnosis="jump never updated"),
    "start_not_scaled_by_the_jump": Mutant(
        {START: "start += (window - 1) / 2 - padding"},
        {FIELD}, diagnosis="start not scaled by the jump"),
    "start_rounded_down": Mutant(
        {START: "start += ((window - 1) // 2 - padding) * jump"},
        {FIELD}, diagnosis="start rounded down"),
    "pools_skipped": Mutant(
        {"if not isinstance(module, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):":
         "if not isinstance(module, nn.Conv2d):"},
        {LAYERS}, diagnosis="pools skipped"),
    "pixels_counted_in_2d": Mutant(
        {MEASURED_RETURN: "    return int((image.grad[0, 0] != 0).sum())"},
        {MEASURED}, diagnosis="pixels counted in 2-D"),
    "formula_instead_of_a_measurement": Mutant(
        {MEASURED_RETURN: "    return receptive_field(layers)[-1].size"},
        {MEASURED}, diagnosis="holes counted"),
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
