"""ResNet in PyTorch: the residual blocks and the networks built from them.

A residual block computes ``relu(F(x) + shortcut(x))``: its layers ``F`` learn only what
must be *added* to the input, and the addition gives the gradient a path around them (the
"bridge"), so that very deep networks still train. Where the block changes the size (a
stride) or the number of channels, the shortcut is a 1x1 convolution with that stride and a
BatchNorm (``downsample``); elsewhere it is the identity (``downsample = None``).

Names follow torchvision (``conv1``, ``bn1``, ``layer1``, ``downsample``, ``fc``...), so the
state dict of a torchvision ResNet loads into these classes with ``strict=True``. Each
convolution is followed by a BatchNorm, and the ReLU comes after it (after the addition, at
the end of a block). Convolutions have no bias: the BatchNorm after them has one.

``DEVICE`` is picked once: ``cuda`` where a GPU is available, else ``cpu``; the environment
variable ``CNNLAB_DEVICE`` overrides it.

The functions and classes graded are ``conv3x3``, ``conv1x1``, ``BasicBlock``,
``Bottleneck``, ``ResNet`` and ``resnet18``, ``resnet34``, ``resnet50``.
"""

from __future__ import annotations

import os

import torch
from torch import nn

#: Where the notebook runs the networks: ``CNNLAB_DEVICE`` if set, else a GPU if any.
DEVICE = torch.device(os.environ.get("CNNLAB_DEVICE")
                      or ("cuda" if torch.cuda.is_available() else "cpu"))


def conv3x3(in_channels: int, out_channels: int, stride: int = 1) -> nn.Conv2d:
    """A 3x3 convolution, padding 1 (the size is kept at stride 1, halved at stride 2), no
    bias."""
    raise NotImplementedError("conv3x3: your code here")


def conv1x1(in_channels: int, out_channels: int, stride: int = 1) -> nn.Conv2d:
    """A 1x1 convolution (it mixes channels, pixel by pixel), no bias."""
    raise NotImplementedError("conv1x1: your code here")


def shortcut(in_channels: int, out_channels: int, stride: int) -> nn.Sequential | None:
    """The ``downsample`` of a block: None where the input can be added as it is, else a 1x1
    convolution carrying the stride, then a BatchNorm (given)."""
    if stride == 1 and in_channels == out_channels:
        return None
    return nn.Sequential(conv1x1(in_channels, out_channels, stride),
                         nn.BatchNorm2d(out_channels))


class BasicBlock(nn.Module):
    """Two 3x3 convolutions and a shortcut (ResNet-18 and -34).

    ``x (N, in_channels, H, W) -> (N, out_channels, H / stride, W / stride)``::

        out = relu(bn1(conv1(x)))        # conv1 carries the stride
        out = bn2(conv2(out))
        out = relu(out + shortcut(x))    # shortcut: x, or downsample(x)

    Children: ``conv1, bn1, relu, conv2, bn2, downsample``.
    """

    expansion = 1

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__()
        raise NotImplementedError("__init__: your code here")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError("forward: your code here")


class Bottleneck(nn.Module):
    """1x1 (narrow to ``width``), 3x3 (carries the stride), 1x1 (widen to ``4 * width``), and a
    shortcut (ResNet-50 and deeper).

    ``x (N, in_channels, H, W) -> (N, 4 * width, H / stride, W / stride)``. The stride on the
    3x3 is torchvision's layout ("ResNet v1.5"); the original paper put it on the first 1x1.

    Children: ``conv1, bn1, conv2, bn2, conv3, bn3, relu, downsample``.
    """

    expansion = 4

    def __init__(self, in_channels: int, width: int, stride: int = 1) -> None:
        super().__init__()
        raise NotImplementedError("__init__: your code here")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError("forward: your code here")


class ResNet(nn.Module):
    """The stem, four stages of blocks, global average pooling and a linear classifier.

    - stem: ``conv1`` (7x7, stride 2, padding 3, 64 channels, no bias), ``bn1``, ``relu``,
      ``maxpool`` (3x3, stride 2, padding 1);
    - ``layer1`` ... ``layer4``: ``nn.Sequential``s of ``layers[i]`` blocks, widths 64, 128,
      256, 512; the first block of ``layer2`` to ``layer4`` has stride 2;
    - ``avgpool`` (``nn.AdaptiveAvgPool2d(1)``), then ``fc``, a ``nn.Linear`` from
      ``512 * block.expansion`` features to ``num_classes``.

    Inputs of ``forward``: ``x (N, in_channels, H, W)``; returns ``(N, num_classes)`` scores.
    """

    def __init__(self, block: type[nn.Module], layers: list[int], num_classes: int = 1000,
                 in_channels: int = 3) -> None:
        super().__init__()
        raise NotImplementedError("__init__: your code here")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError("forward: your code here")


def resnet18(num_classes: int = 1000) -> ResNet:
    """ResNet-18: basic blocks, 2 per stage (11,689,512 parameters with 1000 classes)."""
    raise NotImplementedError("resnet18: your code here")


def resnet34(num_classes: int = 1000) -> ResNet:
    """ResNet-34: basic blocks, 3, 4, 6, 3 per stage (21,797,672 parameters)."""
    raise NotImplementedError("resnet34: your code here")


def resnet50(num_classes: int = 1000) -> ResNet:
    """ResNet-50: bottlenecks, 3, 4, 6, 3 per stage (25,557,032 parameters)."""
    raise NotImplementedError("resnet50: your code here")
