"""The mistakes the a06_finetuning suite recognises (see ``autograder.diagnose``).

Most are seen by the checks themselves, in what the sandbox reports (a BatchNorm statistic
that moved while frozen, a frozen parameter in the optimizer, a forward pass in training
mode), and raised with ``diagnosed``. Those that only the numbers show are recognised by
their answers, computed here: an epoch replayed without zeroing the gradients or with the
loss summed over the batch (``epoch_case``), and a linear layer's weights put into a
convolution in the wrong order (``fc_to_conv_case``).
"""

from __future__ import annotations

import numpy as np

from autograder.diagnose import Mistake
from autograder.harness import Case
from autograder.suites.a06_finetuning.cases import replay_epoch, windows_through

# -- freezing and unfreezing -----------------------------------------------------------------

STATISTICS_NOT_FROZEN = Mistake(
    "batchnorm statistics not frozen", "the frozen backbone's BatchNorm layers run in "
    "training mode, so their running mean and variance still change although their "
    "parameters are frozen", "requires_grad stops the gradient steps only: think about what "
    "else a BatchNorm layer changes in training mode, and which mode a frozen one needs")
BACKBONE_NOT_FROZEN = Mistake(
    "backbone not frozen", "some of the backbone's parameters still train",
    "check which parameters your freezing reaches: every one outside the head, BatchNorm's "
    "and the other layers' too")
HEAD_FROZEN = Mistake(
    "head frozen too", "the head is frozen along with the backbone, so nothing can train",
    "in the first phase the head is the one part that learns")
BACKBONE_LEFT_FROZEN = Mistake(
    "backbone left frozen", "unfreeze leaves some of the backbone's parameters frozen",
    "after unfreeze every parameter of the model trains again, not only the head's")
NEVER_UNFROZEN = Mistake(
    "backbone never unfrozen", "in the second phase of fine_tune the backbone is still "
    "frozen, so only the head trains", "what must happen to the backbone before the second "
    "phase's optimizer is made, and does it reach every parameter?")


def frozen_mistake(changed: list[str]) -> Mistake:
    """The mistake of a frozen backbone whose ``changed`` state-dict keys moved in training:
    its BatchNorm statistics only, or its parameters."""
    if all(key.endswith(("running_mean", "running_var")) for key in changed):
        return STATISTICS_NOT_FROZEN
    return BACKBONE_NOT_FROZEN


# -- the optimizer ----------------------------------------------------------------------------

FROZEN_IN_THE_OPTIMIZER = Mistake(
    "frozen parameters in the optimizer", "the optimizer is given frozen parameters as well "
    "as the trainable ones", "which of the model's parameters is the optimizer meant to "
    "change? Look at what marks them")
TRAINABLE_LEFT_OUT = Mistake(
    "trainable parameters left out", "the optimizer misses parameters that should train",
    "without backbone_lr, every trainable parameter of the model (not only the head's) "
    "belongs to the optimizer")
BACKBONE_LR_IGNORED = Mistake(
    "backbone_lr ignored", "the backbone trains at lr: backbone_lr is not used",
    "with backbone_lr the backbone's parameters go into a parameter group of their own, "
    "which can carry its own rate")

# -- the training and evaluation loops ----------------------------------------------------


def epoch_case(weight: np.ndarray, bias: np.ndarray, x: np.ndarray, y: np.ndarray, *,
               batch: int, lr: float) -> Case:
    """An epoch of ``train_one_epoch`` on ``nn.Linear(weight, bias)``, in float32, as a
    mistake's answer takes it."""
    return Case(inputs={"weight": weight, "bias": bias, "x": x, "y": y},
                options={"batch": batch, "lr": lr})


def _epoch(case: Case, returned=lambda losses: float(np.mean(losses)), **changes) -> dict:
    """The weights after an epoch replayed with ``changes`` and the loss ``returned`` from
    its batches' losses: ``{"weight": ..., "bias": ..., "loss": ...}``."""
    weight, bias, losses = replay_epoch(*case.inputs.values(), **case.options, **changes)
    return {"weight": weight, "bias": bias, "loss": returned(losses)}


GRADIENTS_NEVER_ZEROED = Mistake(
    "gradients never zeroed", "the gradients are not zeroed before each batch, so every "
    "step adds up the gradients of all the batches before", "backward() adds to .grad; "
    "what must happen to the old gradients before each batch's backward?",
    lambda case: _epoch(case, zero_grad=False))
LOSS_SUMMED = Mistake(
    "loss summed over the batch", "the loss is summed over the batch's images instead of "
    "averaged, so the steps are batch-size times too large",
    "the contract's loss is the mean cross-entropy of a batch: check the loss's reduction",
    lambda case: _epoch(case, reduction="sum"))
EPOCH_LOSS_SUMMED = Mistake(
    "epoch loss summed", "the epoch returns the sum of the batches' losses instead of their "
    "mean", "the returned loss must not grow with the number of batches",
    lambda case: _epoch(case, returned=sum))
LAST_LOSS = Mistake(
    "last batch's loss", "the epoch returns the loss of its last batch only",
    "the returned loss sums up the whole epoch: every batch's loss counts",
    lambda case: _epoch(case, returned=lambda losses: losses[-1]))
TRAIN_MODE_NOT_SET = Mistake(
    "train() not called", "the epoch runs the model in the mode it was handed over in",
    "a model that was just evaluated is in evaluation mode: an epoch must not depend on that")
EVAL_NOT_CALLED = Mistake(
    "evaluate without eval()", "evaluate runs the model in training mode (dropout on, "
    "BatchNorm on each batch's own statistics)", "the accuracy must not depend on the mode "
    "the model was in, nor on which images share a batch")
GRADIENTS_TRACKED = Mistake(
    "evaluate with gradients", "evaluate tracks gradients that nothing uses",
    "the forward passes of an evaluation build no graph: which context switches it off?")

# -- the head ---------------------------------------------------------------------------------

HEAD_NOT_REPLACED = Mistake(
    "head not replaced", "the model keeps its old head (the old task's weights) instead of "
    "getting a new one", "whatever the number of classes, the head is a new layer, put where "
    "the old one was")
HEAD_WRONG_SIZE = Mistake(
    "head of the wrong size", "the new head does not map the backbone's features to "
    "num_classes scores", "which of the old head's sizes does the new one keep, and which "
    "one does num_classes set?")

# -- fc_to_conv -------------------------------------------------------------------------------


def fc_to_conv_case(x: np.ndarray, weight: np.ndarray, bias, kh: int, kw: int) -> Case:
    """The convolution of ``fc_to_conv(nn.Linear(weight, bias), C, (kh, kw))`` on ``x``, as
    a mistake's answer takes it."""
    return Case(inputs={"x": x, "weight": weight, "bias": bias},
                options={"kh": kh, "kw": kw})


def _kernel_read_as(order: tuple[int, int, int], case: Case) -> np.ndarray:
    """The windows through the linear layer whose weight rows were read as ``(C, kh, kw)``
    blocks laid out in ``order`` (a permutation of the axes channel, row, column)."""
    x, weight, bias = case.inputs.values()
    kh, kw = case.options["kh"], case.options["kw"]
    sizes = {0: x.shape[1], 1: kh, 2: kw}
    kernel = weight.reshape(len(weight), *(sizes[axis] for axis in order))
    kernel = kernel.transpose(0, *(1 + order.index(axis) for axis in (0, 1, 2)))
    return windows_through(x, kernel.reshape(len(weight), -1), bias, kh, kw)


WRONG_ORDER = tuple(Mistake(
    "weights reshaped in the wrong order", "the linear layer's weights go into the kernel "
    f"in another order than the flattening's ({what})", "a flattened (C, kH, kW) block "
    "lists its values channel by channel, row by row: the kernel must read them in that "
    "order", lambda case, order=order: _kernel_read_as(order, case))
    for order, what in (((1, 2, 0), "channels last"), ((0, 2, 1), "rows and columns "
                                                                  "swapped"),
                        ((2, 1, 0), "channels last, rows and columns swapped")))

MISTAKES = {
    "replace_head": (HEAD_NOT_REPLACED, HEAD_WRONG_SIZE),
    "freeze_backbone": (STATISTICS_NOT_FROZEN, BACKBONE_NOT_FROZEN, HEAD_FROZEN),
    "unfreeze": (BACKBONE_LEFT_FROZEN,),
    "make_optimizer": (FROZEN_IN_THE_OPTIMIZER, TRAINABLE_LEFT_OUT, BACKBONE_LR_IGNORED),
    "train_one_epoch": (GRADIENTS_NEVER_ZEROED, LOSS_SUMMED, EPOCH_LOSS_SUMMED, LAST_LOSS,
                        TRAIN_MODE_NOT_SET),
    "evaluate": (EVAL_NOT_CALLED, GRADIENTS_TRACKED),
    "fine_tune": (STATISTICS_NOT_FROZEN, BACKBONE_NOT_FROZEN, NEVER_UNFROZEN),
    "fc_to_conv": WRONG_ORDER,
}
