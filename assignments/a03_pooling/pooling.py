"""Pooling layers in numpy: max and average pooling, forward and backward, and global pooling.

A pooling layer slides a ``KH x KW`` window over each channel of each image, in steps of
``stride``, and keeps one number per window: the largest (max pooling) or the mean (average
pooling). It has no weights, and it never mixes channels. Layouts are PyTorch's: images
``x`` are ``(N, C, H, W)``. Sizes on one axis (``pool_output_size`` of a01)::

    OH = (H + 2 * ph - KH) // sh + 1

``stride`` defaults to ``kernel_size`` (windows side by side). Padding is implicit, and
differs between the two poolings, as in PyTorch:

- max pooling pads with ``-inf``: padding never wins a max, even over negative inputs;
- average pooling pads with zeros and divides every window by its full area ``KH * KW``,
  padding included (``count_include_pad=True``).

Only numpy may be used in this module. Inputs are float arrays; results keep their dtype
(float32 stays float32).

The helpers ``_pair`` and ``_pool_geometry`` are given: call ``_pool_geometry`` first, it
checks the arguments (raising ``ValueError`` that names the one at fault) and computes the
sizes. ``_windows`` and ``_fold`` are suggested helpers for you to write; the functions graded
are ``max_pool2d_forward``, ``max_pool2d_backward``, ``avg_pool2d_forward``,
``avg_pool2d_backward`` and ``global_avg_pool2d``.
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


class PoolGeometry(NamedTuple):
    """The sizes of one pooling; pairs are ``(height, width)``."""

    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
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


def _pool_geometry(x_shape, kernel_size, stride, padding) -> PoolGeometry:
    """Check the arguments of a pooling and compute its sizes.

    Inputs:
    - x_shape: (N, C, H, W)
    - kernel_size, padding: ints or (height, width) pairs
    - stride: int, (height, width) pair, or None for ``kernel_size``

    Returns:
    - the ``PoolGeometry``, with ``out = (OH, OW)``

    Raises:
        ValueError: naming the argument at fault.
    """
    if len(x_shape) != 4:
        raise ValueError(f"x must have shape (N, C, H, W), got shape {tuple(x_shape)}")
    kernel = _pair(kernel_size, "kernel_size", 1)
    stride = kernel if stride is None else _pair(stride, "stride", 1)
    padding = _pair(padding, "padding", 0)
    if any(p > k // 2 for p, k in zip(padding, kernel, strict=True)):
        raise ValueError(f"padding {padding} is more than half of kernel_size {kernel} "
                         f"(as in PyTorch, a window must not lie mostly in the padding)")
    padded = tuple(size + 2 * p for size, p in zip(x_shape[2:], padding, strict=True))
    if any(k > p for k, p in zip(kernel, padded, strict=True)):
        raise ValueError(f"kernel_size {kernel} is larger than the padded input {padded}: "
                         f"increase padding or reduce kernel_size")
    out = tuple((p - k) // s + 1 for p, k, s in zip(padded, kernel, stride, strict=True))
    return PoolGeometry(kernel, stride, padding, out)


def _windows(x: np.ndarray, geometry: PoolGeometry, fill: float) -> np.ndarray:
    """The pooling windows of ``x`` padded with ``fill``, as a view (no copy of the windows).

    Inputs:
    - x: (N, C, H, W), not padded
    - geometry: the pooling's sizes, from ``_pool_geometry``
    - fill: the value of the padding (``-inf`` for max pooling, 0 for average pooling)

    Returns:
    - windows: (N, C, OH, OW, KH, KW); ``windows[n, c, i, j]`` is the window that output
      pixel (i, j) sees, ``xpad[n, c, i * sh : i * sh + KH, j * sw : j * sw + KW]``
    """
    raise NotImplementedError("_windows: your code here")


def _fold(dwindows: np.ndarray, x_shape: tuple[int, ...], geometry: PoolGeometry) -> np.ndarray:
    """Hand the gradient of every window back to the pixels it covers: the inverse of
    ``_windows`` for gradients. Windows overlap when stride < kernel, so contributions add up;
    what lands on the padding is dropped.

    Inputs:
    - dwindows: (N, C, OH, OW, KH, KW), gradient with respect to each window's pixels
    - x_shape: (N, C, H, W), the shape of the pooling's input
    - geometry: the pooling's sizes, from ``_pool_geometry``

    Returns:
    - dx: (N, C, H, W)
    """
    raise NotImplementedError("_fold: your code here")


def max_pool2d_forward(x: np.ndarray, kernel_size, stride=None, padding=0) -> np.ndarray:
    """Forward pass of 2-D max pooling, as ``torch.nn.functional.max_pool2d``.

    Inputs:
    - x: (N, C, H, W), input images
    - kernel_size: int or (KH, KW), size of the window
    - stride: int or (sh, sw), step between two windows; None means ``kernel_size``
    - padding: int or (ph, pw), implicit ``-inf`` added on both sides of each axis

    Returns:
    - out: (N, C, OH, OW), the largest value of each window, with
      OH = (H + 2 * ph - KH) // sh + 1 (OW alike), of the dtype of x

    Raises:
        ValueError: naming the argument at fault (see ``_pool_geometry``).
    """
    raise NotImplementedError("max_pool2d_forward: your code here")


def max_pool2d_backward(dout: np.ndarray, x: np.ndarray, kernel_size, stride=None,
                        padding=0) -> np.ndarray:
    """Backward pass of ``max_pool2d_forward``.

    The gradient of each window goes, whole, to the pixel that won its max. Where a window
    holds several equal maxima (zeros after a ReLU, say), it goes to the first of them in
    row-major order within the window, as in PyTorch. A pixel that wins several overlapping
    windows collects the gradient of each.

    Inputs:
    - dout: (N, C, OH, OW), gradient of the loss with respect to the output
    - x, kernel_size, stride, padding: as given to ``max_pool2d_forward``

    Returns:
    - dx: (N, C, H, W), gradient with respect to x

    Raises:
        ValueError: naming the argument at fault (see ``_pool_geometry``).
    """
    raise NotImplementedError("max_pool2d_backward: your code here")


def avg_pool2d_forward(x: np.ndarray, kernel_size, stride=None, padding=0) -> np.ndarray:
    """Forward pass of 2-D average pooling, as ``torch.nn.functional.avg_pool2d``
    with ``count_include_pad=True``.

    Inputs:
    - x: (N, C, H, W), input images
    - kernel_size: int or (KH, KW), size of the window
    - stride: int or (sh, sw), step between two windows; None means ``kernel_size``
    - padding: int or (ph, pw), zeros added on both sides of each axis; they count in the
      mean, which always divides by KH * KW

    Returns:
    - out: (N, C, OH, OW), the mean of each window, with OH = (H + 2 * ph - KH) // sh + 1
      (OW alike), of the dtype of x

    Raises:
        ValueError: naming the argument at fault (see ``_pool_geometry``).
    """
    raise NotImplementedError("avg_pool2d_forward: your code here")


def avg_pool2d_backward(dout: np.ndarray, x: np.ndarray, kernel_size, stride=None,
                        padding=0) -> np.ndarray:
    """Backward pass of ``avg_pool2d_forward``.

    Every pixel of a window, padding included, gets ``1 / (KH * KW)`` of the window's
    gradient; overlapping windows add up, and what falls on the padding is dropped.

    Inputs:
    - dout: (N, C, OH, OW), gradient of the loss with respect to the output
    - x, kernel_size, stride, padding: as given to ``avg_pool2d_forward``

    Returns:
    - dx: (N, C, H, W), gradient with respect to x

    Raises:
        ValueError: naming the argument at fault (see ``_pool_geometry``).
    """
    raise NotImplementedError("avg_pool2d_backward: your code here")


def global_avg_pool2d(x: np.ndarray) -> np.ndarray:
    """Global average pooling: the mean of each channel over all its pixels.

    What a classifier's head uses to turn a feature map of any size into one vector per image
    (``torch.nn.AdaptiveAvgPool2d(1)`` followed by ``flatten(1)``).

    Inputs:
    - x: (N, C, H, W)

    Returns:
    - out: (N, C), ``out[n, c]`` the mean of ``x[n, c]``, of the dtype of x

    Raises:
        ValueError: naming ``x`` if it is not of rank 4.
    """
    raise NotImplementedError("global_avg_pool2d: your code here")
