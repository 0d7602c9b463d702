"""Cases and oracles for the a02_convolution hidden suite.

A ``Layer`` fixes a convolution's shapes and keyword arguments; each grading run draws its
inputs fresh from the test's ``rng`` (standard normal) as a ``harness.Case``. The expected
answer comes from PyTorch in float64 (``conv2d`` and autograd, ``conv_transpose2d``),
cross-checked against the reference solution by ``harness.check_cases``: where the two
disagree the grader is wrong, not the student.

Sizes are small on purpose: a plain six-nested-loop implementation must pass every test well
within the per-call limit (see ``examples/submitted/alice/a02_convolution/convolution.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from autograder.harness import WINDOW_NAMES, Case, check_cases, graded, plain

# The oracles' tensors are tiny: one thread spares each call the start-up of a thread pool,
# which costs ~20 ms a call on a busy machine (against ~20 us on one thread).
torch.set_num_threads(1)

#: Names a message may use for the kernel when it does not fit the padded input.
KERNEL_NAMES = (*WINDOW_NAMES, "w")

#: What conv2d_backward returns, in order.
GRADIENTS = ("dx", "dw", "db")


@dataclass(frozen=True)
class Layer:
    """One convolution: ``x`` of ``x_shape``, ``w`` of ``w_shape``, keyword arguments.

    ``w_shape`` is ``(C_out, C_in / groups, KH, KW)``, or for a transposed convolution
    ``(C_in, C_out, KH, KW)``.
    """

    id: str
    x_shape: tuple[int, int, int, int]
    w_shape: tuple[int, int, int, int]
    kwargs: dict = field(default_factory=dict)
    transposed: bool = False

    @property
    def out_channels(self) -> int:
        return self.w_shape[1 if self.transposed else 0]

    def forward(self, rng: np.random.Generator, dtype=np.float64, bias: bool = True) -> Case:
        """A call of the forward pass on fresh ``x``, ``w`` and ``b`` (None without bias)."""
        x = rng.standard_normal(self.x_shape).astype(dtype)
        w = rng.standard_normal(self.w_shape).astype(dtype)
        b = rng.standard_normal(self.out_channels).astype(dtype) if bias else None
        return Case({"x": x, "w": w, "b": b}, self.kwargs, self.id)

    def backward(self, rng: np.random.Generator, dtype=np.float64) -> Case:
        """A call of conv2d_backward on fresh ``dout``, ``x`` and ``w``."""
        x = rng.standard_normal(self.x_shape).astype(dtype)
        w = rng.standard_normal(self.w_shape).astype(dtype)
        dout = rng.standard_normal(self.output_shape()).astype(dtype)
        return Case({"dout": dout, "x": x, "w": w}, self.kwargs, self.id)

    def output_shape(self) -> tuple[int, ...]:
        """Shape of the convolution's output, for drawing ``dout``."""
        x = torch.empty(self.x_shape, device="meta")
        w = torch.empty(self.w_shape, device="meta")
        return tuple(F.conv2d(x, w, **_plain(self.kwargs)).shape)


def transposed(id: str, x_shape, w_shape, kwargs: dict | None = None) -> Layer:
    """A transposed convolution's ``Layer``."""
    return Layer(id, x_shape, w_shape, kwargs or {}, transposed=True)


def ids(layers: list[Layer]) -> list[str]:
    """The layers' ids, for ``pytest.mark.parametrize``."""
    return [layer.id for layer in layers]


def in_both_dtypes(layers: list[Layer], float32_layers: list[Layer]) -> list:
    """``(layer, dtype)`` parameters: ``layers`` in float64, then ``float32_layers`` in
    float32."""
    return ([pytest.param(layer, np.float64, id=layer.id) for layer in layers]
            + [pytest.param(layer, np.float32, id=f"float32, {layer.id}")
               for layer in float32_layers])


#: Convolutions for conv2d_forward and conv2d_backward.
LAYERS = [
    Layer("3x3, defaults", (2, 3, 7, 7), (4, 3, 3, 3)),
    Layer("stride 2", (2, 3, 9, 9), (4, 3, 3, 3), {"stride": 2}),
    Layer("stride 3, rows left over", (2, 2, 10, 11), (3, 2, 3, 3), {"stride": 3}),
    Layer("stride (1, 2)", (2, 3, 7, 8), (4, 3, 3, 3), {"stride": (1, 2)}),
    Layer("padding 1", (2, 3, 6, 6), (4, 3, 3, 3), {"padding": 1}),
    Layer("padding (2, 1)", (2, 3, 6, 7), (4, 3, 3, 3), {"padding": (2, 1)}),
    Layer("padding (0, 2)", (2, 2, 6, 5), (3, 2, 3, 3), {"padding": (0, 2)}),
    Layer("dilation 2", (2, 3, 9, 9), (4, 3, 3, 3), {"dilation": 2}),
    Layer("dilation (1, 3)", (2, 2, 6, 10), (3, 2, 3, 3), {"dilation": (1, 3)}),
    Layer("groups 2", (2, 4, 6, 6), (6, 2, 3, 3), {"groups": 2}),
    Layer("depthwise", (2, 4, 6, 6), (4, 1, 3, 3), {"groups": 4}),
    Layer("depthwise, 2 filters per channel", (2, 3, 6, 6), (6, 1, 3, 3), {"groups": 3}),
    Layer("depthwise, stride 2, padding (1, 2)", (2, 3, 7, 8), (3, 1, 3, 3),
          {"groups": 3, "stride": 2, "padding": (1, 2)}),
    Layer("depthwise, dilation 2, padding 2", (2, 2, 8, 7), (2, 1, 3, 3),
          {"groups": 2, "dilation": 2, "padding": 2}),
    Layer("1x1 kernel", (2, 4, 5, 6), (3, 4, 1, 1)),
    Layer("1x1 kernel, stride 2", (2, 4, 7, 6), (3, 4, 1, 1), {"stride": 2}),
    Layer("1x1 kernel, padding 1", (2, 4, 5, 6), (3, 4, 1, 1), {"padding": 1}),
    Layer("1x1 kernel, stride (2, 3), padding (1, 0)", (2, 3, 7, 8), (2, 3, 1, 1),
          {"stride": (2, 3), "padding": (1, 0)}),
    Layer("stride 2, dilation 2", (2, 3, 11, 11), (4, 3, 3, 3),
          {"stride": 2, "dilation": 2}),
    Layer("stride 3, dilation (2, 3), padding 1", (2, 2, 12, 13), (3, 2, 3, 2),
          {"stride": 3, "dilation": (2, 3), "padding": 1}),
    Layer("kernel as large as the padded input", (2, 2, 5, 6), (3, 2, 7, 8),
          {"padding": 1}),
    Layer("dilated kernel as large as the input", (2, 2, 7, 5), (3, 2, 3, 3),
          {"dilation": (3, 2)}),
    Layer("batch of one", (1, 3, 6, 6), (4, 3, 3, 3), {"padding": 1}),
    Layer("non-square image and kernel", (2, 3, 7, 10), (4, 3, 2, 4)),
    Layer("stride, padding, dilation and groups", (2, 4, 11, 9), (6, 2, 3, 2),
          {"stride": (2, 3), "padding": (2, 1), "dilation": (2, 1), "groups": 2}),
    Layer("numpy integers as arguments", (2, 4, 8, 7), (4, 2, 3, 3),
          {"stride": np.int64(2), "padding": (np.int32(1), np.int64(0)),
              "dilation": np.int64(1), "groups": np.int64(2)}),
]


def chosen(layers: list[Layer], *wanted: str) -> list[Layer]:
    """The layers with the ``wanted`` ids, in that order. An id that names no layer is the
    suite's error (a renamed layer must not drop out of a subset unnoticed)."""
    by_id = {layer.id: layer for layer in layers}
    missing = [name for name in wanted if name not in by_id]
    if missing:
        raise LookupError(f"no layer with the id {missing}")
    return [by_id[name] for name in wanted]


#: Convolutions also checked with float32 inputs.
FLOAT32_LAYERS = chosen(LAYERS, "3x3, defaults", "stride, padding, dilation and groups")

#: Transposed convolutions.
TRANSPOSED_LAYERS = [
    transposed("3x3, defaults", (2, 3, 4, 5), (3, 2, 3, 3)),
    transposed("stride 2", (2, 3, 4, 4), (3, 2, 3, 3), {"stride": 2}),
    transposed("stride 2, kernel 2: no overlap", (2, 2, 3, 4), (2, 3, 2, 2), {"stride": 2}),
    transposed("stride 2, output_padding 1", (2, 3, 4, 4), (3, 2, 3, 3),
               {"stride": 2, "output_padding": 1}),
    transposed("stride 3, output_padding 2", (2, 2, 3, 4), (2, 3, 3, 3),
               {"stride": 3, "output_padding": 2}),
    transposed("padding 1", (2, 3, 4, 5), (3, 2, 3, 3), {"padding": 1}),
    transposed("padding (2, 0), stride 2", (2, 3, 4, 4), (3, 2, 4, 3),
               {"stride": 2, "padding": (2, 0)}),
    transposed("stride (2, 3), output_padding (1, 2)", (2, 2, 4, 3), (2, 3, 3, 3),
               {"stride": (2, 3), "output_padding": (1, 2)}),
    transposed("1x1 kernel, stride 2", (2, 3, 4, 5), (3, 2, 1, 1), {"stride": 2}),
    transposed("batch of one", (1, 3, 4, 4), (3, 2, 3, 3), {"stride": 2, "padding": 1}),
    transposed("non-square image and kernel", (2, 2, 3, 6), (2, 3, 2, 4), {"stride": 2}),
    transposed("stride, padding and output_padding", (2, 3, 5, 4), (3, 4, 4, 3),
               {"stride": (3, 2), "padding": (2, 1), "output_padding": (1, 1)}),
    transposed("numpy integers as arguments", (2, 2, 4, 4), (2, 3, 3, 3),
               {"stride": np.int64(2), "padding": (np.int32(1), np.int64(0)),
              "output_padding": np.int64(1)}),
]


#: Transposed convolutions also checked with float32 inputs.
TRANSPOSED_FLOAT32_LAYERS = chosen(TRANSPOSED_LAYERS, "3x3, defaults",
                                 "stride, padding and output_padding")


# -- oracles: each takes a case in float64 -------------------------------------------------


def _plain(kwargs: dict) -> dict:
    return {name: plain(value) for name, value in kwargs.items()}


def _tensor(array: np.ndarray | None, grad: bool = False) -> torch.Tensor | None:
    if array is None:
        return None
    return torch.tensor(array, dtype=torch.float64, requires_grad=grad)


def torch_conv2d(case: Case) -> np.ndarray:
    """``F.conv2d``."""
    x, w, b = (_tensor(case.inputs.get(name)) for name in ("x", "w", "b"))
    return F.conv2d(x, w, b, **_plain(case.options)).numpy()


def torch_conv2d_grads(case: Case) -> tuple[np.ndarray, ...]:
    """``(dx, dw, db)`` of ``F.conv2d`` for the upstream gradient ``dout``, by autograd."""
    dout, x, w = case.inputs.values()
    tx, tw, tb = _tensor(x, True), _tensor(w, True), _tensor(np.zeros(w.shape[0]), True)
    grads = torch.autograd.grad(F.conv2d(tx, tw, tb, **_plain(case.options)), (tx, tw, tb),
                                _tensor(dout))
    return tuple(g.numpy() for g in grads)


def torch_conv_transpose2d(case: Case) -> np.ndarray:
    """``F.conv_transpose2d``."""
    x, w, b = (_tensor(case.inputs.get(name)) for name in ("x", "w", "b"))
    return F.conv_transpose2d(x, w, b, **_plain(case.options)).numpy()


# -- the tests both forward passes have ----------------------------------------------------


def forward_tests(function: str, layers: list[Layer], float32_layers: list[Layer],
                  no_bias_layers: list[Layer], oracle, pytorch: str):
    """The hidden tests of a forward pass ``function`` against its PyTorch ``oracle``:
    every layer of ``layers`` in float64, ``float32_layers`` again in float32, and
    ``no_bias_layers`` with ``b=None``; ``pytorch`` names the oracle for the feedback."""
    @graded(function)
    @pytest.mark.parametrize("layer, dtype", in_both_dtypes(layers, float32_layers))
    def test_against_pytorch(student, reference, rng, layer, dtype):
        check_cases(student, reference, function, [layer.forward(rng, dtype)], oracle)

    @graded(function)
    @pytest.mark.parametrize("layer", no_bias_layers, ids=ids(no_bias_layers))
    def test_without_bias(student, reference, rng, layer):
        check_cases(student, reference, function, [layer.forward(rng, bias=False)], oracle)

    test_against_pytorch.__doc__ = f"against PyTorch's {pytorch}"
    test_without_bias.__doc__ = f"b=None, against PyTorch's {pytorch}"
    return test_against_pytorch, test_without_bias
