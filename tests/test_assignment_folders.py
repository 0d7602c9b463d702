"""Each assignment folder as a student meets it: the notebook runs, the visible checks work:
they pass on the solutions, say "not implemented" briefly on the stubs, and on a typical bug
fail with a message naming the function and the case, blaming nothing else."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import nbformat
import pytest
from nbclient import NotebookClient
from support import make_submission

from autograder.grade_one import hidden_tests
from cnnlab.course import ASSIGNMENTS, REPO_ROOT

IDS = sorted(ASSIGNMENTS)

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



def _pytest_in(folder) -> subprocess.CompletedProcess:
    """``pytest`` in ``folder``, as a student runs it (the folder's own pytest.ini), writing
    nothing there."""
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                          cwd=folder, capture_output=True, text=True, timeout=300,
                          env=os.environ | {"PYTHONDONTWRITEBYTECODE": "1"})


@pytest.mark.slow
@pytest.mark.parametrize("assignment_id", IDS)
def test_notebook_runs_top_to_bottom_on_the_reference(assignment_id):
    folder = ASSIGNMENTS[assignment_id].solution_dir
    notebook = nbformat.read(folder / f"{assignment_id}.ipynb", as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(folder)}}).execute()


@pytest.mark.slow
@pytest.mark.parametrize("assignment_id", IDS)
def test_released_notebook_runs_top_to_bottom_on_the_stubs(assignment_id, tmp_path,
                                                           monkeypatch):
    # A copy outside the repository finds the bundled weights (a06) as a student's does.
    monkeypatch.setenv("CNNLAB_DATASETS", str(REPO_ROOT / "datasets"))
    folder = tmp_path / assignment_id
    shutil.copytree(ASSIGNMENTS[assignment_id].release_dir, folder)
    notebook = nbformat.read(folder / f"{assignment_id}.ipynb", as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(folder)}}).execute()
    printed = "".join(output.get("text", "") for cell in notebook.cells
                      for output in cell.get("outputs", []))
    assert "not implemented yet" in printed


@pytest.mark.parametrize("assignment_id", IDS)
def test_visible_checks_pass_on_the_reference(assignment_id):
    result = _pytest_in(ASSIGNMENTS[assignment_id].solution_dir)
    assert result.returncode == 0, result.stdout[-3000:]


@pytest.mark.parametrize("assignment_id", IDS)
def test_visible_checks_fail_cleanly_on_the_stubs(assignment_id):
    result = _pytest_in(ASSIGNMENTS[assignment_id].release_dir)
    errors = [line for line in result.stdout.splitlines() if line.startswith("E ")]
    assert result.returncode == pytest.ExitCode.TESTS_FAILED and errors, result.stdout[-3000:]
    assert all("NotImplementedError" in line for line in errors), errors
    assert len(result.stdout.splitlines()) < 250, "a failure should not print pages of arrays"


@pytest.mark.parametrize("assignment_id", IDS)
def test_the_visible_checks_end_with_what_the_grader_checks_next(assignment_id):
    result = _pytest_in(ASSIGNMENTS[assignment_id].release_dir)
    summary = result.stdout.split("what the grader checks after these", 1)[-1]
    counts = hidden_tests(assignment_id)
    for function, points in ASSIGNMENTS[assignment_id].points.items():
        assert f"{function} " in summary and \
            f"{points:g} points over {counts[function]} hidden tests" in summary, summary
    assert "all tests passed" not in result.stdout.lower()


@pytest.mark.parametrize("bug", BUGS)
def test_a_bug_fails_with_a_message_naming_the_function_and_the_case(tmp_path, bug):
    assignment_id, edits, says, blameless = BUGS[bug]
    assignment = ASSIGNMENTS[assignment_id]
    folder = make_submission(tmp_path, "student", assignment_id, replace=edits)
    for visible in [*assignment.solution_dir.glob("*.py"), assignment.solution_dir / "pytest.ini"]:
        if visible.name != f"{assignment.module}.py":
            (folder / visible.name).write_text(visible.read_text())
    result = _pytest_in(folder)
    assert result.returncode == pytest.ExitCode.TESTS_FAILED and says in result.stdout, \
        result.stdout[-3000:]
    failed = [line for line in result.stdout.splitlines() if line.startswith("FAILED")]
    assert failed and not any(blameless in line for line in failed), failed
