"""The a06_finetuning hidden suite, judged by the submissions it grades.

The reference and Alice's submission (BatchNorm frozen by a zero momentum, groups found by
name, the loss averaged per image) earn full marks, the released stubs nothing. The mistakes
the issue names each lose the points of the functions they break, with a message that says
what is wrong and, where the suite knows the mistake (``autograder/suites/a06_finetuning/
mistakes.py``), its name; a hostile submission gains nothing.
"""

from __future__ import annotations

import pytest
from support import Mutant, assert_loses_exactly, standard_grading_tests

pytestmark = pytest.mark.slow

ASSIGNMENT = "a06_finetuning"
IMPORTS = "import torch\nfrom torch import nn\n"

#: Mistakes and hostile tricks, each an edit of the reference, by student id: the functions
#: that lose points, and words the feedback must say.
MUTANTS = {
    # A frozen backbone's BatchNorm statistics drift: both freezing and the frozen phase of
    # fine_tune lose; train_one_epoch's own tests (no BatchNorm) do not see it.
    "batchnorm_trains_while_frozen": Mutant(
        {"            if not any(p.requires_grad for p in module.parameters()):\n"
         "                module.eval()\n": "            pass\n"},
        {"freeze_backbone", "fine_tune"}, says="BatchNorm running statistics",
        diagnosis="batchnorm statistics not frozen"),
    "frozen_parameters_in_the_optimizer": Mutant(
        {"    trainable = [p for p in model.parameters() if p.requires_grad]":
         "    trainable = list(model.parameters())"},
        {"make_optimizer"}, says="must not train",
        diagnosis="frozen parameters in the optimizer"),
    "evaluate_without_eval": Mutant(
        {"    model.eval()\n    correct = total = 0": "    correct = total = 0"},
        {"evaluate"}, says="call model.eval()", diagnosis="evaluate without eval()"),
    "evaluate_with_gradients": Mutant(
        {"    with torch.no_grad():\n        for images, labels in loader:":
         "    with torch.enable_grad():\n        for images, labels in loader:"},
        {"evaluate"}, says="torch.no_grad()", diagnosis="evaluate with gradients"),
    "head_kept_when_the_classes_match": Mutant(
        {"    old = head_of(model)\n":
         "    old = head_of(model)\n    if old.out_features == num_classes:\n"
         "        return model\n"},
        {"replace_head"}, says="freshly initialised", diagnosis="head not replaced"),
    "fc_to_conv_weight_in_the_wrong_order": Mutant(
        {"linear.weight.reshape(linear.out_features, in_channels, kh, kw)":
         "linear.weight.reshape(linear.out_features, kh, kw, in_channels).permute(0, 3, 1, 2)"},
        {"fc_to_conv"}, says="values differ", diagnosis="weights reshaped in the wrong order"),
    # Gradients pile up: the epoch is wrong, and fine-tuning with it diverges.
    "gradients_never_zeroed": Mutant(
        {"        optimizer.zero_grad()\n        loss = LOSS": "        loss = LOSS"},
        {"train_one_epoch", "fine_tune"}, says="weight after the epoch",
        diagnosis="gradients never zeroed"),
    "returns_the_last_loss": Mutant(
        {"    return sum(losses) / len(losses)": "    return losses[-1]"},
        {"train_one_epoch"}, says="the mean of", diagnosis="last batch's loss"),
    "unfreeze_forgets_the_backbone": Mutant(
        {"    for parameter in model.parameters():\n        parameter.requires_grad_(True)\n":
         "    for parameter in head_of(model).parameters():\n"
         "        parameter.requires_grad_(True)\n"},
        {"unfreeze", "fine_tune"}, says="still frozen", diagnosis="backbone left frozen"),
    "head_frozen_too": Mutant(
        {"    for parameter in head_of(model).parameters():\n"
         "        parameter.requires_grad_(True)\n": ""},
        {"freeze_backbone", "fine_tune"}, says="is frozen", diagnosis="head frozen too"),
    "freezes_only_the_convolutions": Mutant(
        {"    for parameter in model.parameters():\n        parameter.requires_grad_(False)\n":
         "    for module in model.modules():\n        if isinstance(module, nn.Conv2d):\n"
         "            module.requires_grad_(False)\n"},
        {"freeze_backbone", "fine_tune"}, says="is trainable", diagnosis="backbone not frozen"),
    "optimizer_holds_only_the_head": Mutant(
        {"        return torch.optim.SGD(trainable, lr=lr, momentum=0.9)":
         "        return torch.optim.SGD(head_of(model).parameters(), lr=lr, momentum=0.9)"},
        {"make_optimizer"}, says="misses trainable parameters",
        diagnosis="trainable parameters left out"),
    # The backbone at lr: fine-tuning with it falls just short of the mark (0.492 of 0.5).
    # Steps ten times too large: fine-tuning with them diverges.
    "loss_summed_over_the_batch": Mutant(
        {"        loss = LOSS(model(images), labels)":
         "        loss = nn.functional.cross_entropy(model(images), labels, reduction='sum')"},
        {"train_one_epoch", "fine_tune"}, says="weight after the epoch",
        diagnosis="loss summed over the batch"),
    "epoch_loss_summed": Mutant(
        {"    return sum(losses) / len(losses)": "    return sum(losses)"},
        {"train_one_epoch"}, says="the mean of", diagnosis="epoch loss summed"),
    # The epoch runs in whatever mode the model is in: the driver's training mode moves a
    # frozen backbone's statistics, and fine_tune trains in evaluate's mode.
    "train_mode_not_set": Mutant(
        {"    set_training_mode(model)\n    losses = []": "    losses = []"},
        {"train_one_epoch", "freeze_backbone", "fine_tune"}, says="call model.train() first",
        diagnosis="train() not called"),
    "head_as_large_as_the_old_one": Mutant(
        {"nn.Linear(old.in_features, num_classes)": "nn.Linear(old.in_features, old.out_features)"},
        {"replace_head"}, says="out_features = num_classes", diagnosis="head of the wrong size"),
    "fine_tune_never_unfreezes": Mutant(
        {"        if phase == \"frozen\":\n            freeze_backbone(model)\n        else:\n"
         "            unfreeze(model)\n":
         "        if phase == \"frozen\":\n            freeze_backbone(model)\n"},
        {"fine_tune"}, says="did not change", diagnosis="backbone never unfrozen"),
    # Hostile: claims a perfect accuracy whatever the model does.
    "evaluate_claims_full_accuracy": Mutant(
        {"    return correct / total\n": "    return 1.0\n"},
        {"evaluate"}, says="expected"),
    # Correct in other styles, found by the audit: each once lost points (a float32 tensor
    # for an accuracy; a float32 mean loss, the mode put back, the images cast to float).
    "evaluate_returns_a_float32_tensor": Mutant(
        {"    return correct / total\n":
         "    return torch.tensor(correct / total, dtype=torch.float32)\n"}, says="passed"),
    "epoch_in_other_habits": Mutant(
        {"    set_training_mode(model)\n    losses = []":
         "    was = model.training\n    set_training_mode(model)\n    losses = []",
         "    return sum(losses) / len(losses)":
         "    model.train(was)\n    return torch.tensor(losses).mean().item()",
         "        images, labels = images.to(device), labels.to(device)\n"
         "        optimizer.zero_grad()":
         "        images, labels = images.to(device).float(), labels.to(device)\n"
         "        optimizer.zero_grad()"}, says="passed"),
    # Found by the red team: each once earned points without the work or ended as a grader
    # error. Training is faked: a nudged head, and a forward pass that answers the 500 test
    # digits by their order (the grader now runs its own network on the weights).
    "fine_tune_fakes_the_test_scores": Mutant(
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
        {"fine_tune"}, says="from the pretrained ResNet"),
    # Reports forged through the driver's functions' code: odd values where the grader
    # expects a float, a name or a flag.
    "forges_reports": Mutant(
        {IMPORTS: IMPORTS + "import torch_training\n\n\n"
                  "def _accuracy(context, handle, data, mode=True):\n"
                  "    return {'accuracy': '0.5', 'type': 'float', 'forwards': [[[1], 0]]}\n"
                  "\n\ndef _groups(context, handle, lr, backbone_lr):\n"
                  "    return {'groups': [{'params': [['fc.weight']], 'lr': 0.05}]}\n"
                  "\n\ndef _flags(context, handle):\n"
                  "    import numpy\n"
                  "    return {n: numpy.array([1, 0]) for n, _ in\n"
                  "            context.get(handle).named_parameters()}\n"
                  "\n\ntorch_training.evaluate.__code__ = _accuracy.__code__\n"
                  "torch_training.make_optimizer.__code__ = _groups.__code__\n"
                  "torch_training.requires_grad.__code__ = _flags.__code__\n"},
        {"evaluate", "make_optimizer", "freeze_backbone", "unfreeze"},
        says="not one the grader can read"),
    "adds_a_key_to_every_state_dict": Mutant(
        {IMPORTS: IMPORTS + "import torch_modules\n\n\n"
                  "def _forged(context, handle, ending=None):\n"
                  "    import numpy\n"
                  "    state = {k: v.detach().numpy().copy() for k, v in\n"
                  "             context.get(handle).state_dict().items()}\n"
                  "    return {**state, 'zzz': numpy.zeros(1)}\n"
                  "\n\ntorch_modules.state_dict.__code__ = _forged.__code__\n"},
        {"fine_tune"}, says="no longer fit"),
}

results, test_reference_earns_full_marks, \
    test_a_submission_in_another_style_earns_full_marks, \
    test_released_stubs_earn_nothing = standard_grading_tests(ASSIGNMENT, MUTANTS)


@pytest.mark.parametrize("student", MUTANTS)
def test_a_mistake_loses_its_functions_points_and_is_named(results, student):
    assert_loses_exactly(results[student], MUTANTS[student])
