"""Check a backward pass against its forward pass with numerical gradients (given).

For a layer ``out = f(x)`` and an upstream gradient ``dout``, the gradient of the scalar
``sum(f(x) * dout)`` with respect to ``x`` is exactly what the backward pass returns as ``dx``::

    dx_num = eval_numerical_gradient_array(lambda x: conv2d_forward(x, w, b), x, dout)
    print(rel_error(dx, dx_num))   # around 1e-8 or less when the backward pass is right

Use float64 arrays: in float32 the differences drown in rounding.
"""

import numpy as np


def eval_numerical_gradient_array(f, x: np.ndarray, df: np.ndarray,
                                  h: float = 1e-5) -> np.ndarray:
    """Centred differences of ``sum(f(x) * df)`` with respect to every entry of ``x``.

    Inputs:
    - f: function of one array, returning an array of ``df``'s shape
    - x: array of any shape (float64); its entries are nudged in place, then restored
    - df: upstream gradient, of the shape of ``f(x)``
    - h: step of the differences

    Returns:
    - grad: array of ``x``'s shape
    """
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        saved = x[index]
        x[index] = saved + h
        plus = np.sum(f(x) * df)
        x[index] = saved - h
        minus = np.sum(f(x) * df)
        x[index] = saved
        grad[index] = (plus - minus) / (2 * h)
    return grad


def rel_error(x: np.ndarray, y: np.ndarray) -> float:
    """Largest relative error between two arrays: ``max |x - y| / (|x| + |y|)``, elementwise."""
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))
