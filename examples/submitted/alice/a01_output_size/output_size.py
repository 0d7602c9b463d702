"""Alice's a01: correct, written with math.floor/ceil and small helper functions."""

import math


def _check_positive(**values):
    for name, value in values.items():
        if value <= 0:
            raise ValueError(f"{name} must be positive, got {value}")


def _two(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def _pads(size, kernel_size, stride, padding, dilation):
    if padding == "valid":
        return 0, 0
    if padding == "same":
        out = math.ceil(size / stride)
        total = max((out - 1) * stride + dilation * (kernel_size - 1) + 1 - size, 0)
        return total // 2, total - total // 2
    before, after = _two(padding)
    if before < 0 or after < 0:
        raise ValueError(f"padding must not be negative, got {padding}")
    return before, after


def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    if isinstance(padding, str) and padding not in ("same", "valid"):
        raise ValueError(f"padding must be 'same' or 'valid', got {padding!r}")
    _check_positive(size=size, kernel_size=kernel_size, stride=stride, dilation=dilation)
    before, after = _pads(size, kernel_size, stride, padding, dilation)
    span = size + before + after - dilation * (kernel_size - 1)
    if span < 1:
        raise ValueError("kernel_size: the window is larger than the padded input")
    return math.floor((span - 1) / stride) + 1


def pool_output_size(size, kernel_size, stride=None, padding=0, ceil_mode=False):
    stride = kernel_size if stride is None else stride
    _check_positive(size=size, kernel_size=kernel_size, stride=stride)
    if padding < 0:
        raise ValueError("padding must not be negative")
    span = size + 2 * padding - kernel_size
    if span < 0:
        raise ValueError("kernel_size: the window is larger than the padded input")
    steps = math.ceil(span / stride) if ceil_mode else math.floor(span / stride)
    if ceil_mode and steps * stride >= size + padding:
        steps -= 1
    return steps + 1


def conv_transpose_output_size(size, kernel_size, stride=1, padding=0, output_padding=0,
                               dilation=1):
    _check_positive(size=size, kernel_size=kernel_size, stride=stride, dilation=dilation)
    if padding < 0:
        raise ValueError("padding must not be negative")
    if output_padding < 0 or output_padding >= max(stride, dilation):
        raise ValueError("output_padding must be >= 0 and smaller than stride or dilation")
    out = (size - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding + 1
    if out < 1:
        raise ValueError("padding is so large that nothing is left")
    return out


def conv2d_output_shape(input_shape, out_channels, kernel_size, stride=1, padding=0,
                        dilation=1):
    if len(input_shape) not in (3, 4):
        raise ValueError(f"input_shape must be (C, H, W) or (N, C, H, W), got {input_shape}")
    _check_positive(out_channels=out_channels)
    if isinstance(padding, str):
        pads = (padding, padding)
    else:
        pads = _two(padding)
    sizes = [conv_output_size(input_shape[-2 + axis], _two(kernel_size)[axis],
                              _two(stride)[axis], pads[axis], _two(dilation)[axis])
             for axis in (0, 1)]
    return tuple(input_shape[:-3]) + (out_channels, sizes[0], sizes[1])


def conv2d_num_params(in_channels, out_channels, kernel_size, bias=True, groups=1):
    _check_positive(in_channels=in_channels, out_channels=out_channels, groups=groups)
    if in_channels % groups or out_channels % groups:
        raise ValueError("groups must divide in_channels and out_channels")
    height, width = _two(kernel_size)
    return out_channels * (in_channels // groups) * height * width + (out_channels if bias else 0)


def dense_equivalent_num_params(input_shape, output_shape, bias=True):
    for name, shape in (("input_shape", input_shape), ("output_shape", output_shape)):
        if min(shape) <= 0:
            raise ValueError(f"{name} must hold positive sizes, got {shape}")
    inputs, outputs = math.prod(input_shape), math.prod(output_shape)
    return inputs * outputs + (outputs if bias else 0)


def conv2d_macs(input_shape, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                groups=1):
    channels = input_shape[0]
    _, height, width = conv2d_output_shape(input_shape, out_channels, kernel_size, stride,
                                           padding, dilation)
    per_output = conv2d_num_params(channels, out_channels, kernel_size, False, groups)
    return height * width * per_output
