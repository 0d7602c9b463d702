"""The visible checks a student runs (``pytest`` in an assignment's folder), on the solutions
and on typical bugs: a failure names the function and the case, and blames only the function
that is wrong."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from support import make_submission

from cnnlab.course import get_assignment

#: Typical bugs: (assignment, edits of the solution, what the failure must say, what must
#: not fail).
BUGS = {
    "rounding instead of flooring": (
        "a01_output_size",
        {"return (padded - window) // stride + 1":
         "return round((padded - window) / stride) + 1"},
        "conv_output_size(6, 3, stride=2): expected 2", "conv_transpose"),
    "a flipped kernel": (
        "a02_convolution",
        {"w_rows = w.reshape(geometry.groups,":
         "w_rows = w[:, :, ::-1, ::-1].reshape(geometry.groups,"},
        "conv2d_forward on the vertical-edge example", "test_backward"),
    "the gradient sent to every tied maximum": (
        "a03_pooling",
        {"is_winner = np.arange(kh * kw) == winner[..., np.newaxis]":
         "is_winner = flat == flat.max(axis=-1, keepdims=True)"},
        "max_pool2d_backward with four tied maxima", "forward"),
}


def run_visible_checks(folder) -> subprocess.CompletedProcess:
    """``pytest`` in ``folder``, as a student runs it (the folder's own pytest.ini), writing
    nothing there."""
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                          cwd=folder, capture_output=True, text=True, timeout=300,
                          env=os.environ | {"PYTHONDONTWRITEBYTECODE": "1"})


@pytest.mark.parametrize("assignment_id", ["a01_output_size", "a02_convolution", "a03_pooling"])
def test_on_the_stubs_each_failure_says_not_implemented_and_briefly(assignment_id):
    run = run_visible_checks(get_assignment(assignment_id).release_dir)
    errors = [line for line in run.stdout.splitlines() if line.startswith("E ")]
    assert run.returncode == 1 and errors, run.stdout[-3000:]
    assert all("NotImplementedError" in line for line in errors), errors
    assert len(run.stdout.splitlines()) < 250


@pytest.mark.parametrize("assignment_id", ["a01_output_size", "a02_convolution", "a03_pooling"])
def test_the_solutions_pass_their_visible_checks(assignment_id):
    run = run_visible_checks(get_assignment(assignment_id).solution_dir)
    assert run.returncode == 0, run.stdout[-3000:]


@pytest.mark.parametrize("bug", BUGS)
def test_a_bug_fails_with_a_message_naming_the_function_and_the_case(tmp_path, bug):
    assignment_id, edits, says, blameless = BUGS[bug]
    assignment = get_assignment(assignment_id)
    folder = make_submission(tmp_path, "student", assignment_id, replace=edits)
    for visible in assignment.solution_dir.glob("*.py"):
        if visible.name != f"{assignment.module}.py":
            (folder / visible.name).write_text(visible.read_text())
    (folder / "pytest.ini").write_text((assignment.solution_dir / "pytest.ini").read_text())
    run = run_visible_checks(folder)
    assert run.returncode == 1 and says in run.stdout, run.stdout[-3000:]
    failed = [line for line in run.stdout.splitlines() if line.startswith("FAILED")]
    assert failed and not any(blameless in line for line in failed), failed
    assert len(run.stdout.splitlines()) < 150, "a failure should not print pages of arrays"
