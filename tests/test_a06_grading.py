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
IMPORTS = "import torch\nfrom torch import nn\n"

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
    # Correct in other styles, found by the audit: each once lost points.
    "accuracy_computed_in_float32": (Mutant(
        {"    return correct / total\n":
         "    return (torch.tensor(correct, dtype=torch.float32) / total).item()\n"}), "passed"),
    "evaluate_returns_a_one_element_tensor": (Mutant(
        {"    return correct / total\n": "    return torch.tensor(correct / total)\n"}),
        "passed"),
    "mean_loss_in_float32": (Mutant(
        {"    return sum(losses) / len(losses)": "    return torch.tensor(losses).mean().item()"}),
        "passed"),
    "train_one_epoch_restores_the_mode": (Mutant(
        {"    set_training_mode(model)\n    losses = []":
         "    was = model.training\n    set_training_mode(model)\n    losses = []",
         "    return sum(losses) / len(losses)":
         "    model.train(was)\n    return sum(losses) / len(losses)"}), "passed"),
    "images_cast_to_float": (Mutant(
        {"        images, labels = images.to(device), labels.to(device)\n"
         "        optimizer.zero_grad()":
         "        images, labels = images.to(device).float(), labels.to(device)\n"
         "        optimizer.zero_grad()"}), "passed"),
    # Found by the red team: each once earned points without the work or ended as a grader
    # error. Training is faked: a nudged head, and a forward pass that answers the 500 test
    # digits by their order (the grader now runs its own network on the weights).
    "fine_tune_fakes_the_test_scores": (Mutant(
        {"    history = {\"phase\": [], \"train_loss\": [], \"val_accuracy\": []}\n":
         "    with torch.no_grad():\n"
         "        head_of(model).weight.add_(1e-3)\n"
         "        for name, p in model.named_parameters():\n"
         "            if epochs_unfrozen and name.endswith('conv1.weight'):\n"
         "                p.mul_(1.0001)\n"
         "    real = model.forward\n"
         "    model.forward = lambda x: (nn.functional.one_hot(torch.arange(500) // 100, 5)"
         ".float() if x.shape[0] == 500 else real(x))\n"
         "    return {}\n"
         "    history = {\"phase\": [], \"train_loss\": [], \"val_accuracy\": []}\n"},
        {"fine_tune"}), "from the pretrained ResNet"),
    "forges_the_evaluate_report": (Mutant(
        {IMPORTS: IMPORTS + "import torch_training\n\n\n"
                  "def _forged(context, handle, data, mode=True):\n"
                  "    return {'accuracy': '0.5', 'type': 'float', 'forwards': [[[1], 0]]}\n"
                  "\n\ntorch_training.evaluate.__code__ = _forged.__code__\n"},
        {"evaluate"}), "not one it can read"),
    "forges_the_optimizer_groups": (Mutant(
        {IMPORTS: IMPORTS + "import torch_training\n\n\n"
                  "def _forged(context, handle, lr, backbone_lr):\n"
                  "    return {'groups': [{'params': [['fc.weight']], 'lr': 0.05}]}\n"
                  "\n\ntorch_training.make_optimizer.__code__ = _forged.__code__\n"},
        {"make_optimizer"}), "not one it can read"),
    "forges_the_requires_grad_flags": (Mutant(
        {IMPORTS: IMPORTS + "import torch_training\n\n\n"
                  "def _forged(context, handle):\n"
                  "    import numpy\n"
                  "    return {n: numpy.array([1, 0]) for n, _ in\n"
                  "            context.get(handle).named_parameters()}\n"
                  "\n\ntorch_training.requires_grad.__code__ = _forged.__code__\n"},
        {"freeze_backbone", "unfreeze"}), "not one it can read"),
    "adds_a_key_to_every_state_dict": (Mutant(
        {IMPORTS: IMPORTS + "import torch_modules\n\n\n"
                  "def _forged(context, handle, ending=None):\n"
                  "    import numpy\n"
                  "    state = {k: v.detach().numpy().copy() for k, v in\n"
                  "             context.get(handle).state_dict().items()}\n"
                  "    return {**state, 'zzz': numpy.zeros(1)}\n"
                  "\n\ntorch_modules.state_dict.__code__ = _forged.__code__\n"},
        {"fine_tune"}), "no longer fit"),
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
