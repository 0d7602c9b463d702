"""Hidden tests of a06's ``make_optimizer``: the trainable parameters only, each once, and
with ``backbone_lr`` the backbone in a group of its own at that rate."""

from __future__ import annotations

import pytest

from autograder.diagnose import diagnosed
from autograder.harness import graded
from autograder.suites.a06_finetuning.cases import HEADS, NAMES, Driven, pretrained
from autograder.suites.a06_finetuning.mistakes import (
    BACKBONE_LR_IGNORED,
    FROZEN_IN_THE_OPTIMIZER,
    TRAINABLE_LEFT_OUT,
)

BOTH = [pytest.param(name, id=NAMES[name]) for name in HEADS]
LR, BACKBONE_LR = 0.05, 0.005


def groups(student, name: str, *, frozen: bool, backbone_lr: float | None) -> list[dict]:
    drive = Driven(student, "make_optimizer")
    handle = drive.backbone(name, head_seed=1)
    if frozen:
        drive("grader_freeze", handle, [HEADS[name]])
    report = drive.report("make_optimizer", handle, LR, backbone_lr,
                          schema={"groups": [{"params": [str], "lr": float}]})
    return report["groups"]


def check_once(found: list[str], expected: list[str], label: str) -> None:
    doubled = sorted({n for n in found if found.count(n) > 1})
    extra = sorted(set(found) - set(expected))
    missing = sorted(set(expected) - set(found))
    if extra:
        raise diagnosed(f"{label}: the optimizer holds parameters that must not train, e.g. "
                        f"{extra[0]} ({len(extra)} in all)", FROZEN_IN_THE_OPTIMIZER)
    if missing:
        raise diagnosed(f"{label}: the optimizer misses trainable parameters, e.g. "
                        f"{missing[0]} ({len(missing)} in all)", TRAINABLE_LEFT_OUT)
    if doubled:
        raise AssertionError(f"{label}: {doubled[0]} is in the optimizer twice")


def parameter_names(name: str) -> list[str]:
    return [k for k in pretrained(name) if not k.endswith(
        ("running_mean", "running_var", "num_batches_tracked"))]


@graded("make_optimizer")
@pytest.mark.parametrize("name", BOTH)
def test_everything_trainable(student, name):
    "nothing frozen, no backbone_lr: every parameter once, at lr"
    label = f"make_optimizer({NAMES[name]}, lr={LR})"
    found = groups(student, name, frozen=False, backbone_lr=None)
    check_once([p for g in found for p in g["params"]], parameter_names(name), label)
    rates = sorted({g["lr"] for g in found})
    if rates != [LR]:
        raise AssertionError(f"{label}: the groups' learning rates are {rates}, expected {LR}")


@graded("make_optimizer")
@pytest.mark.parametrize("name", BOTH)
def test_frozen_backbone_left_out(student, name):
    "backbone frozen: the head's parameters only"
    label = f"make_optimizer({NAMES[name]} with its backbone frozen, lr={LR})"
    found = groups(student, name, frozen=True, backbone_lr=None)
    head = [p for p in parameter_names(name) if p.startswith(HEADS[name])]
    check_once([p for g in found for p in g["params"]], head, label)


@graded("make_optimizer", weight=2)
@pytest.mark.parametrize("name", BOTH)
def test_backbone_in_its_own_group(student, name):
    "backbone_lr: the backbone at backbone_lr, the head at lr"
    label = f"make_optimizer({NAMES[name]}, lr={LR}, backbone_lr={BACKBONE_LR})"
    found = groups(student, name, frozen=False, backbone_lr=BACKBONE_LR)
    check_once([p for g in found for p in g["params"]], parameter_names(name), label)
    for group in found:
        for parameter in group["params"]:
            expected = LR if parameter.startswith(HEADS[name]) else BACKBONE_LR
            if group["lr"] != expected:
                part = "head" if expected == LR else "backbone"
                message = (f"{label}: {parameter} (the {part}) is in a group with lr "
                           f"{group['lr']}, expected {expected}")
                if all(g["lr"] == LR for g in found):  # one rate for all
                    raise diagnosed(message, BACKBONE_LR_IGNORED)
                raise AssertionError(message)
