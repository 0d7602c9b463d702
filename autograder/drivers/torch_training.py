"""Driver for a06 (fine-tuning): runs the student's training functions in the sandbox.

Copied into the worker's runtime folder with ``torch_modules.py`` (whose actions it keeps:
``forward``, ``state_dict``, ``describe``...) and ``backbones.py`` (the two networks of
a06), all imported before the student's module. Weights and images come from the grader in
each request; what comes back is plain data (arrays, names, numbers) that the grader checks
against what it computed itself. Nothing here decides a score.

Models are named by handles, as in ``torch_modules``. Loaders are built here from arrays:
``(images, labels)`` batches of a ``TensorDataset``, in order or shuffled by a seeded
generator.
"""

from __future__ import annotations

import backbones
import numpy as np
import torch
import torch_modules
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from torch_modules import Context, _array

DEVICE = "cpu"


def _loader(data: dict) -> DataLoader:
    """``data``: ``{"x": images, "y": labels, "batch_size": int, "shuffle_seed": int|None}``."""
    dataset = TensorDataset(torch.from_numpy(data["x"]), torch.from_numpy(data["y"]))
    seed = data.get("shuffle_seed")
    generator = None if seed is None else torch.Generator().manual_seed(seed)
    return DataLoader(dataset, batch_size=data["batch_size"], shuffle=seed is not None,
                      generator=generator)


def _number(value) -> float | None:
    """A float from a number or a one-element tensor; None for anything else."""
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = torch.Tensor.item(value)
    if isinstance(value, (int, float, np.floating, np.integer)) and not isinstance(value, bool):
        return float(value)
    return None


def _names(model: nn.Module) -> dict[int, str]:
    return {id(p): name for name, p in model.named_parameters()}


def backbone(context: Context, name: str, state: dict | None = None) -> int:
    """Build the network of ``backbones.MODELS[name]`` with the weights ``state`` (arrays by
    key; None: a fresh, random one) and keep it, in eval mode."""
    model = backbones.MODELS[name]()
    if state is not None:
        model.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()}, strict=True)
    return context.keep(model.eval())


def linear(context: Context, weight: np.ndarray, bias: np.ndarray | None) -> int:
    """An ``nn.Linear`` with these weights (and dtype), kept."""
    layer = nn.Linear(weight.shape[1], weight.shape[0], bias=bias is not None,
                      dtype=torch.from_numpy(weight).dtype)
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(weight))
        if bias is not None:
            layer.bias.copy_(torch.from_numpy(bias))
    return context.keep(layer)


def grader_head(context: Context, handle: int, weight: np.ndarray, bias: np.ndarray) -> None:
    """Replace the model's head with the grader's own (not the student's ``replace_head``):
    an ``nn.Linear`` with the weights sent."""
    model = context.get(handle)
    head = nn.Linear(weight.shape[1], weight.shape[0])
    with torch.no_grad():
        head.weight.copy_(torch.from_numpy(weight))
        head.bias.copy_(torch.from_numpy(bias))
    if isinstance(getattr(model, "fc", None), nn.Linear):
        model.fc = head
    else:
        model.classifier[-1] = head


def grader_freeze(context: Context, handle: int, trainable_ending: list) -> None:
    """Freeze every parameter but those whose names start with one of ``trainable_ending``
    (the grader's own freezing, for tests of other functions)."""
    for name, parameter in context.get(handle).named_parameters():
        parameter.requires_grad_(name.startswith(tuple(trainable_ending)))


def replace_head(context: Context, handle: int, num_classes: int, seed: int) -> dict:
    """Call the student's ``replace_head``; keep what it returns. Reports the new handle
    (None where it is not a module) and the type returned."""
    torch.manual_seed(seed)
    returned = context.module.replace_head(context.get(handle), num_classes)
    return {"handle": context.keep(returned) if isinstance(returned, nn.Module) else None,
            "returned": type(returned).__name__}


def requires_grad(context: Context, handle: int) -> dict:
    """Each parameter's ``requires_grad``, by name."""
    return {name: bool(p.requires_grad) for name, p in context.get(handle).named_parameters()}


def call(context: Context, function: str, handle: int) -> None:
    """Call the student's ``function(model)`` (``freeze_backbone``, ``unfreeze``)."""
    getattr(context.module, function)(context.get(handle))


def make_optimizer(context: Context, handle: int, lr: float,
                   backbone_lr: float | None) -> dict:
    """Call the student's ``make_optimizer``; report its type and its parameter groups, each
    as the names of its parameters (``"?"`` for one not in the model) and its rate."""
    model = context.get(handle)
    names = _names(model)
    args = (model, lr) if backbone_lr is None else (model, lr, backbone_lr)
    optimizer = context.module.make_optimizer(*args)
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"make_optimizer returned a {type(optimizer).__name__}, "
                        "not a torch.optim.Optimizer")
    return {"type": type(optimizer).__name__,
            "groups": [{"params": [names.get(id(p), "?") for p in group["params"]],
                        "lr": float(group["lr"])} for group in optimizer.param_groups]}


def train_one_epoch(context: Context, handle: int, data: dict, lr: float,
                    mode: bool = False) -> dict:
    """The student's ``train_one_epoch`` on the model (first put in ``train(mode)``) with a
    plain SGD optimizer of rate ``lr`` over its trainable parameters; reports the loss it
    returned (a number, or a one-element tensor's value) and, for every forward pass of the
    model during the call, whether it was in training mode."""
    model = context.get(handle)
    model.train(mode)
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=lr)
    seen: list[bool] = []
    hook = model.register_forward_pre_hook(lambda module, inputs: seen.append(module.training))
    try:
        loss = context.module.train_one_epoch(model, _loader(data), optimizer, DEVICE)
    finally:
        hook.remove()
    return {"loss": _number(loss), "type": type(loss).__name__, "training": seen}


def evaluate(context: Context, handle: int, data: dict, mode: bool = True) -> dict:
    """The student's ``evaluate`` on the model (first put in ``train(mode)``). Reports the
    accuracy it returned and, for every forward pass of the model during the call, whether
    the model was in training mode and gradients were on."""
    model = context.get(handle)
    model.train(mode)
    seen: list[list[bool]] = []
    hook = model.register_forward_pre_hook(
        lambda module, inputs: seen.append([module.training, torch.is_grad_enabled()]))
    try:
        accuracy = context.module.evaluate(model, _loader(data), DEVICE)
    finally:
        hook.remove()
    return {"accuracy": _number(accuracy), "type": type(accuracy).__name__, "forwards": seen}


def fine_tune(context: Context, handle: int, train: dict, val: dict, epochs_frozen: int,
              epochs_unfrozen: int, seed: int) -> dict:
    """The student's ``fine_tune``, after ``torch.manual_seed(seed)``; reports the type of
    the history it returned (the model's new state is asked for after)."""
    torch.manual_seed(seed)
    history = context.module.fine_tune(context.get(handle), _loader(train), _loader(val),
                                       DEVICE, epochs_frozen, epochs_unfrozen)
    return {"type": type(history).__name__}


def fc_to_conv(context: Context, handle: int, in_channels: int, kernel_size,
               x: np.ndarray) -> dict:
    """The student's ``fc_to_conv`` of the kept linear layer; reports the type of what it
    returned and its output on ``x`` (no gradients)."""
    conv = context.module.fc_to_conv(context.get(handle), in_channels, kernel_size)
    if not isinstance(conv, nn.Conv2d):
        return {"type": type(conv).__name__}
    with torch.no_grad():
        out = conv(torch.from_numpy(x))
    return {"type": "Conv2d", "output": _array(out, "the output")}


ACTIONS = {**torch_modules.ACTIONS, **{action.__name__: action for action in (
    backbone, linear, grader_head, grader_freeze, replace_head, requires_grad, call,
    make_optimizer, train_one_epoch, evaluate, fine_tune, fc_to_conv)}}
