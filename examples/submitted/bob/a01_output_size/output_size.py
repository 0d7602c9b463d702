"""Bob's a01: started, with a rounding bug, and two functions not done yet."""


def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    if isinstance(padding, int):
        padding = (padding, padding)
    # Bug: round() instead of flooring, so (5 - 3) / 2 + 1 and 7 / 2 + 1 come out wrong.
    return int(round((size + sum(padding) - dilation * (kernel_size - 1) - 1) / stride)) + 1


def pool_output_size(size, kernel_size, stride=None, padding=0, ceil_mode=False):
    stride = stride or kernel_size
    return (size + 2 * padding - kernel_size) // stride + 1


def conv_transpose_output_size(size, kernel_size, stride=1, padding=0, output_padding=0,
                               dilation=1):
    raise NotImplementedError


def conv2d_output_shape(input_shape, out_channels, kernel_size, stride=1, padding=0,
                        dilation=1):
    raise NotImplementedError


def conv2d_num_params(in_channels, out_channels, kernel_size, bias=True, groups=1):
    return in_channels * out_channels * kernel_size * kernel_size + out_channels


def dense_equivalent_num_params(input_shape, output_shape, bias=True):
    size_in = 1
    for n in input_shape:
        size_in *= n
    size_out = 1
    for n in output_shape:
        size_out *= n
    return size_in * size_out + size_out


def conv2d_macs(input_shape, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                groups=1):
    return 0
