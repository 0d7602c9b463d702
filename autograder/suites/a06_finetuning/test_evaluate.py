"""Hidden tests of a06's ``evaluate``: the accuracy of the VGG-style network (dropout and
BatchNorm, so its mode matters) on the 500 held-out target digits, handed over in training
mode; every forward pass in evaluation mode and without gradients."""

from __future__ import annotations

import numpy as np
import torch

from autograder.harness import graded
from autograder.suites.a06_finetuning.cases import Driven, data, target
from cnnlab.backbones import DigitsVGG

NAME = "digits_vgg.pt"
BATCH = 64  # 500 images: the last batch holds 52
CASE = "evaluate(the VGG-style network, 500 digits in batches of 64), handed over in training mode"


def expected_accuracy(state: dict, x: np.ndarray, y: np.ndarray) -> float:
    model = DigitsVGG()
    model.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    model.eval()
    with torch.no_grad():
        return float((model(torch.from_numpy(x)).argmax(1).numpy() == y).mean())


def run(student) -> tuple[dict, float]:
    drive = Driven(student, "evaluate")
    handle = drive.backbone(NAME, head_seed=2)
    state = drive.state(handle)
    _, _, x, y = target(10, 0)
    report = drive.report("evaluate", handle, data(x, y, BATCH), True,
                          fields={"forwards": list})
    return report, expected_accuracy(state, x, y)


@graded("evaluate", weight=2)
def test_accuracy(student):
    "the fraction of images whose highest score is their label"
    report, expected = run(student)
    if report.get("accuracy") is None:
        raise AssertionError(f"{CASE} returned a {report.get('type')}, expected a float in "
                             "[0, 1]")
    if not np.isclose(report["accuracy"], expected, rtol=0, atol=1e-9):
        raise AssertionError(f"{CASE}: returned {report['accuracy']:.6g}, expected "
                             f"{expected:.6g} (correct images over all images, in "
                             "evaluation mode)")


@graded("evaluate")
def test_evaluation_mode_without_gradients(student):
    "every forward pass in evaluation mode (model.eval()) and under torch.no_grad()"
    report, _ = run(student)
    forwards = report["forwards"]
    if not forwards:
        raise AssertionError(f"{CASE}: the model was never run")
    if any(not isinstance(f, list) or len(f) != 2 for f in forwards):
        raise AssertionError(f"{CASE}: the grader's record of the forward passes was changed")
    if any(training for training, _ in forwards):
        raise AssertionError(f"{CASE}: the model ran in training mode (dropout on, BatchNorm "
                             "on the batch's statistics): call model.eval() first")
    if any(grad for _, grad in forwards):
        raise AssertionError(f"{CASE}: gradients were tracked: evaluate under "
                             "torch.no_grad()")
