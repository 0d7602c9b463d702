"""Hidden tests of a05's ``ResNet``, built with the student's own blocks on small images: its
structure, its outputs against the reference's with the same weights, and gradients that
reach the first block."""

from __future__ import annotations

import pytest

from autograder.harness import graded
from autograder.suites.a05_resnet.cases import (
    Built,
    check_gradients_reach,
    check_outputs,
    check_state_dict,
)

#: (block, layers, keyword arguments, input shape)
NETWORKS = [
    pytest.param("BasicBlock", [1, 1, 1, 1], {"num_classes": 10}, (2, 3, 32, 32),
                 id="basic blocks, one per stage, 10 classes"),
    pytest.param("BasicBlock", [2, 1, 2, 1], {"num_classes": 4}, (2, 3, 32, 32),
                 id="basic blocks, 2, 1, 2, 1"),
    pytest.param("Bottleneck", [1, 1, 1, 1], {"num_classes": 5, "in_channels": 1},
                 (2, 1, 32, 32), id="bottlenecks, one-channel images"),
]


def build(student, reference, block, layers, kwargs) -> Built:
    return Built(student, reference, "ResNet", "ResNet", (block, layers), kwargs, own=(0,))


@graded("ResNet")
@pytest.mark.parametrize("block, layers, kwargs, shape", NETWORKS)
def test_structure(student, reference, block, layers, kwargs, shape):
    "the state dict's keys and shapes as torchvision's"
    built = build(student, reference, block, layers, kwargs)
    check_state_dict(built.describe(), built.reference_shapes(), built.label, built)


@graded("ResNet", weight=2)
@pytest.mark.parametrize("block, layers, kwargs, shape", NETWORKS)
def test_outputs(student, reference, rng, block, layers, kwargs, shape):
    "the reference's scores with the same weights, in eval and train mode"
    built = build(student, reference, block, layers, kwargs)
    check_outputs(built, rng, shape, non_negative=False)


@graded("ResNet")
def test_gradients_reach_the_first_block(student, reference, rng):
    "a backward pass from the scores reaches the first block"
    built = build(student, reference, "BasicBlock", [1, 1, 1, 1], {"num_classes": 10})
    check_gradients_reach(built, rng, (2, 3, 32, 32), "layer1.0.conv1.weight")
