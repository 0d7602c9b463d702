"""The receptive field of a stack of convolution and pooling layers, along one axis.

A unit of a layer's output sees a window of the layer's input; through a stack of layers it
sees a window of the network's input, its *receptive field*. Three numbers describe it after
each layer ``l`` (Araujo, Norris and Sim, "Computing Receptive Fields of Convolutional Neural
Networks", Distill 2019):

- ``size``: how many input pixels one unit's receptive field spans;
- ``jump``: how far apart, in input pixels, the receptive fields of two neighbouring units
  are (the product of the strides so far);
- ``start``: the input coordinate of the centre of unit 0's receptive field (pixel ``i`` of
  the input has its centre at ``i``; negative where padding reaches out of the image).

With ``k`` the dilated kernel, ``d * (kernel_size - 1) + 1``, each layer updates them as::

    size  = size + (k - 1) * jump
    start = start + ((k - 1) / 2 - padding) * jump
    jump  = jump * stride

starting from ``size = 1, jump = 1, start = 0`` (one input pixel). A layer is a mapping (a
``dict``) with ``kernel_size`` and, optionally, ``stride`` (1), ``padding`` (0) and
``dilation`` (1): the convolutions and poolings of a network, on one axis.

``RF`` and ``_layer_settings`` are given; the functions graded are ``receptive_field``,
``layers_from_model`` and ``empirical_receptive_field``.
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

import torch
from torch import nn

#: The settings of a layer, and their defaults (None: required).
SETTINGS = {"kernel_size": None, "stride": 1, "padding": 0, "dilation": 1}


class RF(NamedTuple):
    """The receptive field of the units of one layer, in input pixels."""

    size: int
    jump: int
    start: float


def _layer_settings(layer) -> tuple[int, int, int, int]:
    """``(kernel_size, stride, padding, dilation)`` of a layer mapping, checked.

    Raises:
        ValueError: naming the setting that is missing, not an int, or out of range
            (``padding`` may be 0, the others must be positive).
    """
    values = []
    for name, default in SETTINGS.items():
        value = layer.get(name, default) if hasattr(layer, "get") else None
        if value is None:
            raise ValueError(f"a layer needs a {name}, got {layer!r}")
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise ValueError(f"{name} must be an int, got {value!r}")
        if value < (0 if name == "padding" else 1):
            raise ValueError(f"{name} must be {'at least 0' if name == 'padding' else 'positive'}"
                             f", got {value}")
        values.append(int(value))
    return tuple(values)


def receptive_field(layers) -> list[RF]:
    """The receptive field after each layer of a stack.

    Inputs:
    - layers: a sequence of mappings, each with ``kernel_size`` and optional ``stride``,
      ``padding``, ``dilation`` (ints, one axis), first layer first

    Returns:
    - one ``RF(size, jump, start)`` per layer: ``size`` and ``jump`` ints, ``start`` a float

    Raises:
        ValueError: naming the setting at fault (see ``_layer_settings``).
    """
    ### BEGIN SOLUTION
    size, jump, start = 1, 1, 0.0
    fields = []
    for layer in layers:
        kernel_size, stride, padding, dilation = _layer_settings(layer)
        window = dilation * (kernel_size - 1) + 1
        size += (window - 1) * jump
        start += ((window - 1) / 2 - padding) * jump
        jump *= stride
        fields.append(RF(size, jump, start))
    return fields
    ### END SOLUTION


def _one_axis(value):
    """A module's setting on the first (height) axis: ``3`` and ``(3, 5)`` both give 3."""
    return value[0] if isinstance(value, tuple) else value


def layers_from_model(model: nn.Module) -> list[dict]:
    """The layers of a ``torch.nn.Sequential`` that change the receptive field, in order.

    Nested ``Sequential``s are walked through. ``Conv2d``, ``MaxPool2d`` and ``AvgPool2d``
    each give a mapping with ``kernel_size``, ``stride``, ``padding`` and ``dilation`` on the
    first (height) axis; every other module (ReLU, BatchNorm2d, Dropout, ...) is skipped.
    A ``Conv2d`` with ``padding="same"`` pads ``dilation * (kernel_size - 1) // 2`` before,
    as PyTorch does; ``padding="valid"`` is 0.

    Inputs:
    - model: a ``torch.nn.Sequential``, possibly holding others

    Returns:
    - the layer mappings, first layer first
    """
    ### BEGIN SOLUTION
    layers = []
    for module in model.modules():
        if not isinstance(module, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            continue
        kernel_size = _one_axis(module.kernel_size)
        stride = _one_axis(module.stride) if module.stride is not None else kernel_size
        dilation = _one_axis(getattr(module, "dilation", 1))
        padding = module.padding
        if padding == "same":
            padding = dilation * (kernel_size - 1) // 2
        elif padding == "valid":
            padding = 0
        layers.append({"kernel_size": int(kernel_size), "stride": int(stride),
                       "padding": int(_one_axis(padding)), "dilation": int(dilation)})
    return layers
    ### END SOLUTION


def empirical_receptive_field(layers, input_size: int) -> int:
    """The receptive field's size measured with autograd, on one axis.

    Build the stack as one-channel convolutions with every weight 1 (so that no gradient
    cancels), run it on an ``input_size x input_size`` image of ones, backpropagate from the
    centre unit of the output (index ``OH // 2``, ``OW // 2``), and count the input columns
    where the gradient is not 0. With dilation or strides the receptive field can have
    holes: those pixels are not counted, so the answer can be smaller than
    ``receptive_field(layers)[-1].size``; near the border of a small input the field is cut
    by the image.

    Inputs:
    - layers: as for ``receptive_field``
    - input_size: the side of the square input image (pixels)

    Returns:
    - the number of input columns whose gradient is non-zero (an int)

    Raises:
        ValueError: naming the setting at fault, or ``input_size`` where the image is too
            small for the stack (an empty output).
    """
    ### BEGIN SOLUTION
    if isinstance(input_size, bool) or not isinstance(input_size, numbers.Integral) \
            or input_size < 1:
        raise ValueError(f"input_size must be a positive int, got {input_size!r}")
    convolutions = []
    for layer in layers:
        kernel_size, stride, padding, dilation = _layer_settings(layer)
        convolution = nn.Conv2d(1, 1, kernel_size, stride, padding, dilation, bias=False)
        nn.init.ones_(convolution.weight)
        convolutions.append(convolution)
    image = torch.ones(1, 1, int(input_size), int(input_size), dtype=torch.float64,
                       requires_grad=True)
    out = image
    for convolution in convolutions:
        if min(out.shape[2:]) + 2 * convolution.padding[0] < \
                convolution.dilation[0] * (convolution.kernel_size[0] - 1) + 1:
            raise ValueError(f"input_size {input_size} is too small for these layers")
        out = convolution.double()(out)
    centre = out[0, 0, out.shape[2] // 2, out.shape[3] // 2]
    centre.backward()
    columns = image.grad[0, 0].abs().sum(dim=0)
    return int((columns != 0).sum())
    ### END SOLUTION
