"""Hidden tests of a05's ``BasicBlock``: its structure and shortcut, then its outputs against
the reference's with the same weights, for every combination of stride and channels."""

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

#: (in_channels, out_channels, stride)
BLOCKS = [
    pytest.param((8, 8, 1), id="same channels, stride 1: identity shortcut"),
    pytest.param((8, 16, 1), id="channels change: 1x1 shortcut"),
    pytest.param((8, 8, 2), id="stride 2: 1x1 shortcut with stride 2"),
    pytest.param((8, 16, 2), id="stride 2 and channels change"),
]


@graded("BasicBlock")
@pytest.mark.parametrize("args", BLOCKS)
def test_structure(student, reference, args):
    "children, state dict and shortcut as torchvision's"
    built = Built(student, reference, "BasicBlock", "BasicBlock", args)
    described = built.describe()
    in_channels, out_channels, stride = args
    check_shortcut(described, built.label, needed=stride != 1 or in_channels != out_channels,
                   out_channels=out_channels, stride=stride)
    check_state_dict(described, shapes(built.reference), built.label)


@graded("BasicBlock", weight=2)
@pytest.mark.parametrize("args", BLOCKS)
def test_outputs(student, reference, rng, args):
    "the reference's outputs with the same weights, in eval and train mode"
    built = Built(student, reference, "BasicBlock", "BasicBlock", args)
    check_outputs(built, rng, (2, args[0], 8, 8))


@graded("BasicBlock")
def test_gradients_reach_the_input(student, reference, rng):
    "a backward pass reaches the input and conv1"
    built = Built(student, reference, "BasicBlock", "BasicBlock", (8, 16, 2))
    check_gradients_reach(built, rng, (2, 8, 8, 8), "conv1.weight")
