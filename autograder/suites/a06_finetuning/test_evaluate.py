"""Hidden tests of a06's ``evaluate``: the accuracy of the VGG-style network (dropout and
BatchNorm, so its mode matters) on the 500 held-out target digits, handed over in training
mode; every forward pass in evaluation mode and without gradients."""

from __future__ import annotations

from autograder.diagnose import diagnosed
from autograder.harness import graded
from autograder.suites.a06_finetuning.cases import (
    Driven,
    data,
    target,
    trusted_accuracy,
    with_grader_head,
)
from autograder.suites.a06_finetuning.mistakes import EVAL_NOT_CALLED, GRADIENTS_TRACKED

NAME = "digits_vgg.pt"
BATCH = 64  # 500 images: the last batch holds 52
CASE = ("evaluate(the VGG-style network, 500 digits in batches of 64), handed over in "
        "training mode")


def run(student) -> tuple[dict, float, int]:
    """The student's report, the accuracy expected (the grader's own network with the
    weights it sent, in evaluation mode), and the number of images."""
    drive = Driven(student, "evaluate")
    handle = drive.backbone(NAME, head_seed=2)
    _, _, x, y = target(10, 0)
    report = drive.report("evaluate", handle, data(x, y, BATCH), True,
                          schema={"accuracy": (float, type(None)), "type": str,
                                  "forwards": [[bool]]})
    return report, trusted_accuracy(NAME, with_grader_head(NAME, 2), x, y, CASE), len(y)


@graded("evaluate", weight=2)
def test_accuracy(student):
    "the fraction of images whose highest score is their label"
    report, expected, images = run(student)
    if report["accuracy"] is None:
        raise AssertionError(f"{CASE} returned a {report.get('type')}, expected a float in "
                             "[0, 1]")
    if abs(report["accuracy"] - expected) >= 0.5 / images:  # not the same count right
        message = (f"{CASE}: returned {report['accuracy']:.6g}, expected {expected:.6g} "
                   "(correct images over all images, in evaluation mode)")
        if any(forward[:1] == [True] for forward in report["forwards"]):  # training
            raise diagnosed(message, EVAL_NOT_CALLED)
        raise AssertionError(message)


@graded("evaluate")
def test_evaluation_mode_without_gradients(student):
    "every forward pass in evaluation mode (model.eval()) and under torch.no_grad()"
    forwards = run(student)[0]["forwards"]
    if not forwards:
        raise AssertionError(f"{CASE}: the model was never run")
    if any(len(f) != 2 for f in forwards):
        raise AssertionError(f"{CASE}: the grader's record of the forward passes was changed")
    if any(training for training, _ in forwards):
        raise diagnosed(f"{CASE}: the model ran in training mode (dropout on, BatchNorm on "
                        "the batch's statistics): call model.eval() first", EVAL_NOT_CALLED)
    if any(grad for _, grad in forwards):
        raise diagnosed(f"{CASE}: gradients were tracked: evaluate under torch.no_grad()",
                        GRADIENTS_TRACKED)
