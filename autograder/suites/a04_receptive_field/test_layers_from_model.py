"""Hidden tests of a04's ``layers_from_model``: the layers of a ``torch.nn.Sequential``, built
in the sandbox from a description made here, against that description."""

from __future__ import annotations

import numbers

import pytest

from autograder.compare import assert_same
from autograder.diagnose import NO_ANSWER, diagnosed, mistakes_of
from autograder.drivers import torch_modules
from autograder.harness import Case, confirmed, graded
from autograder.suites.a04_receptive_field.cases import DEFAULTS, draw

#: Models per family.
N_MODELS = 4


def conv(rng, channels: int, *, strided: bool = True, dilated: bool = False) -> list:
    kernel_size = draw(rng, 1, 5)
    return ["Conv2d", {"in_channels": channels, "out_channels": channels,
                       "kernel_size": kernel_size, "stride": draw(rng, 1, 2) if strided else 1,
                       "padding": draw(rng, 0, 2), "dilation": draw(rng, 1, 3) if dilated else 1}]


def pool(rng) -> list:
    kind = ("MaxPool2d", "AvgPool2d")[draw(rng, 0, 1)]
    kernel_size = draw(rng, 2, 3)
    settings = {"kernel_size": kernel_size, "padding": draw(rng, 0, kernel_size // 2)}
    if draw(rng, 0, 1):
        settings["stride"] = draw(rng, 1, 3)
    return [kind, settings]


def convolutions_and_relus(rng) -> list:
    spec = []
    for _ in range(draw(rng, 2, 5)):
        spec += [conv(rng, 3, dilated=True), ["ReLU", {}]]
    return spec


def with_pools(rng) -> list:
    spec = []
    for _ in range(draw(rng, 2, 4)):
        spec += [conv(rng, 3), ["ReLU", {}], pool(rng)]
    return spec


def nested_blocks(rng) -> list:
    """Blocks as nested Sequentials, BatchNorm2d and Dropout between the layers."""
    blocks = []
    for _ in range(draw(rng, 2, 3)):
        block = [conv(rng, 4), ["BatchNorm2d", {"num_features": 4}], ["ReLU", {}]]
        if draw(rng, 0, 1):
            block.append(["Sequential", [conv(rng, 4), ["Dropout", {"p": 0.1}]]])
        blocks.append(["Sequential", block + [pool(rng)]])
    return [["Identity", {}], *blocks]


def same_and_valid(rng) -> list:
    """Convolutions with ``padding="same"`` (stride 1) or ``"valid"``, at least one of them
    ``"same"`` with a dilated kernel of 2 taps or more, whose padding the dilation sets."""
    while True:
        spec = []
        for _ in range(draw(rng, 2, 4)):
            kind, settings = conv(rng, 3, strided=False, dilated=True)
            spec.append([kind, settings | {"padding": ("same", "valid")[draw(rng, 0, 1)]}])
        if any(layer["padding"] == "same" and layer["dilation"] > 1
               and layer["kernel_size"] > 1 for _, layer in spec):
            return spec


FAMILIES = {
    "convolutions and ReLUs": convolutions_and_relus,
    "max and average pools, their stride left out or not": with_pools,
    "nested Sequentials with BatchNorm2d and Dropout": nested_blocks,
    "padding='same' and 'valid'": same_and_valid,
}


def layers_of(spec: list) -> list[tuple[int, int, int, int]]:
    """``(kernel_size, stride, padding, dilation)`` of each layer of ``spec`` that changes
    the receptive field, read from the description (the oracle)."""
    layers = []
    for kind, settings in spec:
        if kind == "Sequential":
            layers += layers_of(settings)
        elif kind in ("Conv2d", "MaxPool2d", "AvgPool2d"):
            kernel_size, dilation = settings["kernel_size"], settings.get("dilation", 1)
            stride = settings.get("stride", 1 if kind == "Conv2d" else kernel_size)
            padding = settings.get("padding", 0)
            padding = {"same": dilation * (kernel_size - 1) // 2, "valid": 0}.get(padding,
                                                                                   padding)
            layers.append((kernel_size, stride, padding, dilation))
    return layers


def as_layers(answer, call: str) -> list[tuple[int, int, int, int]]:
    """The student's answer as ``(kernel_size, stride, padding, dilation)`` tuples, missing
    settings at their defaults; ``AssertionError`` if it is not a list of layer mappings."""
    if not isinstance(answer, (list, tuple)) or not all(isinstance(a, dict) for a in answer):
        raise AssertionError(f"{call}: expected a list of dicts, got {answer!r:.200}")
    layers = []
    for one in answer:
        values = (one.get("kernel_size"), *(one.get(name, default)
                                            for name, default in DEFAULTS.items()))
        if not all(isinstance(v, numbers.Integral) and not isinstance(v, bool)
                   for v in values):
            raise AssertionError(f"{call}: each layer needs int kernel_size, stride, padding "
                                 f"and dilation (or their defaults), got {one!r}")
        layers.append(tuple(int(v) for v in values))
    return layers


def check_layers(student, spec: list, actual: list, expected: list, call: str) -> None:
    """``actual`` must be ``expected``; where it is not, the failure names the suite's known
    mistake (``mistakes.py``) that lists ``actual`` for the model described by ``spec``."""
    try:
        assert_same(actual, expected, case=call)
    except AssertionError as error:
        for mistake in mistakes_of(student.assignment.id, "layers_from_model"):
            try:
                wrong = mistake.answer(Case({"spec": spec}))
            except NO_ANSWER:
                continue
            if wrong == actual:
                raise diagnosed(str(error), mistake) from None
        raise


@graded("layers_from_model")
@pytest.mark.parametrize("family", FAMILIES.values(), ids=FAMILIES.keys())
def test_against_the_description(student, reference, rng, family):
    "against the layers the model was built from"
    for _ in range(N_MODELS):
        spec = family(rng)
        context = torch_modules.Context(None)
        model = context.get(torch_modules.sequential(context, spec))
        call = f"layers_from_model({model!r:.1500})"
        expected = confirmed(layers_of(spec), [
            tuple(one[name] for name in ("kernel_size", *DEFAULTS))
            for one in reference.layers_from_model(model)], what=call)
        handle = student.drive("sequential", spec, graded="layers_from_model")
        answer = student.drive("apply", "layers_from_model", handle, graded="layers_from_model")
        check_layers(student, spec, as_layers(answer, call), expected, call)


@graded("layers_from_model", kind="example")
def test_a_model_without_such_layers(student):
    "a model of ReLUs and BatchNorm only has no layers to list"
    handle = student.drive("sequential", [["ReLU", {}], ["BatchNorm2d", {"num_features": 3}]],
                           graded="layers_from_model")
    answer = student.drive("apply", "layers_from_model", handle, graded="layers_from_model")
    assert_same(as_layers(answer, "layers_from_model(ReLU, BatchNorm2d)"), [],
                case="layers_from_model(Sequential(ReLU(), BatchNorm2d(3)))")


