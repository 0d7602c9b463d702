"""Case generators and PyTorch oracles for the a01_output_size hidden suite.

Each test checks one family of cases, drawn fresh from the test's ``rng``, against PyTorch's
shape inference (confirmed by the reference), and fails at a wrong answer, so that a
mistake costs the family it belongs to. A generator returns a case's keyword arguments as a
dict; ``cases_of`` draws a family of them as ``harness.Case``s. Most generators build a case
backwards from the output size, so that it can be made *exact* (the last window ends on the
last padded pixel) or not (a remainder that ``//`` must drop), which keeps rounding mistakes
in the tests about rounding.

Oracles compute the expected answer with PyTorch's own shape inference on tensors of the
``meta`` device (shapes only, nothing is computed or allocated). PyTorch has no asymmetric
padding and no Keras-style ``"same"`` with a stride: there the oracle pads the input size
explicitly, as TensorFlow does, and lets PyTorch slide the window.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.utils.flop_counter import conv_flop_count

from autograder.harness import WINDOW_NAMES, Case, check_cases, check_raises, graded

#: Cases drawn per family.
N_CASES = 30

#: What a ValueError may name when the window is larger than the padded input.
TOO_LARGE = (*WINDOW_NAMES, "padding")


def draw(rng: np.random.Generator, low: int, high: int) -> int:
    """An int in ``[low, high]``, both included."""
    return int(rng.integers(low, high + 1))


def coin(rng: np.random.Generator) -> bool:
    return bool(rng.integers(2))


def pick(rng: np.random.Generator, options: tuple):
    """One of ``options``, as it is (``rng.choice`` would turn strings into numpy strings)."""
    return options[int(rng.integers(len(options)))]


def cases_of(generate, rng: np.random.Generator, n: int = N_CASES, **options) -> list[dict]:
    """``n`` cases (keyword arguments) of ``generate(rng, **options)``."""
    return [generate(rng, **options) for _ in range(n)]


def as_numpy_integers(generate):
    """``generate`` with every int of its cases (inside tuples too) as a numpy integer."""
    def numpy_case(rng: np.random.Generator) -> dict:
        return {name: tuple(np.int64(v) for v in value) if isinstance(value, tuple)
                else np.int64(value) for name, value in generate(rng).items()}
    return numpy_case


# -- the tests every function of a01 has -------------------------------------------------


def families_test(function: str, families: dict, oracle):
    """The hidden test of ``function`` on each family of ``families`` (its label -> a
    generator of one case's keyword arguments): ``N_CASES`` fresh cases against ``oracle``,
    confirmed by the reference."""
    @graded(function)
    @pytest.mark.parametrize("family", families.values(), ids=families.keys())
    def test_against_pytorch(student, reference, rng, family):
        "against PyTorch's shape inference"
        check_cases(student, reference, function,
                    [Case(options=options) for options in cases_of(family, rng)], oracle)
    return test_against_pytorch


def invalid_test(function: str, families: dict):
    """The hidden test of ``function``'s ValueErrors on each family of ``families`` (its
    label -> ``rng -> [(keyword arguments, names the message may use), ...]``)."""
    @graded(function, kind="errors")
    @pytest.mark.parametrize("family", families.values(), ids=families.keys())
    def test_raises_value_error(student, rng, family):
        "raises ValueError naming the argument at fault"
        check_raises(student, function, [(Case(options=options), names)
                                         for options, names in family(rng)])
    return test_raises_value_error


# -- one axis -----------------------------------------------------------------------------


def draw_padding(rng: np.random.Generator, form: str):
    """Padding of one axis: ``"none"`` -> 0, ``"int"`` -> 1..3, ``"pair"`` -> unequal pair."""
    if form == "none":
        return 0
    if form == "int":
        return draw(rng, 1, 3)
    before = draw(rng, 0, 3)
    return before, (before + draw(rng, 1, 3)) % 4


def padding_pair(padding) -> tuple[int, int]:
    """``p -> (p, p)``; a pair as it is ("same"/"valid" are handled by the oracles)."""
    if isinstance(padding, (tuple, list)):
        return int(padding[0]), int(padding[1])
    return int(padding), int(padding)


def axis_case(rng: np.random.Generator, *, kernel_size: int | None = None, stride: int = 1,
              padding=0, dilation: int = 1, exact: bool = True) -> dict:
    """Keyword arguments of ``conv_output_size`` for one axis, built from its output size.

    Args:
        kernel_size: the kernel; drawn from 1..7 when None.
        stride, padding, dilation: the layer's; left out of the case when at their defaults.
        exact: whether the windows fit the padded input exactly; if not, 1 to
            ``stride - 1`` pixels are left over (``stride`` must then be at least 2).
    """
    before, after = padding_pair(padding)
    while True:
        kernel = draw(rng, 1, 7) if kernel_size is None else kernel_size
        window = dilation * (kernel - 1) + 1
        left_over = 0 if exact else draw(rng, 1, stride - 1)
        size = (draw(rng, 1, 12) - 1) * stride + window + left_over - before - after
        if size >= 1:
            break
    case = {"size": size, "kernel_size": kernel}
    for name, value, default in (("stride", stride, 1), ("padding", padding, 0),
                                 ("dilation", dilation, 1)):
        if value != default:
            case[name] = value
    return case


def strided_axis_case(rng, *, padding_form="none", dilated=False, exact=True) -> dict:
    """An ``axis_case`` with a stride of 1..4 (at least 2 unless ``exact``)."""
    return axis_case(rng, stride=draw(rng, 1 if exact else 2, 4),
                     padding=draw_padding(rng, padding_form),
                     dilation=draw(rng, 2, 3) if dilated else 1, exact=exact)


def same_case(rng: np.random.Generator, *, strided: bool) -> dict:
    """A ``padding="same"`` case; stride 2..4 if ``strided`` else 1; any kernel and dilation."""
    case = {"size": draw(rng, 1, 40), "kernel_size": draw(rng, 1, 7), "padding": "same"}
    if strided:
        case["stride"] = draw(rng, 2, 4)
    if coin(rng):
        case["dilation"] = draw(rng, 2, 3)
    return case


def keras_same_padding(size: int, window: int, stride: int) -> tuple[int, int]:
    """TensorFlow's ``"same"`` padding: the least that gives ``ceil(size / stride)`` outputs,
    split with the extra pixel after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + window - size, 0)
    return total // 2, total - total // 2


def axis_padding(size: int, kernel_size: int, stride: int, padding, dilation: int):
    """The explicit ``(before, after)`` padding of one axis, ``"same"`` and ``"valid"`` too."""
    if padding == "same":
        return keras_same_padding(size, dilation * (kernel_size - 1) + 1, stride)
    if padding == "valid":
        return 0, 0
    return padding_pair(padding)


def meta(*shape: int) -> torch.Tensor:
    return torch.empty(shape, device="meta")


def torch_conv_size(case: Case) -> int:
    """``conv_output_size`` by PyTorch's ``conv1d`` on a padded meta input."""
    options = case.options
    stride, dilation = options.get("stride", 1), options.get("dilation", 1)
    before, after = axis_padding(options["size"], options["kernel_size"], stride,
                                 options.get("padding", 0), dilation)
    x = meta(1, 1, options["size"] + before + after)
    out = F.conv1d(x, meta(1, 1, options["kernel_size"]), stride=stride, dilation=dilation)
    return int(out.shape[-1])


# -- pooling ------------------------------------------------------------------------------


def pool_case(rng: np.random.Generator, *, default_stride: bool = False, padded: bool = False,
              ceil_mode: bool | None = None, fit: str = "exact") -> dict:
    """Keyword arguments of ``pool_output_size``.

    Args:
        default_stride: leave ``stride`` out (it defaults to ``kernel_size``).
        padded: draw a padding in ``1..kernel_size // 2`` (PyTorch allows no more).
        ceil_mode: passed when not None.
        fit: how the windows meet the end of the padded input: ``"exact"`` (they fit),
            ``"partial"`` (a partial last window that ``ceil_mode`` keeps), or ``"drop"``
            (``ceil_mode``'s extra window would start in the right padding, so it is dropped;
            impossible with the default stride and no padding).
    """
    for _ in range(10_000):
        kernel = draw(rng, 2 if padded else 1, 6)
        stride = kernel if default_stride else draw(rng, 1, 5)
        padding = draw(rng, 1, kernel // 2) if padded else 0
        size = draw(rng, 1, 30)
        padded_size = size + 2 * padding
        if kernel <= padded_size and pool_fit(size, kernel, stride, padding) == fit:
            break
    else:
        raise ValueError(f"no pooling case with {default_stride=}, {padded=} and {fit=}")
    case = {"size": size, "kernel_size": kernel}
    if not default_stride:
        case["stride"] = stride
    if padded:
        case["padding"] = padding
    if ceil_mode is not None:
        case["ceil_mode"] = ceil_mode
    return case


def pool_fit(size: int, kernel_size: int, stride: int, padding: int) -> str:
    """How pooling windows meet the end of the padded input: see ``pool_case``."""
    left_over = (size + 2 * padding - kernel_size) % stride
    if left_over == 0:
        return "exact"
    last_start = ((size + 2 * padding - kernel_size) // stride + 1) * stride
    return "drop" if last_start >= size + padding else "partial"


def torch_pool_size(case: Case) -> int:
    """``pool_output_size`` by PyTorch's ``max_pool1d`` on a meta input."""
    options = case.options
    out = F.max_pool1d(meta(1, 1, options["size"]), options["kernel_size"], options.get("stride"),
                       options.get("padding", 0), ceil_mode=options.get("ceil_mode", False))
    return int(out.shape[-1])


# -- transposed convolution ---------------------------------------------------------------


def transpose_case(rng: np.random.Generator, *, strided: bool, dilated: bool) -> dict:
    """Keyword arguments of ``conv_transpose_output_size`` with a non-empty output.

    ``strided`` draws a stride, a padding and an ``output_padding < stride``;
    ``dilated`` a dilation of 2 or 3.
    """
    while True:
        case = {"size": draw(rng, 1, 12), "kernel_size": draw(rng, 1, 7)}
        if strided:
            case["stride"] = draw(rng, 2, 4)
            case["padding"] = draw(rng, 0, 3)
            case["output_padding"] = draw(rng, 0, case["stride"] - 1)
        if dilated:
            case["dilation"] = draw(rng, 2, 3)
        if transpose_size_formula(**case) >= 1:
            return case


def transpose_size_formula(size, kernel_size, stride=1, padding=0, output_padding=0,
                           dilation=1) -> int:
    """Only to reject empty outputs while drawing; the oracle is PyTorch's."""
    return (size - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding + 1


def dilated_output_padding_case(rng: np.random.Generator, *, valid: bool = True) -> dict:
    """A ``conv_transpose_output_size`` case with dilation 2..3 and stride 1..2, and an
    ``output_padding`` below ``max(stride, dilation)`` (PyTorch's rule) but, where the
    stride is 1, above 0 and so not below the stride; or with ``valid=False``, at or above
    that bound."""
    while True:
        case = {"size": draw(rng, 1, 12), "kernel_size": draw(rng, 1, 5),
                "stride": draw(rng, 1, 2), "dilation": draw(rng, 2, 3)}
        bound = max(case["stride"], case["dilation"])
        case["output_padding"] = draw(rng, 1, bound - 1) if valid else \
            draw(rng, bound, bound + 2)
        if transpose_size_formula(**case) >= 1:
            return case


def torch_transpose_size(case: Case) -> int:
    """``conv_transpose_output_size`` by PyTorch's ``conv_transpose1d`` on a meta input."""
    options = case.options
    out = F.conv_transpose1d(meta(1, 1, options["size"]), meta(1, 1, options["kernel_size"]),
                             stride=options.get("stride", 1), padding=options.get("padding", 0),
                             output_padding=options.get("output_padding", 0),
                             dilation=options.get("dilation", 1))
    return int(out.shape[-1])


# -- 2-D layers ---------------------------------------------------------------------------


def conv2d_case(rng: np.random.Generator, *, batch: bool = False, square: bool = True,
                stride: bool = False, padding: str = "none", dilation: bool = False,
                exact: bool = True, groups: int = 1) -> dict:
    """Keyword arguments of ``conv2d_output_shape`` (and, with ``groups``, ``conv2d_macs``).

    Args:
        batch: an ``(N, C, H, W)`` input rather than ``(C, H, W)``.
        square: one int for kernel_size/stride/dilation; else a (height, width) pair each.
        stride, dilation: draw strides 2..4, dilations 2..3 (else leave the default).
        padding: ``"none"``, ``"int"`` (one int), ``"hw"`` (``(ph, pw)``), ``"pairs"``
            (``((top, bottom), (left, right))``), ``"same"`` or ``"valid"``.
        exact: whether the windows fit exactly on both axes (see ``axis_case``).
        groups: the channel counts are multiples of it; added to the case if not 1.
    """
    def layer_value(low, high):
        if square:
            value = draw(rng, low, high)
            return value, value, value
        height, width = draw(rng, low, high), draw(rng, low, high)
        return height, width, (height, width)

    kernel_h, kernel_w, kernel_size = layer_value(1, 5)
    stride_h, stride_w, stride_value = layer_value(2, 4) if stride else (1, 1, 1)
    dilation_h, dilation_w, dilation_value = layer_value(2, 3) if dilation else (1, 1, 1)
    if padding in ("same", "valid"):
        pad_h = pad_w = 0
        padding_value = padding
    elif padding in ("none", "int"):
        pad_h = pad_w = draw_padding(rng, padding)
        padding_value = pad_h
    else:
        form = "int" if padding == "hw" else "pair"
        pad_h, pad_w = draw_padding(rng, form), draw_padding(rng, form)
        padding_value = (pad_h, pad_w)
    height = axis_case(rng, kernel_size=kernel_h, stride=stride_h, padding=pad_h,
                       dilation=dilation_h, exact=exact)["size"]
    width = axis_case(rng, kernel_size=kernel_w, stride=stride_w, padding=pad_w,
                      dilation=dilation_w, exact=exact)["size"]
    channels = groups * draw(rng, 1, 4)
    input_shape = (draw(rng, 1, 5),) * batch + (channels, height, width)
    case = {"input_shape": input_shape, "out_channels": groups * draw(rng, 1, 8),
            "kernel_size": kernel_size}
    for name, value, default in (("stride", stride_value, 1), ("padding", padding_value, 0),
                                 ("dilation", dilation_value, 1), ("groups", groups, 1)):
        if value != default:
            case[name] = value
    return case


def per_axis(value) -> tuple:
    """An int or ``(h, w)`` argument as ``(h, w)``; padding forms likewise."""
    if isinstance(value, (tuple, list)):
        return tuple(value)
    return value, value


def padded_conv2d(options: dict) -> tuple[torch.Tensor, torch.Tensor, dict]:
    """The meta input (explicitly padded), meta weight and conv2d options of a 2-D case."""
    *_, channels, height, width = options["input_shape"]
    kernel = per_axis(options["kernel_size"])
    stride = per_axis(options.get("stride", 1))
    dilation = per_axis(options.get("dilation", 1))
    groups = options.get("groups", 1)
    pads = [axis_padding(size, k, s, p, d) for size, k, s, p, d in
            zip((height, width), kernel, stride, per_axis(options.get("padding", 0)), dilation,
                strict=True)]
    (top, bottom), (left, right) = pads
    x = F.pad(meta(*options["input_shape"]), (left, right, top, bottom))
    w = meta(options["out_channels"], channels // groups, *kernel)
    return x, w, {"stride": stride, "dilation": dilation, "groups": groups}


def torch_conv2d_shape(case: Case) -> tuple[int, ...]:
    """``conv2d_output_shape`` by PyTorch's ``conv2d`` on a meta input (3-D input too)."""
    x, w, layer = padded_conv2d(case.options)
    return tuple(int(n) for n in F.conv2d(x, w, **layer).shape)


def torch_conv2d_macs(case: Case) -> int:
    """``conv2d_macs`` by the formula of PyTorch's FLOP counter for a convolution, on the
    shapes of a meta conv2d: one MAC is two FLOPs. (The formula is what ``FlopCounterMode``
    applies to a conv2d; called directly, it spares the mode's 1.5 s start-up.)"""
    x, w, layer = padded_conv2d(case.options)
    out = F.conv2d(x[None], w, **layer)
    return conv_flop_count(list(x[None].shape), list(w.shape), list(out.shape)) // 2


def params_case(rng: np.random.Generator, *, bias: bool | None = None,
                groups: bool = False) -> dict:
    """Keyword arguments of ``conv2d_num_params``; ``groups`` draws 2..4 or depthwise."""
    group_count = draw(rng, 2, 4) if groups else 1
    case = {"in_channels": group_count * draw(rng, 1, 16),
            "out_channels": group_count * draw(rng, 1, 16),
            "kernel_size": draw(rng, 1, 7) if coin(rng) else (draw(rng, 1, 7), draw(rng, 1, 7))}
    if groups and coin(rng):  # depthwise: one group per input channel
        case["out_channels"] = case["in_channels"] * draw(rng, 1, 2)
        group_count = case["in_channels"]
    if bias is not None:
        case["bias"] = bias
    if groups:
        case["groups"] = group_count
    return case


def torch_num_params(case: Case) -> int:
    """``conv2d_num_params`` from a meta ``nn.Conv2d``."""
    options = case.options
    layer = torch.nn.Conv2d(options["in_channels"], options["out_channels"], options["kernel_size"],
                            bias=options.get("bias", True), groups=options.get("groups", 1),
                            device="meta")
    return sum(p.numel() for p in layer.parameters())


def dense_case(rng: np.random.Generator, *, bias: bool | None = None) -> dict:
    """Keyword arguments of ``dense_equivalent_num_params``: shapes of rank 1 to 3."""
    def shape():
        return tuple(draw(rng, 1, 20) for _ in range(draw(rng, 1, 3)))

    case = {"input_shape": shape(), "output_shape": shape()}
    if bias is not None:
        case["bias"] = bias
    return case


def torch_dense_params(case: Case) -> int:
    """``dense_equivalent_num_params`` from a meta ``nn.Linear``."""
    options = case.options
    layer = torch.nn.Linear(math.prod(options["input_shape"]), math.prod(options["output_shape"]),
                            bias=options.get("bias", True), device="meta")
    return sum(p.numel() for p in layer.parameters())


# -- invalid arguments --------------------------------------------------------------------


#: The bad values a non-positive argument takes, each in turn: 0 first, so that every
#: family tries it whatever the draw (``stride or default`` takes 0 for "not given").
NON_POSITIVE = (0, -1, -3, -2)


def non_positive_cases(valid_cases: list[dict],
                       arguments: tuple[str, ...]) -> list[tuple[dict, tuple[str, ...]]]:
    """Each valid case with one of ``arguments``, in turn, set to a value of
    ``NON_POSITIVE``, in turn: with as many cases as arguments, each argument tries 0."""
    cases = []
    for i, case in enumerate(valid_cases):
        name = arguments[i % len(arguments)]
        value = NON_POSITIVE[(i // len(arguments)) % len(NON_POSITIVE)]
        cases.append(({**case, name: value}, (name,)))
    return cases

