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
    raise NotImplementedError("receptive_field: your code here")


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
    raise NotImplementedError("layers_from_model: your code here")


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
    raise NotImplementedError("empirical_receptive_field: your code here")
