"""Output sizes, parameter counts and multiply-adds of convolution and pooling layers.

Assignment a01 of cnnlab. Everything here is integer arithmetic on shapes: no arrays.

On one axis, a window of ``kernel_size`` taps spaced ``dilation`` apart covers

    window = dilation * (kernel_size - 1) + 1

input pixels (its *effective* size). It slides over the padded input in steps of ``stride``
and counts one output wherever it fits entirely:

    out = (size + pad_before + pad_after - window) // stride + 1

Layouts are PyTorch's: images are ``(N, C, H, W)`` (or ``(C, H, W)`` for one image) and
conv weights are ``(out_channels, in_channels // groups, KH, KW)``.

The private helpers below are given: they check and normalise arguments. Write the bodies
of the public functions; every invalid argument raises ``ValueError`` naming that argument.
"""

from __future__ import annotations

import math
import numbers

# -- given helpers ----------------------------------------------------------------------


def _check_int(value, name: str, minimum: int = 1) -> int:
    """Return ``value`` as a Python int, checking that it is an integer >= ``minimum``.

    Inputs:
    - value: a Python or numpy integer.
    - name: the argument's name, for the error message.
    - minimum: the smallest allowed value (1 for sizes and strides, 0 for paddings).

    Raises ``ValueError`` naming ``name`` otherwise (``True`` is not an integer here).
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        wanted = "positive" if minimum == 1 else f"at least {minimum}"
        raise ValueError(f"{name} must be {wanted}, got {value}")
    return int(value)


def _is_pair(value) -> bool:
    return isinstance(value, (tuple, list)) and len(value) == 2


def _pair(value, name: str, minimum: int = 1) -> tuple[int, int]:
    """``3 -> (3, 3)``; ``(3, 5) -> (3, 5)``: a 2-D argument as (height, width), checked."""
    if _is_pair(value):
        return _check_int(value[0], name, minimum), _check_int(value[1], name, minimum)
    if isinstance(value, (tuple, list)):
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
    value = _check_int(value, name, minimum)
    return value, value


def _padding_pair(padding) -> tuple[int, int]:
    """The padding of one axis as ``(before, after)``: from an int, a pair, or ``"valid"``.

    ``"same"`` depends on the size and stride, so the caller handles it.
    """
    if isinstance(padding, str):
        if padding == "valid":
            return 0, 0
        raise ValueError(f"padding must be an int, a (before, after) pair, 'valid' or 'same', "
                         f"got {padding!r}")
    return _pair(padding, "padding", minimum=0)


def _padding_per_axis(padding) -> tuple:
    """Split the padding of a 2-D layer into the padding of each axis, (height, width).

    ``p``, ``"same"``, ``"valid"`` -> the same for both axes; ``(ph, pw)`` -> ``(ph, pw)``;
    ``((top, bottom), (left, right))`` -> ``((top, bottom), (left, right))``. Each part is
    a ``padding`` that ``conv_output_size`` understands.
    """
    if _is_pair(padding):
        return padding[0], padding[1]
    if isinstance(padding, (tuple, list)):
        raise ValueError(f"padding must be an int, (ph, pw), ((top, bottom), (left, right)), "
                         f"'same' or 'valid', got {padding!r}")
    return padding, padding


def _check_shape(shape, name: str, ranks: tuple[int, ...] | None = None) -> tuple[int, ...]:
    """Return ``shape`` as a tuple of positive Python ints, checking its rank if ``ranks``."""
    if not isinstance(shape, (tuple, list)) or len(shape) == 0:
        raise ValueError(f"{name} must be a non-empty tuple of ints, got {shape!r}")
    if ranks is not None and len(shape) not in ranks:
        raise ValueError(f"{name} must have {' or '.join(map(str, ranks))} dimensions, "
                         f"got {shape!r}")
    return tuple(_check_int(dim, name) for dim in shape)


# -- one axis ---------------------------------------------------------------------------


def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1) -> int:
    """Output size of a convolution along one axis.

    Inputs:
    - size: input size along the axis (pixels), positive.
    - kernel_size: number of taps of the kernel, positive.
    - stride: step between two windows (pixels), positive.
    - padding: zeros added on the axis: an int (both sides), a ``(before, after)`` pair,
      ``"valid"`` (no padding) or ``"same"`` (Keras/TensorFlow: pad so that the output
      has ``ceil(size / stride)`` pixels, whatever the kernel and dilation).
    - dilation: spacing between two taps (pixels), positive.

    Returns:
    - out: int, ``(size + before + after - dilation * (kernel_size - 1) - 1) // stride + 1``.

    Raises ``ValueError`` naming the argument at fault, ``kernel_size`` when the dilated
    window is larger than the padded input.
    """
    raise NotImplementedError("conv_output_size: your code here")


def pool_output_size(size, kernel_size, stride=None, padding=0, ceil_mode=False) -> int:
    """Output size of a max or average pooling along one axis, as PyTorch computes it.

    Inputs:
    - size: input size along the axis (pixels), positive.
    - kernel_size: window size (pixels), positive.
    - stride: step between two windows; ``None`` means ``kernel_size`` (windows that tile).
    - padding: implicit padding, an int on both sides (or a ``(before, after)`` pair).
    - ceil_mode: ``False`` keeps only the windows that fit; ``True`` also keeps a last,
      partial window, but only if it starts inside the input or its left padding
      (``(out - 1) * stride < size + before``), never in the right padding alone.

    Returns:
    - out: int, ``floor`` (or ``ceil``) of ``(size + before + after - kernel_size) / stride``,
      plus 1.

    Raises ``ValueError`` naming the argument at fault, ``kernel_size`` when the window is
    larger than the padded input.
    """
    raise NotImplementedError("pool_output_size: your code here")


def conv_transpose_output_size(size, kernel_size, stride=1, padding=0, output_padding=0,
                               dilation=1) -> int:
    """Output size of a transposed convolution along one axis, as PyTorch computes it.

    Each input pixel spreads a dilated kernel onto the output, ``stride`` pixels after the
    previous one; ``padding`` then crops that many pixels from both ends and
    ``output_padding`` adds pixels at the end (to pick one of the sizes that a strided
    convolution maps to the same ``size``).

    Inputs:
    - size: input size along the axis (pixels), positive.
    - kernel_size, stride, dilation: positive ints, as for the convolution it undoes.
    - padding: int >= 0, cropped from both ends.
    - output_padding: int >= 0, smaller than ``stride`` or ``dilation``.

    Returns:
    - out: int, ``(size - 1) * stride - 2 * padding + dilation * (kernel_size - 1)
      + output_padding + 1``.

    Raises ``ValueError`` naming the argument at fault, ``padding`` when the output would
    be empty.
    """
    raise NotImplementedError("conv_transpose_output_size: your code here")


# -- whole layers -----------------------------------------------------------------------


def conv2d_output_shape(input_shape, out_channels, kernel_size, stride=1, padding=0,
                        dilation=1) -> tuple:
    """Output shape of a 2-D convolution.

    Inputs:
    - input_shape: ``(C, H, W)`` or ``(N, C, H, W)``.
    - out_channels: number of filters F, positive.
    - kernel_size, stride, dilation: an int (both axes) or ``(height, width)``.
    - padding: an int, ``(ph, pw)``, ``((top, bottom), (left, right))``, ``"same"`` or
      ``"valid"``.

    Returns:
    - shape: tuple of ints, ``(F, H_out, W_out)`` or ``(N, F, H_out, W_out)``, each spatial
      size as ``conv_output_size`` gives it for its axis.

    Raises ``ValueError`` naming the argument at fault (``input_shape`` for a rank other
    than 3 or 4).
    """
    raise NotImplementedError("conv2d_output_shape: your code here")


def conv2d_num_params(in_channels, out_channels, kernel_size, bias=True, groups=1) -> int:
    """Number of learnable parameters of a 2-D convolution.

    Inputs:
    - in_channels, out_channels: C and F, positive, both divisible by ``groups``.
    - kernel_size: an int or ``(KH, KW)``.
    - bias: whether the layer has one bias per filter.
    - groups: number of channel groups; each filter sees ``in_channels // groups`` channels.

    Returns:
    - count: int, ``F * (C // groups) * KH * KW`` weights (shape ``(F, C // groups, KH, KW)``),
      plus ``F`` biases if ``bias``.

    Raises ``ValueError`` naming the argument at fault (``groups`` when it does not divide
    both channel counts).
    """
    raise NotImplementedError("conv2d_num_params: your code here")


def dense_equivalent_num_params(input_shape, output_shape, bias=True) -> int:
    """Parameters of the fully-connected layer from the flattened input to the flattened output.

    Inputs:
    - input_shape: shape of one input, e.g. ``(C, H, W)``; positive sizes.
    - output_shape: shape of one output, e.g. ``(F, H_out, W_out)``; positive sizes.
    - bias: whether the layer has one bias per output unit.

    Returns:
    - count: int, ``prod(input_shape) * prod(output_shape)`` weights, plus
      ``prod(output_shape)`` biases if ``bias``.
    """
    raise NotImplementedError("dense_equivalent_num_params: your code here")


def conv2d_macs(input_shape, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                groups=1) -> int:
    """Multiply-accumulates of a 2-D convolution on one image, bias not counted.

    Every weight multiplies one input pixel at every output position, so

        MACs = H_out * W_out * F * (C // groups) * KH * KW.

    Inputs:
    - input_shape: ``(C, H, W)``, one image.
    - out_channels, kernel_size, stride, padding, dilation, groups: as in
      ``conv2d_output_shape`` and ``conv2d_num_params``.

    Returns:
    - macs: int.

    Raises ``ValueError`` naming the argument at fault.
    """
    raise NotImplementedError("conv2d_macs: your code here")
