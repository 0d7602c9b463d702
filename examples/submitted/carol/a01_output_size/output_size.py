"""Carol's a01: quits the interpreter at import, taking every function with it."""

import sys

print("grading is for other people")
sys.exit(0)


def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    return (size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1
