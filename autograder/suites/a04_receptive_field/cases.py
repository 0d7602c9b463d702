"""Cases and oracles for the a04_receptive_field hidden suite.

A layer is a dict with ``kernel_size`` and, where not at its default, ``stride``,
``padding`` and ``dilation`` (one axis). Stacks are drawn fresh from the test's ``rng``.

The oracles do not use the recurrences of the reference: they follow the input positions
that a unit depends on, back through the layers, as sets of integers.

- ``reachable_field``: for unit 0 on an unbounded input, the lowest and highest input
  position it depends on give ``size`` and ``start``; ``jump`` is the product of strides.
- ``reachable_columns``: for the centre unit of a finite input, the distinct input columns it
  depends on, which are those a gradient measured with autograd reaches (``reachable_count``
  counts them).
"""

from __future__ import annotations

import numpy as np

from autograder.harness import Case

#: Stacks drawn per family.
N_STACKS = 12
DEFAULTS = {"stride": 1, "padding": 0, "dilation": 1}


def draw(rng: np.random.Generator, low: int, high: int) -> int:
    """An int in ``[low, high]``, both included."""
    return int(rng.integers(low, high + 1))


def layer(kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> dict:
    """A layer dict, its settings at their defaults left out (the contract allows it)."""
    settings = {"kernel_size": kernel_size, "stride": stride, "padding": padding,
                "dilation": dilation}
    return {name: value for name, value in settings.items()
            if name == "kernel_size" or value != DEFAULTS[name]}


def settings(one: dict) -> tuple[int, int, int, int]:
    """``(kernel_size, stride, padding, dilation)`` of a layer dict, defaults filled in."""
    return (int(one["kernel_size"]), *(int(one.get(name, default))
                                       for name, default in DEFAULTS.items()))


def draw_stack(rng: np.random.Generator, *, depth: tuple[int, int] = (1, 5),
               strides: bool = False, padding: bool = False, dilation: bool = False,
               pools: bool = False) -> list[dict]:
    """A stack of ``depth`` layers: 1..5 kernels, and strides 1..3, paddings 0..3,
    dilations 1..3 and 2x2 (or 3x3 stride-2) pools where asked."""
    stack = []
    for _ in range(draw(rng, *depth)):
        if pools and rng.random() < 0.3:
            stack.append(layer(2, 2) if rng.random() < 0.5 else layer(3, 2, 1))
            continue
        stack.append(layer(draw(rng, 1, 5), draw(rng, 1, 3) if strides else 1,
                           draw(rng, 0, 3) if padding else 0,
                           draw(rng, 1, 3) if dilation else 1))
    return stack


def conv(kernel_size: int, stride: int = 1, padding: int = 0) -> dict:
    return layer(kernel_size, stride, padding)


def vgg16() -> list[dict]:
    """VGG-16's feature stack: 13 3x3 convolutions in 5 blocks, each block ending in a 2x2
    max pool; 212 pixels (196 at conv5_3, before the last pool)."""
    stack = []
    for convolutions in (2, 2, 3, 3, 3):
        stack += [conv(3, 1, 1)] * convolutions + [conv(2, 2)]
    return stack


def alexnet() -> list[dict]:
    """AlexNet's feature stack (torchvision's): 195 pixels."""
    return [conv(11, 4, 2), conv(3, 2), conv(5, 1, 2), conv(3, 2), conv(3, 1, 1),
            conv(3, 1, 1), conv(3, 1, 1), conv(3, 2)]


def resnet50(stride_on_3x3: bool) -> list[dict]:
    """ResNet-50's longest path: the stem, then 1x1, 3x3, 1x1 per bottleneck. With the
    stride on the 3x3 (torchvision's, a05's layout) 427 pixels; on the first 1x1 (the
    original paper's) 483."""
    stack = [conv(7, 2, 3), conv(3, 2, 1)]
    for stage, blocks in enumerate((3, 4, 6, 3)):
        for block in range(blocks):
            stride = 2 if block == 0 and stage > 0 else 1
            if stride_on_3x3:
                stack += [conv(1), conv(3, stride, 1), conv(1)]
            else:
                stack += [conv(1, stride), conv(3, 1, 1), conv(1)]
    return stack


#: The published figures (Araujo, Norris and Sim, Distill 2019) as cases: name -> stack.
PUBLISHED = {
    "AlexNet (195)": alexnet(),
    "VGG-16 (212)": vgg16(),
    "VGG-16 up to conv5_3 (196)": vgg16()[:-1],
    "ResNet-50, torchvision's layout, stride on the 3x3 (427)": resnet50(True),
    "ResNet-50, the original layout, stride on the first 1x1 (483)": resnet50(False),
}


def stack_case(stack: list[dict], note: str = "", **options) -> Case:
    return Case({"layers": stack}, options, note)


# -- oracles ------------------------------------------------------------------------------


def reachable_field(case: Case) -> list[tuple[int, int, float]]:
    """``(size, jump, start)`` after each layer, from the input positions that unit 0 of
    the layer depends on (on an input without borders)."""
    fields, stack = [], case.inputs["layers"]
    for depth in range(1, len(stack) + 1):
        positions = {0}
        for kernel_size, stride, padding, dilation in map(settings, reversed(stack[:depth])):
            positions = {unit * stride - padding + tap * dilation
                         for unit in positions for tap in range(kernel_size)}
        jump = int(np.prod([settings(one)[1] for one in stack[:depth]]))
        low, high = min(positions), max(positions)
        fields.append((high - low + 1, jump, (low + high) / 2))
    return fields


def output_sizes(stack: list[dict], input_size: int) -> list[int]:
    """The size of the input and of each layer's output, on one axis."""
    sizes = [input_size]
    for kernel_size, stride, padding, dilation in map(settings, stack):
        sizes.append((sizes[-1] + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1)
    return sizes


def reachable_columns(stack: list[dict], input_size: int,
                      centre: int | None = None) -> set[int]:
    """The input columns that the output unit ``centre`` (default: the middle one,
    ``size // 2``) depends on, inside the input."""
    sizes = output_sizes(stack, input_size)
    positions = {sizes[-1] // 2 if centre is None else centre}
    for (kernel_size, stride, padding, dilation), size in zip(
            map(settings, reversed(stack)), reversed(sizes[:-1]), strict=True):
        positions = {unit * stride - padding + tap * dilation for unit in positions
                     for tap in range(kernel_size)}
        positions = {p for p in positions if 0 <= p < size}
    return positions


def reachable_count(stack: list[dict], input_size: int, centre: int | None = None) -> int:
    """How many input columns the output unit ``centre`` (default: the middle one) depends
    on, inside the input."""
    return len(reachable_columns(stack, input_size, centre))


def span(columns: set[int]) -> int:
    """How many columns lie from the first of ``columns`` to the last, both included."""
    return max(columns) - min(columns) + 1


def has_holes(stack: list[dict], input_size: int) -> bool:
    """Whether some input column between the first and the last that the centre unit
    depends on is one it does not depend on."""
    columns = reachable_columns(stack, input_size)
    return len(columns) < span(columns)


def empirical_oracle(case: Case) -> int:
    return reachable_count(case.inputs["layers"], case.inputs["input_size"])


def measurable(stack: list[dict], input_size: int) -> bool:
    """Whether the stack gives a non-empty output on ``input_size`` pixels and the count
    does not depend on which of the two middle units is "the centre" (an even output)."""
    sizes = output_sizes(stack, input_size)
    if min(sizes) < 1:
        return False
    last = sizes[-1]
    return reachable_count(stack, input_size, last // 2) == \
        reachable_count(stack, input_size, (last - 1) // 2)
