"""Hidden tests of a06's ``unfreeze``: after freezing, every parameter trains again, and an
epoch (the student's ``train_one_epoch``) changes the backbone, BatchNorm statistics
included."""

from __future__ import annotations

from autograder.diagnose import diagnosed
from autograder.harness import graded
from autograder.suites.a06_finetuning.cases import (
    Driven,
    backbone_keys,
    changed_keys,
    data,
    target,
    with_grader_head,
)
from autograder.suites.a06_finetuning.mistakes import BACKBONE_LEFT_FROZEN

NAME = "digits_resnet.pt"


@graded("unfreeze")
def test_every_parameter_is_trainable(student):
    "requires_grad: True everywhere after the grader's freezing, then unfreeze"
    drive = Driven(student, "unfreeze")
    handle = drive.backbone(NAME, head_seed=1)
    drive("grader_freeze", handle, ["fc."])
    drive("call", "unfreeze", handle)
    flags = drive.flags(handle)
    frozen = [k for k, v in flags.items() if v is not True]
    if frozen:
        raise diagnosed(f"unfreeze(the ResNet): {len(frozen)} parameters are still frozen, "
                        f"e.g. {frozen[0]}", BACKBONE_LEFT_FROZEN)


@graded("unfreeze")
def test_an_epoch_trains_the_backbone_again(student):
    "freeze_backbone, unfreeze, then an epoch of train_one_epoch changes every BatchNorm"
    drive = Driven(student, "unfreeze")
    handle = drive.backbone(NAME, head_seed=1)
    drive("call", "freeze_backbone", handle)
    drive("call", "unfreeze", handle)
    before = with_grader_head(NAME, 1)
    x, y, _, _ = target(10, 0)
    drive("train_one_epoch", handle, data(x, y, 10, shuffle_seed=0), 0.1, True)
    after = drive.state(handle)
    keys = backbone_keys(NAME, before)
    unchanged = sorted(set(keys) - set(changed_keys(before, after, keys)))
    if unchanged:
        message = ("freeze_backbone, unfreeze, then train_one_epoch (SGD, lr 0.1) on 50 "
                   f"images: {len(unchanged)} values of the backbone did not change, e.g. "
                   f"{unchanged[0]}: after unfreeze the whole network trains, BatchNorm "
                   "statistics included")
        parameters = [k for k in unchanged if not k.endswith(("running_mean", "running_var"))]
        raise diagnosed(message, BACKBONE_LEFT_FROZEN) if parameters else \
            AssertionError(message)
