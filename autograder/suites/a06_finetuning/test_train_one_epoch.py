"""Hidden tests of a06's ``train_one_epoch``: replayed here step by step on a small linear
model in float32 (zero the gradients, cross-entropy, backward, step, for every batch), the
weights after the epoch and the mean loss it returns must match; every forward pass of
the epoch is in training mode, whatever mode the model was in."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from autograder.compare import assert_array_close
from autograder.harness import graded
from autograder.suites.a06_finetuning.cases import Driven, data
from cnnlab.course import get_assignment

#: The data and the model are float32, as in the assignment: float32 tolerances.
TOLERANCE = get_assignment("a06_finetuning").tolerance(np.float32)

FEATURES, CLASSES, SAMPLES, BATCH, LR = 16, 3, 12, 4, 0.5
CASE = (f"train_one_epoch(nn.Linear({FEATURES}, {CLASSES}), {SAMPLES} samples in batches of "
        f"{BATCH}, SGD lr {LR})")


def replay(weight: np.ndarray, bias: np.ndarray, x: np.ndarray, y: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray, float]:
    """The epoch as the contract has it, here: weights after it and the mean batch loss."""
    layer = nn.Linear(FEATURES, CLASSES)
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(weight))
        layer.bias.copy_(torch.from_numpy(bias))
    optimizer = torch.optim.SGD(layer.parameters(), lr=LR)
    losses = []
    for start in range(0, SAMPLES, BATCH):
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(layer(torch.from_numpy(x[start:start + BATCH])),
                                           torch.from_numpy(y[start:start + BATCH]))
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return layer.weight.detach().numpy(), layer.bias.detach().numpy(), float(np.mean(losses))


def run_epoch(student, rng) -> tuple[dict, dict, tuple]:
    drive = Driven(student, "train_one_epoch")
    weight = rng.standard_normal((CLASSES, FEATURES), dtype=np.float32)
    bias = rng.standard_normal(CLASSES, dtype=np.float32)
    x = rng.standard_normal((SAMPLES, FEATURES), dtype=np.float32)
    y = rng.integers(0, CLASSES, SAMPLES)
    handle = drive("linear", weight, bias)
    report = drive.report("train_one_epoch", handle, data(x, y, BATCH), LR, False,
                          schema={"loss": (float, type(None)), "type": str,
                                  "training": [bool]})
    return report, drive.state(handle), replay(weight, bias, x, y)


@graded("train_one_epoch", weight=2)
def test_weights_after_one_epoch(student, rng):
    "the weights after an epoch: one optimizer step per batch, gradients zeroed in between"
    _, state, (weight, bias, _) = run_epoch(student, rng)
    assert_array_close(state.get("weight"), weight, case=f"{CASE}: weight after the epoch",
                       **TOLERANCE)
    assert_array_close(state.get("bias"), bias, case=f"{CASE}: bias after the epoch",
                       **TOLERANCE)


@graded("train_one_epoch")
def test_returns_the_mean_loss(student, rng):
    "the mean of the batches' cross-entropy losses, as a float"
    report, _, (_, _, mean_loss) = run_epoch(student, rng)
    if report["loss"] is None:
        raise AssertionError(f"{CASE} returned a {report.get('type')}, expected a float: "
                             "the mean loss")
    if not np.isclose(report["loss"], mean_loss, **TOLERANCE):
        raise AssertionError(f"{CASE}: returned {report['loss']:.10g}, expected the mean of "
                             f"the 3 batches' losses, {mean_loss:.10g}")


@graded("train_one_epoch")
def test_puts_the_model_in_training_mode(student, rng):
    "a model in evaluation mode is in training mode during the epoch"
    report, _, _ = run_epoch(student, rng)
    if not report["training"]:
        raise AssertionError(f"{CASE}: the model was never run")
    if not all(report["training"]):
        raise AssertionError(f"{CASE}, on a model in evaluation mode: the model ran in "
                             "evaluation mode during the epoch: call model.train() first")
