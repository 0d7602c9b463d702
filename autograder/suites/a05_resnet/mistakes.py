"""The mistakes the a05_resnet suite recognises (see ``autograder.diagnose``).

Most are seen in a module's structure, by the checks of ``cases`` (a shortcut where none is
needed, the stride on the wrong convolution, a stage with too many blocks), which raise
``diagnosed`` with them. Those that only the numbers show are recognised by their answers:
the reference's module, with the student's weights, run the way the mistake runs it (the
ReLU before the addition, the last BatchNorm skipped, the max pooling skipped...). Such an
answer takes a ``forward_case``: the input ``x``, the reference module and the mode.

A mistake that changes the state dict's shapes (channels not multiplied by the expansion)
is recognised by the shapes of the reference built the way the mistake builds it
(``SHAPE_VARIANTS``).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from functools import partial

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from autograder.diagnose import Mistake
from autograder.harness import Case


def forward_case(module: nn.Module, x: np.ndarray, train: bool) -> Case:
    """The forward pass of the reference ``module`` (float64, the student's weights) on
    ``x``, in training or evaluation mode, as a mistake's answer takes it."""
    return Case(inputs={"x": x}, options={"module": module, "train": train})


def _is_block(module: nn.Module) -> bool:
    return all(hasattr(module, name) for name in ("conv1", "bn1", "conv2", "bn2",
                                                  "downsample"))


def _block_forward(block: nn.Module, x: torch.Tensor, *, last_norm: bool = True,
                   relu_before: bool = False, add: bool = True,
                   relu_after: bool = True) -> torch.Tensor:
    """A residual block's forward pass, changed: the last BatchNorm skipped, a ReLU before
    the addition, no addition, no ReLU after it."""
    layers = [(block.conv1, block.bn1), (block.conv2, block.bn2)]
    if hasattr(block, "conv3"):
        layers.append((block.conv3, block.bn3))
    identity = x if block.downsample is None else block.downsample(x)
    out = x
    for index, (conv, norm) in enumerate(layers):
        last = index == len(layers) - 1
        out = conv(out)
        if last_norm or not last:
            out = norm(out)
        if not last:
            out = F.relu(out)
    if relu_before:
        out = F.relu(out)
    if add:
        out = out + identity
    return F.relu(out) if relu_after else out


def _run(case: Case, change: Callable[[nn.Module], None]) -> np.ndarray:
    """The reference module of ``case``, copied and changed by ``change``, on its input."""
    module = copy.deepcopy(case.options["module"]).train(case.options["train"])
    change(module)
    with torch.no_grad():
        return module(torch.from_numpy(case.inputs["x"])).numpy()


def blocks_changed(**recipe) -> Callable[[Case], np.ndarray]:
    """The answer of a module (a block, or a network of blocks) whose every residual block
    runs as ``_block_forward(**recipe)``."""
    def change(module: nn.Module) -> None:
        for sub in module.modules():
            if _is_block(sub):
                sub.forward = partial(_block_forward, sub, **recipe)
    return lambda case: _run(case, change)


def _without(name: str) -> Callable[[Case], np.ndarray]:
    """The answer of a network whose child ``name`` is skipped."""
    return lambda case: _run(case, lambda module: setattr(module, name, nn.Identity()))


# -- the blocks' forward pass -------------------------------------------------------------

RELU_BEFORE_ADDITION = Mistake(
    "relu before the addition",
    "the ReLU is applied to the block's branch before the shortcut is added, so the block "
    "can output negative values", "a residual block's last step comes after the shortcut "
    "joins the branch: look at where its output can be negative",
    blocks_changed(relu_before=True, relu_after=False))
NO_RELU_AFTER_ADDITION = Mistake(
    "no relu after the addition", "the block returns the sum of the branch and the shortcut "
    "without a ReLU", "compare the block's last line with the diagram: what is applied to "
    "the sum?", blocks_changed(relu_after=False))
#: Negative outputs, where no known answer matched: the last step is not a ReLU.
NEGATIVE_OUTPUT = Mistake(
    "no relu after the addition", "the block's last step is not a ReLU of the sum of the "
    "branch and the shortcut", "compare the order of the block's last steps with the "
    "diagram")
EXTRA_RELU = Mistake(
    "extra relu before the addition", "the branch goes through a ReLU after its last "
    "BatchNorm, before the shortcut is added (as well as after)", "in a residual block the "
    "last BatchNorm's output is added to the shortcut as it is: count the ReLUs in the "
    "diagram", blocks_changed(relu_before=True))
LAST_NORM_SKIPPED = Mistake(
    "last batchnorm skipped", "the branch's last convolution is added to the shortcut "
    "without its BatchNorm (the layer is created but not used in forward)",
    "every convolution of the branch is followed by its BatchNorm: check forward, layer by "
    "layer", blocks_changed(last_norm=False))
SHORTCUT_NOT_ADDED = Mistake(
    "shortcut not added", "the shortcut (the input, or downsample of it) is never added to "
    "the branch: the block is a plain stack of convolutions", "the 'residual' of a residual "
    "block: where does the input come back in?", blocks_changed(add=False))

BLOCK_FORWARD = (RELU_BEFORE_ADDITION, NO_RELU_AFTER_ADDITION, EXTRA_RELU, LAST_NORM_SKIPPED,
                 SHORTCUT_NOT_ADDED)

# -- the blocks' structure ----------------------------------------------------------------

STRIDE_ON_THE_WRONG_CONV = Mistake(
    "stride on the wrong conv", "the stride is on another convolution than the one that "
    "carries it in torchvision's layout", "read which convolution the class's docstring "
    "says carries the stride")
DOWNSAMPLE_MISSING = Mistake(
    "downsample missing", "the block has no downsample although its output has another "
    "size or another number of channels than its input", "the input can be added as it is "
    "only when both the stride is 1 and the number of channels stays the same")
DOWNSAMPLE_NOT_NEEDED = Mistake(
    "downsample not needed", "the block has a downsample although the input can be added "
    "as it is", "a 1x1 convolution on the shortcut is only needed when the size or the "
    "number of channels changes")
SHORTCUT_WITHOUT_BATCHNORM = Mistake(
    "shortcut without batchnorm", "the downsample is a 1x1 convolution without the "
    "BatchNorm2d after it", "every convolution of a ResNet, the shortcut's too, is followed "
    "by a BatchNorm")
STATISTICS_NOT_UPDATED = Mistake(
    "batchnorm statistics not updated", "a BatchNorm layer does not update its running mean "
    "and variance in training mode (a momentum of 0, or no running statistics)",
    "in evaluation mode the network uses what training mode accumulated: check the "
    "settings of your BatchNorm2d layers")
EXPANSION_FORGOTTEN = Mistake(
    "expansion forgotten", "the channels are not multiplied by the block's expansion (4 for "
    "a bottleneck): the block's output, or the next layer's input, has width channels "
    "instead of expansion * width", "follow the number of channels through the bottleneck "
    "and from one block to the next")

# -- the networks ---------------------------------------------------------------------------

WRONG_NUMBER_OF_BLOCKS = Mistake(
    "wrong number of blocks", "a stage holds another number of blocks than asked for",
    "stage i holds layers[i] blocks; check the list each network passes, and the loop that "
    "builds a stage")
MAXPOOL_SKIPPED = Mistake(
    "maxpool skipped", "the stem's max pooling is not applied in forward", "the stem is "
    "conv1, bn1, relu and maxpool, in that order", _without("maxpool"))


class _Blocks:
    """What a network takes as its block class: builds ``make(in_channels, width, stride)``
    and tells the network the ``expansion`` to count channels with."""

    def __init__(self, make: Callable, expansion: int) -> None:
        self.make, self.expansion = make, expansion

    def __call__(self, *args) -> nn.Module:
        return self.make(*args)


def unexpanded(block: type) -> type:
    """``block`` (the reference's Bottleneck) with its output channels not multiplied by 4."""
    return type(block.__name__, (block,), {"expansion": 1})


def with_downsample(rule: Callable) -> Callable[[type], type]:
    """A changer of a block class: its ``downsample`` is ``rule(in_channels, out_channels,
    stride)`` (the mistake's) instead of the right one."""
    def change(block: type) -> type:
        def __init__(self, in_channels: int, channels: int, stride: int = 1) -> None:
            block.__init__(self, in_channels, channels, stride)
            self.downsample = rule(in_channels, channels * block.expansion, stride)
        return type(block.__name__, (block,), {"__init__": __init__})
    return change


def _conv1x1(in_channels: int, out_channels: int, stride: int) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False)


def _needed(in_channels: int, out_channels: int, stride: int) -> bool:
    return stride != 1 or in_channels != out_channels


ALWAYS_A_DOWNSAMPLE = with_downsample(lambda i, o, s: nn.Sequential(_conv1x1(i, o, s),
                                                                    nn.BatchNorm2d(o)))
DOWNSAMPLE_ONLY_FOR_A_STRIDE = with_downsample(
    lambda i, o, s: nn.Sequential(_conv1x1(i, o, s), nn.BatchNorm2d(o)) if s != 1 else None)
DOWNSAMPLE_WITHOUT_BATCHNORM = with_downsample(
    lambda i, o, s: nn.Sequential(_conv1x1(i, o, s)) if _needed(i, o, s) else None)


def network(reference, block: str, layers: list, kwargs: dict, *,
            change: Callable[[type], type] | None = None, expansion: int | None = None,
            classifier: int | None = None) -> nn.Module:
    """The reference's ResNet built the way a mistake builds it: its blocks' class changed by
    ``change``, the channels counted with ``expansion``, a classifier of ``classifier``
    features."""
    cls = getattr(reference, block)
    made = cls if change is None else change(cls)
    model = reference.ResNet(_Blocks(made, cls.expansion if expansion is None else expansion),
                             layers, **kwargs)
    if classifier is not None:
        model.fc = nn.Linear(classifier, model.fc.out_features)
    return model


#: The networks the factories build: the block and the blocks per stage.
FACTORIES = {"resnet18": ("BasicBlock", [2, 2, 2, 2]), "resnet34": ("BasicBlock", [3, 4, 6, 3]),
             "resnet50": ("Bottleneck", [3, 4, 6, 3])}


def network_variant(blocks: tuple[str, ...] = ("BasicBlock", "Bottleneck"), **how) -> Callable:
    """The variant ``network(**how)`` of ``ResNet(block, layers, ...)`` or of a factory
    (``FACTORIES``), for networks of ``blocks`` only (None for the others)."""
    def variant(reference, name: str, args: tuple, kwargs: dict) -> nn.Module | None:
        if name in FACTORIES:
            block, layers = FACTORIES[name]
            kwargs = {"num_classes": 1000, **kwargs}
        else:
            block, layers = args
        return network(reference, block, layers, kwargs, **how) if block in blocks else None
    return variant


def block_variant(change: Callable[[type], type]) -> Callable:
    """The variant of a block ``name(*args)`` whose class ``change`` changed."""
    return lambda reference, name, args, kwargs: change(getattr(reference, name))(*args,
                                                                                     **kwargs)


#: Mistakes seen in the state dict's shapes, each with the module the mistake builds
#: (``variant(reference, name, args, kwargs)``, None where it builds the right one). A
#: network's list holds its blocks' mistakes too: it is built with the student's blocks.
SHAPE_VARIANTS = {
    "Bottleneck": ((EXPANSION_FORGOTTEN, block_variant(unexpanded)),),
    **{name: ((EXPANSION_FORGOTTEN, network_variant(("Bottleneck",), expansion=1)),
              (EXPANSION_FORGOTTEN, network_variant(("Bottleneck",), classifier=512)),
              (EXPANSION_FORGOTTEN, network_variant(("Bottleneck",), change=unexpanded)),
              (DOWNSAMPLE_NOT_NEEDED, network_variant(change=ALWAYS_A_DOWNSAMPLE)),
              (SHORTCUT_WITHOUT_BATCHNORM, network_variant(change=DOWNSAMPLE_WITHOUT_BATCHNORM)),
              (DOWNSAMPLE_MISSING, network_variant(change=DOWNSAMPLE_ONLY_FOR_A_STRIDE)))
       for name in ("ResNet", *FACTORIES)},
}

MISTAKES = {
    "BasicBlock": (*BLOCK_FORWARD, STRIDE_ON_THE_WRONG_CONV, DOWNSAMPLE_MISSING,
                   DOWNSAMPLE_NOT_NEEDED, SHORTCUT_WITHOUT_BATCHNORM, STATISTICS_NOT_UPDATED),
    "Bottleneck": (*BLOCK_FORWARD, STRIDE_ON_THE_WRONG_CONV, DOWNSAMPLE_MISSING,
                   DOWNSAMPLE_NOT_NEEDED, SHORTCUT_WITHOUT_BATCHNORM, STATISTICS_NOT_UPDATED,
                   EXPANSION_FORGOTTEN),
    "ResNet": (*BLOCK_FORWARD, MAXPOOL_SKIPPED, EXPANSION_FORGOTTEN, WRONG_NUMBER_OF_BLOCKS,
               DOWNSAMPLE_NOT_NEEDED, SHORTCUT_WITHOUT_BATCHNORM, DOWNSAMPLE_MISSING,
               STATISTICS_NOT_UPDATED),
    **{name: (EXPANSION_FORGOTTEN, WRONG_NUMBER_OF_BLOCKS, DOWNSAMPLE_NOT_NEEDED,
              SHORTCUT_WITHOUT_BATCHNORM, DOWNSAMPLE_MISSING) for name in FACTORIES},
}
