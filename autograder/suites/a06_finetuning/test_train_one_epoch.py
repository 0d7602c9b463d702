"""Hidden tests of a06's ``train_one_epoch``: replayed here step by step on a small linear
model in float32 (zero the gradients, cross-entropy, backward, step, for every batch), the
weights after the epoch and the mean loss it returns must match; every forward pass of
the epoch is in training mode, whatever mode the model was in. A wrong epoch that an epoch
replayed the way of a known mistake gives (gradients never zeroed, the loss summed) is named."""

from __future__ import annotations

import numpy as np

from autograder.compare import assert_array_close
from autograder.diagnose import Mistake, diagnosed, explained, first_giving
from autograder.harness import graded
from autograder.suites.a06_finetuning.cases import Driven, data, replay_epoch
from autograder.suites.a06_finetuning.mistakes import MISTAKES, TRAIN_MODE_NOT_SET, epoch_case
from cnnlab.course import get_assignment

#: The data and the model are float32, as in the assignment: float32 tolerances.
TOLERANCE = get_assignment("a06_finetuning").tolerance(np.float32)

FEATURES, CLASSES, SAMPLES, BATCH, LR = 16, 3, 12, 4, 0.5
CASE = (f"train_one_epoch(nn.Linear({FEATURES}, {CLASSES}), {SAMPLES} samples in batches of "
        f"{BATCH}, SGD lr {LR})")


def replay(weight: np.ndarray, bias: np.ndarray, x: np.ndarray, y: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray, float]:
    """The epoch as the contract has it, here: weights after it and the mean batch loss."""
    weight, bias, losses = replay_epoch(weight, bias, x, y, batch=BATCH, lr=LR)
    return weight, bias, float(np.mean(losses))


def run_epoch(student, rng) -> tuple[dict, dict, tuple, tuple]:
    """The student's report and model state after the epoch, the epoch replayed here, and
    its inputs ``(weight, bias, x, y)``."""
    drive = Driven(student, "train_one_epoch")
    weight = rng.standard_normal((CLASSES, FEATURES), dtype=np.float32)
    bias = rng.standard_normal(CLASSES, dtype=np.float32)
    x = rng.standard_normal((SAMPLES, FEATURES), dtype=np.float32)
    y = rng.integers(0, CLASSES, SAMPLES)
    handle = drive("linear", weight, bias)
    report = drive.report("train_one_epoch", handle, data(x, y, BATCH), LR, False,
                          schema={"loss": (float, type(None)), "type": str,
                                  "training": [bool]})
    return report, drive.state(handle), replay(weight, bias, x, y), (weight, bias, x, y)


def mistake_giving(got: dict, inputs: tuple) -> Mistake | None:
    """The first known mistake whose epoch (replayed here) gives what the student's gave:
    ``got`` holds some of ``weight``, ``bias`` and ``loss``."""
    return first_giving(MISTAKES["train_one_epoch"], epoch_case(*inputs, batch=BATCH, lr=LR),
                        lambda wrong: all(
                            value is not None and np.shape(value) == np.shape(wrong[part])
                            and np.allclose(value, wrong[part], **TOLERANCE)
                            for part, value in got.items()))


@graded("train_one_epoch", weight=2)
def test_weights_after_one_epoch(student, rng):
    "the weights after an epoch: one optimizer step per batch, gradients zeroed in between"
    _, state, (weight, bias, _), inputs = run_epoch(student, rng)
    got = {"weight": state.get("weight"), "bias": state.get("bias")}
    try:
        assert_array_close(got["weight"], weight, case=f"{CASE}: weight after the epoch",
                           **TOLERANCE)
        assert_array_close(got["bias"], bias, case=f"{CASE}: bias after the epoch",
                           **TOLERANCE)
    except AssertionError as error:
        raise explained(error, mistake_giving(got, inputs)) from None


@graded("train_one_epoch")
def test_returns_the_mean_loss(student, rng):
    "the mean of the batches' cross-entropy losses, as a float"
    report, _, (_, _, mean_loss), inputs = run_epoch(student, rng)
    if report["loss"] is None:
        raise AssertionError(f"{CASE} returned a {report.get('type')}, expected a float: "
                             "the mean loss")
    if not np.isclose(report["loss"], mean_loss, **TOLERANCE):
        message = (f"{CASE}: returned {report['loss']:.10g}, expected the mean of the 3 "
                   f"batches' losses, {mean_loss:.10g}")
        mistake = mistake_giving({"loss": report["loss"]}, inputs)
        raise AssertionError(message) if mistake is None else diagnosed(message, mistake)


@graded("train_one_epoch")
def test_puts_the_model_in_training_mode(student, rng):
    "a model in evaluation mode is in training mode during the epoch"
    report, _, _, _ = run_epoch(student, rng)
    if not report["training"]:
        raise AssertionError(f"{CASE}: the model was never run")
    if not all(report["training"]):
        raise diagnosed(f"{CASE}, on a model in evaluation mode: the model ran in evaluation "
                        "mode during the epoch: call model.train() first", TRAIN_MODE_NOT_SET)
