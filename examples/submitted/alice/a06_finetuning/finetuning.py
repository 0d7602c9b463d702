"""Alice's a06: correct, in another style than the reference.

Freezing keeps BatchNorm statistics by setting the frozen layers' momentum to 0 (their
running averages then never move, even in training mode) instead of holding them in
evaluation mode; the optimizer's groups are found by parameter names; the loss is averaged
per image; fc_to_conv writes the weight through ``.data``.
"""

import copy

import torch
import torch.nn.functional as F
from torch import nn


def _head_name(model):
    return "fc" if isinstance(getattr(model, "fc", None), nn.Linear) else "classifier.4"


def _head(model):
    return model.fc if _head_name(model) == "fc" else model.classifier[-1]


def replace_head(model, num_classes):
    old = _head(model)
    fresh = nn.Linear(old.in_features, num_classes)
    fresh = fresh.to(device=old.weight.device, dtype=old.weight.dtype)
    if _head_name(model) == "fc":
        model.fc = fresh
    else:
        model.classifier[len(model.classifier) - 1] = fresh
    return model


def freeze_backbone(model):
    head = _head_name(model)
    for name, p in model.named_parameters():
        p.requires_grad = name.startswith(head + ".")
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.momentum = 0.0


def unfreeze(model):
    for p in model.parameters():
        p.requires_grad = True
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.momentum = 0.1


def make_optimizer(model, lr, backbone_lr=None):
    head = _head_name(model) + "."
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    if backbone_lr is None:
        return torch.optim.SGD([p for _, p in named], lr=lr, momentum=0.9)
    head_params = [p for n, p in named if n.startswith(head)]
    body_params = [p for n, p in named if not n.startswith(head)]
    groups = [{"params": head_params}]
    if body_params:
        groups.append({"params": body_params, "lr": backbone_lr})
    return torch.optim.SGD(groups, lr=lr, momentum=0.9)


def train_one_epoch(model, loader, optimizer, device):
    model.train()
    total, count = 0.0, 0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        for p in model.parameters():
            p.grad = None
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(y)
        count += len(y)
    return total / count


@torch.no_grad()
def evaluate(model, loader, device):
    model.eval()
    right = seen = 0
    for x, y in loader:
        predictions = model(x.to(device)).argmax(1)
        right += torch.eq(predictions, y.to(device)).sum().item()
        seen += y.numel()
    return right / seen


def fine_tune(model, train_loader, val_loader, device, epochs_frozen, epochs_unfrozen):
    history = {"loss": [], "accuracy": []}
    freeze_backbone(model)
    optimizer = make_optimizer(model, 0.05)
    for _ in range(epochs_frozen):
        history["loss"].append(train_one_epoch(model, train_loader, optimizer, device))
        history["accuracy"].append(evaluate(model, val_loader, device))
    unfreeze(model)
    optimizer = make_optimizer(model, 0.05, backbone_lr=0.005)
    for _ in range(epochs_unfrozen):
        history["loss"].append(train_one_epoch(model, train_loader, optimizer, device))
        history["accuracy"].append(evaluate(model, val_loader, device))
    return copy.deepcopy(history)


def fc_to_conv(linear, in_channels, kernel_size):
    if isinstance(kernel_size, int):
        kernel_size = (kernel_size, kernel_size)
    conv = nn.Conv2d(in_channels, linear.out_features, kernel_size,
                     bias=linear.bias is not None).to(linear.weight.device, linear.weight.dtype)
    conv.weight.data = linear.weight.data.view(linear.out_features, in_channels,
                                               *kernel_size).clone()
    if linear.bias is not None:
        conv.bias.data = linear.bias.data.clone()
    return conv
