"""Time the a02 reference convolution against PyTorch on the CPU (not a test).

Forward plus backward (dx, dw, db) of ``solutions/a02_convolution/convolution.py`` against
``torch.nn.functional.conv2d`` with autograd, float32, on ResNet-like layer shapes; prints the
median of several runs in milliseconds and the ratio reference / torch (the goal: at most 2).
Both sides get the same number of threads (numpy's BLAS and torch alike)::

    python benchmarks/bench_convolution.py --threads 1
    python benchmarks/bench_convolution.py            # all cores
"""

from __future__ import annotations

import argparse
import os
import sys


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=os.cpu_count(),
                        help="threads for numpy's BLAS and for torch (default: all cores)")
    parser.add_argument("--repeats", type=int, default=7, help="timed runs per layer")
    return parser.parse_args(argv)


ARGS = parse_arguments(sys.argv[1:])
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = str(ARGS.threads)  # read by the BLAS libraries when they load

import importlib.util  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

REFERENCE = Path(__file__).resolve().parents[1] / "solutions/a02_convolution/convolution.py"

#: (name, (N, C, H, W), (F, KH, KW), conv keyword arguments)
LAYERS = (
    ("resnet 64->64 32x32 3x3", (16, 64, 32, 32), (64, 3, 3), {"padding": 1}),
    ("resnet 64->128 32x32 3x3 s2", (16, 64, 32, 32), (128, 3, 3), {"stride": 2, "padding": 1}),
    ("resnet 128->128 16x16 3x3", (16, 128, 16, 16), (128, 3, 3), {"padding": 1}),
    ("resnet 256->256 8x8 3x3", (16, 256, 8, 8), (256, 3, 3), {"padding": 1}),
    ("bottleneck 64->256 32x32 1x1", (16, 64, 32, 32), (256, 1, 1), {}),
    ("depthwise 64 32x32 3x3", (16, 64, 32, 32), (64, 3, 3), {"padding": 1, "groups": 64}),
)


def load_reference():
    spec = importlib.util.spec_from_file_location("reference_convolution", REFERENCE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def median_ms(run, repeats: int) -> float:
    """Median wall time of ``run()`` in milliseconds, after three untimed warm-up runs (the
    first runs pay for the allocator growing its heap to these array sizes)."""
    for _ in range(3):
        run()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times)


def time_layer(reference, x_shape, w_shape, kwargs: dict, repeats: int) -> tuple[float, float]:
    """Forward+backward milliseconds of the reference and of torch on one layer."""
    rng = np.random.default_rng(0)
    groups = kwargs.get("groups", 1)
    filters, kh, kw = w_shape
    x = rng.standard_normal(x_shape, dtype=np.float32)
    w = rng.standard_normal((filters, x_shape[1] // groups, kh, kw), dtype=np.float32)
    b = rng.standard_normal(filters, dtype=np.float32)
    dout = rng.standard_normal(reference.conv2d_forward(x, w, b, **kwargs).shape,
                               dtype=np.float32)

    def numpy_step():
        reference.conv2d_forward(x, w, b, **kwargs)
        reference.conv2d_backward(dout, x, w, **kwargs)

    tx, tw, tb = (torch.from_numpy(a).requires_grad_() for a in (x, w, b))
    tdout = torch.from_numpy(dout)

    def torch_step():
        torch.autograd.grad(F.conv2d(tx, tw, tb, **kwargs), (tx, tw, tb), tdout)

    return median_ms(numpy_step, repeats), median_ms(torch_step, repeats)


def main() -> None:
    torch.set_num_threads(ARGS.threads)
    reference = load_reference()
    print(f"forward+backward, float32, CPU, {ARGS.threads} thread(s), "
          f"median of {ARGS.repeats} runs; torch {torch.__version__}, numpy {np.__version__}")
    print(f"{'layer':32s} {'numpy ms':>9s} {'torch ms':>9s} {'ratio':>6s}")
    for name, x_shape, w_shape, kwargs in LAYERS:
        numpy_ms, torch_ms = time_layer(reference, x_shape, w_shape, kwargs, ARGS.repeats)
        print(f"{name:32s} {numpy_ms:9.1f} {torch_ms:9.1f} {numpy_ms / torch_ms:6.2f}")


if __name__ == "__main__":
    main()
