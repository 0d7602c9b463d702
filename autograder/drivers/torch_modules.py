"""Driver for assignments whose answers are PyTorch modules: runs in the sandbox.

Copied into the worker's runtime folder and imported before the student's module. Each
action builds or runs the student's objects and reports plain data (arrays, names, shapes,
numbers) that the trusted grader compares with its own reference. Nothing here decides a
score, and nothing here needs to be believed: the student's code runs in the same process
and could change anything, so the grader checks every report against what it computed
itself, on inputs it made.

Objects live in ``Context.objects`` and are named by handles (small ints) across calls.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

#: Attributes of the standard layers that a report lists, where a layer has them.
LAYER_ATTRIBUTES = ("in_channels", "out_channels", "kernel_size", "stride", "padding",
                    "dilation", "groups", "in_features", "out_features", "num_features",
                    "eps", "momentum", "output_size")


class Context:
    """The student's module and the objects built from it."""

    def __init__(self, module) -> None:
        self.module = module
        self.objects: dict[int, nn.Module] = {}

    def keep(self, thing: nn.Module) -> int:
        handle = len(self.objects) + 1
        self.objects[handle] = thing
        return handle

    def get(self, handle: int) -> nn.Module:
        return self.objects[handle]


def _tensor(array: np.ndarray, requires_grad: bool = False) -> torch.Tensor:
    return torch.tensor(array, requires_grad=requires_grad)


def _array(value, what: str) -> np.ndarray:
    """A plain tensor as a numpy array; anything else (a subclass too) is refused."""
    if type(value) is not torch.Tensor:
        raise TypeError(f"{what} is a {type(value).__name__}, not a torch.Tensor")
    return torch.Tensor.numpy(torch.Tensor.cpu(torch.Tensor.detach(value))).copy()


def construct(context: Context, name: str, args: tuple = (), kwargs: dict | None = None,
              seed: int = 0, own: tuple = ()) -> int:
    """Call the student's class or factory ``name`` and keep the module it returns.

    ``own`` lists the positions of ``args`` that name another class of the student's
    module, passed as that class (``ResNet("BasicBlock", ...)`` gets the student's
    ``BasicBlock``)."""
    torch.manual_seed(seed)
    args = [getattr(context.module, arg) if index in own else arg
            for index, arg in enumerate(args)]
    made = getattr(context.module, name)(*args, **(kwargs or {}))
    if not isinstance(made, nn.Module):
        raise TypeError(f"{name}(...) returned a {type(made).__name__}, not an nn.Module")
    return context.keep(made)


def set_dtype(context: Context, handle: int, dtype: str) -> None:
    """Convert the module's parameters and buffers to ``dtype`` (``"float64"``), so that
    the grader can compare with tight tolerances."""
    if dtype not in ("float32", "float64"):
        raise ValueError(f"dtype {dtype!r} is not one the grader uses")
    context.get(handle).to(getattr(torch, dtype))


def describe(context: Context, handle: int) -> dict:
    """The module's structure: its children, every submodule's type and settings, its
    parameters' and buffers' shapes, and its parameter count."""
    module = context.get(handle)
    return {
        "type": type(module).__name__,
        "layer": _layer(module),
        "children": [[name, type(child).__name__] for name, child in module.named_children()],
        "modules": {name: _layer(sub) for name, sub in module.named_modules() if name},
        "parameters": {name: list(p.shape) for name, p in module.named_parameters()},
        "buffers": {name: list(b.shape) for name, b in module.named_buffers()},
        "num_parameters": int(sum(p.numel() for p in module.parameters())),
        "trainable": int(sum(p.numel() for p in module.parameters() if p.requires_grad)),
    }


def _layer(module: nn.Module) -> dict:
    report = {"type": type(module).__name__,
              "bases": [cls.__name__ for cls in type(module).__mro__
                        if cls.__module__.startswith("torch.nn")][:3]}
    for attribute in LAYER_ATTRIBUTES:
        value = getattr(module, attribute, None)
        if isinstance(value, (int, float, tuple, str)) and not isinstance(value, bool):
            report[attribute] = value
    if isinstance(module, (nn.Conv2d, nn.Linear)):
        report["bias"] = module.bias is not None
    return report


def state_dict(context: Context, handle: int, ending: str | None = None) -> dict:
    """The module's state dict as arrays; only the keys that end with ``ending`` where
    given (``"running_mean"``: a network's whole state may not fit in a reply)."""
    return {key: _array(value, key) for key, value in context.get(handle).state_dict().items()
            if ending is None or key.endswith(ending)}


def load_state_dict(context: Context, handle: int, state: dict, strict: bool = True) -> dict:
    """Load ``state`` (arrays by key) with ``load_state_dict``; report what did not fit."""
    result = context.get(handle).load_state_dict(
        {key: torch.from_numpy(value) for key, value in state.items()}, strict=strict)
    return {"missing": list(result.missing_keys), "unexpected": list(result.unexpected_keys)}


def forward(context: Context, handle: int, inputs: list, train: bool = False) -> np.ndarray:
    """The module's output on ``inputs`` (arrays), in training or evaluation mode."""
    module = context.get(handle)
    module.train(train)
    with torch.no_grad():
        return _array(module(*[_tensor(x) for x in inputs]), "the output")


def backward(context: Context, handle: int, inputs: list, grad_output: np.ndarray,
             train: bool = True, parameters: list | None = None) -> dict:
    """Forward, then backward from ``grad_output``: the output, the inputs' gradients and
    the gradient of every parameter, or of those named in ``parameters`` (None where one
    got none): a large network's would not fit in a reply."""
    module = context.get(handle)
    module.train(train)
    module.zero_grad(set_to_none=True)
    with torch.enable_grad():  # whatever an earlier call of the student's code switched off
        tensors = [_tensor(x, requires_grad=True) for x in inputs]
        output = module(*tensors)
        output.backward(_tensor(grad_output))
    return {"output": _array(output, "the output"),
            "input_grads": [_array(t.grad, "an input's gradient") if t.grad is not None
                            else None for t in tensors],
            "param_grads": {name: None if p.grad is None else _array(p.grad, name)
                            for name, p in module.named_parameters()
                            if parameters is None or name in parameters}}


#: The layers ``sequential`` builds, by name.
LAYERS = {layer.__name__: layer for layer in (
    nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d, nn.ReLU, nn.BatchNorm2d, nn.Dropout, nn.Identity)}


def sequential(context: Context, spec: list) -> int:
    """Build a ``torch.nn.Sequential`` from plain data and keep it: each item of ``spec`` is
    ``[layer name, keyword arguments]`` (a name of ``LAYERS``), or ``["Sequential", spec]``
    for a nested one."""
    def build(items: list) -> nn.Sequential:
        modules = []
        for name, settings in items:
            if name == "Sequential":
                modules.append(build(settings))
            else:
                modules.append(LAYERS[name](**settings))
        return nn.Sequential(*modules)
    return context.keep(build(spec))


def apply(context: Context, function: str, handle: int):
    """Call the student's ``function`` with the kept module ``handle``; its result (plain
    data) is the report."""
    return getattr(context.module, function)(context.get(handle))


ACTIONS = {action.__name__: action for action in (
    construct, set_dtype, describe, state_dict, load_state_dict, forward, backward,
    sequential, apply)}
