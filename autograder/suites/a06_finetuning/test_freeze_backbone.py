"""Hidden tests of a06's ``freeze_backbone``: only the head trainable, and an epoch of
training (the student's ``train_one_epoch``, plain SGD) leaves the backbone as it was,
BatchNorm running statistics included, while the head learns."""

from __future__ import annotations

import pytest

from autograder.diagnose import diagnosed
from autograder.harness import graded
from autograder.suites.a06_finetuning.cases import (
    HEADS,
    NAMES,
    Driven,
    backbone_keys,
    changed_keys,
    data,
    describe_changes,
    target,
    with_grader_head,
)
from autograder.suites.a06_finetuning.mistakes import (
    BACKBONE_NOT_FROZEN,
    HEAD_FROZEN,
    frozen_mistake,
)

BOTH = [pytest.param(name, id=NAMES[name]) for name in HEADS]


def frozen(student, name: str) -> tuple[Driven, int]:
    drive = Driven(student, "freeze_backbone")
    handle = drive.backbone(name, head_seed=1)
    drive("call", "freeze_backbone", handle)
    return drive, handle


@graded("freeze_backbone")
@pytest.mark.parametrize("name", BOTH)
def test_only_the_head_is_trainable(student, name):
    "requires_grad: True for the head's parameters only"
    drive, handle = frozen(student, name)
    flags = drive.flags(handle)
    head = HEADS[name]
    wrong = [k for k, v in flags.items() if v != k.startswith(head)]
    if wrong:
        trainable = "trainable" if flags[wrong[0]] else "frozen"
        raise diagnosed(f"freeze_backbone({NAMES[name]}): {len(wrong)} parameters are "
                        f"wrong, e.g. {wrong[0]} is {trainable}: the head ({head[:-1]}) "
                        "trains, everything else is frozen",
                        BACKBONE_NOT_FROZEN if any(flags[k] for k in wrong) else HEAD_FROZEN)


@graded("freeze_backbone", weight=2)
@pytest.mark.parametrize("name", BOTH)
def test_an_epoch_leaves_the_backbone_unchanged(student, name):
    "after freeze_backbone, an epoch of train_one_epoch changes the head only"
    drive, handle = frozen(student, name)
    before = with_grader_head(name, 1)
    x, y, _, _ = target(10, 0)
    drive("train_one_epoch", handle, data(x, y, 10, shuffle_seed=0), 0.1, True)
    after = drive.state(handle)
    case = (f"freeze_backbone({NAMES[name]}), then train_one_epoch (SGD, lr 0.1) on 50 "
            "images")
    changed = changed_keys(before, after, backbone_keys(name, before))
    if changed:
        raise diagnosed(f"{case}: the backbone changed: {describe_changes(changed)}",
                        frozen_mistake(changed))
    head = [k for k in before if k.startswith(HEADS[name])]
    if not changed_keys(before, after, head):
        raise AssertionError(f"{case}: the head did not change either: it must still train")
