"""Bob's a03: pooling with zeros as padding, for max pooling too (so the padding wins the
max of an all-negative window); the backward passes not done yet."""

import numpy as np


def _pooled(x, kernel_size, stride, padding, reduce):
    k = kernel_size if isinstance(kernel_size, int) else kernel_size[0]
    s = k if stride is None else stride if isinstance(stride, int) else stride[0]
    p = padding if isinstance(padding, int) else padding[0]
    x = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))  # the bug, for max: zeros, not -inf
    rows, columns = (x.shape[2] - k) // s + 1, (x.shape[3] - k) // s + 1
    out = np.empty(x.shape[:2] + (rows, columns), dtype=x.dtype)
    for i in range(rows):
        for j in range(columns):
            out[:, :, i, j] = reduce(x[:, :, i * s:i * s + k, j * s:j * s + k], axis=(2, 3))
    return out


def max_pool2d_forward(x, kernel_size, stride=None, padding=0):
    return _pooled(x, kernel_size, stride, padding, np.max)


def avg_pool2d_forward(x, kernel_size, stride=None, padding=0):
    return _pooled(x, kernel_size, stride, padding, np.mean)


def max_pool2d_backward(dout, x, kernel_size, stride=None, padding=0):
    raise NotImplementedError


def avg_pool2d_backward(dout, x, kernel_size, stride=None, padding=0):
    raise NotImplementedError


def global_avg_pool2d(x):
    return x.mean(axis=(2, 3))
