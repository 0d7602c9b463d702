"""The release builder: stubs from solution regions, nbgrader's notebook steps, --check."""

from __future__ import annotations

import shutil
import subprocess
import sys

import nbformat
import pytest

from cnnlab.course import ASSIGNMENTS, ASSIGNMENTS_DIR, SOLUTIONS_DIR
from cnnlab.release import ReleaseBuilder, ReleaseError, release_notebook, release_python

SOURCE = '''import numpy as np


def area(height, width):
    """Return height * width.

    Args:
        height: rows (pixels).
    """
    ### BEGIN SOLUTION
    product = height * width
    return product
    ### END SOLUTION


class Layer:
    def forward(self, x):
        ### BEGIN SOLUTION
        return x
        ### END SOLUTION
'''


def test_solution_regions_become_stubs_naming_the_function():
    released = release_python(SOURCE)
    assert "product" not in released and "return x" not in released
    assert '    raise NotImplementedError("area: your code here")\n' in released
    assert '        raise NotImplementedError("forward: your code here")\n' in released
    assert '"""Return height * width.' in released and "def area(height, width):" in released


def test_released_stub_raises_when_called():
    namespace: dict = {}
    exec(compile(release_python(SOURCE), "stub", "exec"), namespace)
    with pytest.raises(NotImplementedError, match="area"):
        namespace["area"](2, 3)


@pytest.mark.parametrize("broken, problem", [
    ("    ### BEGIN SOLUTION\n    x = 1\n", "never closed"),
    ("    ### END SOLUTION\n", "without a begin"),
    ("    ### BEGIN SOLUTION\n    ### BEGIN SOLUTION\n    ### END SOLUTION\n", "inside"),
])
def test_malformed_regions_are_refused_with_the_line(broken, problem):
    with pytest.raises(ReleaseError, match=problem):
        release_python("def f():\n" + broken, "f.py")


def _notebook() -> str:
    solution = nbformat.v4.new_code_cell(
        "answer = (\n### BEGIN SOLUTION\n    30, 85, 64\n### END SOLUTION\n)",
        metadata={"nbgrader": {"grade": False, "grade_id": "answer", "locked": False,
                               "schema_version": 3, "solution": True, "task": False}})
    check = nbformat.v4.new_code_cell(
        "assert len(answer) == 3\n### BEGIN HIDDEN TESTS\nassert answer == (30, 85, 64)\n"
        "### END HIDDEN TESTS",
        metadata={"nbgrader": {"grade": True, "grade_id": "check", "locked": True, "points": 1,
                               "schema_version": 3, "solution": False, "task": False}})
    check.outputs = [nbformat.v4.new_output("stream", text="left over\n")]
    return nbformat.writes(nbformat.v4.new_notebook(cells=[solution, check]))


def test_notebook_release_clears_solutions_hidden_tests_and_outputs():
    released = nbformat.reads(release_notebook(_notebook()), as_version=4)
    solution, check = released.cells
    assert "85" not in solution.source and "NotImplementedError" in solution.source
    assert "HIDDEN" not in check.source and "assert len(answer) == 3" in check.source
    assert check.outputs == []
    assert "checksum" in check.metadata.nbgrader


def test_check_names_stale_missing_and_extra_files(tmp_path):
    source, release = tmp_path / "solutions", tmp_path / "assignments"
    (source / "a00").mkdir(parents=True)
    (source / "a00" / "module.py").write_text(SOURCE)
    (source / "a00" / "notes.md").write_text("notes\n")
    builder = ReleaseBuilder(source, release)
    builder.build()
    assert builder.stale_files() == []
    (source / "a00" / "module.py").write_text(SOURCE.replace("width", "breadth"))
    (source / "a00" / "new.md").write_text("new\n")
    (release / "a00" / "notes.md").unlink()
    (release / "a00" / "extra.txt").write_text("extra\n")
    assert builder.stale_files() == [
        "a00/extra.txt (not in solutions/)", "a00/module.py (out of date)",
        "a00/new.md (missing)", "a00/notes.md (missing)"]


def test_every_assignment_is_released():
    for assignment in ASSIGNMENTS.values():
        module = assignment.release_dir / f"{assignment.module}.py"
        assert module.is_file(), f"{module} missing: run `cnnlab release`"
        assert "### BEGIN SOLUTION" not in module.read_text()


def test_committed_release_is_up_to_date():
    result = subprocess.run([sys.executable, "-m", "cnnlab", "release", "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_check_fails_on_a_stale_copy_of_the_course(tmp_path):
    shutil.copytree(SOLUTIONS_DIR, tmp_path / "solutions")
    shutil.copytree(ASSIGNMENTS_DIR, tmp_path / "assignments")
    assignment = next(iter(ASSIGNMENTS.values()))
    stub = tmp_path / "assignments" / assignment.id / f"{assignment.module}.py"
    stub.write_text(stub.read_text() + "# edited by hand\n")
    generated = {path.relative_to(ASSIGNMENTS_DIR): path.read_text()
                 for path in ASSIGNMENTS_DIR.glob("*/conftest.py")}
    stale = ReleaseBuilder(tmp_path / "solutions", tmp_path / "assignments",
                           generated).stale_files()
    assert stale == [f"{stub.relative_to(tmp_path / 'assignments')} (out of date)"]
