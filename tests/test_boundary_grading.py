"""The boundary, judged through whole grading runs: what a submission does inside the
sandbox costs that submission only the functions it breaks, and never a classmate anything.

One a03 class is graded once; each student stands for a finding of the red team.
"""

from __future__ import annotations

import json
import sysconfig

import pytest
from support import assert_full_marks, failures, grade, lost_points, make_submission

pytestmark = pytest.mark.slow

ASSIGNMENT = "a03_pooling"
GLOBAL = "global_avg_pool2d"
#: The start of the global pooling that replaces the reference's in each submission below.
GLOBAL_SOURCE = ("def global_avg_pool2d(x):\n    if x.ndim != 4:\n"
                 "        raise ValueError('x must have shape (N, C, H, W)')\n")

#: student -> code appended to the reference (a later ``def`` replaces the reference's).
STUDENTS = {
    "big_endian": GLOBAL_SOURCE + "    return x.mean(axis=(2, 3)).astype('>f8')\n",
    "prints_200_mb_at_import": "print('x' * 2**20 * 200)\n",
    "escapes_numpy_only": GLOBAL_SOURCE + '''\
    import sys
    sys.meta_path[:] = [f for f in sys.meta_path if "Forbidden" not in type(f).__name__]
    sys.modules.pop("torch", None)
    sys.path += [{site!r}, "/usr/lib/python3/dist-packages"]
    import torch
    return torch.from_numpy(x).mean(dim=(2, 3)).numpy()
'''.format(site=sysconfig.get_paths()["purelib"]),
    "numba_decorator_at_import": '''\
import numba

@numba.njit
def _mean(x):
    return x.mean(axis=(2, 3))

''' + GLOBAL_SOURCE + "    return _mean(x)\n",
    "huge_feedback": GLOBAL_SOURCE + "    return 'x' * 900_000\n",
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> tuple[dict, object]:
    root = tmp_path_factory.mktemp("submitted")
    out = tmp_path_factory.mktemp("graded")
    make_submission(root, "reference", ASSIGNMENT)
    for student, code in STUDENTS.items():
        make_submission(root, student, ASSIGNMENT, append=code)
    return grade(root, out), out


def test_the_reference_graded_beside_them_keeps_full_marks(graded):
    assert_full_marks(graded[0]["reference"])


@pytest.mark.parametrize("student", ["big_endian", "prints_200_mb_at_import"])
def test_correct_work_gets_full_marks_whatever_crosses_the_boundary(graded, student):
    assert_full_marks(graded[0][student])


@pytest.mark.parametrize("student", ["escapes_numpy_only", "numba_decorator_at_import"])
def test_a_forbidden_library_costs_only_the_function_that_uses_it(graded, student):
    results = graded[0][student]
    assert set(lost_points(results)) == {GLOBAL}, failures(results)
    failed = [t for t in results["tests"] if t["extra_data"]["outcome"] != "passed"]
    assert failed and all(t["extra_data"]["outcome"] == "forbidden library"
                          and "allows numpy only" in t["output"] for t in failed), \
        failures(results)
    assert results["status"] == "graded"


def test_a_huge_answer_makes_a_small_results_file(graded):
    results, out = graded
    assert set(lost_points(results["huge_feedback"])) == {GLOBAL}
    path = out / "huge_feedback" / ASSIGNMENT / "results.json"
    assert path.stat().st_size < 200_000
    assert all(len(t["output"]) < 5000 for t in json.loads(path.read_text())["tests"])
