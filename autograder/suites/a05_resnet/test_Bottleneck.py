"""Hidden tests of a05's ``Bottleneck``: its structure, where the stride goes, its shortcut,
then its outputs against the reference's with the same weights."""

from __future__ import annotations

import pytest

from autograder.harness import graded
from autograder.suites.a05_resnet.cases import (
    Built,
    check_gradients_reach,
    check_outputs,
    check_shortcut,
    check_state_dict,
    shapes,
)

#: (in_channels, width, stride); the output has 4 * width channels.
BLOCKS = [
    pytest.param((32, 8, 1), id="in = 4 * width, stride 1: identity shortcut"),
    pytest.param((16, 8, 1), id="channels change: 1x1 shortcut"),
    pytest.param((32, 8, 2), id="stride 2: 1x1 shortcut with stride 2"),
    pytest.param((16, 4, 2), id="stride 2 and channels change"),
]


@graded("Bottleneck")
@pytest.mark.parametrize("args", BLOCKS)
def test_structure(student, reference, args):
    "children, state dict, shortcut, and the stride on the 3x3 conv2"
    built = Built(student, reference, "Bottleneck", "Bottleneck", args)
    described = built.describe()
    in_channels, width, stride = args
    strides = {name: described["modules"].get(name, {}).get("stride")
               for name in ("conv1", "conv2", "conv3")}
    if strides != {"conv1": (1, 1), "conv2": (stride, stride), "conv3": (1, 1)}:
        raise AssertionError(f"{built.label}: the stride belongs on conv2, the 3x3 "
                             f"(torchvision's layout), not on a 1x1; got strides {strides}")
    check_shortcut(described, built.label, needed=stride != 1 or in_channels != 4 * width,
                   out_channels=4 * width, stride=stride)
    check_state_dict(described, shapes(built.reference), built.label)


@graded("Bottleneck", weight=2)
@pytest.mark.parametrize("args", BLOCKS)
def test_outputs(student, reference, rng, args):
    "the reference's outputs with the same weights, in eval and train mode"
    built = Built(student, reference, "Bottleneck", "Bottleneck", args)
    check_outputs(built, rng, (2, args[0], 8, 8))


@graded("Bottleneck")
def test_gradients_reach_the_input(student, reference, rng):
    "a backward pass reaches the input and conv1"
    built = Built(student, reference, "Bottleneck", "Bottleneck", (16, 4, 2))
    check_gradients_reach(built, rng, (2, 16, 8, 8), "conv1.weight")
