"""Convolution layers in numpy: conv2d forward and backward, and the transposed convolution.

"Convolution" here is cross-correlation, as in every deep-learning library: the kernel slides
over the input unflipped. Layouts are PyTorch's:

- images ``x``: ``(N, C, H, W)``;
- conv weights ``w``: ``(F, C // groups, KH, KW)``; bias ``b``: ``(F,)``;
- conv-transpose weights ``w``: ``(C_in, C_out, KH, KW)``; bias ``b``: ``(C_out,)``.

Sizes on one axis (what you computed in a01)::

    conv:           OH = (H + 2 * ph - dh * (KH - 1) - 1) // sh + 1
    conv-transpose: OH = (H - 1) * sh - 2 * ph + KH + output_padding

Only numpy may be used in this module.

The helpers ``_pair``, ``_conv2d_geometry`` and ``_conv_transpose2d_geometry`` are given: call
them first, they check the arguments (raising ``ValueError`` that names the one at fault) and
compute the sizes. ``_im2col``, ``_col2im_add`` and ``_conv2d_input_grad`` are suggested
helpers for you to write (``_image_chunks``, ``_for_each_chunk`` and ``_pad`` are given); the
functions graded are ``conv2d_forward``, ``conv2d_backward`` and ``conv_transpose2d_forward``.
"""

from __future__ import annotations

import math
import numbers
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import numpy as np


class Geometry(NamedTuple):
    """The sizes of one convolution; pairs are ``(height, width)``."""

    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    dilation: tuple[int, int]
    groups: int
    out: tuple[int, int]


def _pair(value, name: str, minimum: int) -> tuple[int, int]:
    """An int, or a pair of ints, as ``(int, int)``; both must be at least ``minimum``.

    Raises:
        ValueError: naming ``name`` if ``value`` is not of that form.
    """
    pair = (value, value) if isinstance(value, numbers.Integral) else value
    if (not isinstance(pair, (tuple, list)) or len(pair) != 2
            or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool)
                       for v in pair)):
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
    if min(pair) < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value!r}")
    return int(pair[0]), int(pair[1])


def _conv2d_geometry(x_shape, w_shape, stride, padding, dilation, groups) -> Geometry:
    """Check the arguments of a convolution and compute its sizes.

    Inputs:
    - x_shape: (N, C, H, W)
    - w_shape: (F, C // groups, KH, KW)
    - stride, padding, dilation: ints or (height, width) pairs; groups: an int

    Returns:
    - the ``Geometry``, with ``out = (OH, OW)``

    Raises:
        ValueError: naming the argument at fault.
    """
    if len(x_shape) != 4:
        raise ValueError(f"x must have shape (N, C, H, W), got shape {tuple(x_shape)}")
    if len(w_shape) != 4:
        raise ValueError(f"w must have shape (F, C // groups, KH, KW), got {tuple(w_shape)}")
    if not isinstance(groups, numbers.Integral) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"groups must be a positive int, got {groups!r}")
    (_, channels, *size), (filters, group_channels, *kernel) = x_shape, w_shape
    if channels % groups or filters % groups:
        raise ValueError(f"groups={groups} must divide the input channels ({channels}) "
                         f"and the filters ({filters})")
    if group_channels != channels // groups:
        raise ValueError(f"w has {group_channels} channels per filter, but x has {channels} "
                         f"channels in {groups} group(s)")
    stride = _pair(stride, "stride", 1)
    padding = _pair(padding, "padding", 0)
    dilation = _pair(dilation, "dilation", 1)
    span = [d * (k - 1) + 1 for d, k in zip(dilation, kernel, strict=True)]
    padded = [s + 2 * p for s, p in zip(size, padding, strict=True)]
    if any(s > p for s, p in zip(span, padded, strict=True)):
        raise ValueError(f"the kernel of w, dilated to {tuple(span)}, is larger than the "
                         f"padded input {tuple(padded)}: increase padding")
    out = tuple((p - s) // st + 1 for p, s, st in zip(padded, span, stride, strict=True))
    return Geometry(tuple(kernel), stride, padding, dilation, int(groups), out)


def _conv_transpose2d_geometry(x_shape, w_shape, stride, padding,
                               output_padding) -> tuple[tuple[int, ...], Geometry]:
    """Check the arguments of a transposed convolution and compute its sizes.

    Inputs:
    - x_shape: (N, C_in, H, W)
    - w_shape: (C_in, C_out, KH, KW)
    - stride, padding, output_padding: ints or (height, width) pairs

    Returns a tuple of:
    - out_shape: (N, C_out, OH, OW)
    - the ``Geometry`` of the convolution (weights ``w`` read as ``(F=C_in, C=C_out, KH, KW)``)
      that maps an input of shape ``out_shape`` back to one of shape ``x_shape``

    Raises:
        ValueError: naming the argument at fault.
    """
    if len(x_shape) != 4:
        raise ValueError(f"x must have shape (N, C_in, H, W), got shape {tuple(x_shape)}")
    if len(w_shape) != 4 or w_shape[0] != x_shape[1]:
        raise ValueError(f"w must have shape (C_in={x_shape[1]}, C_out, KH, KW), "
                         f"got {tuple(w_shape)}")
    stride = _pair(stride, "stride", 1)
    padding = _pair(padding, "padding", 0)
    output_padding = _pair(output_padding, "output_padding", 0)
    if any(op >= s for op, s in zip(output_padding, stride, strict=True)):
        raise ValueError(f"output_padding {output_padding} must be smaller than "
                         f"stride {stride}")
    out = tuple((size - 1) * s - 2 * p + k + op for size, s, p, k, op in
                zip(x_shape[2:], stride, padding, w_shape[2:], output_padding,
                    strict=True))
    if min(out) < 1:
        raise ValueError(f"padding {padding} leaves an empty output {out}")
    out_shape = (x_shape[0], w_shape[1], *out)
    return out_shape, _conv2d_geometry(out_shape, w_shape, stride, padding, 1, 1)


#: Columns in one chunk of the im2col matrix. The layers below handle a batch a few images at a
#: time, so that this matrix (C // G * KH * KW rows of float32 or float64) stays a few MB: the
#: matrix product still runs at full speed, the matrix stays in the processor's cache, and the
#: memory is reused from one chunk to the next instead of being requested afresh. One matrix
#: for a whole batch of 16 ResNet images (576 × 16384 floats, 38 MB) took a third longer or
#: more on a 2-core machine (``benchmarks/bench_convolution.py``).
CHUNK_COLUMNS = 1024
#: Chunks of images worked on at once, each by a thread of its own. numpy lets go of Python's
#: global lock in its copies and its matrix products, so chunks can run side by side; the
#: matrix products should then run on one thread each (``OPENBLAS_NUM_THREADS=1`` before numpy
#: is imported), or numpy's own BLAS threads and these fight for the cores. With 1, the
#: chunks run one after another and the BLAS uses every core.
#: ``benchmarks/bench_convolution.py`` sets it to the threads that PyTorch gets.
THREADS = 1


def _image_chunks(n: int, geometry: Geometry) -> list[slice]:
    """Split images ``0 .. n - 1`` into slices of about ``CHUNK_COLUMNS`` output pixels each
    (at least one image per slice, and at least ``THREADS`` slices where there are enough
    images)."""
    oh, ow = geometry.out
    step = max(1, min(CHUNK_COLUMNS // (oh * ow), math.ceil(n / THREADS)))
    return [slice(start, min(n, start + step)) for start in range(0, n, step)]


def _for_each_chunk(work, chunks: list[slice]) -> list:
    """``[work(images) for images in chunks]``, with up to ``THREADS`` chunks at once.
    ``work`` must write only to its own images' part of any array it shares."""
    if THREADS == 1 or len(chunks) == 1:
        return [work(images) for images in chunks]
    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(work, chunks))


def _pad(x: np.ndarray, geometry: Geometry) -> np.ndarray:
    """x: (N, C, H, W) -> (N, C, H + 2 * ph, W + 2 * pw), with zeros around each image."""
    (ph, pw) = geometry.padding
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))


def _im2col(x_padded: np.ndarray, geometry: Geometry) -> np.ndarray:
    """Lay out the windows of a few padded images as the columns of one matrix per group.

    Inputs:
    - x_padded: (n, C, H + 2 * ph, W + 2 * pw), images already padded
    - geometry: the convolution's sizes, from ``_conv2d_geometry``

    Returns:
    - cols: (G, C // G * KH * KW, n * OH * OW) with G = groups; column
      ``(k * OH + oh) * OW + ow`` of ``cols[g]`` is the window seen by output pixel (oh, ow) of
      image k through the channels of group g, in the order of ``w[f].ravel()``.

    Hint: ``np.lib.stride_tricks.as_strided`` gives every window as a view, without copying;
    one ``reshape`` then lays the windows out as columns.
    """
    ### BEGIN SOLUTION
    (kh, kw), (sh, sw), _, (dh, dw) = geometry[:4]
    (oh, ow), groups = geometry.out, geometry.groups
    n, c = x_padded.shape[:2]
    step_n, step_c, step_h, step_w = x_padded.strides
    # windows[c, i, j, k, r, s] = x_padded[k, c, r * sh + i * dh, s * sw + j * dw], no copy
    windows = np.lib.stride_tricks.as_strided(
        x_padded, shape=(c, kh, kw, n, oh, ow), writeable=False,
        strides=(step_c, step_h * dh, step_w * dw, step_n, step_h * sh, step_w * sw))
    return windows.reshape(groups, c // groups * kh * kw, n * oh * ow)
    ### END SOLUTION


def _col2im_add(dcols: np.ndarray, dx_padded: np.ndarray, geometry: Geometry) -> None:
    """The reverse of ``_im2col``: add each column back onto the window it came from.

    Windows overlap, so the contributions add up.

    Inputs:
    - dcols: (G, C // G * KH * KW, n * OH * OW), laid out as ``_im2col`` returns
    - dx_padded: (n, C, H + 2 * ph, W + 2 * pw), added to in place
    - geometry: the convolution's sizes, from ``_conv2d_geometry``
    """
    ### BEGIN SOLUTION
    (kh, kw), (sh, sw), _, (dh, dw) = geometry[:4]
    (oh, ow) = geometry.out
    n, c = dx_padded.shape[:2]
    dcols = dcols.reshape(c, kh, kw, n, oh, ow)
    by_channel = dx_padded.transpose(1, 0, 2, 3)                  # (C, n, H', W'), a view
    for i in range(kh):
        for j in range(kw):
            rows = slice(i * dh, i * dh + (oh - 1) * sh + 1, sh)
            columns = slice(j * dw, j * dw + (ow - 1) * sw + 1, sw)
            by_channel[:, :, rows, columns] += dcols[:, i, j]
    ### END SOLUTION


def _conv2d_input_grad(dout: np.ndarray, w: np.ndarray, x_shape: tuple[int, ...],
                       geometry: Geometry) -> np.ndarray:
    """Gradient of a convolution with respect to its input.

    Every output pixel hands its gradient back, times the kernel, to the window it saw;
    windows overlap, so the contributions add up. This is also the forward pass of the
    transposed convolution.

    Inputs:
    - dout: (N, F, OH, OW), upstream gradient
    - w: (F, C // G, KH, KW)
    - x_shape: (N, C, H, W), the shape of the convolution's input
    - geometry: the convolution's sizes, from ``_conv2d_geometry``

    Returns:
    - dx: (N, C, H, W)
    """
    ### BEGIN SOLUTION
    n, c, h, w_size = x_shape
    (ph, pw), groups, filters = geometry.padding, geometry.groups, w.shape[0]
    # one row per tap of a filter, one column per filter, for each group: (G, K, F // G)
    w_columns = w.reshape(groups, filters // groups, -1).transpose(0, 2, 1)
    dtype = np.result_type(dout, w)
    dx_padded = np.zeros((n, c, h + 2 * ph, w_size + 2 * pw), dtype=dtype)

    def add_chunk(images: slice) -> None:
        dout_rows = dout[images].transpose(1, 0, 2, 3).reshape(groups, filters // groups, -1)
        _col2im_add(w_columns @ dout_rows, dx_padded[images], geometry)

    _for_each_chunk(add_chunk, _image_chunks(n, geometry))
    return dx_padded[:, :, ph:ph + h, pw:pw + w_size]
    ### END SOLUTION


def conv2d_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None, stride=1,
                   padding=0, dilation=1, groups: int = 1) -> np.ndarray:
    """Forward pass of a 2-D convolution (cross-correlation), as ``torch.nn.functional.conv2d``.

    Input channels are split into ``groups`` groups, and so are the filters: filter f sees only
    the channels of its group. ``groups == C == F`` is a depthwise convolution.

    Inputs:
    - x: (N, C, H, W), input images
    - w: (F, C // groups, KH, KW), filters
    - b: (F,) biases, or None for no bias
    - stride: int or (sh, sw), step between two windows
    - padding: int or (ph, pw), zeros added on both sides of each axis
    - dilation: int or (dh, dw), step between two taps of the kernel
    - groups: int, dividing both C and F

    Returns:
    - out: (N, F, OH, OW), with OH = (H + 2 * ph - dh * (KH - 1) - 1) // sh + 1 (OW alike),
      of the dtype of x and w (float32 stays float32)

    Raises:
        ValueError: naming the argument at fault (see ``_conv2d_geometry``).
    """
    ### BEGIN SOLUTION
    geometry = _conv2d_geometry(x.shape, w.shape, stride, padding, dilation, groups)
    n, filters, (oh, ow) = x.shape[0], w.shape[0], geometry.out
    w_rows = w.reshape(geometry.groups, filters // geometry.groups, -1)  # (G, F // G, K)
    x_padded = _pad(x, geometry)
    out = np.empty((n, filters, oh * ow), dtype=np.result_type(x, w))

    def chunk_output(images: slice) -> None:
        out_rows = w_rows @ _im2col(x_padded[images], geometry)   # (G, F // G, n * OH * OW)
        out[images] = out_rows.reshape(filters, -1, oh * ow).transpose(1, 0, 2)

    _for_each_chunk(chunk_output, _image_chunks(n, geometry))
    out = out.reshape(n, filters, oh, ow)
    if b is not None:
        out += b.reshape(1, filters, 1, 1)
    return out
    ### END SOLUTION


def conv2d_backward(dout: np.ndarray, x: np.ndarray, w: np.ndarray, stride=1, padding=0,
                    dilation=1, groups: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass of ``conv2d_forward``.

    Inputs:
    - dout: (N, F, OH, OW), gradient of the loss with respect to the output
    - x, w, stride, padding, dilation, groups: as given to ``conv2d_forward``

    Returns a tuple of:
    - dx: (N, C, H, W), gradient with respect to x
    - dw: (F, C // groups, KH, KW), gradient with respect to w
    - db: (F,), gradient with respect to the bias

    Raises:
        ValueError: naming the argument at fault (see ``_conv2d_geometry``).
    """
    ### BEGIN SOLUTION
    geometry = _conv2d_geometry(x.shape, w.shape, stride, padding, dilation, groups)
    n, filters, groups = x.shape[0], w.shape[0], geometry.groups
    dx = _conv2d_input_grad(dout, w, x.shape, geometry)
    x_padded = _pad(x, geometry)

    def chunk_weight_grad(images: slice) -> np.ndarray:                # (G, F // G, K)
        dout_rows = dout[images].transpose(1, 0, 2, 3).reshape(groups, filters // groups, -1)
        return dout_rows @ _im2col(x_padded[images], geometry).transpose(0, 2, 1)

    dw = np.zeros((groups, filters // groups, w[0].size), dtype=np.result_type(dout, x))
    for partial in _for_each_chunk(chunk_weight_grad, _image_chunks(n, geometry)):
        dw += partial
    db = dout.sum(axis=(0, 2, 3))
    return dx, dw.reshape(w.shape), db
    ### END SOLUTION


def conv_transpose2d_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None,
                             stride=1, padding=0, output_padding=0) -> np.ndarray:
    """Forward pass of a 2-D transposed convolution, as ``torch.nn.functional.conv_transpose2d``.

    Each input pixel spreads over the output: it adds itself times the kernel to the window
    at (stride * i, stride * j); ``padding`` then crops that many rows and columns off each
    side, and ``output_padding`` adds rows and columns at the bottom and right. This is the
    backward pass, with respect to its input, of the convolution with the same weights
    (read as ``(F=C_in, C=C_out, KH, KW)``), stride and padding.

    Inputs:
    - x: (N, C_in, H, W)
    - w: (C_in, C_out, KH, KW)
    - b: (C_out,) biases, or None for no bias
    - stride: int or (sh, sw)
    - padding: int or (ph, pw)
    - output_padding: int or (oph, opw), each smaller than the stride on its axis

    Returns:
    - out: (N, C_out, OH, OW), with OH = (H - 1) * sh - 2 * ph + KH + oph (OW alike)

    Raises:
        ValueError: naming the argument at fault (see ``_conv_transpose2d_geometry``).
    """
    ### BEGIN SOLUTION
    out_shape, geometry = _conv_transpose2d_geometry(x.shape, w.shape, stride, padding,
                                                     output_padding)
    out = _conv2d_input_grad(x, w, out_shape, geometry)
    if b is not None:
        out += b.reshape(1, -1, 1, 1)
    return out
    ### END SOLUTION
