"""The mistakes the a03_pooling suite recognises (see ``autograder.diagnose``, which also
recognises a float32 result for float64 inputs in every function).

A forward pass's wrong answer is PyTorch's on a changed case (an option dropped, the input
padded with zeros, the mean over the pixels inside the image). A backward pass's is the
gradient of each window handed back to its pixels in a wrong way, written here in numpy
with the windows' own bookkeeping: to the wrong maxima, overwritten where windows overlap,
not divided, or not cropped back to the input.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch
import torch.nn.functional as F
from numpy.lib.stride_tricks import sliding_window_view

from autograder.diagnose import Mistake
from autograder.harness import Case
from autograder.suites.a03_pooling.cases import pytorch_forward


def pair(value) -> tuple[int, int]:
    return (int(value), int(value)) if np.ndim(value) == 0 else tuple(int(v) for v in value)


def geometry(case: Case) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    """``(kernel, stride, padding)`` of a pooling case, each ``(height, width)``; the stride
    defaults to the kernel."""
    kernel = pair(case.options["kernel_size"])
    stride = case.options.get("stride")
    return kernel, kernel if stride is None else pair(stride), pair(case.options.get(
        "padding", 0))


def changed(case: Case, options: dict | None = None, **inputs) -> Case:
    """``case`` with some inputs replaced and its options replaced by ``options``."""
    return replace(case, inputs=case.inputs | inputs,
                   options=case.options if options is None else options)


def with_options(case: Case, **options) -> Case:
    return changed(case, case.options | options)


def without_stride(case: Case) -> dict:
    return {name: value for name, value in case.options.items() if name != "stride"}


def default_stride(case: Case) -> dict:
    """A case's options with the stride of 1 that a wrong default gives; ``ValueError``
    where the case gives a stride (the default is not used)."""
    if case.options.get("stride") is not None:
        raise ValueError("the case gives a stride")
    return case.options | {"stride": 1}


def zero_padded(case: Case) -> Case:
    """``case`` with its padding made of zeros in the input, and no padding."""
    _, _, (ph, pw) = geometry(case)
    x = np.pad(case.inputs["x"], ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    return changed(case, case.options | {"padding": 0}, x=x)


def max_backward_zero_padded(case: Case) -> np.ndarray:
    """The gradient of a max pooling whose padding is zeros (first maximum wins, as in
    PyTorch)."""
    _, _, (ph, pw) = geometry(case)
    x = torch.from_numpy(case.inputs["x"]).requires_grad_()
    padded = F.pad(x, (pw, pw, ph, ph))
    options = case.options | {"padding": 0}
    kernel, stride = pair(options["kernel_size"]), options.get("stride")
    out = F.max_pool2d(padded, kernel, None if stride is None else pair(stride), 0)
    out.backward(torch.from_numpy(case.inputs["dout"]))
    return x.grad.numpy()


def avg_excluding_padding(case: Case) -> np.ndarray:
    """Average pooling that divides each window by its pixels inside the image."""
    kernel, stride, padding = geometry(case)
    return F.avg_pool2d(torch.from_numpy(case.inputs["x"]), kernel, stride, padding,
                        count_include_pad=False).numpy()


def avg_backward_excluding_padding(case: Case) -> np.ndarray:
    kernel, stride, padding = geometry(case)
    x = torch.from_numpy(case.inputs["x"]).requires_grad_()
    F.avg_pool2d(x, kernel, stride, padding, count_include_pad=False).backward(
        torch.from_numpy(case.inputs["dout"]))
    return x.grad.numpy()


# -- backward passes, window by window --------------------------------------------------


def windows(case: Case, fill: float) -> np.ndarray:
    """The windows of the case's input padded with ``fill``: (N, C, OH, OW, KH, KW)."""
    kernel, (sh, sw), (ph, pw) = geometry(case)
    padded = np.pad(case.inputs["x"], ((0, 0), (0, 0), (ph, ph), (pw, pw)),
                    constant_values=fill)
    return sliding_window_view(padded, kernel, axis=(2, 3))[:, :, ::sh, ::sw]


def winners(case: Case, pick: str) -> np.ndarray:
    """Which pixels of each max window get its gradient (N, C, OH, OW, KH, KW): the
    ``"first"`` maximum in row-major order, the ``"last"``, or ``"all"`` of them."""
    view = windows(case, -np.inf)
    flat = view.reshape(*view.shape[:4], -1)
    if pick == "all":
        chosen = flat == flat.max(axis=-1, keepdims=True)
    else:
        index = np.argmax(flat, axis=-1) if pick == "first" else \
            flat.shape[-1] - 1 - np.argmax(flat[..., ::-1], axis=-1)
        chosen = np.arange(flat.shape[-1]) == index[..., np.newaxis]
    return chosen.reshape(view.shape)


def fold(case: Case, dwindows: np.ndarray, written: np.ndarray, how: str = "add",
         crop: str = "centre") -> np.ndarray:
    """The gradients of the windows (N, C, OH, OW, KH, KW) handed back to the padded input,
    then cropped.

    ``how``: ``"add"`` (overlapping windows add up, as they must); ``"offset"`` (each of
    the KH * KW offsets of every window at once, in row-major order, assigned: the last
    offset wins); ``"window"`` (window after window in row-major order, its whole gradient
    assigned); ``"written"`` (window after window, only the pixels of ``written``
    assigned). ``crop``: ``"centre"`` (the padding cut off both sides), ``"none"``,
    ``"start"`` (the input taken from the top-left corner) or ``"end"``.
    """
    n, c, h, w = case.inputs["x"].shape
    (kh, kw), (sh, sw), (ph, pw) = geometry(case)
    oh, ow = dwindows.shape[2:4]
    dx = np.zeros((n, c, h + 2 * ph, w + 2 * pw))
    if how in ("add", "offset"):
        for i in range(kh):
            for j in range(kw):
                rows = slice(i, i + (oh - 1) * sh + 1, sh)
                columns = slice(j, j + (ow - 1) * sw + 1, sw)
                if how == "add":
                    dx[:, :, rows, columns] += dwindows[..., i, j]
                else:
                    dx[:, :, rows, columns] = dwindows[..., i, j]
    else:
        for i in range(oh):
            for j in range(ow):
                block = dx[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw]
                where = True if how == "window" else written[:, :, i, j]
                np.copyto(block, dwindows[:, :, i, j], where=where)
    return {"centre": dx[:, :, ph:ph + h, pw:pw + w], "none": dx, "start": dx[:, :, :h, :w],
            "end": dx[:, :, 2 * ph:, 2 * pw:]}[crop]


def max_backward(pick: str = "first", how: str = "add", crop: str = "centre"):
    def answer(case: Case) -> np.ndarray:
        chosen = winners(case, pick)
        dwindows = chosen * case.inputs["dout"][..., np.newaxis, np.newaxis]
        return fold(case, dwindows, chosen, how, crop)
    return answer


def avg_backward(how: str = "add", crop: str = "centre", divided: bool = True):
    def answer(case: Case) -> np.ndarray:
        (kh, kw), _, _ = geometry(case)
        share = case.inputs["dout"] / (kh * kw if divided else 1)
        dwindows = np.broadcast_to(share[..., np.newaxis, np.newaxis], (*share.shape, kh, kw))
        return fold(case, dwindows, np.ones(dwindows.shape, dtype=bool), how, crop)
    return answer


# -- the mistakes ----------------------------------------------------------------------

STRIDE_DEFAULT = ("stride defaults to 1", "without a stride, the window moves one pixel at "
                  "a time", "stride=None is not a stride of 1: see where a pooling puts its "
                  "windows by default")
STRIDE_IGNORED = ("stride ignored", "the stride is not used: the window moves one pixel at "
                  "a time", "step the window's corner by the stride, in rows and in columns")
PADDING_IGNORED = ("padding ignored", "the input is not padded", "padding adds a border of "
                   "that width on every side before the windows slide")
ZERO_PADDING = ("zero padding", "max pooling pads the input with zeros, so a window "
                "over the border whose pixels are all negative returns 0",
                "padding must never win a max, whatever the input's values")
OVERWRITTEN = ("overlapping windows overwritten", "where windows overlap, a pixel keeps the "
               "gradient of one window only: later ones overwrite it",
               "a pixel in several windows gets the gradient of each of them")
NOT_CROPPED = ("padding not cropped", "dx has the shape of the padded input",
               "dx is the gradient of x: only part of the padded input's gradient is x's")
CROPPED_ON_ONE_SIDE = ("padding cropped on one side", "dx is cut from one corner of the "
                       "padded input's gradient, so it is shifted by the padding",
                       "the padding is on both sides of each axis")
EXCLUDING_PADDING = ("divided by the pixels inside the image", "a window over the border "
                     "is divided by its pixels inside the image only",
                     "the contract counts the padding's zeros in the mean "
                     "(count_include_pad=True), in every window")


def forward_mistakes(kind: str) -> tuple[Mistake, ...]:
    oracle = pytorch_forward(kind)
    return (
        Mistake(*STRIDE_DEFAULT, lambda case: oracle(changed(case, default_stride(case)))),
        Mistake(*STRIDE_IGNORED, lambda case: oracle(with_options(case, stride=1))),
        Mistake(*PADDING_IGNORED, lambda case: oracle(with_options(case, padding=0))),
    )


MAX_POOL2D_FORWARD = (
    Mistake(*ZERO_PADDING, lambda case: pytorch_forward("max")(zero_padded(case))),
    *forward_mistakes("max"),
)

MAX_POOL2D_BACKWARD = (
    Mistake(*ZERO_PADDING, max_backward_zero_padded),
    Mistake("gradient to every tie", "where a window holds several equal maxima, each of "
            "them gets the window's gradient", "the max picks one pixel: only that one "
            "gets the gradient (the contract says which)", max_backward(pick="all")),
    Mistake("gradient to the last tie", "where a window holds several equal maxima, the "
            "last of them gets the window's gradient", "the contract says which of the "
            "equal maxima gets it: check the order your code searches the window in",
            max_backward(pick="last")),
    *(Mistake(*OVERWRITTEN, max_backward(how=how)) for how in ("offset", "window", "written")),
    Mistake(*NOT_CROPPED, max_backward(crop="none")),
    *(Mistake(*CROPPED_ON_ONE_SIDE, max_backward(crop=crop)) for crop in ("start", "end")),
)

AVG_POOL2D_FORWARD = (
    Mistake(*EXCLUDING_PADDING, avg_excluding_padding),
    *forward_mistakes("avg"),
)

AVG_POOL2D_BACKWARD = (
    Mistake(*EXCLUDING_PADDING, avg_backward_excluding_padding),
    Mistake("gradient not divided", "every pixel of a window gets the window's whole "
            "gradient", "think of how much a window's mean moves when one of its pixels "
            "moves by 1", avg_backward(divided=False)),
    *(Mistake(*OVERWRITTEN, avg_backward(how=how)) for how in ("offset", "window")),
    Mistake(*NOT_CROPPED, avg_backward(crop="none")),
    *(Mistake(*CROPPED_ON_ONE_SIDE, avg_backward(crop=crop)) for crop in ("start", "end")),
)


def mean_over(*axes: int):
    return lambda case: case.inputs["x"].mean(axis=axes)


GLOBAL_AVG_POOL2D = (
    *(Mistake("wrong axes", "the mean is taken over other axes than H and W",
              "x is (N, C, H, W): average each image's channel over its pixels",
              mean_over(*axes))
      for axes in ((1, 2), (1, 3), (0, 1), (2,), (3,), (0, 2, 3), (1, 2, 3), (0, 1, 2, 3))),
    Mistake("summed instead of averaged", "the pixels are summed, not averaged",
            "a sum grows with the image: the global pool is a mean",
            lambda case: case.inputs["x"].sum(axis=(2, 3))),
    Mistake("spatial axes kept", "the result is (N, C, 1, 1)", "the contract asks for "
            "(N, C): one vector per image", lambda case: case.inputs["x"].mean(
                axis=(2, 3), keepdims=True)),
)

MISTAKES = {
    "max_pool2d_forward": MAX_POOL2D_FORWARD,
    "max_pool2d_backward": MAX_POOL2D_BACKWARD,
    "avg_pool2d_forward": AVG_POOL2D_FORWARD,
    "avg_pool2d_backward": AVG_POOL2D_BACKWARD,
    "global_avg_pool2d": GLOBAL_AVG_POOL2D,
}
