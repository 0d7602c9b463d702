"""The course in one place: its folders, its assignments and the grading limits.

Everything that the release builder, the grader and the tests need to know about the
course is read from here, so adding an assignment means adding one entry below.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS_DIR = REPO_ROOT / "solutions"
ASSIGNMENTS_DIR = REPO_ROOT / "assignments"
AUTOGRADER_DIR = REPO_ROOT / "autograder"
SUITES_DIR = AUTOGRADER_DIR / "suites"
EXAMPLES_DIR = REPO_ROOT / "examples"

#: Array libraries that a numpy-only assignment may not use (top-level module names).
FORBIDDEN_ARRAY_LIBRARIES = (
    "torch", "scipy", "jax", "jaxlib", "tensorflow", "cupy", "numba", "sklearn",
    "skimage", "cv2", "numexpr", "dask", "mxnet", "paddle", "theano", "autograd",
)


@dataclass(frozen=True)
class Limits:
    """Resource limits for one submission's sandboxed worker.

    Attributes:
        call_seconds: wall-clock limit for one call of a student function (s).
        submission_seconds: wall-clock budget for all calls of one submission (s).
        memory_bytes: address-space limit of the worker process (bytes).
        timeouts_per_function: after this many timed-out calls, further calls of the
            same function fail at once instead of waiting again.
    """

    call_seconds: float = 10.0
    submission_seconds: float = 240.0
    memory_bytes: int = 4 * 1024**3
    timeouts_per_function: int = 2


@dataclass(frozen=True)
class Assignment:
    """One assignment of the course.

    Attributes:
        id: folder name under ``solutions/``, ``assignments/`` and a submission.
        module: the module students implement (file ``<module>.py``).
        numpy_only: whether the student module may use numpy only.
        limits: resource limits of its grading worker.
    """

    id: str
    module: str
    numpy_only: bool = False
    limits: Limits = Limits()

    @property
    def solution_dir(self) -> Path:
        return SOLUTIONS_DIR / self.id

    @property
    def release_dir(self) -> Path:
        return ASSIGNMENTS_DIR / self.id

    @property
    def suite_dir(self) -> Path:
        return SUITES_DIR / self.id


ASSIGNMENTS: dict[str, Assignment] = {
    a.id: a
    for a in (
        Assignment("a01_output_size", "output_size"),
        Assignment("a02_convolution", "convolution", numpy_only=True),
        Assignment("a03_pooling", "pooling", numpy_only=True),
    )
}


def get_assignment(assignment_id: str) -> Assignment:
    """Return the assignment called ``assignment_id``; ``KeyError`` names the known ones."""
    try:
        return ASSIGNMENTS[assignment_id]
    except KeyError:
        known = ", ".join(ASSIGNMENTS)
        raise KeyError(f"unknown assignment {assignment_id!r} (known: {known})") from None
