"""Hidden tests of a01_output_size: every function against PyTorch's shape inference.

Each test draws a fresh family of cases (see ``cases.py``) and stops at the first wrong
answer, so a mistake costs the family it belongs to: rounding, padding, dilation, ...
Families other than the rounding ones use windows that fit the padded input exactly.
"""

from __future__ import annotations

import numpy as np

from autograder.harness import assert_same, graded
from autograder.suites.a01_output_size.cases import (
    N_CASES,
    TOO_LARGE,
    axis_case,
    cases_of,
    check_cases,
    check_value_errors,
    coin,
    conv2d_case,
    dense_case,
    dilated_output_padding_case,
    draw,
    draw_padding,
    non_positive_cases,
    params_case,
    pick,
    picks,
    pool_case,
    same_case,
    torch_conv2d_macs,
    torch_conv2d_shape,
    torch_conv_size,
    torch_dense_params,
    torch_num_params,
    torch_pool_size,
    torch_transpose_size,
    transpose_case,
)


def strided_axis_case(rng, *, padding_form="none", dilated=False, exact=True) -> dict:
    """An ``axis_case`` with a stride of 1..4 (at least 2 unless ``exact``)."""
    return axis_case(rng, stride=draw(rng, 1 if exact else 2, 4),
                     padding=draw_padding(rng, padding_form),
                     dilation=draw(rng, 2, 3) if dilated else 1, exact=exact)


# -- conv_output_size ---------------------------------------------------------------------


@graded("conv_output_size")
def test_conv_basic(student, reference, rng):
    "stride 1, no padding"
    check_cases(student, reference, "conv_output_size", cases_of(axis_case, rng), torch_conv_size)


@graded("conv_output_size")
def test_conv_stride_rounding(student, reference, rng):
    "a stride that leaves pixels over (rounding down)"
    cases = cases_of(strided_axis_case, rng, exact=False)
    check_cases(student, reference, "conv_output_size", cases, torch_conv_size)


@graded("conv_output_size")
def test_conv_symmetric_padding(student, reference, rng):
    "int padding, with and without stride"
    cases = cases_of(strided_axis_case, rng, padding_form="int")
    check_cases(student, reference, "conv_output_size", cases, torch_conv_size)


@graded("conv_output_size")
def test_conv_padding_pair(student, reference, rng):
    "(before, after) padding pairs"
    cases = cases_of(strided_axis_case, rng, padding_form="pair")
    check_cases(student, reference, "conv_output_size", cases, torch_conv_size)


@graded("conv_output_size")
def test_conv_same_and_valid(student, reference, rng):
    "'valid' padding, and 'same' with stride 1"
    cases = [same_case(rng, strided=False) if coin(rng)
             else {**strided_axis_case(rng), "padding": "valid"} for _ in range(N_CASES)]
    check_cases(student, reference, "conv_output_size", cases, torch_conv_size)


@graded("conv_output_size")
def test_conv_same_strided(student, reference, rng):
    "'same' padding with stride > 1: ceil(size / stride)"
    cases = cases_of(same_case, rng, strided=True)
    check_cases(student, reference, "conv_output_size", cases, torch_conv_size)


@graded("conv_output_size")
def test_conv_dilation(student, reference, rng):
    "dilation > 1, with stride and int padding"
    cases = [strided_axis_case(rng, padding_form=form, dilated=True)
             for form in picks(rng, ("none", "int"))]
    check_cases(student, reference, "conv_output_size", cases, torch_conv_size)


@graded("conv_output_size")
def test_conv_numpy_integers(student, reference, rng):
    "numpy integers as arguments"
    cases = [{name: np.int64(value) for name, value in
              strided_axis_case(rng, padding_form="int").items()}
             for _ in range(N_CASES)]
    check_cases(student, reference, "conv_output_size", cases, torch_conv_size)


@graded("conv_output_size", kind="errors")
def test_conv_non_positive(student, rng):
    "ValueError for a non-positive size, kernel_size, stride or dilation"
    valid = cases_of(axis_case, rng)
    check_value_errors(student, "conv_output_size", non_positive_cases(
        rng, valid, ("size", "kernel_size", "stride", "dilation")))


@graded("conv_output_size", kind="errors")
def test_conv_bad_padding(student, rng):
    "ValueError for negative padding or an unknown padding string"
    bad = [-1, -3, (-1, 0), (2, -1), "full", "reflect"]
    cases = [({**axis_case(rng), "padding": bad[i % len(bad)]}, ("padding",))
             for i in range(N_CASES)]
    check_value_errors(student, "conv_output_size", cases)


@graded("conv_output_size", kind="errors")
def test_conv_window_too_large(student, rng):
    "ValueError naming kernel_size or padding for a kernel larger than the padded input"
    cases = []
    for _ in range(N_CASES):
        size, padding = draw(rng, 1, 10), draw(rng, 0, 2)
        case = {"size": size, "kernel_size": size + 2 * padding + draw(rng, 1, 3),
                "padding": padding}
        cases.append((case, TOO_LARGE))
    check_value_errors(student, "conv_output_size", cases)


@graded("conv_output_size", kind="errors")
def test_conv_dilated_window_too_large(student, rng):
    "ValueError for a dilated window larger than the padded input (kernel alone fits)"
    cases = []
    while len(cases) < N_CASES:
        case = {"size": draw(rng, 1, 10), "kernel_size": draw(rng, 2, 6),
                "dilation": draw(rng, 2, 3)}
        window = case["dilation"] * (case["kernel_size"] - 1) + 1
        if case["kernel_size"] <= case["size"] < window:
            cases.append((case, ("kernel_size", "dilation")))
    check_value_errors(student, "conv_output_size", cases)


# -- pool_output_size ---------------------------------------------------------------------


@graded("pool_output_size")
def test_pool_default_stride(student, reference, rng):
    "stride defaults to kernel_size (windows that tile the input)"
    cases = cases_of(pool_case, rng, default_stride=True)
    check_cases(student, reference, "pool_output_size", cases, torch_pool_size)


@graded("pool_output_size")
def test_pool_stride_and_padding(student, reference, rng):
    "explicit stride and padding, windows that fit exactly, either ceil_mode"
    cases = [pool_case(rng, padded=coin(rng), ceil_mode=coin(rng)) for _ in range(N_CASES)]
    check_cases(student, reference, "pool_output_size", cases, torch_pool_size)


@graded("pool_output_size")
def test_pool_floor(student, reference, rng):
    "ceil_mode=False drops a last window that does not fit"
    cases = [pool_case(rng, default_stride=fit == "partial" and coin(rng), padded=coin(rng),
                       ceil_mode=False if coin(rng) else None, fit=fit)
             for fit in picks(rng, ("partial", "drop"))]
    check_cases(student, reference, "pool_output_size", cases, torch_pool_size)


@graded("pool_output_size")
def test_pool_ceil_mode(student, reference, rng):
    "ceil_mode=True keeps a partial last window"
    cases = [pool_case(rng, default_stride=coin(rng), padded=coin(rng), ceil_mode=True,
                       fit="partial") for _ in range(N_CASES)]
    check_cases(student, reference, "pool_output_size", cases, torch_pool_size)


@graded("pool_output_size")
def test_pool_ceil_mode_drops_window_in_padding(student, reference, rng):
    "ceil_mode=True drops a last window that would start in the right padding"
    cases = [pool_case(rng, padded=coin(rng), ceil_mode=True, fit="drop")
             for _ in range(N_CASES)]
    check_cases(student, reference, "pool_output_size", cases, torch_pool_size)


@graded("pool_output_size", kind="errors")
def test_pool_invalid(student, rng):
    "ValueError for a non-positive size, kernel_size or stride, or negative padding"
    valid = cases_of(pool_case, rng)
    cases = non_positive_cases(rng, valid, ("size", "kernel_size", "stride"))
    cases[::4] = [({**case, "padding": -draw(rng, 1, 3)}, ("padding",))
                  for case in valid[::4]]
    check_value_errors(student, "pool_output_size", cases)


@graded("pool_output_size", kind="errors")
def test_pool_window_too_large(student, rng):
    "ValueError naming kernel_size or padding for a window larger than the padded input"
    cases = []
    for _ in range(N_CASES):
        size = draw(rng, 1, 10)
        case = {"size": size, "kernel_size": size + draw(rng, 1, 3)}
        if coin(rng):
            case["padding"] = 1
            case["kernel_size"] += 2
        cases.append((case, TOO_LARGE))
    check_value_errors(student, "pool_output_size", cases)


# -- conv_transpose_output_size -----------------------------------------------------------


@graded("conv_transpose_output_size")
def test_transpose_basic(student, reference, rng):
    "stride 1, no padding"
    cases = cases_of(transpose_case, rng, strided=False, dilated=False)
    check_cases(student, reference, "conv_transpose_output_size", cases, torch_transpose_size)


@graded("conv_transpose_output_size")
def test_transpose_stride_padding(student, reference, rng):
    "stride, padding and output_padding"
    cases = cases_of(transpose_case, rng, strided=True, dilated=False)
    check_cases(student, reference, "conv_transpose_output_size", cases, torch_transpose_size)


@graded("conv_transpose_output_size")
def test_transpose_dilation(student, reference, rng):
    "dilation > 1, with or without stride and padding"
    cases = [transpose_case(rng, strided=coin(rng), dilated=True) for _ in range(N_CASES)]
    check_cases(student, reference, "conv_transpose_output_size", cases, torch_transpose_size)


@graded("conv_transpose_output_size")
def test_transpose_output_padding_below_dilation(student, reference, rng):
    "dilation > 1 and output_padding > 0, even where the stride is 1"
    cases = [dilated_output_padding_case(rng) for _ in range(N_CASES)]
    check_cases(student, reference, "conv_transpose_output_size", cases, torch_transpose_size)


@graded("conv_transpose_output_size", kind="errors")
def test_transpose_output_padding_too_large(student, rng):
    "ValueError naming output_padding when it is not below max(stride, dilation)"
    cases = [(dilated_output_padding_case(rng, valid=False), ("output_padding",))
             for _ in range(N_CASES)]
    check_value_errors(student, "conv_transpose_output_size", cases)


@graded("conv_transpose_output_size", kind="errors")
def test_transpose_invalid(student, rng):
    "ValueError for non-positive sizes, strides or dilation, or negative paddings"
    valid = cases_of(transpose_case, rng, strided=False, dilated=False)
    cases = non_positive_cases(rng, valid, ("size", "kernel_size", "stride", "dilation"))
    for index in range(0, N_CASES, 3):
        name = pick(rng, ("padding", "output_padding"))
        cases[index] = ({**valid[index], name: -draw(rng, 1, 3)}, (name,))
    check_value_errors(student, "conv_transpose_output_size", cases)


@graded("conv_transpose_output_size", kind="errors")
def test_transpose_empty_output(student, rng):
    "ValueError for a padding that crops the whole output"
    cases = []
    for _ in range(N_CASES):
        case = {"size": draw(rng, 1, 4), "kernel_size": draw(rng, 1, 3),
                "stride": draw(rng, 1, 2)}
        largest = (case["size"] - 1) * case["stride"] + case["kernel_size"]
        case["padding"] = (largest + 1) // 2 + draw(rng, 0, 2)
        cases.append((case, ("padding",)))
    check_value_errors(student, "conv_transpose_output_size", cases)


# -- conv2d_output_shape ------------------------------------------------------------------


@graded("conv2d_output_shape", kind="example")
def test_shape_course_example(student):
    "the course example: 255x255 RGB, 30 filters 7x7, stride (3, 4), padding 2"
    assert_same(student.conv2d_output_shape((3, 255, 255), 30, 7, (3, 4), 2), (30, 85, 64),
                case="conv2d_output_shape((3, 255, 255), 30, 7, (3, 4), 2)")


@graded("conv2d_output_shape")
def test_shape_basic(student, reference, rng):
    "(C, H, W) input, square kernel, stride 1, no padding"
    check_cases(student, reference, "conv2d_output_shape", cases_of(conv2d_case, rng),
                torch_conv2d_shape)


@graded("conv2d_output_shape")
def test_shape_batch(student, reference, rng):
    "(N, C, H, W) input keeps N"
    cases = [conv2d_case(rng, batch=True, stride=coin(rng), padding=form)
             for form in picks(rng, ("none", "int"))]
    check_cases(student, reference, "conv2d_output_shape", cases, torch_conv2d_shape)


@graded("conv2d_output_shape")
def test_shape_non_square(student, reference, rng):
    "(height, width) pairs for kernel_size and stride"
    cases = [conv2d_case(rng, batch=coin(rng), square=False, stride=True)
             for _ in range(N_CASES)]
    check_cases(student, reference, "conv2d_output_shape", cases, torch_conv2d_shape)


@graded("conv2d_output_shape")
def test_shape_padding_int_or_hw(student, reference, rng):
    "padding as an int or (ph, pw)"
    cases = [conv2d_case(rng, square=coin(rng), stride=coin(rng), padding=form)
             for form in picks(rng, ("int", "hw"))]
    check_cases(student, reference, "conv2d_output_shape", cases, torch_conv2d_shape)


@graded("conv2d_output_shape")
def test_shape_padding_pairs(student, reference, rng):
    "padding as ((top, bottom), (left, right))"
    cases = [conv2d_case(rng, batch=coin(rng), square=coin(rng), stride=coin(rng),
                         padding="pairs") for _ in range(N_CASES)]
    check_cases(student, reference, "conv2d_output_shape", cases, torch_conv2d_shape)


@graded("conv2d_output_shape")
def test_shape_same_and_valid(student, reference, rng):
    "'valid' padding, and 'same' with stride 1"
    cases = [conv2d_case(rng, batch=coin(rng), square=coin(rng), padding="same",
                         dilation=coin(rng)) if coin(rng)
             else conv2d_case(rng, square=coin(rng), stride=coin(rng), padding="valid")
             for _ in range(N_CASES)]
    check_cases(student, reference, "conv2d_output_shape", cases, torch_conv2d_shape)


@graded("conv2d_output_shape")
def test_shape_same_strided(student, reference, rng):
    "'same' padding with strides > 1"
    cases = [conv2d_case(rng, batch=coin(rng), square=coin(rng), stride=True, padding="same",
                         exact=False) for _ in range(N_CASES)]
    check_cases(student, reference, "conv2d_output_shape", cases, torch_conv2d_shape)


@graded("conv2d_output_shape")
def test_shape_stride_rounding(student, reference, rng):
    "strides that leave pixels over (rounding down)"
    cases = [conv2d_case(rng, batch=coin(rng), square=coin(rng), stride=True,
                         padding=form, exact=False)
             for form in picks(rng, ("none", "int", "hw"))]
    check_cases(student, reference, "conv2d_output_shape", cases, torch_conv2d_shape)


@graded("conv2d_output_shape")
def test_shape_dilation(student, reference, rng):
    "dilation, an int or (height, width)"
    cases = [conv2d_case(rng, batch=coin(rng), square=coin(rng), stride=coin(rng),
                         padding=form, dilation=True)
             for form in picks(rng, ("none", "int", "hw"))]
    check_cases(student, reference, "conv2d_output_shape", cases, torch_conv2d_shape)


@graded("conv2d_output_shape")
def test_shape_numpy_integers(student, reference, rng):
    "numpy integers in input_shape and as arguments"
    cases = []
    for _ in range(N_CASES):
        case = conv2d_case(rng, batch=coin(rng), stride=coin(rng), padding="int")
        case = {name: tuple(np.int64(v) for v in value) if name == "input_shape"
                else np.int64(value) for name, value in case.items()}
        cases.append(case)
    check_cases(student, reference, "conv2d_output_shape", cases, torch_conv2d_shape)


@graded("conv2d_output_shape", kind="errors")
def test_shape_invalid(student, rng):
    "ValueError for an input_shape of rank 2 or 5, non-positive out_channels, a kernel too large"
    cases = []
    for i in range(N_CASES):
        case = conv2d_case(rng, batch=coin(rng))
        *batch, channels, height, width = case["input_shape"]
        if i % 3 == 0:
            shape = (height, width) if coin(rng) else (2, 1, channels, height, width)
            cases.append(({**case, "input_shape": shape}, ("input_shape",)))
        elif i % 3 == 1:
            cases.append(({**case, "out_channels": draw(rng, -3, 0)}, ("out_channels",)))
        else:
            kernel = (height + draw(rng, 1, 3), 1) if coin(rng) else (1, width + draw(rng, 1, 3))
            cases.append(({**case, "kernel_size": kernel}, TOO_LARGE))
    check_value_errors(student, "conv2d_output_shape", cases)


# -- conv2d_num_params --------------------------------------------------------------------


@graded("conv2d_num_params", kind="example")
def test_params_course_example(student):
    "the course example: 200 filters 5x5 on RGB have 15,200 parameters"
    assert_same(student.conv2d_num_params(3, 200, 5), 15_200,
                case="conv2d_num_params(3, 200, 5)")


@graded("conv2d_num_params")
def test_params_bias(student, reference, rng):
    "with bias (given or by default), square and (KH, KW) kernels"
    cases = [params_case(rng, bias=True if coin(rng) else None) for _ in range(N_CASES)]
    check_cases(student, reference, "conv2d_num_params", cases, torch_num_params)


@graded("conv2d_num_params")
def test_params_no_bias(student, reference, rng):
    "bias=False"
    cases = cases_of(params_case, rng, bias=False)
    check_cases(student, reference, "conv2d_num_params", cases, torch_num_params)


@graded("conv2d_num_params")
def test_params_groups(student, reference, rng):
    "groups > 1, depthwise included"
    cases = cases_of(params_case, rng, groups=True)
    check_cases(student, reference, "conv2d_num_params", cases, torch_num_params)


@graded("conv2d_num_params", kind="errors")
def test_params_invalid(student, rng):
    "ValueError for groups that do not divide the channels, or non-positive channels"
    valid = cases_of(params_case, rng)
    cases = non_positive_cases(rng, valid, ("in_channels", "out_channels"))
    for index in range(0, N_CASES, 2):
        groups = draw(rng, 2, 4)
        channels = {"in_channels": groups * draw(rng, 1, 4), "out_channels": groups}
        channels[pick(rng, tuple(channels))] += draw(rng, 1, groups - 1)
        cases[index] = ({**valid[index], **channels, "groups": groups}, ("groups",))
    check_value_errors(student, "conv2d_num_params", cases)


# -- dense_equivalent_num_params ----------------------------------------------------------


@graded("dense_equivalent_num_params")
def test_dense_bias(student, reference, rng):
    "with bias (given or by default)"
    cases = [dense_case(rng, bias=True if coin(rng) else None) for _ in range(N_CASES)]
    check_cases(student, reference, "dense_equivalent_num_params", cases, torch_dense_params)


@graded("dense_equivalent_num_params")
def test_dense_no_bias(student, reference, rng):
    "bias=False"
    cases = cases_of(dense_case, rng, bias=False)
    check_cases(student, reference, "dense_equivalent_num_params", cases, torch_dense_params)


@graded("dense_equivalent_num_params", kind="errors")
def test_dense_invalid(student, rng):
    "ValueError for a non-positive size in input_shape or output_shape"
    cases = []
    for i in range(N_CASES):
        case = dense_case(rng)
        name = ("input_shape", "output_shape")[i % 2]
        shape = list(case[name])
        shape[draw(rng, 0, len(shape) - 1)] = draw(rng, -3, 0)
        cases.append(({**case, name: tuple(shape)}, (name,)))
    check_value_errors(student, "dense_equivalent_num_params", cases)


# -- conv2d_macs --------------------------------------------------------------------------


@graded("conv2d_macs", kind="example")
def test_macs_course_example(student):
    "the course example: 200 filters 5x5, 'same', on a 150x100 RGB image"
    assert_same(student.conv2d_macs((3, 150, 100), 200, 5, padding="same"), 225_000_000,
                case="conv2d_macs((3, 150, 100), 200, 5, padding='same')")


@graded("conv2d_macs")
def test_macs_basic(student, reference, rng):
    "stride 1, no padding"
    cases = [conv2d_case(rng, square=coin(rng)) for _ in range(N_CASES)]
    check_cases(student, reference, "conv2d_macs", cases, torch_conv2d_macs)


@graded("conv2d_macs")
def test_macs_stride_padding(student, reference, rng):
    "strides and paddings that fit exactly, 'same' with stride 1"
    cases = [conv2d_case(rng, square=coin(rng), stride=form != "same", padding=form)
             for form in picks(rng, ("int", "hw", "same"))]
    check_cases(student, reference, "conv2d_macs", cases, torch_conv2d_macs)


@graded("conv2d_macs")
def test_macs_stride_rounding(student, reference, rng):
    "strides that leave pixels over, 'same' with strides > 1"
    cases = [conv2d_case(rng, square=coin(rng), stride=True, padding=form, exact=False)
             for form in picks(rng, ("none", "int", "same"))]
    check_cases(student, reference, "conv2d_macs", cases, torch_conv2d_macs)


@graded("conv2d_macs")
def test_macs_groups(student, reference, rng):
    "groups > 1"
    cases = [conv2d_case(rng, square=coin(rng), stride=coin(rng), padding="int",
                         groups=draw(rng, 2, 4)) for _ in range(N_CASES)]
    check_cases(student, reference, "conv2d_macs", cases, torch_conv2d_macs)


@graded("conv2d_macs")
def test_macs_dilation(student, reference, rng):
    "dilation, an int or (height, width)"
    cases = [conv2d_case(rng, square=coin(rng), stride=coin(rng), padding="int",
                         dilation=True) for _ in range(N_CASES)]
    check_cases(student, reference, "conv2d_macs", cases, torch_conv2d_macs)


@graded("conv2d_macs", kind="errors")
def test_macs_invalid(student, rng):
    "ValueError for groups that do not divide the channels, or a kernel larger than the input"
    cases = []
    for i in range(N_CASES):
        case = conv2d_case(rng)
        channels, height, width = case["input_shape"]
        if i % 2:
            groups = channels + draw(rng, 1, 3)
            cases.append(({**case, "groups": groups}, ("groups",)))
        else:
            cases.append(({**case, "kernel_size": (height + draw(rng, 1, 3), 1)},
                          TOO_LARGE))
    check_value_errors(student, "conv2d_macs", cases)
