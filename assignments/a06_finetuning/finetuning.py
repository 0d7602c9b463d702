"""Transfer learning: reuse a network trained on one task for another with few images.

The networks here end in one linear layer, the **head**: ``model.fc`` on a ResNet,
``model.classifier[-1]`` on a VGG-style network (``backbones.py`` has one of each, trained on
digits 0-4). Everything before the head is the **backbone**. The recipe:

1. ``replace_head``: a new head, freshly initialised, with one output per new class;
2. ``freeze_backbone``: train the head alone first, the backbone left as it is;
3. ``unfreeze`` and train everything, the backbone at a lower learning rate
   (``make_optimizer(model, lr, backbone_lr)``).

"Frozen" means unchanged by training: the parameters, and the running statistics of the
BatchNorm layers too. Those change in training mode even without gradients, so a frozen
BatchNorm layer must stay in evaluation mode while the rest of the network trains.

``fc_to_conv`` turns a linear layer into the convolution that computes the same thing on
every window of a larger image: the network then returns a map of class scores.

Loaders yield ``(images, labels)`` batches: ``images`` ``(B, C, H, W)`` float, ``labels``
``(B,)`` int64 class indices. ``device`` is a ``torch.device`` or a string (``"cpu"``,
``"cuda"``): the batches are moved there; the model is already there.
"""

from __future__ import annotations

import torch
from torch import nn

#: The loss of every training function here.
LOSS = nn.CrossEntropyLoss()


def head_of(model: nn.Module) -> nn.Linear:
    """The model's last layer: ``model.fc`` (a ResNet) or ``model.classifier[-1]`` (a
    VGG-style network). Raises ``ValueError`` for a model with neither."""
    if isinstance(getattr(model, "fc", None), nn.Linear):
        return model.fc
    classifier = getattr(model, "classifier", None)
    if isinstance(classifier, nn.Sequential) and isinstance(classifier[-1], nn.Linear):
        return classifier[-1]
    raise ValueError("the model has no head: expected a Linear model.fc or "
                     "model.classifier[-1]")


def replace_head(model: nn.Module, num_classes: int) -> nn.Module:
    """Give ``model`` a new, freshly initialised head with ``num_classes`` outputs.

    Inputs:
    - model: a ResNet (head ``fc``) or a VGG-style network (head ``classifier[-1]``)
    - num_classes: outputs of the new head

    Returns:
    - the same model, changed in place: its head is a new ``nn.Linear(in_features,
      num_classes)`` on the old head's device and dtype, whatever the number of classes
      (even where it equals the old one: the old head's weights belong to the old task)
    """
    raise NotImplementedError("replace_head: your code here")


def freeze_backbone(model: nn.Module) -> None:
    """Freeze everything but the head: no gradient for the backbone's parameters, and its
    BatchNorm statistics kept (see ``train_one_epoch``). The head stays trainable."""
    raise NotImplementedError("freeze_backbone: your code here")


def unfreeze(model: nn.Module) -> None:
    """Make every parameter trainable again (BatchNorm layers then train as usual)."""
    raise NotImplementedError("unfreeze: your code here")


def make_optimizer(model: nn.Module, lr: float,
                   backbone_lr: float | None = None) -> torch.optim.Optimizer:
    """SGD with momentum 0.9 over the trainable parameters only.

    Inputs:
    - model: a model with a head (see ``head_of``)
    - lr: learning rate of the head (of everything, without ``backbone_lr``)
    - backbone_lr: where given, the backbone's trainable parameters form a parameter group
      of their own with this learning rate

    Returns:
    - the optimizer; frozen parameters are in none of its groups
    """
    raise NotImplementedError("make_optimizer: your code here")


def set_training_mode(model: nn.Module) -> None:
    """``model.train()``, except for BatchNorm layers whose parameters are all frozen: those
    stay in evaluation mode, so that their running statistics do not change."""
    raise NotImplementedError("set_training_mode: your code here")


def train_one_epoch(model: nn.Module, loader, optimizer: torch.optim.Optimizer,
                    device) -> float:
    """One pass over ``loader``: for each batch, zero the gradients, compute the
    cross-entropy loss, backpropagate and take an optimizer step.

    The model is put in training mode (frozen BatchNorm layers excepted, see
    ``set_training_mode``) whatever mode it was in.

    Returns:
    - the mean of the batches' losses (a float)
    """
    raise NotImplementedError("train_one_epoch: your code here")


def evaluate(model: nn.Module, loader, device) -> float:
    """Accuracy of ``model`` on ``loader``, in [0, 1]: the fraction of images whose highest
    score is their label. In evaluation mode (dropout off, BatchNorm with its running
    statistics) and without tracking gradients."""
    raise NotImplementedError("evaluate: your code here")


def fine_tune(model: nn.Module, train_loader, val_loader, device, epochs_frozen: int,
              epochs_unfrozen: int, lr: float = 0.05, backbone_lr: float = 0.005) -> dict:
    """Fine-tune in two phases: ``epochs_frozen`` epochs of the head alone (backbone
    frozen, learning rate ``lr``), then ``epochs_unfrozen`` epochs of everything (the
    backbone at ``backbone_lr``, the head at ``lr``). The head must already fit the task
    (``replace_head``).

    Returns:
    - the history, one entry per epoch in each list: ``{"phase": ["frozen", ...,
      "unfrozen", ...], "train_loss": [...], "val_accuracy": [...]}``
    """
    raise NotImplementedError("fine_tune: your code here")


def fc_to_conv(linear: nn.Linear, in_channels: int, kernel_size) -> nn.Conv2d:
    """The convolution that computes ``linear`` on every window of its input.

    ``linear`` maps a flattened ``(in_channels, KH, KW)`` block (``in_features = in_channels
    * KH * KW``) to ``out_features`` scores. The convolution has ``out_features`` filters of
    ``(in_channels, KH, KW)``, stride 1 and no padding: on a ``(N, in_channels, KH, KW)``
    input it returns ``linear``'s output as ``(N, out_features, 1, 1)``; on a larger one, a
    map of scores, one per window.

    Inputs:
    - linear: ``nn.Linear(in_channels * KH * KW, out_features)``, with or without bias
    - in_channels: channels of the block
    - kernel_size: int or (KH, KW)

    Returns:
    - a new ``nn.Conv2d`` with ``linear``'s weights (copied), on its device and dtype

    Raises:
        ValueError: where ``in_channels * KH * KW != linear.in_features``.
    """
    raise NotImplementedError("fc_to_conv: your code here")
