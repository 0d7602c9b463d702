"""The mistakes the a02_convolution suite recognises (see ``autograder.diagnose``).

Each wrong answer is PyTorch's on a changed case: the kernel turned round, an option dropped,
the input padded on one side, or a gradient scaled.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from autograder.diagnose import Mistake
from autograder.harness import Case
from autograder.suites.a02_convolution.cases import (
    GRADIENTS,
    torch_conv2d,
    torch_conv2d_grads,
    torch_conv_transpose2d,
)


def changed(case: Case, options: dict | None = None, **inputs) -> Case:
    """``case`` with some inputs replaced and its options replaced by ``options``."""
    return replace(case, inputs=case.inputs | inputs,
                   options=case.options if options is None else options)


def without(case: Case, *names: str) -> dict:
    """``case``'s options less ``names``."""
    return {name: value for name, value in case.options.items() if name not in names}


def pair(value) -> tuple[int, int]:
    return (int(value), int(value)) if np.ndim(value) == 0 else tuple(int(v) for v in value)


def turned(w: np.ndarray) -> np.ndarray:
    """The kernel rotated by 180 degrees."""
    return w[..., ::-1, ::-1].copy()


def top_left(array: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """The top-left corner of ``array`` of ``shape``'s last two sizes (a wrong map computed
    at the right output size)."""
    if array.shape[:-2] != shape[:-2] or any(a < s for a, s in zip(array.shape[-2:],
                                                                   shape[-2:], strict=True)):
        raise ValueError("no such corner")
    return array[..., :shape[-2], :shape[-1]]


def padded_on_one_side(case: Case, before: int, after: int) -> Case:
    """``case`` with ``before`` times its padding added above and on the left, and ``after``
    times it below and on the right, instead of once on each side."""
    rows, columns = pair(case.options.get("padding", 0))
    x = np.pad(case.inputs["x"], ((0, 0), (0, 0), (before * rows, after * rows),
                                  (before * columns, after * columns)))
    return changed(case, without(case, "padding"), x=x)


#: Ways to put the padding on one side: (times above and left, times below and right).
ONE_SIDED = ((2, 0), (0, 2), (1, 0), (0, 1))


def _forward_mistakes(oracle, flipped_says: str, flipped_hint: str,
                      dilated: bool = True) -> tuple[Mistake, ...]:
    """The mistakes a forward pass shares with the other (``dilated``: it takes a
    ``dilation``, which the transposed convolution of the contract does not)."""
    return (
        Mistake("kernel flipped", flipped_says, flipped_hint,
                lambda case: oracle(changed(case, w=turned(case.inputs["w"])))),
        Mistake("stride ignored", "the window moves one pixel at a time whatever the stride",
                "step the window's corner by the stride, in rows and in columns",
                lambda case: oracle(changed(case, without(case, "stride")))),
        Mistake("padding ignored", "the input is not padded",
                "add the zero border of width padding before sliding the window",
                lambda case: oracle(changed(case, without(case, "padding")))),
        *(Mistake("dilation ignored", "the kernel's taps are next to each other whatever "
                  "the dilation", "a dilated kernel takes every dilation-th pixel of a wider "
                  "window", answer) for answer in (
            lambda case: oracle(changed(case, without(case, "dilation"))),
            lambda case: top_left(oracle(changed(case, without(case, "dilation"))),
                                  oracle(case).shape)) if dilated),
        Mistake("bias forgotten", "the bias is not added", "every output channel gets its "
                "own b[k], at every position",
                lambda case: oracle(changed(case, b=None))),
    )


#: The kernel turned round, as in the mathematical convolution.
FLIPPED_SAYS = ("the kernel is rotated by 180 degrees, as in the mathematical convolution; "
                "a CNN's convolution is a cross-correlation")

CONV2D_FORWARD = (
    *_forward_mistakes(torch_conv2d, FLIPPED_SAYS, "the output at (i, j) multiplies the "
                       "window's top-left pixel by w[..., 0, 0]"),
    *(Mistake("padding on one side", "the zeros of the padding are all on one side of "
              "the image", "padding p adds p rows above and p below, p columns on the left "
              "and p on the right",
              lambda case, sides=sides: torch_conv2d(padded_on_one_side(case, *sides)))
      for sides in ONE_SIDED),
)

CONV_TRANSPOSE2D_FORWARD = (
    *_forward_mistakes(torch_conv_transpose2d, "the kernel is used rotated by 180 degrees "
                       "(a transposed convolution scatters each input pixel through the "
                       "kernel as it is)", "input pixel (i, j) adds x[i, j] * w[..., 0, 0] "
                       "to the top-left output pixel of its block", dilated=False),
    Mistake("output_padding ignored", "the extra rows and columns of output_padding are "
            "missing", "output_padding adds that many rows and columns at the bottom and "
            "right of the output",
            lambda case: torch_conv_transpose2d(changed(case, without(case,
                                                                      "output_padding")))),
)


def _gradients(case: Case, dx=None, dw=None, db=None) -> tuple[np.ndarray, ...]:
    """The true gradients of ``case``, with those given replaced."""
    true = torch_conv2d_grads(case)
    return tuple(true[i] if given is None else given
                 for i, given in enumerate((dx, dw, db)))


def _batch(case: Case) -> int:
    return case.inputs["x"].shape[0]


CONV2D_BACKWARD = (
    Mistake("dx kernel not rotated", "dx uses the kernel as it is; the input's gradient "
            "needs it rotated by 180 degrees",
            "write dx[i, j] as the sum of the outputs that pixel (i, j) fed into, each times "
            "the weight it met",
            lambda case: _gradients(case, dx=torch_conv2d_grads(
                changed(case, w=turned(case.inputs["w"])))[0])),
    Mistake("dx padding not cropped", "dx has the shape of the padded input",
            "the gradient of the zero border is not the input's: cut it off",
            lambda case: _gradients(case, dx=torch_conv2d_grads(
                changed(case, without(case, "padding"), x=_padded(case)))[0])),
    *(Mistake("dx padding not cropped", "dx is cut out of the padded input's gradient at "
              "the wrong place", "the border you cut off is the one the padding added",
              lambda case, cut=cut: _gradients(case, dx=cut(torch_conv2d_grads(
                  changed(case, without(case, "padding"), x=_padded(case)))[0], case)))
      for cut in (lambda dx, case: top_left(dx, case.inputs["x"].shape),
                  lambda dx, case: dx[..., dx.shape[-2] - case.inputs["x"].shape[-2]:,
                                      dx.shape[-1] - case.inputs["x"].shape[-1]:])),
    *(Mistake(f"{option} ignored", f"the backward pass treats the layer as if {option} were 1",
              f"the forward pass's {option} decides where each output's gradient goes back to",
              lambda case, option=option, part=part: _gradients(
                  case, **{GRADIENTS[part]: _as_if_one(case, option)[part]}))
      for option in ("stride", "dilation") for part in (0, 1)),
    Mistake("dw averaged", "dw is averaged over the batch instead of summed",
            "the loss adds up the images' contributions, so their gradients add up too",
            lambda case: _gradients(case, dw=torch_conv2d_grads(case)[1] / _batch(case))),
    *(Mistake("dw not summed over the batch", "dw comes from one image of the batch only",
              "every image's contribution to dw adds up; check that a loop over images adds "
              "rather than assigns", lambda case, image=image: _gradients(
                  case, dw=torch_conv2d_grads(_one_image(case, image))[1]))
      for image in (0, -1)),
    Mistake("db averaged", "db is averaged instead of summed over the batch and the positions",
            "each output position adds its own b[k], so db[k] adds up dout over all of them",
            lambda case: _gradients(case, db=case.inputs["dout"].mean(axis=(0, 2, 3)))),
    *(Mistake("db wrong axes", "db sums dout over some of its axes only",
              "b[k] belongs to output channel k: sum dout over every other axis",
              lambda case, axes=axes: _gradients(case, db=case.inputs["dout"].sum(axis=axes)))
      for axes in ((0,), (2, 3), (0, 2), (1, 2, 3))),
)


def _one_image(case: Case, image: int) -> Case:
    """``case`` cut down to one of its images (and that image's ``dout``)."""
    keep = slice(image, image + 1 or None)
    return changed(case, dout=case.inputs["dout"][keep], x=case.inputs["x"][keep])


def _as_if_one(case: Case, option: str) -> tuple[np.ndarray, ...]:
    """The gradients of a layer that ignores ``option``, ``dout`` placed in the top-left
    corner of that layer's larger output."""
    ignoring = changed(case, without(case, option))
    shape = torch_conv2d(changed(ignoring, b=None)).shape
    dout = np.zeros(shape)
    rows, columns = case.inputs["dout"].shape[-2:]
    dout[..., :rows, :columns] = case.inputs["dout"]
    return torch_conv2d_grads(changed(ignoring, dout=dout))


def _padded(case: Case) -> np.ndarray:
    rows, columns = pair(case.options.get("padding", 0))
    return np.pad(case.inputs["x"], ((0, 0), (0, 0), (rows, rows), (columns, columns)))


MISTAKES = {
    "conv2d_forward": CONV2D_FORWARD,
    "conv_transpose2d_forward": CONV_TRANSPOSE2D_FORWARD,
    "conv2d_backward": CONV2D_BACKWARD,
}
