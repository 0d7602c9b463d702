"""Time the a02 reference convolution against PyTorch on the CPU (not a test).

Forward plus backward (dx, dw, db) of ``solutions/a02_convolution/convolution.py`` against
``torch.nn.functional.conv2d`` with autograd, float32, on ResNet-like layer shapes; prints
milliseconds and the ratio reference / torch (the goal: at most 2)::

    python benchmarks/bench_convolution.py --threads 2
    python benchmarks/bench_convolution.py            # all cores

Both sides get the same number of threads. The reference is timed with them used two ways:
as threads of its own that work on different chunks of images at once (its ``THREADS``), the
BLAS single-threaded ("chunks"); and as the BLAS's threads, the chunks one after another (its
default, "BLAS"). Each side runs in a process of its own: idle threads of one library keep
spinning for a while after their work (OpenMP's and OpenBLAS's wait policies), and on a
2-core machine they would take a core from the other. The processes take turns, ``--rounds``
times; each layer keeps its best round's median, so that on a shared machine whose speed
drifts every side sees its quieter moments.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

SIDES = ("chunks", "BLAS", "torch")


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=os.cpu_count(),
                        help="threads for numpy's BLAS and for torch (default: all cores)")
    parser.add_argument("--repeats", type=int, default=7, help="timed runs per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per side")
    parser.add_argument("--side", choices=SIDES, help=argparse.SUPPRESS)  # one round, as JSON
    return parser.parse_args(argv)


ARGS = parse_arguments(sys.argv[1:])
#: Threads of the reference's own, and of the BLAS or torch, on this process's side.
OWN_THREADS = ARGS.threads if ARGS.side == "chunks" else 1
LIBRARY_THREADS = 1 if ARGS.side == "chunks" else ARGS.threads
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = str(LIBRARY_THREADS)  # read by the libraries when they load

import importlib.util  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

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


def layer_arrays(x_shape, w_shape, kwargs: dict) -> tuple[np.ndarray, ...]:
    """``x, w, b, dout`` of one layer, float32, the same on both sides."""
    rng = np.random.default_rng(0)
    groups = kwargs.get("groups", 1)
    filters, kh, kw = w_shape
    x = rng.standard_normal(x_shape, dtype=np.float32)
    w = rng.standard_normal((filters, x_shape[1] // groups, kh, kw), dtype=np.float32)
    b = rng.standard_normal(filters, dtype=np.float32)
    out_shape = load_reference()._conv2d_geometry(
        x_shape, w.shape, kwargs.get("stride", 1), kwargs.get("padding", 0), 1, groups).out
    dout = rng.standard_normal((x_shape[0], filters, *out_shape), dtype=np.float32)
    return x, w, b, dout


def numpy_step(x, w, b, dout, kwargs: dict):
    """The reference's forward and backward pass, as a function of no arguments."""
    reference = load_reference()
    reference.THREADS = OWN_THREADS

    def step():
        reference.conv2d_forward(x, w, b, **kwargs)
        reference.conv2d_backward(dout, x, w, **kwargs)
    return step


def torch_step(x, w, b, dout, kwargs: dict):
    """PyTorch's forward and autograd backward pass, as a function of no arguments."""
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(LIBRARY_THREADS)
    tx, tw, tb = (torch.from_numpy(a).requires_grad_() for a in (x, w, b))
    tdout = torch.from_numpy(dout)

    def step():
        torch.autograd.grad(F.conv2d(tx, tw, tb, **kwargs), (tx, tw, tb), tdout)
    return step


def one_round(side: str) -> list[float]:
    """Milliseconds of one side on every layer, in this process."""
    make_step = torch_step if side == "torch" else numpy_step
    return [median_ms(make_step(*layer_arrays(x_shape, w_shape, kwargs), kwargs), ARGS.repeats)
            for _, x_shape, w_shape, kwargs in LAYERS]


def round_in_a_process(side: str) -> list[float]:
    command = [sys.executable, __file__, "--side", side, "--threads", str(ARGS.threads),
               "--repeats", str(ARGS.repeats)]
    return json.loads(subprocess.run(command, check=True, capture_output=True,
                                     text=True).stdout)


def main() -> None:
    if ARGS.side:
        print(json.dumps(one_round(ARGS.side)))
        return
    best = {side: [float("inf")] * len(LAYERS) for side in SIDES}
    for _ in range(ARGS.rounds):
        for side in SIDES:
            best[side] = [min(a, b) for a, b in zip(best[side], round_in_a_process(side),
                                                    strict=True)]
    import torch

    print(f"forward+backward, float32, CPU, {ARGS.threads} thread(s), each side in its own "
          f"process, best of {ARGS.rounds} medians of {ARGS.repeats} runs; "
          f"torch {torch.__version__}, numpy {np.__version__}")
    print(f"{'':32s} {'reference ms':>17s} {'torch':>6s} {'ratio':>13s}")
    print(f"{'layer':32s} {'chunks':>8s} {'BLAS':>8s} {'ms':>6s} {'chunks':>6s} {'BLAS':>6s}")
    for (name, *_), chunks_ms, blas_ms, torch_ms in zip(
            LAYERS, best["chunks"], best["BLAS"], best["torch"], strict=True):
        print(f"{name:32s} {chunks_ms:8.1f} {blas_ms:8.1f} {torch_ms:6.1f} "
              f"{chunks_ms / torch_ms:6.2f} {blas_ms / torch_ms:6.2f}")


if __name__ == "__main__":
    main()
