"""Hidden tests of a06's ``fine_tune`` on the ResNet and the few-shot target digits: the
frozen phase leaves the backbone as it was, the unfrozen phase trains it, and fine-tuning the
pretrained network reaches a fixed accuracy on the 500 held-out digits and beats the same
training from random weights. Accuracies are computed here, by the grader's own ResNet with the
trained weights (in evaluation mode), not by the student's model."""

from __future__ import annotations

import numpy as np

from autograder.diagnose import diagnosed
from autograder.harness import graded
from autograder.suites.a06_finetuning.cases import (
    HEADS,
    Driven,
    backbone_keys,
    changed_keys,
    data,
    describe_changes,
    target,
    trusted_accuracy,
    with_grader_head,
)
from autograder.suites.a06_finetuning.mistakes import NEVER_UNFROZEN, frozen_mistake

NAME = "digits_resnet.pt"
SHOTS, BATCH = 10, 10
#: Epochs of each phase in the accuracy test, and the data seeds it averages over.
EPOCHS, SEEDS = (3, 3), (0, 1)
#: The mean accuracy fine-tuning must reach (chance: 0.2; the reference: about 0.68).
PASS_MARK = 0.5


def tune(drive: Driven, handle: int, epochs: tuple[int, int], seed: int = 0) -> None:
    x, y, x_test, y_test = target(SHOTS, seed)
    report = drive.report("fine_tune", handle, data(x, y, BATCH, shuffle_seed=seed),
                          data(x_test[::5], y_test[::5], 100), *epochs, seed,
                          schema={"type": str})
    if report["type"] != "dict":
        raise AssertionError(f"fine_tune returned a {report['type']}, expected the history "
                             "as a dict")


@graded("fine_tune")
def test_frozen_phase_keeps_the_backbone(student):
    "fine_tune with 2 frozen epochs and no unfrozen one changes the head only"
    drive = Driven(student, "fine_tune")
    handle = drive.backbone(NAME, head_seed=1)
    before = with_grader_head(NAME, 1)
    tune(drive, handle, (2, 0))
    after = drive.state(handle)
    case = "fine_tune(the ResNet, epochs_frozen=2, epochs_unfrozen=0)"
    changed = changed_keys(before, after, backbone_keys(NAME, before))
    if changed:
        raise diagnosed(f"{case}: the backbone changed: {describe_changes(changed)}",
                        frozen_mistake(changed))
    if not changed_keys(before, after, [k for k in before if k.startswith(HEADS[NAME])]):
        raise AssertionError(f"{case}: the head did not change: it trains in the first phase")


@graded("fine_tune")
def test_unfrozen_phase_trains_the_backbone(student):
    "fine_tune with 1 frozen and 1 unfrozen epoch changes the backbone's weights"
    drive = Driven(student, "fine_tune")
    handle = drive.backbone(NAME, head_seed=1)
    before = with_grader_head(NAME, 1)
    tune(drive, handle, (1, 1))
    after = drive.state(handle)
    weights = [k for k in backbone_keys(NAME, before) if k.endswith("conv1.weight")]
    if not changed_keys(before, after, weights):
        raise diagnosed("fine_tune(the ResNet, epochs_frozen=1, epochs_unfrozen=1): the "
                        "backbone's convolutions did not change: in the second phase "
                        "everything trains", NEVER_UNFROZEN)


@graded("fine_tune", weight=3)
def test_pretrained_reaches_the_mark_and_beats_scratch(student):
    "the pretrained ResNet fine-tuned (3 + 3 epochs, 10 shots a class) beats random weights"
    drive = Driven(student, "fine_tune")
    results = {"pretrained": [], "random": []}
    for seed in SEEDS:
        _, _, x_test, y_test = target(SHOTS, seed)
        for start, scores in results.items():
            handle = (drive.backbone(NAME, head_seed=seed) if start == "pretrained"
                      else drive("backbone", NAME, None))
            tune(drive, handle, EPOCHS, seed)
            scores.append(trusted_accuracy(NAME, drive.state(handle), x_test, y_test,
                                           f"fine_tune from {start} weights"))
    pretrained, random = (float(np.mean(v)) for v in results.values())
    case = (f"fine_tune({EPOCHS[0]} frozen + {EPOCHS[1]} unfrozen epochs, {SHOTS} images of "
            f"each digit 5-9), held-out accuracy averaged over {len(SEEDS)} draws")
    if pretrained < PASS_MARK:
        raise AssertionError(f"{case}: {pretrained:.3f} from the pretrained ResNet, expected "
                             f"at least {PASS_MARK} (chance is 0.2)")
    if pretrained <= random:
        raise AssertionError(f"{case}: the pretrained ResNet reaches {pretrained:.3f}, no "
                             f"better than random weights ({random:.3f})")
