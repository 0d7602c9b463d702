"""Alice's a04: the receptive field by its closed form, and the measurement with conv1d."""

from typing import NamedTuple

import torch
from torch import nn


class RF(NamedTuple):
    size: int
    jump: int
    start: float


def _get(layer, name, default):
    value = layer[name] if name in layer else default
    if value is None:
        raise ValueError(f"missing {name}")
    if isinstance(value, bool) or int(value) != value:
        raise ValueError(f"{name} must be an integer")
    low = 0 if name == "padding" else 1
    if value < low:
        raise ValueError(f"{name} is too small: {value}")
    return int(value)


def receptive_field(layers):
    # size = 1 + sum over layers of (dilated kernel - 1) * product of the earlier strides
    result, product, size, start = [], 1, 1, 0.0
    for layer in layers:
        k = _get(layer, "kernel_size", None)
        s = _get(layer, "stride", 1)
        p = _get(layer, "padding", 0)
        d = _get(layer, "dilation", 1)
        reach = d * (k - 1)
        size = size + reach * product
        start = start + (reach / 2 - p) * product
        product = product * s
        result.append(RF(size, product, start))
    return result


def _first(value):
    if isinstance(value, (tuple, list)):
        return value[0]
    return value


def layers_from_model(model):
    found = []
    for child in model.children():
        if isinstance(child, nn.Sequential):
            found.extend(layers_from_model(child))
        elif isinstance(child, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            k = _first(child.kernel_size)
            d = _first(child.dilation) if hasattr(child, "dilation") else 1
            p = child.padding
            if isinstance(p, str):
                p = 0 if p == "valid" else d * (k - 1) // 2
            found.append({"kernel_size": k, "stride": _first(child.stride or k),
                          "padding": _first(p), "dilation": d})
    return found


def empirical_receptive_field(layers, input_size):
    if isinstance(input_size, bool) or int(input_size) != input_size or input_size < 1:
        raise ValueError("input_size must be a positive integer")
    x = torch.ones(1, 1, int(input_size), dtype=torch.float64, requires_grad=True)
    y = x
    for layer in layers:
        k = _get(layer, "kernel_size", None)
        conv = nn.Conv1d(1, 1, k, _get(layer, "stride", 1), _get(layer, "padding", 0),
                         _get(layer, "dilation", 1), bias=False).double()
        with torch.no_grad():
            conv.weight.fill_(1.0)
        if y.shape[-1] + 2 * conv.padding[0] < conv.dilation[0] * (k - 1) + 1:
            raise ValueError(f"input_size {input_size} is too small")
        y = conv(y)
    y[0, 0, y.shape[-1] // 2].backward()
    return int((x.grad[0, 0] != 0).sum())
