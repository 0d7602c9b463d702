"""Shared checks of the a05_resnet hidden suite.

The student's modules are built and run in the sandbox by the assignment's driver
(``autograder/drivers/torch_modules.py``), which reports plain data; the reference's are
built here. Weights and inputs are made here: the reference's random weights (BatchNorm
statistics included) are loaded into the student's module, both run in float64 on the same
fresh inputs, and the outputs are compared here. A structural mistake is named in the
message (a shortcut where none is needed, a missing BatchNorm, the stride on the wrong
convolution); a wrong forward pass shows in the outputs. Where a failure is one of the
mistakes students make (``mistakes.py``: seen here in the structure, or recognised by the
reference run the mistake's way with the same weights), it is named (``autograder.diagnose``).

torchvision is not installed here: the keys and shapes of its ResNets' state dicts are
recorded in ``torchvision_state_dicts.json`` (see its ``_provenance``).
"""

from __future__ import annotations

import json
import re
from functools import cached_property
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from autograder.compare import Mismatch, assert_array_close, assert_same
from autograder.diagnose import NO_ANSWER, Mistake, diagnosed, explained, first_giving
from autograder.harness import graded, readable_report
from autograder.suites.a05_resnet import mistakes as known
from cnnlab.course import FLOAT64

TORCHVISION = json.loads(Path(__file__).with_name("torchvision_state_dicts.json").read_text())
TOLERANCE = {"rtol": FLOAT64.rtol, "atol": FLOAT64.atol}


class Built:
    """One module built twice, from the same arguments and seed: by the student's code in
    the sandbox (``handle``) and by the reference here (``reference``).

    ``own`` lists the positions of ``args`` that name a class of the module (``"BasicBlock"``
    for ``ResNet``), resolved on each side to its own class.
    """

    def __init__(self, student, reference_module, graded_name: str, name: str,
                 args: tuple = (), kwargs: dict | None = None, own: tuple = ()) -> None:
        kwargs = kwargs or {}
        self.student, self.graded = student, graded_name
        self.reference_module, self.name, self.args, self.kwargs = (reference_module, name,
                                                                    tuple(args), kwargs)
        arguments = [*map(repr, args), *(f"{k}={v!r}" for k, v in kwargs.items())]
        self.label = f"{name}({', '.join(arguments)})"
        self.handle = student.drive("construct", name, list(args), kwargs, 0, list(own),
                                    graded=graded_name)
        self._resolved = [getattr(reference_module, a) if i in own else a
                          for i, a in enumerate(args)]

    def _build_reference(self) -> nn.Module:
        return getattr(self.reference_module, self.name)(*self._resolved, **self.kwargs)

    @cached_property
    def reference(self) -> nn.Module:
        """The reference's module, built with the same seed as the student's (on first use:
        a test that needs only its shapes asks ``reference_shapes``)."""
        torch.manual_seed(0)
        return self._build_reference()

    def reference_shapes(self) -> dict[str, list[int]]:
        """The reference module's state-dict shapes; where it is not built yet, from a build
        on the ``meta`` device, which allocates and initialises nothing."""
        if "reference" in self.__dict__:
            return shapes(self.reference)
        with torch.device("meta"):
            return shapes(self._build_reference())

    def drive(self, action: str, *args, **kwargs):
        return self.student.drive(action, self.handle, *args, graded=self.graded, **kwargs)

    def report(self, action: str, *args, fields: dict, **kwargs) -> dict:
        """The driver's report of ``action``, checked to be a dict holding ``fields`` (name
        -> type; see ``harness.readable_report``)."""
        return readable_report(self.drive(action, *args, **kwargs), fields,
                               f"{self.label}: the {action} report of this module")

    def describe(self) -> dict:
        return self.report("describe", fields={
            "layer": dict, "modules": dict, "parameters": dict, "buffers": dict,
            "num_parameters": int})


def shapes(module: nn.Module) -> dict[str, list[int]]:
    """Every parameter's and buffer's shape, by state-dict key."""
    return {key: list(value.shape) for key, value in module.state_dict().items()}


def state_shapes(described: dict) -> dict[str, list[int]]:
    """The shapes of the student's parameters and buffers, by state-dict key."""
    return {str(key): value for part in ("parameters", "buffers")
            for key, value in described[part].items()}


def blocks_per_stage(keys) -> list[int]:
    """How many blocks each stage (``layer1`` ...) of a network's state dict holds."""
    counts: dict[int, int] = {}
    for key in keys:
        match = re.match(r"layer(\d+)\.(\d+)\.", key)
        if match:
            stage, index = int(match[1]), int(match[2])
            counts[stage] = max(counts.get(stage, 0), index + 1)
    return [counts[stage] for stage in sorted(counts)]


def shape_mistake(built: Built | None, got: dict[str, list[int]]) -> Mistake | None:
    """The known mistake whose module (``mistakes.SHAPE_VARIANTS``, built here by the
    reference) has exactly the student's state-dict shapes ``got``."""
    if built is None:
        return None
    for mistake, variant in known.SHAPE_VARIANTS.get(built.graded, ()):
        try:
            with torch.device("meta"):  # shapes only
                module = variant(built.reference_module, built.name, built.args, built.kwargs)
        except NO_ANSWER:
            continue
        if module is not None and shapes(module) == got:
            return mistake
    return None


def check_state_dict(described: dict, expected: dict[str, list[int]], label: str,
                     built: Built | None = None) -> None:
    """The student's parameters and buffers have exactly the keys and shapes expected; a
    difference that a known mistake makes is named (``built``: the module, for the mistakes
    recognised by the reference's variants)."""
    got = state_shapes(described)
    missing = sorted(set(expected) - set(got))
    unexpected = sorted(set(got) - set(expected))
    wrong = {key: (got[key], shape) for key, shape in expected.items()
             if key in got and got[key] != shape}
    if missing or unexpected:
        message = (f"{label}: the state dict's keys differ from torchvision's: missing "
                   f"{missing[:8]}{'...' if len(missing) > 8 else ''}, unexpected "
                   f"{unexpected[:8]}{'...' if len(unexpected) > 8 else ''}")
    elif wrong:
        key, (have, want) = next(iter(wrong.items()))
        message = f"{label}: {len(wrong)} shapes differ; {key} is {have}, expected {want}"
    else:
        return
    mistake = shape_mistake(built, got)
    counts, expected_counts = blocks_per_stage(got), blocks_per_stage(expected)
    if mistake is None and counts != expected_counts:
        message += f"; its stages hold {counts} blocks, expected {expected_counts}"
        mistake = known.WRONG_NUMBER_OF_BLOCKS
    raise AssertionError(message) if mistake is None else diagnosed(message, mistake)


def structure_mistake(built: Built, expected: dict[str, list[int]]) -> Mistake | None:
    """The known mistake that the student's structure shows against ``expected`` (the
    reference's state-dict shapes), if any (asks the sandbox for the module's structure)."""
    try:
        check_state_dict(built.describe(), expected, built.label, built)
    except Mismatch as error:
        return error.mistake
    except AssertionError:
        return None
    return None


def check_shortcut(described: dict, label: str, *, needed: bool, out_channels: int,
                   stride: int) -> None:
    """``downsample`` is None exactly where the input can be added as it is, else a 1x1
    convolution with the block's stride, then a BatchNorm2d."""
    modules = described["modules"]
    if not needed:
        if "downsample" in modules:
            raise diagnosed(f"{label}: downsample must be None here: the stride is 1 and the "
                            "channels do not change, so the input is added as it is",
                            known.DOWNSAMPLE_NOT_NEEDED)
        return
    if "downsample" not in modules:
        raise diagnosed(f"{label}: needs a downsample (a 1x1 conv carrying the stride, then "
                        "BatchNorm2d): the stride or the number of channels changes",
                        known.DOWNSAMPLE_MISSING)
    conv, norm = modules.get("downsample.0", {}), modules.get("downsample.1", {})
    if conv.get("type") != "Conv2d" or conv.get("kernel_size") != (1, 1) or \
            conv.get("stride") != (stride, stride) or conv.get("bias"):
        raise AssertionError(f"{label}: downsample.0 must be conv1x1(in, {out_channels}, "
                             f"stride={stride}) without bias, got {conv}")
    if norm.get("type") != "BatchNorm2d":
        raise diagnosed(f"{label}: the shortcut needs its BatchNorm2d after the 1x1 conv "
                        f"(downsample.1), got {norm or 'nothing'}",
                        known.SHORTCUT_WITHOUT_BATCHNORM)


def random_state(module: nn.Module, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Random float64 weights for ``module``, BatchNorm statistics and affine parameters
    included (so that evaluation mode is not the identity), loaded into it too."""
    module.double()
    state = {}
    for key, value in module.state_dict().items():
        if key.endswith("num_batches_tracked"):
            state[key] = value.numpy().copy()
        elif key.endswith("running_var"):
            state[key] = rng.uniform(0.5, 2.0, value.shape)
        else:
            state[key] = rng.standard_normal(value.shape) * (0.3 if value.dim() > 1 else 1.0)
    module.load_state_dict({key: torch.from_numpy(v) for key, v in state.items()})
    return state


def check_outputs(built: Built, rng: np.random.Generator, input_shape: tuple[int, ...], *,
                  non_negative: bool = True) -> None:
    """Same weights, same fresh inputs: the student's outputs equal the reference's, in
    evaluation mode, then in training mode (BatchNorm on the batch's own statistics)."""
    load_reference_weights(built, rng)
    for train in (False, True):
        mode = "training" if train else "evaluation"
        x = rng.standard_normal(input_shape)
        built.reference.train(train)
        with torch.no_grad():
            expected = built.reference(torch.from_numpy(x)).numpy()
        got = built.drive("forward", [x], train)
        case = f"{built.label} in {mode} mode, x of shape {input_shape}"
        if non_negative and isinstance(got, np.ndarray) and got.shape == expected.shape \
                and (got < 0).any():
            raise explained(Mismatch(f"{case}: the output has negative values: the ReLU "
                                     "comes after the addition of the shortcut", actual=got,
                                     expected=expected),
                            answer_mistake(got, built, x, train) or known.NEGATIVE_OUTPUT)
        try:
            assert_array_close(got, expected, case=case, **TOLERANCE)
        except AssertionError as error:
            raise explained(error, answer_mistake(got, built, x, train)) from None
    check_running_statistics(built)


def answer_mistake(got, built: Built, x: np.ndarray, train: bool) -> Mistake | None:
    """The first known mistake of the graded class whose answer (the reference, with the
    same weights, run the mistake's way on ``x``) is the student's output ``got``."""
    if not isinstance(got, np.ndarray):
        return None
    return first_giving(known.MISTAKES.get(built.graded, ()),
                        known.forward_case(built.reference, x, train),
                        lambda wrong: wrong.shape == got.shape
                        and np.allclose(got, wrong, **TOLERANCE))


def load_reference_weights(built: Built, rng: np.random.Generator) -> None:
    """Give the reference random weights and load the same into the student's module, both
    in float64."""
    state = random_state(built.reference, rng)
    built.drive("set_dtype", "float64")
    loaded = built.report("load_state_dict", state, fields={"missing": list,
                                                             "unexpected": list})
    if loaded["missing"] or loaded["unexpected"]:
        raise explained(AssertionError(
            f"{built.label}: the reference's state dict does not load: missing "
            f"{loaded['missing'][:8]}, unexpected {loaded['unexpected'][:8]}"),
            structure_mistake(built, built.reference_shapes()))


def check_running_statistics(built: Built) -> None:
    """After the same forward passes, every BatchNorm's running mean and variance are the
    reference's (a BatchNorm that does not track them would be wrong once trained)."""
    for ending in ("running_mean", "running_var"):
        got = built.drive("state_dict", ending)
        expected = {key: value.numpy() for key, value in built.reference.state_dict().items()
                    if key.endswith(ending)}
        if not isinstance(got, dict) or set(got) != set(expected):
            raise diagnosed(f"{built.label}: its BatchNorm {ending} buffers are not the "
                            f"reference's: {sorted(expected)[:4]}...",
                            known.STATISTICS_NOT_UPDATED)
        for key, value in expected.items():
            try:
                assert_array_close(got[key], value, case=f"{built.label}: {key} after a "
                                   "forward pass in training mode (BatchNorm updates its "
                                   "statistics)", **TOLERANCE)
            except AssertionError as error:
                raise explained(error, known.STATISTICS_NOT_UPDATED) from None


def check_gradients_reach(built: Built, rng: np.random.Generator,
                          input_shape: tuple[int, ...], first: str) -> None:
    """With the reference's weights, a backward pass in training mode gives the reference's
    gradients for the input and for the parameter ``first`` (a shortcut whose gradient is
    cut, or grads switched off, shows here)."""
    load_reference_weights(built, rng)
    x = rng.standard_normal(input_shape)
    built.reference.train(True)
    tx = torch.from_numpy(x).requires_grad_()
    out = built.reference(tx)
    grad_output = rng.standard_normal(tuple(out.shape))
    out.backward(torch.from_numpy(grad_output))
    expected = {"the input": tx.grad.numpy(),
                first: dict(built.reference.named_parameters())[first].grad.numpy()}
    report = built.report("backward", [x], grad_output, parameters=[first],
                          fields={"input_grads": list, "param_grads": dict})
    got = {"the input": report["input_grads"][0] if report["input_grads"] else None,
           first: report["param_grads"].get(first)}
    for name, value in expected.items():
        if got[name] is None:
            raise AssertionError(f"{built.label}: no gradient reaches {name}")
        assert_array_close(got[name], value, case=f"{built.label}: the gradient of {name}",
                           **TOLERANCE)


def factory_tests(name: str):
    """The hidden tests of ``resnet18`` (and 34, 50): torchvision's state-dict keys and
    shapes, its parameter count, and ``num_classes``."""
    @graded(name, weight=2)
    def test_torchvision_state_dict(student, reference):
        built = Built(student, reference, name, name)
        check_state_dict(built.describe(), TORCHVISION[name]["state_dict"], f"{name}()", built)

    @graded(name)
    def test_parameter_count(student, reference):
        built = Built(student, reference, name, name)
        try:
            assert_same(built.describe()["num_parameters"], TORCHVISION[name]["parameters"],
                        case=f"{name}(): parameters")
        except AssertionError as error:
            raise explained(error, structure_mistake(
                built, TORCHVISION[name]["state_dict"])) from None

    @graded(name)
    @pytest.mark.parametrize("classes", [10, 2])
    def test_num_classes(student, reference, classes):
        built = Built(student, reference, name, name, kwargs={"num_classes": classes})
        check_state_dict(built.describe(), built.reference_shapes(),
                         f"{name}(num_classes={classes})", built)

    test_torchvision_state_dict.__doc__ = "torchvision's state-dict keys and shapes"
    test_parameter_count.__doc__ = "torchvision's parameter count"
    test_num_classes.__doc__ = "num_classes sets the classifier"
    return test_torchvision_state_dict, test_parameter_count, test_num_classes


#: What a convolution's report must match in the reference's.
CONV_SETTINGS = ("type", "in_channels", "out_channels", "kernel_size", "stride", "padding",
                 "dilation", "groups", "bias")


def conv_tests(name: str):
    """The hidden test of ``conv3x3`` or ``conv1x1``: the layer's settings, for several
    channel counts and strides."""
    @graded(name)
    @pytest.mark.parametrize("args", [(3, 8), (16, 16, 1), (8, 16, 2)],
                             ids=["(3, 8)", "(16, 16, stride=1)", "(8, 16, stride=2)"])
    def test_layer_settings(student, reference, rng, args):
        built = Built(student, reference, name, name, args)
        conv = built.reference
        expected = {"type": type(conv).__name__, "bias": conv.bias is not None,
                    **{key: getattr(conv, key) for key in CONV_SETTINGS[1:-1]}}
        got = dict(built.describe()["layer"])
        if got.get("padding") == "same" and expected["stride"] == (1, 1):
            got["padding"] = expected["padding"]  # the same padding, written otherwise
        wrong = [f"{key} {got.get(key)!r} (expected {expected[key]!r})"
                 for key in CONV_SETTINGS if got.get(key) != expected[key]]
        if wrong:
            raise AssertionError(f"{built.label}: {', '.join(wrong)}")
        check_outputs(built, rng, (2, args[0], 9, 9),
                      non_negative=False)

    test_layer_settings.__doc__ = ("an nn.Conv2d with the right settings, no bias, and the "
                                   "reference's outputs with the same weights")
    return test_layer_settings


def stride_on(conv: str, what: str):
    """The layout check of a block whose stride belongs on ``conv`` (``what`` it is) and
    on no other of ``conv1``, ``conv2``, ``conv3``."""
    def check_layout(described: dict, label: str, stride: int) -> None:
        modules = described["modules"]
        strides = {name: modules[name].get("stride") for name in ("conv1", "conv2", "conv3")
                   if name in modules}
        expected = {name: (stride, stride) if name == conv else (1, 1) for name in strides}
        if strides != expected:
            raise diagnosed(f"{label}: the stride belongs on {conv}, {what} (torchvision's "
                            f"layout), not on another convolution; got strides {strides}",
                            known.STRIDE_ON_THE_WRONG_CONV)
    check_layout.__doc__ = f"torchvision's layout: the stride on {conv}, {what}."
    return check_layout


def block_tests(name: str, blocks: list, expansion: int, gradient_args: tuple,
                check_layout=None):
    """The hidden tests of a residual block class ``name`` (``BasicBlock`` or
    ``Bottleneck``), built with each of ``blocks`` (``(in_channels, channels, stride)``
    parameters; the output has ``expansion * channels`` channels): its structure and
    shortcut (and ``check_layout(described, label, stride)`` where given), its outputs with
    the reference's weights, and gradients that reach its input."""
    @graded(name)
    @pytest.mark.parametrize("args", blocks)
    def test_structure(student, reference, args):
        built = Built(student, reference, name, name, args)
        described = built.describe()
        in_channels, channels, stride = args
        if check_layout is not None:
            check_layout(described, built.label, stride)
        expected = built.reference_shapes()
        if shape_mistake(built, state_shapes(described)):  # before the shortcut it changes
            check_state_dict(described, expected, built.label, built)
        check_shortcut(described, built.label,
                       needed=stride != 1 or in_channels != expansion * channels,
                       out_channels=expansion * channels, stride=stride)
        check_state_dict(described, expected, built.label, built)

    @graded(name, weight=2)
    @pytest.mark.parametrize("args", blocks)
    def test_outputs(student, reference, rng, args):
        check_outputs(Built(student, reference, name, name, args), rng, (2, args[0], 8, 8))

    @graded(name)
    def test_gradients_reach_the_input(student, reference, rng):
        check_gradients_reach(Built(student, reference, name, name, gradient_args), rng,
                              (2, gradient_args[0], 8, 8), "conv1.weight")

    test_structure.__doc__ = "children, state dict and shortcut as torchvision's"
    test_outputs.__doc__ = "the reference's outputs with the same weights, in eval and train mode"
    test_gradients_reach_the_input.__doc__ = "a backward pass reaches the input and conv1"
    return test_structure, test_outputs, test_gradients_reach_the_input
