"""Hidden tests of a06's ``replace_head`` on both bundled networks: a new head of the right
size with fresh values (even with as many classes as the old head), the backbone untouched."""

from __future__ import annotations

import numpy as np
import pytest

from autograder.diagnose import diagnosed
from autograder.harness import graded
from autograder.suites.a06_finetuning.cases import (
    HEADS,
    NAMES,
    Driven,
    backbone_keys,
    changed_keys,
    pretrained,
)
from autograder.suites.a06_finetuning.mistakes import HEAD_NOT_REPLACED, HEAD_WRONG_SIZE

NETWORKS = [pytest.param(name, classes, id=f"{NAMES[name]}, {classes} classes")
            for name in HEADS for classes in (5, 3)]


@graded("replace_head")
@pytest.mark.parametrize("name, classes", NETWORKS)
def test_new_head(student, rng, name, classes):
    "a new Linear head with the classes asked for, fresh values, the backbone as it was"
    drive = Driven(student, "replace_head")
    label = f"replace_head({NAMES[name]}, {classes})"
    report = drive.report("replace_head", drive.backbone(name), classes, 0,
                          schema={"handle": (int, type(None)), "returned": str})
    if report["handle"] is None:
        raise AssertionError(f"{label} returned a {report.get('returned')}, not the model")
    handle = report["handle"]
    old, new = pretrained(name), drive.state(handle)
    prefix = HEADS[name]
    weight, bias = new.get(prefix + "weight"), new.get(prefix + "bias")
    in_features = old[prefix + "weight"].shape[1]
    if weight is None or bias is None:
        raise AssertionError(f"{label}: the head ({prefix[:-1]}) must be an nn.Linear with "
                             f"a bias; the state dict has {sorted(new)[-4:]}")
    if weight.shape == old[prefix + "weight"].shape and \
            np.allclose(weight, old[prefix + "weight"]):
        raise diagnosed(f"{label}: the head keeps the old head's weights: the new head must "
                        "be freshly initialised (the old one belongs to the old task), "
                        "whatever the number of classes", HEAD_NOT_REPLACED)
    if weight.shape != (classes, in_features):
        raise diagnosed(f"{label}: the head's weight has shape {weight.shape}, expected "
                        f"({classes}, {in_features}): out_features = num_classes",
                        HEAD_WRONG_SIZE)
    changed = changed_keys(old, new, backbone_keys(name, old))
    if changed:
        raise AssertionError(f"{label}: the backbone changed ({changed[0]}): only the head "
                             "is replaced")
    x = rng.random((2, 1, 32, 32)).astype(np.float32)
    scores = drive("forward", handle, [x])
    if not isinstance(scores, np.ndarray) or scores.shape != (2, classes):
        raise AssertionError(f"{label}: the model's scores on 2 images have shape "
                             f"{getattr(scores, 'shape', scores)!r:.60}, expected (2, {classes})")
