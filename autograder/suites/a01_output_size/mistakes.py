"""The mistakes the a01_output_size suite recognises (see ``autograder.diagnose``).

Each wrong answer is the size (or count) that a formula with one thing wrong gives: the
division rounded instead of floored, the ``+ 1`` lost, the padding counted once, an option
dropped. The one-axis formulas of a convolution (``Axis``) are shared by
``conv_output_size``, ``conv2d_output_shape`` and ``conv2d_macs``, since a mistake in the
first shows in the other two wherever they are computed from it.

A case's arguments are its inputs and its options together (a worked example passes them as
inputs, the generated cases as options).

A size is one number, so two mistakes often give the same one (with stride 1 and padding 1,
padding counted once is also one off). Where a mistake's answer to a case is another
mistake's too, the one about an option the case uses (``ABOUT``: the padding, here) is
named, since the suite's case families each try one option and a mistake that is not about
it fails the plainer families too; where neither or both are, neither is named
(``unambiguous``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

from autograder.compare import assert_same
from autograder.diagnose import NO_ANSWER, Mistake
from autograder.harness import Case


def arguments(case: Case) -> dict:
    """All of a case's arguments by name, positional and keyword alike."""
    return {**case.inputs, **case.options}


def pair(value) -> tuple[int, int]:
    """``3 -> (3, 3)``; ``(3, 5) -> (3, 5)``, as Python ints."""
    if isinstance(value, (tuple, list)):
        return int(value[0]), int(value[1])
    return int(value), int(value)


def sides(padding) -> tuple[int, int]:
    """The ``(before, after)`` padding of one axis: an int, a pair or ``"valid"``."""
    return (0, 0) if isinstance(padding, str) and padding == "valid" else pair(padding)


def is_same(padding) -> bool:
    return isinstance(padding, str) and padding == "same"


def floor_division(a: int, b: int) -> int:
    return a // b


def nearest(a: int, b: int) -> int:
    """``round(a / b)``: Python's rounding, halves to the even neighbour."""
    return round(a / b)


def half_up(a: int, b: int) -> int:
    """``int(a / b + 0.5)``: halves up."""
    return math.floor(a / b + 0.5)


def ceiling(a: int, b: int) -> int:
    return -(-a // b)


def keras_same(size: int, kernel_size: int, stride: int, dilation: int) -> int:
    """The right ``"same"`` size: ``ceil(size / stride)``."""
    return ceiling(size, stride)


@dataclass(frozen=True)
class Axis:
    """The output size of a convolution on one axis, as a formula with its parts named, so
    that a mistake changes one part: by default the right one,
    ``(size + before + after - (dilation * (kernel_size - 1) + 1)) // stride + 1``, and
    ``ceil(size / stride)`` for ``"same"``."""

    divide: Callable[[int, int], int] = floor_division
    plus: int = 1
    #: the dilated window from ``(kernel_size, dilation)``
    window: Callable[[int, int], int] = lambda k, d: d * (k - 1) + 1
    #: the padded size from ``(size, before, after)``
    padded: Callable[[int, int, int], int] = lambda size, before, after: size + before + after
    strided: bool = True
    dilated: bool = True
    #: the ``"same"`` size from ``(size, kernel_size, stride, dilation)``
    same: Callable[[int, int, int, int], int] = keras_same
    #: the ``+ 1`` added before the rounding (``round(span / stride + 1)``), not after it
    plus_inside: bool = False

    def __call__(self, size, kernel_size, stride=1, padding=0, dilation=1) -> int:
        size, kernel_size, stride, dilation = (int(size), int(kernel_size), int(stride),
                                               int(dilation))
        if is_same(padding):
            return self.same(size, kernel_size, stride, dilation)
        stride = stride if self.strided else 1
        dilation = dilation if self.dilated else 1
        before, after = sides(padding)
        span = self.padded(size, before, after) - self.window(kernel_size, dilation)
        if self.plus_inside:
            return self.divide(span + self.plus * stride, stride)
        return self.divide(span, stride) + self.plus


RIGHT = Axis()


def same_as_input(size: int, kernel_size: int, stride: int, dilation: int) -> int:
    return size


def same_padded_evenly(size: int, kernel_size: int, stride: int, dilation: int) -> int:
    """``"same"`` as ``(kernel_size - 1) // 2`` zeros on each side, then the usual formula."""
    pad = dilation * (kernel_size - 1) // 2
    return (size + 2 * pad - dilation * (kernel_size - 1) - 1) // stride + 1


#: The one-axis mistakes, by key: (what the student's code does, the hint, its formulas).
AXIS_MISTAKES = {
    "rounded instead of floored": (
        "the division by the stride is rounded (round() or ceil) instead of rounded down, "
        "so a last window that does not fit in the padded input is counted",
        "a window only counts if it fits entirely; what is left over after the last one "
        "is dropped",
        (Axis(divide=nearest), Axis(divide=half_up), Axis(divide=ceiling),
         Axis(divide=nearest, plus_inside=True))),
    "off by one": (
        "the size is one off: the + 1 for the first window is missing, or the window is "
        "taken one pixel too wide (kernel_size where kernel_size - 1 belongs)",
        "count the first window, then one more for each stride that fits in what is left "
        "of the padded input",
        (Axis(plus=0), Axis(window=lambda k, d: d * k + 1))),
    "dilated window too wide": (
        "the dilated window is taken as dilation * kernel_size pixels: one gap too many, "
        "so it is dilation - 1 pixels too wide",
        "kernel_size taps make kernel_size - 1 gaps: draw 3 taps with dilation 2 and count "
        "the pixels they span",
        (Axis(window=lambda k, d: d * k),)),
    "padding counted once": (
        "the padding is added on one side only, instead of before and after",
        "padding p adds p pixels before the input and p after it",
        (Axis(padded=lambda size, before, after: size + before),
         Axis(padded=lambda size, before, after: size + after))),
    "dilation ignored": (
        "the dilation is not used: the window is taken as kernel_size pixels wide",
        "a dilated kernel's taps are dilation pixels apart: count the pixels from its "
        "first tap to its last",
        (Axis(dilated=False),)),
    "stride ignored": (
        "the stride is not used: the window moves one pixel at a time",
        "with a stride, only every stride-th window position is kept",
        (Axis(strided=False),)),
    "'same' ignores the stride": (
        "padding='same' gives the input's size whatever the stride",
        "'same' keeps the size only at stride 1: see what a stride does to it",
        (Axis(same=same_as_input),)),
    "'same' padded evenly": (
        "padding='same' is taken as (kernel_size - 1) // 2 zeros on each side, as in "
        "PyTorch, then the usual formula",
        "the contract's 'same' is Keras's, defined by the output's size alone: read the "
        "docstring again",
        (Axis(same=same_padded_evenly),)),
}


def axis_mistakes(answer: Callable[[Axis], Callable[[Case], object]],
                  keys=tuple(AXIS_MISTAKES)) -> tuple[Mistake, ...]:
    """The one-axis mistakes ``keys``, each variant's answer ``answer(axis)``."""
    return tuple(Mistake(key, AXIS_MISTAKES[key][0], AXIS_MISTAKES[key][1], answer(axis))
                 for key in keys for axis in AXIS_MISTAKES[key][2])


# -- conv_output_size -------------------------------------------------------------------


def conv_size(axis: Axis) -> Callable[[Case], int]:
    return lambda case: axis(**arguments(case))


CONV_OUTPUT_SIZE = axis_mistakes(conv_size)


# -- pool_output_size -------------------------------------------------------------------


def pool_size(*, default_stride: bool = True, divide=floor_division, plus: int = 1,
              padded=lambda size, before, after: size + before + after,
              honours_ceil_mode: bool = True, drops_window_in_padding: bool = True):
    """The answer of a ``pool_output_size`` with one part changed."""
    def answer(case: Case) -> int:
        given = arguments(case)
        size, kernel_size = int(given["size"]), int(given["kernel_size"])
        stride = given.get("stride")
        stride = (kernel_size if default_stride else 1) if stride is None else int(stride)
        before, after = sides(given.get("padding", 0))
        span = padded(size, before, after) - kernel_size
        if not (honours_ceil_mode and given.get("ceil_mode", False)):
            return divide(span, stride) + plus
        out = ceiling(span, stride) + plus
        if drops_window_in_padding and (out - 1) * stride >= size + before:
            out -= 1
        return out
    return answer


POOL_OUTPUT_SIZE = (
    Mistake("stride defaults to 1", "without a stride, the window moves one pixel at a time",
            "stride=None is not a stride of 1: see where a pooling puts its windows by "
            "default",
            pool_size(default_stride=False)),
    Mistake("ceil_mode ignored", "ceil_mode=True is ignored: the size is always rounded down",
            "with ceil_mode=True a last, partial window counts too",
            pool_size(honours_ceil_mode=False)),
    Mistake("ceil_mode keeps a window in the padding", "with ceil_mode=True a last window "
            "that would start in the right padding is kept",
            "the last window may not start just anywhere: see PyTorch's rule in the "
            "docstring",
            pool_size(drops_window_in_padding=False)),
    *(Mistake("rounded instead of floored", "the division by the stride is rounded (round() "
              "or ceil) instead of rounded down, although ceil_mode is False",
              "with ceil_mode=False a window only counts if it fits entirely",
              pool_size(divide=divide)) for divide in (nearest, half_up, ceiling)),
    Mistake("off by one", "the + 1 for the first window is missing",
            "count the first window, then one more for each stride that fits in what is "
            "left", pool_size(plus=0)),
    *(Mistake("padding counted once", "the padding is added on one side only, instead of "
              "before and after", "padding p adds p pixels before the input and p after it",
              pool_size(padded=padded))
      for padded in (lambda size, before, after: size + before,
                     lambda size, before, after: size + after)),
)


# -- conv_transpose_output_size ---------------------------------------------------------


def transpose_size(*, steps=lambda size: size - 1, crop: int = 2, output_padding: bool = True,
                   strided: bool = True, dilated: bool = True, plus: int = 1):
    """The answer of a ``conv_transpose_output_size`` with one part changed: ``steps`` is
    how many strides the input's pixels are apart, ``crop`` how many times the padding is
    taken off (-2: added on both sides)."""
    def answer(case: Case) -> int:
        given = arguments(case)
        size, kernel_size = int(given["size"]), int(given["kernel_size"])
        stride = int(given.get("stride", 1)) if strided else 1
        dilation = int(given.get("dilation", 1)) if dilated else 1
        extra = int(given.get("output_padding", 0)) if output_padding else 0
        return (steps(size) * stride - crop * int(given.get("padding", 0))
                + dilation * (kernel_size - 1) + extra + plus)
    return answer


def conv_formula(case: Case) -> int:
    """The convolution's own output size, on the transposed convolution's arguments."""
    given = arguments(case)
    return RIGHT(given["size"], given["kernel_size"], given.get("stride", 1),
                 given.get("padding", 0), given.get("dilation", 1))


CONV_TRANSPOSE_OUTPUT_SIZE = (
    Mistake("output_padding ignored", "output_padding is not added",
            "output_padding adds that many pixels at the end of the output",
            transpose_size(output_padding=False)),
    Mistake("convolution's formula", "the size is a convolution's, which shrinks the input, "
            "where a transposed convolution grows it",
            "a transposed convolution runs a convolution backwards: each input pixel "
            "spreads a kernel onto the output, stride pixels after the previous one",
            conv_formula),
    Mistake("padding added", "the padding is added to the output, as a convolution adds it "
            "to its input", "a transposed convolution's padding crops the output, on both "
            "sides", transpose_size(crop=-2)),
    Mistake("padding counted once", "the padding is cropped on one side only",
            "padding p crops p pixels at each end of the output", transpose_size(crop=1)),
    Mistake("dilation ignored", "the dilation is not used: the kernel is taken as "
            "kernel_size pixels wide", "a dilated kernel's taps are dilation pixels apart: "
            "count the output pixels it spreads over", transpose_size(dilated=False)),
    Mistake("stride ignored", "the stride is not used: the input's pixels are spread one "
            "output pixel apart", "each input pixel's kernel lands stride pixels after the "
            "previous one's", transpose_size(strided=False)),
    Mistake("off by one", "the size is one off: the + 1 is missing, or the input's pixels "
            "are taken size strides apart instead of size - 1",
            "the first input pixel's kernel starts at 0 and the last one's at "
            "(size - 1) * stride; add the kernel's span from there",
            transpose_size(plus=0)),
    Mistake("off by one", "the size is one off: the + 1 is missing, or the input's pixels "
            "are taken size strides apart instead of size - 1",
            "the first input pixel's kernel starts at 0 and the last one's at "
            "(size - 1) * stride; add the kernel's span from there",
            transpose_size(steps=lambda size: size)),
)


# -- conv2d_output_shape ----------------------------------------------------------------


def per_axis_padding(padding) -> tuple:
    """The padding of each axis, ``(height, width)``, each as ``Axis`` takes it."""
    if isinstance(padding, (tuple, list)):
        return padding[0], padding[1]
    return padding, padding


def spatial(given: dict, axis: Axis, swapped: tuple[str, ...] = ()) -> tuple[int, int]:
    """``(H_out, W_out)`` by ``axis`` on each axis; the settings named in ``swapped`` read
    as ``(width, height)``."""
    *_, height, width = given["input_shape"]
    settings = {name: list(pair(given.get(name, default)))
                for name, default in (("kernel_size", 1), ("stride", 1), ("dilation", 1))}
    settings["padding"] = list(per_axis_padding(given.get("padding", 0)))
    for name in swapped:
        settings[name].reverse()
    return tuple(axis(size, settings["kernel_size"][i], settings["stride"][i],
                      settings["padding"][i], settings["dilation"][i])
                 for i, size in enumerate((height, width)))


def output_shape(axis: Axis = RIGHT, *, keeps_batch: bool = True, channels: str = "out",
                 swapped: tuple[str, ...] = ()):
    """The answer of a ``conv2d_output_shape`` with one part changed."""
    def answer(case: Case) -> tuple[int, ...]:
        given = arguments(case)
        *batch, in_channels, _, _ = given["input_shape"]
        filters = int(given["out_channels"] if channels == "out" else in_channels)
        batch = [int(n) for n in batch] if keeps_batch else []
        return (*batch, filters, *spatial(given, axis, swapped))
    return answer


SWAPPED_SAYS = ("height and width are swapped: a (height, width) setting is read as "
                "(width, height), or the width's settings go with the height")
SWAPPED_HINT = "pairs are (height, width), like the input's (..., H, W)"
SWAPS = (("kernel_size", "stride", "padding", "dilation"), ("kernel_size",), ("stride",),
         ("padding",), ("dilation",))

CONV2D_OUTPUT_SHAPE = (
    *axis_mistakes(output_shape),
    Mistake("batch dropped", "an (N, C, H, W) input gives (F, H_out, W_out): the batch "
            "size N is missing", "the output keeps the input's rank: every image of the "
            "batch has its output", output_shape(keeps_batch=False)),
    Mistake("in_channels kept", "the output has the input's channel count",
            "each of the out_channels filters makes one output channel",
            output_shape(channels="in")),
    *(Mistake("height and width swapped", SWAPPED_SAYS, SWAPPED_HINT,
              output_shape(swapped=names)) for names in SWAPS),
)


# -- parameter counts -------------------------------------------------------------------


def num_params(*, groups: str = "right", bias: str = "right", kernel: str = "right"):
    """The answer of a ``conv2d_num_params`` with one part changed: ``groups`` "ignored"
    or "divides both" channel counts; ``bias`` "forgotten" or "always"; ``kernel``
    "height" or "width" (a non-square kernel taken as square)."""
    def answer(case: Case) -> int:
        given = arguments(case)
        c, f, g = int(given["in_channels"]), int(given["out_channels"]), int(given.get(
            "groups", 1))
        kh, kw = pair(given["kernel_size"])
        kh, kw = {"right": (kh, kw), "height": (kh, kh), "width": (kw, kw)}[kernel]
        weights = {"right": f * (c // g), "ignored": f * c,
                   "divides both": (f // g) * (c // g)}[groups] * kh * kw
        with_bias = {"right": given.get("bias", True), "forgotten": False,
                     "always": True}[bias]
        return weights + (f if with_bias else 0)
    return answer


GROUPS_IGNORED = ("groups ignored", "groups are not used: each filter is counted over all "
                  "the input channels", "with groups, a filter sees only the input channels "
                  "of its own group")
ONE_GROUP = ("one group counted", "the channels are divided by groups on both sides: the "
             "count is one group's", "every group has filters of its own: count those of "
             "all the groups")
BIAS_FORGOTTEN = ("bias forgotten", "the biases are not counted", "bias=True (the default) "
                  "adds learnable parameters too")
BIAS_ALWAYS = ("bias=False ignored", "the biases are counted even with bias=False",
               "bias=False means the layer has no bias at all")

SQUARE = ("kernel taken as square", "a (KH, KW) kernel is counted as KH x KH or KW x KW",
          "kernel_size may be a (KH, KW) pair: both sizes count")

CONV2D_NUM_PARAMS = (
    Mistake(*GROUPS_IGNORED, num_params(groups="ignored")),
    Mistake(*ONE_GROUP, num_params(groups="divides both")),
    Mistake(*BIAS_FORGOTTEN, num_params(bias="forgotten")),
    Mistake(*BIAS_ALWAYS, num_params(bias="always")),
    *(Mistake(*SQUARE, num_params(kernel=side)) for side in ("height", "width")),
)


def dense_params(*, bias: str = "right"):
    """The answer of a ``dense_equivalent_num_params`` with its bias changed: "forgotten",
    "always", or "per input" (a bias per input unit)."""
    def answer(case: Case) -> int:
        given = arguments(case)
        inputs, outputs = math.prod(given["input_shape"]), math.prod(given["output_shape"])
        with_bias = given.get("bias", True) if bias in ("right", "per input") else \
            bias == "always"
        return inputs * outputs + ((inputs if bias == "per input" else outputs)
                                   if with_bias else 0)
    return answer


DENSE_EQUIVALENT_NUM_PARAMS = (
    Mistake(*BIAS_FORGOTTEN, dense_params(bias="forgotten")),
    Mistake(*BIAS_ALWAYS, dense_params(bias="always")),
    Mistake("a bias per input", "there is one bias per input unit",
            "a bias belongs to a unit that the layer computes",
            dense_params(bias="per input")),
)


# -- conv2d_macs ------------------------------------------------------------------------


def macs(axis: Axis = RIGHT, *, groups: str = "right", kernel: str = "right",
         positions: str = "output", bias: bool = False, factor: int = 1):
    """The answer of a ``conv2d_macs`` with one part changed: the output size by ``axis``,
    ``groups`` and ``kernel`` as for ``num_params``, ``positions`` "input" (the input's
    H * W), ``bias`` counted, or ``factor`` 2 (FLOPs)."""
    def answer(case: Case) -> int:
        given = arguments(case)
        channels, height, width = (int(n) for n in given["input_shape"])
        out_h, out_w = (height, width) if positions == "input" else spatial(given, axis)
        weights = num_params(groups=groups, kernel=kernel,
                             bias="always" if bias else "forgotten")(
            Case({"in_channels": channels, "out_channels": given["out_channels"],
                  "kernel_size": given["kernel_size"], "groups": given.get("groups", 1)}))
        return factor * out_h * out_w * weights
    return answer


CONV2D_MACS = (
    *axis_mistakes(macs),
    Mistake(*GROUPS_IGNORED, macs(groups="ignored")),
    Mistake(*ONE_GROUP, macs(groups="divides both")),
    *(Mistake(*SQUARE, macs(kernel=side)) for side in ("height", "width")),
    Mistake("input positions", "the count uses the input's H * W positions instead of "
            "the output's", "every weight is used once at each output position",
            macs(positions="input")),
    Mistake("bias counted", "the biases are counted as multiply-adds",
            "a bias is only added, once per output value: it is no multiply-add",
            macs(bias=True)),
    Mistake("FLOPs counted", "the count is twice the multiply-adds: a multiply and an add "
            "counted apart (FLOPs)", "one multiply-accumulate is one multiplication and "
            "its addition together", macs(factor=2)),
)


def given(name: str, default) -> Callable[[dict], bool]:
    """Whether a case sets ``name`` (any axis of it) to something else than ``default``."""
    def uses(arguments: dict) -> bool:
        value = arguments.get(name, default)
        if isinstance(value, (tuple, list)):
            return any(uses({name: v}) for v in value)
        return not isinstance(value, str) and value is not None and value != default
    return uses


def stride_counts(arguments: dict) -> bool:
    """Whether the case strides (a pooling's default stride is its kernel)."""
    stride = arguments.get("stride")
    return (arguments.get("kernel_size", 1) != 1) if stride is None else \
        given("stride", 1)(arguments)


def same_padding(arguments: dict) -> bool:
    return is_same(arguments.get("padding", 0))


def non_square(arguments: dict) -> bool:
    kh, kw = pair(arguments["kernel_size"])
    return kh != kw


#: What each mistake is about: whether a case uses the option it gets wrong. A mistake not
#: listed (one off, FLOPs) can show in any case.
ABOUT = {
    "rounded instead of floored": stride_counts,
    "padding counted once": given("padding", 0),
    "padding added": given("padding", 0),
    "dilation ignored": given("dilation", 1),
    "dilated window too wide": given("dilation", 1),
    "stride ignored": given("stride", 1),
    "'same' ignores the stride": lambda arguments: same_padding(arguments)
    and given("stride", 1)(arguments),
    "'same' padded evenly": same_padding,
    "stride defaults to 1": lambda arguments: arguments.get("stride") is None,
    "ceil_mode ignored": lambda arguments: bool(arguments.get("ceil_mode", False)),
    "ceil_mode keeps a window in the padding":
        lambda arguments: bool(arguments.get("ceil_mode", False)),
    "output_padding ignored": given("output_padding", 0),
    "batch dropped": lambda arguments: len(arguments["input_shape"]) == 4,
    "groups ignored": given("groups", 1),
    "one group counted": given("groups", 1),
    "bias=False ignored": lambda arguments: arguments.get("bias", True) is False,
    "kernel taken as square": non_square,
}


def unambiguous(mistakes: tuple[Mistake, ...]) -> tuple[Mistake, ...]:
    """``mistakes``, each refusing (``ValueError``) a case where another of them, of
    another key, gives the same answer, unless it alone is about an option the case uses."""
    def about(mistake: Mistake, case: Case) -> bool:
        return mistake.key in ABOUT and ABOUT[mistake.key](arguments(case))

    def alone(mistake: Mistake):
        def answer(case: Case):
            mine = mistake.answer(case)
            for other in mistakes:
                if other.key == mistake.key or about(mistake, case) > about(other, case):
                    continue
                try:
                    assert_same(other.answer(case), mine, case="")
                except (*NO_ANSWER, AssertionError):
                    continue
                raise ValueError(f"{other.key!r} gives the same answer as {mistake.key!r}")
            return mine
        return answer
    return tuple(replace(mistake, answer=alone(mistake)) for mistake in mistakes)


MISTAKES = {
    "conv_output_size": CONV_OUTPUT_SIZE,
    "pool_output_size": POOL_OUTPUT_SIZE,
    "conv_transpose_output_size": CONV_TRANSPOSE_OUTPUT_SIZE,
    "conv2d_output_shape": CONV2D_OUTPUT_SHAPE,
    "conv2d_num_params": CONV2D_NUM_PARAMS,
    "dense_equivalent_num_params": DENSE_EQUIVALENT_NUM_PARAMS,
    "conv2d_macs": CONV2D_MACS,
}
MISTAKES = {function: unambiguous(mistakes) for function, mistakes in MISTAKES.items()}
