"""``cnnlab.nbgrader_hooks`` without a course: the grading cells, the scores and feedback
read from results, the configuration that fails closed, and nbgrader's own
``generate_assignment`` run at the repository's root (it must write what ``cnnlab release``
wrote, never a solution)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import nbformat
import pytest

from cnnlab.course import ASSIGNMENTS, REPO_ROOT, get_assignment
from cnnlab.nbgrader_hooks import (
    GRADE_ID_PREFIX,
    function_feedback,
    function_scores,
    grading_cells,
    is_grading_cell,
    sync_grading_cells,
)

A01 = get_assignment("a01_output_size")


@pytest.mark.parametrize("assignment", ASSIGNMENTS.values(), ids=ASSIGNMENTS)
def test_each_notebook_is_worth_its_manifest_points(assignment):
    notebook = nbformat.read(assignment.solution_dir / f"{assignment.id}.ipynb", as_version=4)
    graded = {cell.metadata["nbgrader"]["grade_id"]: cell.metadata["nbgrader"]["points"]
              for cell in notebook.cells
              if cell.metadata.get("nbgrader", {}).get("grade")
              and not cell.metadata["nbgrader"].get("solution")}
    assert graded == {GRADE_ID_PREFIX + g.name: g.points for g in assignment.graded}
    written = {cell.metadata["nbgrader"]["grade_id"]: cell.metadata["nbgrader"]["points"]
               for cell in notebook.cells if cell.cell_type == "markdown"
               and cell.metadata.get("nbgrader", {}).get("grade")}
    assert written == dict(assignment.written)


@pytest.mark.parametrize("assignment", [a for a in ASSIGNMENTS.values() if a.written],
                         ids=lambda a: a.id)
def test_written_answers_reach_students_without_their_rubric(assignment):
    released = nbformat.read(assignment.release_dir / f"{assignment.id}.ipynb", as_version=4)
    answers = [cell for cell in released.cells
               if cell.metadata.get("nbgrader", {}).get("grade_id") in dict(assignment.written)]
    assert answers and all(cell.source == "YOUR ANSWER HERE" for cell in answers)
    assert "rubric" not in nbformat.writes(released).lower()


def test_sync_adds_the_cells_once_and_replaces_stale_ones(tmp_path):
    path = tmp_path / "notebook.ipynb"
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# hello")])
    stale = grading_cells(A01)[1]
    stale.metadata["nbgrader"]["points"] = 100
    notebook.cells.append(stale)
    nbformat.write(notebook, path)
    assert sync_grading_cells(path, A01)
    assert not sync_grading_cells(path, A01)
    cells = nbformat.read(path, as_version=4).cells
    assert cells[0].source == "# hello"
    assert [c.metadata["nbgrader"].get("points") for c in cells if is_grading_cell(c)][1:] \
        == [g.points for g in A01.graded]


def test_cells_read_zero_until_graded():
    "a cell that nbgrader runs without cnnlab's hooks gives 0 points, never full marks"
    for cell in grading_cells(A01)[1:]:
        assert cell.source.splitlines()[-1].startswith("0  #")


RESULTS = {"extra_data": {"status": "graded"}, "tests": [
    {"name": "conv_output_size: stride 2", "score": 1.0, "max_score": 1.0, "output": "passed"},
    {"name": "conv_output_size: padding", "score": 0.0, "max_score": 1.0,
     "output": "conv_output_size(6, 3, stride=2): expected 2, got 3"},
    {"name": "pool_output_size: defaults", "score": 1.5, "max_score": 1.5, "output": "passed"},
]}


def test_scores_and_feedback_from_results():
    scores = function_scores(RESULTS, A01)
    assert scores["conv_output_size"] == 1.0 and scores["pool_output_size"] == 1.5
    assert scores["conv2d_macs"] == 0.0  # no test of it ran: nothing earned
    text = function_feedback(RESULTS, "conv_output_size", 1.0, 2.0)
    assert text.startswith("conv_output_size: 1 of 2 points (status: graded)")
    assert "FAILED conv_output_size: padding" in text and "expected 2, got 3" in text


def nbgrader_at(folder, *arguments, env=None):
    return subprocess.run([sys.executable, "-m", "nbgrader", *arguments], cwd=folder,
                          capture_output=True, text=True, timeout=300,
                          env=os.environ | {"PYTHONPATH": str(folder)} | (env or {}))


@pytest.fixture
def repository_copy(tmp_path):
    """A copy of the repository's course files, imported as cnnlab from there."""
    copy = tmp_path / "repository"
    for name in ("cnnlab", "autograder", "solutions", "assignments", "datasets"):
        shutil.copytree(REPO_ROOT / name, copy / name, symlinks=True)
    shutil.copyfile(REPO_ROOT / "nbgrader_config.py", copy / "nbgrader_config.py")
    return copy


def release_files(folder) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*")
            if p.is_file() and not {"__pycache__", ".pytest_cache", ".benchmarks"} & set(p.parts)}


@pytest.mark.slow
def test_generate_assignment_at_the_root_writes_cnnlabs_release(repository_copy):
    "nbgrader's own generate_assignment of every assignment, with the root's configuration"
    released = repository_copy / "assignments"
    before = release_files(released)
    shutil.rmtree(released)
    run = nbgrader_at(repository_copy, "generate_assignment", "*", "--force")
    assert run.returncode == 0, run.stderr
    after = release_files(released)
    assert after.keys() == before.keys()
    assert [name for name in after if after[name] != before[name]] == []
    assert not [name for name, text in after.items() if b"BEGIN SOLUTION" in text]


def test_a_configuration_without_cnnlab_stops_nbgrader(repository_copy):
    "nbgrader goes on with defaults when its configuration fails to load: ours stops it"
    (repository_copy / "cnnlab" / "nbgrader_hooks.py").write_text(
        'raise ImportError("a broken install")\n')
    released = repository_copy / "assignments" / A01.id
    before = {p.name: p.read_bytes() for p in released.iterdir() if p.is_file()}
    run = nbgrader_at(repository_copy, "generate_assignment", A01.id, "--force")
    assert run.returncode != 0
    assert "cannot import cnnlab (a broken install)" in run.stdout + run.stderr
    assert {p.name: p.read_bytes() for p in released.iterdir() if p.is_file()} == before


def test_a_stubs_failures_fold_into_one_line_in_its_cell():
    stub = {"extra_data": {"status": "graded"}, "tests": [
        {"name": f"conv_output_size: case {i}", "score": 0.0, "max_score": 1.0,
         "output": "conv_output_size is not implemented yet (seed 3)",
         "extra_data": {"function": "conv_output_size", "case": f"case {i}",
                        "outcome": "not implemented"}} for i in range(12)]}
    text = function_feedback(stub, "conv_output_size", 0.0, 2.0)
    assert "0 of 12 hidden checks passed" in text
    assert text.count("not implemented yet") == 1 and "12 checks:" in text
