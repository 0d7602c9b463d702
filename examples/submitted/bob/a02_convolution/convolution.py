"""Bob's a02: a forward pass that flips the kernel (a true convolution, where deep learning
means cross-correlation), square strides and paddings only; the rest not done yet."""

import numpy as np


def conv2d_forward(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    n, _, height, width = x.shape
    filters, _, kh, kw = w.shape
    p = padding if isinstance(padding, int) else padding[0]
    s = stride if isinstance(stride, int) else stride[0]
    x = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    out = np.zeros((n, filters, (height + 2 * p - kh) // s + 1, (width + 2 * p - kw) // s + 1))
    flipped = w[:, :, ::-1, ::-1]  # the bug: nothing is to be flipped
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            patch = x[:, :, i * s:i * s + kh, j * s:j * s + kw]
            out[:, :, i, j] = np.tensordot(patch, flipped, axes=([1, 2, 3], [1, 2, 3]))
    return out if b is None else out + b.reshape(1, -1, 1, 1)


def conv2d_backward(dout, x, w, stride=1, padding=0, dilation=1, groups=1):
    raise NotImplementedError


def conv_transpose2d_forward(x, w, b=None, stride=1, padding=0, output_padding=0):
    raise NotImplementedError
