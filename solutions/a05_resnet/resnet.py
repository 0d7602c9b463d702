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
    ### BEGIN SOLUTION
    return nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
    ### END SOLUTION


def conv1x1(in_channels: int, out_channels: int, stride: int = 1) -> nn.Conv2d:
    """A 1x1 convolution (it mixes channels, pixel by pixel), no bias."""
    ### BEGIN SOLUTION
    return nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False)
    ### END SOLUTION


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
        ### BEGIN SOLUTION
        self.conv1 = conv3x3(in_channels, out_channels, stride)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(out_channels, out_channels)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.downsample = shortcut(in_channels, out_channels, stride)
        ### END SOLUTION

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ### BEGIN SOLUTION
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)
        ### END SOLUTION


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
        ### BEGIN SOLUTION
        out_channels = width * self.expansion
        self.conv1 = conv1x1(in_channels, width)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = conv3x3(width, width, stride)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = conv1x1(width, out_channels)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = shortcut(in_channels, out_channels, stride)
        ### END SOLUTION

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ### BEGIN SOLUTION
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)
        ### END SOLUTION


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
        ### BEGIN SOLUTION
        self.conv1 = nn.Conv2d(in_channels, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        channels = 64
        for stage, (width, blocks) in enumerate(zip((64, 128, 256, 512), layers, strict=True)):
            stride = 1 if stage == 0 else 2
            stage_blocks = []
            for index in range(blocks):
                stage_blocks.append(block(channels, width, stride if index == 0 else 1))
                channels = width * block.expansion
            setattr(self, f"layer{stage + 1}", nn.Sequential(*stage_blocks))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(channels, num_classes)
        ### END SOLUTION

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ### BEGIN SOLUTION
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))
        ### END SOLUTION


def resnet18(num_classes: int = 1000) -> ResNet:
    """ResNet-18: basic blocks, 2 per stage (11,689,512 parameters with 1000 classes)."""
    ### BEGIN SOLUTION
    return ResNet(BasicBlock, [2, 2, 2, 2], num_classes)
    ### END SOLUTION


def resnet34(num_classes: int = 1000) -> ResNet:
    """ResNet-34: basic blocks, 3, 4, 6, 3 per stage (21,797,672 parameters)."""
    ### BEGIN SOLUTION
    return ResNet(BasicBlock, [3, 4, 6, 3], num_classes)
    ### END SOLUTION


def resnet50(num_classes: int = 1000) -> ResNet:
    """ResNet-50: bottlenecks, 3, 4, 6, 3 per stage (25,557,032 parameters)."""
    ### BEGIN SOLUTION
    return ResNet(Bottleneck, [3, 4, 6, 3], num_classes)
    ### END SOLUTION
