"""Helpers the project's tests share: build a submission, grade it, read its scores."""

from __future__ import annotations

import shutil
from collections import defaultdict
from pathlib import Path

from autograder.grade import grade_class
from cnnlab.course import get_assignment


def make_submission(root: Path, student: str, assignment_id: str, *,
                    source: Path | None = None, replace: dict[str, str] | None = None,
                    append: str = "",
                    files: dict[str, str] | None = None) -> Path:
    """Write ``root/<student>/<assignment_id>/`` as a student would submit it.

    Args:
        root: the ``submitted/`` folder.
        student: the student's id.
        assignment_id: e.g. ``"a01_output_size"``.
        source: the module file to submit; by default the reference solution's.
        replace: ``{old: new}`` text edits applied to the module, each ``old`` required to
            occur in it (so a mutant that no longer applies fails loudly).
        append: code put after the module's own (runs last at import; a ``def`` here
            replaces the module's function of that name).
        files: further files, ``{relative path: text}`` (a ``conftest.py``, a fake ``numpy.py``).
    """
    assignment = get_assignment(assignment_id)
    folder = root / student / assignment_id
    folder.mkdir(parents=True, exist_ok=True)
    module = source or assignment.solution_dir / f"{assignment.module}.py"
    text = module.read_text()
    for old, new in (replace or {}).items():
        assert old in text, f"mutant for {student}: {old!r} not found in {module.name}"
        text = text.replace(old, new)
    (folder / f"{assignment.module}.py").write_text(f"{text}\n{append}\n")
    for relative, content in (files or {}).items():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_text(content)
    return folder


def copy_release(root: Path, student: str, assignment_id: str) -> Path:
    """Submit the released stubs untouched, as a student who did nothing would."""
    folder = root / student / assignment_id
    shutil.copytree(get_assignment(assignment_id).release_dir, folder)
    return folder


def grade(root: Path, out: Path, jobs: int = 2) -> dict[tuple[str, str], dict]:
    """Grade every submission under ``root``; results keyed by (student, assignment)."""
    import json

    rows = grade_class(root, out, jobs=jobs, log=lambda line: None)
    return {(r["student_id"], r["assignment"]): json.loads(
        (out / r["student_id"] / r["assignment"] / "results.json").read_text()) | {
        "status": r["status"]} for r in rows}


def function_of(test: dict) -> str:
    """The function a result's test checks: its name up to the first ``": "``."""
    return test["name"].split(": ", 1)[0]


def lost_points(results: dict) -> dict[str, float]:
    """Points lost per function, only functions that lost some."""
    lost: dict[str, float] = defaultdict(float)
    for test in results["tests"]:
        if test["score"] < test["max_score"]:
            lost[function_of(test)] += test["max_score"] - test["score"]
    return dict(lost)


def assert_full_marks(results: dict) -> None:
    failing = [f"{t['name']}: {t['output']}" for t in results["tests"]
               if t["score"] < t["max_score"]]
    assert not failing and results["score"] == results["max_score"] > 0, "\n".join(failing)
