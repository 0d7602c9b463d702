"""The course in one place: its folders, its assignments and the grading limits.

Everything that the release builder, the grader and the tests need to know about the
course is read from here, so adding an assignment means adding one entry below.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS_DIR = REPO_ROOT / "solutions"
ASSIGNMENTS_DIR = REPO_ROOT / "assignments"
AUTOGRADER_DIR = REPO_ROOT / "autograder"
SUITES_DIR = AUTOGRADER_DIR / "suites"
EXAMPLES_DIR = REPO_ROOT / "examples"
#: Grading jobs run at the same time unless told otherwise: one per CPU core, at most 8.
DEFAULT_JOBS = min(os.cpu_count() or 1, 8)

#: Array libraries that a numpy-only assignment may not use (top-level module names).
FORBIDDEN_ARRAY_LIBRARIES = (
    "torch", "scipy", "jax", "jaxlib", "tensorflow", "cupy", "numba", "sklearn",
    "skimage", "cv2", "numexpr", "dask", "mxnet", "paddle", "theano", "autograd",
)


@dataclass(frozen=True)
class Limits:
    """What grading one submission may take. Times are CPU seconds where the machine counts
    them per worker (cgroups, as root), else wall-clock seconds.

    Attributes:
        call_seconds: one call of a student function, or one driver action (s).
        function_seconds: all the calls of one graded function together (s): a slow
            function loses only its own later tests, never another function's.
        import_seconds: starting the worker and importing the student's module (s).
        submission_seconds: the most wall-clock time all the calls and imports of one
            submission may take together (s); a grading job's own time limit is this times
            its submissions, plus a margin, so one submission cannot cost a classmate.
        wall_factor: a call may take this many times its CPU limit in wall-clock time
            (where CPU time is counted), so that waiting on a loaded machine is not charged.
        timeouts_per_function: after this many timed-out calls, further calls of the same
            function fail at once instead of waiting again.
        memory_bytes: address space of each worker process; with cgroups, about the
            memory of the whole box (bytes).
        processes: processes and threads of the box.
        reply_bytes: the largest reply of the worker the grader reads (bytes of arrays).
    """

    call_seconds: float = 10.0
    function_seconds: float = 120.0
    import_seconds: float = 10.0
    submission_seconds: float = 900.0
    wall_factor: float = 3.0
    timeouts_per_function: int = 2
    memory_bytes: int = 4 * 1024**3
    processes: int = 64
    reply_bytes: int = 8 * 1024**2


@dataclass(frozen=True)
class Tolerance:
    """How close a result must be to the expected one (``numpy.isclose``'s meaning)."""

    rtol: float
    atol: float


#: The tolerance for float64 inputs, in every assignment: the reference, PyTorch and a
#: correct plain-loop solution agree to ~1e-13 on the suites' inputs, and a result
#: computed (or returned) in float32 is off by ~1e-7, so it fails.
FLOAT64 = Tolerance(rtol=1e-9, atol=1e-10)


@dataclass(frozen=True)
class Graded:
    """A function (or class) that students write, and what it is worth.

    Its hidden tests share ``points`` by their weights (see ``autograder.harness.graded``),
    so adding a case to a suite never changes what a function is worth. ``call_seconds``,
    where set, is the limit of one call of it (or of one driver action that runs it) in place
    of ``Limits.call_seconds``: training takes more than one call's usual 10 s.
    """

    name: str
    points: float
    call_seconds: float | None = None


@dataclass(frozen=True)
class Assignment:
    """One assignment of the course.

    Attributes:
        id: folder name under ``solutions/``, ``assignments/`` and a submission.
        module: the module students implement (file ``<module>.py``).
        libraries: the installed distributions the student's code may import; nothing
            else of site-packages is in its sandbox.
        graded: what students write and its points, in the order of the module.
        why: why the points are shared out so.
        float32: the tolerance for float32 inputs (float64 inputs: ``FLOAT64``).
        driver: for answers that are PyTorch objects, the module of ``autograder/drivers``
            that builds and runs them in the sandbox; None where the answers are plain data.
        limits: resource limits of its grading worker.
        written: the notebook's written questions, graded by hand in nbgrader only:
            ``(grade_id, points)`` pairs; not part of ``max_score``, which is what
            ``cnnlab grade`` scores.
    """

    id: str
    module: str
    graded: tuple[Graded, ...]
    why: str
    libraries: tuple[str, ...] = ("numpy",)
    float32: Tolerance = Tolerance(rtol=1e-4, atol=1e-4)
    driver: str | None = None
    limits: Limits = Limits()
    written: tuple[tuple[str, float], ...] = ()

    @property
    def points(self) -> dict[str, float]:
        """Points of each graded function or class, by name."""
        return {g.name: g.points for g in self.graded}

    def tolerance(self, dtype) -> dict[str, float]:
        """``rtol`` and ``atol`` for results computed from inputs of ``dtype`` (the
        contract: the tolerance of the inputs' dtype, whatever the result's own)."""
        chosen = self.float32 if np.dtype(dtype) == np.float32 else FLOAT64
        return {"rtol": chosen.rtol, "atol": chosen.atol}

    @property
    def max_score(self) -> float:
        return sum(g.points for g in self.graded)

    @property
    def numpy_only(self) -> bool:
        """Whether the student's module may use numpy and nothing else (the contract's
        rule for a02 and a03): other array libraries import as poison there."""
        return self.libraries == ("numpy",)

    @property
    def solution_dir(self) -> Path:
        return SOLUTIONS_DIR / self.id

    @property
    def release_dir(self) -> Path:
        return ASSIGNMENTS_DIR / self.id

    @property
    def suite_dir(self) -> Path:
        return SUITES_DIR / self.id

    def load_reference(self) -> ModuleType:
        """The reference solution's module, imported afresh from ``solution_dir`` by path
        (``solutions/`` is not a package) as ``reference_<id>``."""
        path = self.solution_dir / f"{self.module}.py"
        spec = importlib.util.spec_from_file_location(f"reference_{self.id}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module


ASSIGNMENTS: dict[str, Assignment] = {
    a.id: a
    for a in (
        Assignment(
            "a01_output_size", "output_size",
            (Graded("conv_output_size", 2), Graded("pool_output_size", 1.5),
             Graded("conv_transpose_output_size", 1.5), Graded("conv2d_output_shape", 1.5),
             Graded("conv2d_num_params", 1), Graded("dense_equivalent_num_params", 1),
             Graded("conv2d_macs", 1.5)),
            why="A warm-up worth 10: the one-axis formula carries the most, since every "
                "other size builds on it; counting parameters is the simplest.",
            # The contract limits a02 and a03 to numpy; a01 may use PyTorch too.
            libraries=("numpy", "torch")),
        Assignment(
            "a02_convolution", "convolution",
            (Graded("conv2d_forward", 10), Graded("conv2d_backward", 14),
             Graded("conv_transpose2d_forward", 6)),
            why="The heart of the course, worth 30: the backward pass is the hardest part "
                "(three gradients), the transposed convolution the shortest.",
            # Sums of ~50 products of standard normals, rounded in float32.
            float32=Tolerance(rtol=1e-4, atol=1e-4),
            written=(("written_conv_vs_dense", 3),)),
        Assignment(
            "a03_pooling", "pooling",
            (Graded("max_pool2d_forward", 4), Graded("max_pool2d_backward", 5),
             Graded("avg_pool2d_forward", 4), Graded("avg_pool2d_backward", 4),
             Graded("global_avg_pool2d", 3)),
            why="Worth 20, less than convolution: the same windows without weights. Max "
                "pooling's backward (ties, overlapping windows) carries the most.",
            # Sums of at most a window's values: float32 rounds far less than in a02.
            float32=Tolerance(rtol=1e-5, atol=1e-6),
            written=(("written_what_pooling_buys", 2),)),
        Assignment(
            "a04_receptive_field", "receptive_field",
            (Graded("receptive_field", 8), Graded("layers_from_model", 4),
             Graded("empirical_receptive_field", 8)),
            why="Worth 20: the recurrences are the idea and measuring with autograd is its "
                "check, 8 each; reading the layers out of a model is bookkeeping.",
            libraries=("numpy", "torch"), driver="torch_modules"),
        Assignment(
            "a05_resnet", "resnet",
            (Graded("conv3x3", 1), Graded("conv1x1", 1), Graded("BasicBlock", 8),
             Graded("Bottleneck", 8), Graded("ResNet", 6), Graded("resnet18", 2),
             Graded("resnet34", 2), Graded("resnet50", 2)),
            why="Worth 30: the two residual blocks carry the idea (the shortcut, where it "
                "needs a 1x1 conv, the ReLU after the addition), the network assembles "
                "them; the factories and the two convolutions are one line each.",
            libraries=("numpy", "torch"), driver="torch_modules"),
        Assignment(
            "a06_finetuning", "finetuning",
            (Graded("replace_head", 3), Graded("freeze_backbone", 4, call_seconds=30),
             Graded("unfreeze", 2, call_seconds=30), Graded("make_optimizer", 4),
             Graded("train_one_epoch", 4, call_seconds=30), Graded("evaluate", 3),
             Graded("fine_tune", 5, call_seconds=60), Graded("fc_to_conv", 5)),
            why="Worth 30: freezing (BatchNorm statistics included) and the optimizer's "
                "groups are where transfer learning goes wrong silently, so they weigh most "
                "with the training loop; fine_tune is graded by what it reaches on held-out "
                "digits; fc_to_conv is the last part's one idea, the weight's layout.",
            libraries=("numpy", "torch"), driver="torch_training",
            written=(("written_when_to_fine_tune", 3),)),
    )
}


def get_assignment(assignment_id: str) -> Assignment:
    """Return the assignment called ``assignment_id``; ``KeyError`` names the known ones."""
    try:
        return ASSIGNMENTS[assignment_id]
    except KeyError:
        known = ", ".join(ASSIGNMENTS)
        raise KeyError(f"unknown assignment {assignment_id!r} (known: {known})") from None
