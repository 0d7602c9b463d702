"""Each assignment folder as a student meets it: the notebook runs, the visible checks work."""

from __future__ import annotations

import subprocess
import sys

import nbformat
import pytest
from nbclient import NotebookClient

from cnnlab.course import ASSIGNMENTS

IDS = sorted(ASSIGNMENTS)


def _pytest_in(folder) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                          cwd=folder, capture_output=True, text=True)


@pytest.mark.slow
@pytest.mark.parametrize("assignment_id", IDS)
def test_notebook_runs_top_to_bottom_on_the_reference(assignment_id):
    folder = ASSIGNMENTS[assignment_id].solution_dir
    notebook = nbformat.read(folder / f"{assignment_id}.ipynb", as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(folder)}}).execute()


@pytest.mark.parametrize("assignment_id", IDS)
def test_visible_checks_pass_on_the_reference(assignment_id):
    result = _pytest_in(ASSIGNMENTS[assignment_id].solution_dir)
    assert result.returncode == 0, result.stdout[-3000:]


@pytest.mark.parametrize("assignment_id", IDS)
def test_visible_checks_fail_cleanly_on_the_stubs(assignment_id):
    result = _pytest_in(ASSIGNMENTS[assignment_id].release_dir)
    assert result.returncode == pytest.ExitCode.TESTS_FAILED, result.stdout[-3000:]
    assert "NotImplementedError" in result.stdout
