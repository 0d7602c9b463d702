"""Visible checks of receptive_field.py: cases worked by hand and published networks.

Run ``pytest`` in this folder. Each case is a test of its own, named by its call, and a
failure says what was expected and what came back. The grader's hidden tests check many
more stacks and models.
"""

import numbers

import pytest
from receptive_field import RF, empirical_receptive_field, layers_from_model, receptive_field
from torch import nn

#: The optional settings of a layer mapping and their defaults.
DEFAULTS = {"stride": 1, "padding": 0, "dilation": 1}


def layer(kernel_size, stride=1, padding=0, dilation=1):
    """A layer mapping with every setting written out."""
    return {"kernel_size": kernel_size, "stride": stride, "padding": padding,
            "dilation": dilation}


def with_defaults(spec) -> dict:
    """``spec`` with the settings it leaves out filled in (the contract allows leaving them)."""
    return {"kernel_size": spec.get("kernel_size"),
            **{name: spec.get(name, default) for name, default in DEFAULTS.items()}}


CONV3 = {"kernel_size": 3}
POOL2 = layer(2, stride=2)
VGG16 = ([layer(3, padding=1)] * 2 + [POOL2]) * 2 + ([layer(3, padding=1)] * 3 + [POOL2]) * 3
# torchvision's ResNet-50: the stem, then bottlenecks 1x1, 3x3, 1x1 with the stride 2 on the
# 3x3 of the first block of stages 2 to 4.
RESNET50 = [layer(7, stride=2, padding=3), layer(3, stride=2, padding=1)] + [
    spec
    for stage, blocks in enumerate([3, 4, 6, 3])
    for block in range(blocks)
    for spec in (layer(1), layer(3, stride=2 if stage and not block else 1, padding=1), layer(1))
]
ALEXNET = [layer(11, stride=4, padding=2), layer(3, stride=2), layer(5, padding=2),
           layer(3, stride=2)] + [layer(3, padding=1)] * 3 + [layer(3, stride=2)]

#: receptive_field cases worked by hand: (call, layers, answer, why). Sizes grow by
#: (window - 1) * jump, the start by ((window - 1) / 2 - padding) * jump.
BY_HAND = [
    ("receptive_field([CONV3] * 3)", [CONV3] * 3,
     [RF(3, 1, 1.0), RF(5, 1, 2.0), RF(7, 1, 3.0)],
     "each 3x3 adds 2 pixels; no padding: unit 0 is centred on pixel 1, 2, 3"),
    ("receptive_field([layer(3, stride=2), CONV3])", [layer(3, stride=2), CONV3],
     [RF(3, 2, 1.0), RF(7, 2, 3.0)], "after stride 2 neighbours are 2 apart: 3 + 2 * 2"),
    ("receptive_field([POOL2, CONV3])", [POOL2, CONV3],
     [RF(2, 2, 0.5), RF(6, 2, 2.5)], "a 2x2 pool is centred between pixels 0 and 1"),
    ("receptive_field([layer(3, padding=1)] * 2)", [layer(3, padding=1)] * 2,
     [RF(3, 1, 0.0), RF(5, 1, 0.0)], "padding 1 keeps unit 0 on pixel 0"),
    ("receptive_field([layer(3, padding=2)])", [layer(3, padding=2)],
     [RF(3, 1, -1.0)], "padding 2: the first window is centred one pixel before the image"),
    ("receptive_field([layer(3, stride=2, padding=2), layer(3, padding=2)])",
     [layer(3, stride=2, padding=2), layer(3, padding=2)],
     [RF(3, 2, -1.0), RF(7, 2, -3.0)], "start -1 + (1 - 2) * 2 = -3"),
    ("receptive_field([layer(3, dilation=2)])", [layer(3, dilation=2)],
     [RF(5, 1, 2.0)], "taps 2 apart span 2 * (3 - 1) + 1 = 5 pixels"),
    ("receptive_field([CONV3, layer(3, dilation=2), layer(3, dilation=4)])",
     [CONV3, layer(3, dilation=2), layer(3, dilation=4)],
     [RF(3, 1, 1.0), RF(7, 1, 3.0), RF(15, 1, 7.0)], "windows 3, 5, 9: 3 + 4 + 8 = 15"),
]

#: Sizes published by Araujo, Norris and Sim (Distill, 2019), or computed the same way:
#: (call, layers, index of the layer, size, why).
PUBLISHED = [
    ("receptive_field(VGG16)[-1].size", VGG16, -1, 212, "VGG-16 after pool5"),
    ("receptive_field(VGG16)[-2].size", VGG16, -2, 196, "VGG-16 at conv5_3"),
    ("receptive_field(RESNET50)[-1].size", RESNET50, -1, 427,
     "ResNet-50 as torchvision lays it out (483 with the stride on the first 1x1)"),
    ("receptive_field(ALEXNET)[-1].size", ALEXNET, -1, 195, "AlexNet after its last pool"),
]

#: layers_from_model cases: (call, model, its layers, why).
MODELS = [
    ("layers_from_model(nested)",
     nn.Sequential(
         nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU()),
         nn.MaxPool2d(2),
         nn.Sequential(nn.Conv2d(8, 8, 3, padding=2, dilation=2), nn.ReLU(), nn.Dropout(0.5),
                       nn.Conv2d(8, 16, 5, stride=2)),
         nn.AvgPool2d(3, stride=1, padding=1)),
     [layer(3, padding=1), layer(2, stride=2), layer(3, padding=2, dilation=2),
      layer(5, stride=2), layer(3, padding=1)],
     "convolutions and poolings in order, inner Sequentials walked, ReLU, BatchNorm2d and "
     "Dropout skipped"),
    ("layers_from_model(nn.Sequential(nn.MaxPool2d(3)))",
     nn.Sequential(nn.MaxPool2d(3)), [layer(3, stride=3)],
     "a pooling's stride defaults to its kernel size"),
    ("layers_from_model(nn.Sequential(nn.Conv2d(1, 1, (3, 5), padding='same', dilation=2)))",
     nn.Sequential(nn.Conv2d(1, 1, (3, 5), padding="same", dilation=2)),
     [layer(3, padding=2, dilation=2)], "the height axis; 'same' pads 2 * (3 - 1) // 2"),
]

#: empirical_receptive_field cases worked by hand: (call, layers, input_size, answer, why).
EMPIRICAL = [
    ("empirical_receptive_field([CONV3] * 3, 15)", [CONV3] * 3, 15, 7,
     "no holes: the theoretical size"),
    ("empirical_receptive_field([layer(3, padding=1)] * 3, 15)", [layer(3, padding=1)] * 3,
     15, 7, "padding moves the field, it does not shrink the centre unit's"),
    ("empirical_receptive_field([layer(3, stride=2), CONV3], 15)",
     [layer(3, stride=2), CONV3], 15, 7, "windows 3 wide, 2 apart: no gap"),
    ("empirical_receptive_field([POOL2, CONV3], 16)", [POOL2, CONV3], 16, 6,
     "the theoretical size"),
    ("empirical_receptive_field([layer(3, dilation=2)], 9)", [layer(3, dilation=2)], 9, 3,
     "it spans 5 pixels but reads 3 of them"),
]

#: Invalid layers: (call, function, arguments, the name the ValueError must give).
INVALID = [
    ("receptive_field([{'kernel_size': 0}])", receptive_field, ([{"kernel_size": 0}],),
     "kernel_size"),
    ("receptive_field([layer(3, stride=0)])", receptive_field, ([layer(3, stride=0)],),
     "stride"),
    ("empirical_receptive_field([{'kernel_size': 0}], 9)", empirical_receptive_field,
     ([{"kernel_size": 0}], 9), "kernel_size"),
    ("empirical_receptive_field([layer(3, stride=0)], 9)", empirical_receptive_field,
     ([layer(3, stride=0)], 9), "stride"),
]


def ids(cases):
    return [case[0] for case in cases]


@pytest.mark.parametrize("call, layers, expected, why", BY_HAND, ids=ids(BY_HAND))
def test_receptive_field_by_hand(call, layers, expected, why):
    got = list(receptive_field(layers))
    floats = [field[0] for field in got if isinstance(field[0], float)]
    assert not floats, f"{call}: expected int sizes, got the float {floats[0]!r} (use //)"
    assert [tuple(field) for field in got] == [tuple(field) for field in expected], \
        f"{call}: expected {expected} ({why}), got {got}"


@pytest.mark.parametrize("call, layers, index, expected, why", PUBLISHED, ids=ids(PUBLISHED))
def test_receptive_field_of_a_published_network(call, layers, index, expected, why):
    got = receptive_field(layers)
    assert len(got) == len(layers), \
        f"{call}: expected one field per layer, {len(layers)}, got {len(got)}"
    assert got[index][0] == expected, f"{call}: expected {expected} ({why}), got {got[index][0]}"


@pytest.mark.parametrize("call, model, expected, why", MODELS, ids=ids(MODELS))
def test_layers_from_model(call, model, expected, why):
    got = [with_defaults(spec) for spec in layers_from_model(model)]
    assert len(got) == len(expected), \
        f"{call}: expected {len(expected)} layers ({why}), got {len(got)}: {got}"
    for index, (got_layer, expected_layer) in enumerate(zip(got, expected, strict=True)):
        assert got_layer == expected_layer, \
            f"{call}: layer {index}: expected {expected_layer} ({why}), got {got_layer}"


@pytest.mark.parametrize("call, layers, input_size, expected, why", EMPIRICAL,
                         ids=ids(EMPIRICAL))
def test_empirical_receptive_field(call, layers, input_size, expected, why):
    got = empirical_receptive_field(layers, input_size)
    assert isinstance(got, numbers.Integral) and not isinstance(got, bool), \
        f"{call}: expected the int {expected}, got {got!r} (use int(...))"
    assert got == expected, f"{call}: expected {expected} ({why}), got {got}"


@pytest.mark.parametrize("call, function, args, naming", INVALID, ids=ids(INVALID))
def test_invalid_layer_raises_value_error_naming_the_setting(call, function, args, naming):
    with pytest.raises(ValueError, match=naming):
        function(*args)
