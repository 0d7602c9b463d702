"""Visible checks of resnet.py: the two convolutions, the blocks, and the three networks.

Run ``pytest`` in this folder. Each case is a test of its own, named by its call, and a
failure says what was expected and what came back. Small widths and images keep it quick.
The grader's hidden tests check more cases, and compare your outputs with the reference's
on the same weights.
"""

import functools

import pytest
import torch
from resnet import BasicBlock, Bottleneck, conv1x1, conv3x3, resnet18, resnet34, resnet50
from torch import nn

#: conv3x3 / conv1x1 cases: (call, function, arguments, the settings expected).
CONVOLUTIONS = [
    ("conv3x3(4, 8)", conv3x3, (4, 8),
     {"in_channels": 4, "out_channels": 8, "kernel_size": (3, 3), "stride": (1, 1),
      "padding": (1, 1), "bias": None}),
    ("conv3x3(4, 8, stride=2)", conv3x3, (4, 8, 2),
     {"in_channels": 4, "out_channels": 8, "kernel_size": (3, 3), "stride": (2, 2),
      "padding": (1, 1), "bias": None}),
    ("conv1x1(4, 8)", conv1x1, (4, 8),
     {"in_channels": 4, "out_channels": 8, "kernel_size": (1, 1), "stride": (1, 1),
      "padding": (0, 0), "bias": None}),
    ("conv1x1(4, 8, stride=2)", conv1x1, (4, 8, 2),
     {"in_channels": 4, "out_channels": 8, "kernel_size": (1, 1), "stride": (2, 2),
      "padding": (0, 0), "bias": None}),
]

#: The four kinds of BasicBlock, on inputs (2, in_channels, 8, 8): (call, arguments, output
#: shape, whether the shortcut is the identity).
BASIC_BLOCKS = [
    ("BasicBlock(8, 8)", (8, 8, 1), (2, 8, 8, 8), True),
    ("BasicBlock(8, 16)", (8, 16, 1), (2, 16, 8, 8), False),
    ("BasicBlock(8, 8, stride=2)", (8, 8, 2), (2, 8, 4, 4), False),
    ("BasicBlock(8, 16, stride=2)", (8, 16, 2), (2, 16, 4, 4), False),
]

#: Bottlenecks, on inputs (2, in_channels, 8, 8): (call, arguments, output shape).
BOTTLENECKS = [
    ("Bottleneck(16, 4)", (16, 4, 1), (2, 16, 8, 8)),
    ("Bottleneck(8, 4)", (8, 4, 1), (2, 16, 8, 8)),
    ("Bottleneck(16, 8, stride=2)", (16, 8, 2), (2, 32, 4, 4)),
]

#: The convolutions of Bottleneck(16, 8, stride=2), torchvision's layout: (child, kernel
#: size, stride, output channels).
BOTTLENECK_LAYOUT = [
    ("conv1", (1, 1), (1, 1), 8),
    ("conv2", (3, 3), (2, 2), 8),
    ("conv3", (1, 1), (1, 1), 32),
]

#: Blocks whose output must be >= 0 (the ReLU comes after the addition): (call, block,
#: input channels).
RELU_LAST = [
    ("BasicBlock(8, 8)", lambda: BasicBlock(8, 8), 8),
    ("BasicBlock(8, 16, stride=2)", lambda: BasicBlock(8, 16, 2), 8),
    ("Bottleneck(16, 4)", lambda: Bottleneck(16, 4), 16),
]

#: torchvision's parameter counts with 1000 classes: (call, factory, count).
PARAMETERS = [
    ("resnet18()", resnet18, 11_689_512),
    ("resnet34()", resnet34, 21_797_672),
    ("resnet50()", resnet50, 25_557_032),
]

#: The first keys of torchvision's resnet18 state dict: the stem, then layer1's first block.
FIRST_KEYS = ["conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var",
              "bn1.num_batches_tracked", "layer1.0.conv1.weight", "layer1.0.bn1.weight"]

#: Keys that resnet18's state dict has, or has not: (key, whether it is there, why).
KEYS = [
    ("layer2.0.downsample.0.weight", True, "layer2's first block halves the size: a 1x1 conv"),
    ("layer1.0.downsample.0.weight", False, "layer1 keeps 64 channels and the size: identity"),
    ("fc.weight", True, "the classifier"),
]


def ids(cases):
    return [case[0] for case in cases]


def settings(conv) -> dict:
    """What matters of a convolution, with its bias as None or its shape."""
    return {"in_channels": conv.in_channels, "out_channels": conv.out_channels,
            "kernel_size": conv.kernel_size, "stride": conv.stride, "padding": conv.padding,
            "bias": None if conv.bias is None else tuple(conv.bias.shape)}


@functools.cache
def resnet18_keys() -> tuple:
    torch.manual_seed(0)
    return tuple(resnet18().state_dict())


@pytest.mark.parametrize("call, function, args, expected", CONVOLUTIONS, ids=ids(CONVOLUTIONS))
def test_convolution_settings(call, function, args, expected):
    conv = function(*args)
    assert isinstance(conv, nn.Conv2d), f"{call}: expected an nn.Conv2d, got {conv!r}"
    got = settings(conv)
    for name, value in expected.items():
        assert got[name] == value, f"{call}: expected {name} {value}, got {got[name]}"


@pytest.mark.parametrize("call, args, expected, identity", BASIC_BLOCKS, ids=ids(BASIC_BLOCKS))
def test_basic_block_shape_and_downsample(call, args, expected, identity):
    torch.manual_seed(0)
    block = BasicBlock(*args)
    with torch.no_grad():
        got = tuple(block(torch.randn(2, args[0], 8, 8)).shape)
    assert got == expected, f"{call} on (2, {args[0]}, 8, 8): expected {expected}, got {got}"
    wanted = "None (the identity)" if identity else "a 1x1 conv and a BatchNorm"
    downsample = block.downsample
    is_identity = downsample is None
    have = "None (the identity)" if is_identity else (
        f"{type(downsample).__name__}"
        f"({', '.join(type(child).__name__ for child in downsample.children())})")
    assert is_identity == identity, f"{call}.downsample: expected {wanted}, got {have}"


@pytest.mark.parametrize("call, args, expected", BOTTLENECKS, ids=ids(BOTTLENECKS))
def test_bottleneck_output_shape(call, args, expected):
    torch.manual_seed(0)
    block = Bottleneck(*args)
    with torch.no_grad():
        got = tuple(block(torch.randn(2, args[0], 8, 8)).shape)
    assert got == expected, f"{call} on (2, {args[0]}, 8, 8): expected {expected}, got {got}"


def test_bottleneck_layout_stride_on_the_3x3():
    block = Bottleneck(16, 8, 2)
    for child, kernel_size, stride, out_channels in BOTTLENECK_LAYOUT:
        conv = getattr(block, child)
        got = (conv.kernel_size, conv.stride, conv.out_channels)
        expected = (kernel_size, stride, out_channels)
        assert got == expected, (f"Bottleneck(16, 8, stride=2).{child} (kernel_size, stride, "
                                 f"out_channels): expected {expected}, got {got}")


@pytest.mark.parametrize("call, make, channels", RELU_LAST, ids=ids(RELU_LAST))
def test_relu_after_the_addition(call, make, channels):
    torch.manual_seed(0)
    block = make()
    with torch.no_grad():
        smallest = block(torch.randn(2, channels, 8, 8)).min().item()
    assert smallest >= 0, (f"{call}(x).min(): expected >= 0 (the ReLU comes after the "
                           f"addition), got {smallest:.3g}")


@pytest.mark.parametrize("call, factory, expected", PARAMETERS, ids=ids(PARAMETERS))
def test_parameter_count(call, factory, expected):
    got = sum(parameter.numel() for parameter in factory().parameters())
    assert got == expected, f"{call} parameters: expected {expected:,}, got {got:,}"


def test_resnet18_ten_classes_on_small_images():
    call = "resnet18(num_classes=10)(torch.randn(2, 3, 64, 64)).shape"
    torch.manual_seed(0)
    model = resnet18(num_classes=10).eval()
    with torch.no_grad():
        got = tuple(model(torch.randn(2, 3, 64, 64)).shape)
    assert got == (2, 10), f"{call}: expected (2, 10), got {got}"


def test_resnet18_state_dict_starts_as_torchvision():
    got = list(resnet18_keys()[:len(FIRST_KEYS)])
    assert got == FIRST_KEYS, \
        f"list(resnet18().state_dict())[:{len(FIRST_KEYS)}]: expected {FIRST_KEYS}, got {got}"


@pytest.mark.parametrize("key, expected, why", KEYS,
                         ids=[f"'{case[0]}' in resnet18().state_dict()" for case in KEYS])
def test_resnet18_state_dict_keys(key, expected, why):
    got = key in resnet18_keys()
    assert got == expected, \
        f"'{key}' in resnet18().state_dict(): expected {expected} ({why}), got {got}"
