"""The a06_finetuning hidden suite, judged by the submissions it grades.

The reference and Alice's submission (BatchNorm frozen by a zero momentum, groups found by
name, the loss averaged per image) earn full marks, the released stubs nothing. The mistakes
the issue names each lose the points of the functions they break, with a message that says
what is wrong; a hostile submission gains nothing.
"""

from __future__ import annotations

import pytest
from support import Mutant, assert_loses_exactly, failures, standard_grading_tests

pytestmark = pytest.mark.slow

ASSIGNMENT = "a06_finetuning"

#: Mistakes and hostile tricks, each an edit of the reference, by student id: the functions
#: that lose points, and words the feedback must say.
MUTANTS = {
    # A frozen backbone's BatchNorm statistics drift: both freezing and the frozen phase of
    # fine_tune lose; train_one_epoch's own tests (no BatchNorm) do not see it.
    "batchnorm_trains_while_frozen": (Mutant(
        {"            if not any(p.requires_grad for p in module.parameters()):\n"
         "                module.eval()\n": "            pass\n"},
        {"freeze_backbone", "fine_tune"}), "BatchNorm running statistics"),
    "frozen_parameters_in_the_optimizer": (Mutant(
        {"    trainable = [p for p in model.parameters() if p.requires_grad]":
         "    trainable = list(model.parameters())"},
        {"make_optimizer"}), "must not train"),
    "evaluate_without_eval": (Mutant(
        {"    model.eval()\n    correct = total = 0": "    correct = total = 0"},
        {"evaluate"}), "call model.eval()"),
    "evaluate_with_gradients": (Mutant(
        {"    with torch.no_grad():\n        for images, labels in loader:":
         "    with torch.enable_grad():\n        for images, labels in loader:"},
        {"evaluate"}), "torch.no_grad()"),
    "head_kept_when_the_classes_match": (Mutant(
        {"    old = head_of(model)\n":
         "    old = head_of(model)\n    if old.out_features == num_classes:\n"
         "        return model\n"},
        {"replace_head"}), "freshly initialised"),
    "fc_to_conv_weight_in_the_wrong_order": (Mutant(
        {"linear.weight.reshape(linear.out_features, in_channels, kh, kw)":
         "linear.weight.reshape(linear.out_features, kh, kw, in_channels).permute(0, 3, 1, 2)"},
        {"fc_to_conv"}), "values differ"),
    # Gradients pile up: the epoch is wrong, and fine-tuning with it diverges.
    "gradients_never_zeroed": (Mutant(
        {"        optimizer.zero_grad()\n        loss = LOSS": "        loss = LOSS"},
        {"train_one_epoch", "fine_tune"}), "weight after the epoch"),
    "returns_the_last_loss": (Mutant(
        {"    return sum(losses) / len(losses)": "    return losses[-1]"},
        {"train_one_epoch"}), "the mean of"),
    "unfreeze_forgets_the_backbone": (Mutant(
        {"    for parameter in model.parameters():\n        parameter.requires_grad_(True)\n":
         "    for parameter in head_of(model).parameters():\n"
         "        parameter.requires_grad_(True)\n"},
        {"unfreeze", "fine_tune"}), "still frozen"),
    # Hostile: claims a perfect accuracy whatever the model does.
    "evaluate_claims_full_accuracy": (Mutant(
        {"    return correct / total\n": "    return 1.0\n"},
        {"evaluate"}), "expected"),
}

results, test_reference_earns_full_marks, \
    test_a_submission_in_another_style_earns_full_marks, \
    test_released_stubs_earn_nothing = standard_grading_tests(
        ASSIGNMENT, {student: mutant for student, (mutant, _) in MUTANTS.items()})


@pytest.mark.parametrize("student", MUTANTS)
def test_a_mistake_loses_its_functions_points_and_is_named(results, student):
    mutant, says = MUTANTS[student]
    assert_loses_exactly(results[student], mutant)
    assert any(says in t["output"] for t in results[student]["tests"]), \
        failures(results[student])
