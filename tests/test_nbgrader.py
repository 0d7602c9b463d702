"""A real nbgrader run of a01 in a course set up by ``cnnlab course``.

nbgrader's own commands do everything: ``generate_assignment`` (in ``cnnlab course``),
``release_assignment``, ``fetch_assignment`` and ``submit`` (once, for a first student),
``collect``, ``autograde``, ``generate_feedback`` and ``export``. One machine account plays
every student: nbgrader names a submission by the account's name, so each student's inbound
folder is a copy of the one submitted, named as that student's account would have named it.

The class: a correct module; a buggy one; a correct module with a notebook that is not valid
JSON; a deleted module; a function that loops forever; and a buggy module whose notebook tries
to raise its score (a cell that prints points, an edited grading cell, a monkeypatched
numpy). The gradebook must hold, for every student and function, what ``cnnlab grade`` gives
the same folders with the same seed; every student gets a feedback page with the grader's
words; no released file holds solution code.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from autograder.grade import grade_class
from cnnlab.course import EXAMPLES_DIR, get_assignment
from cnnlab.nbgrader_course import setup_course
from cnnlab.nbgrader_hooks import GRADE_ID_PREFIX, function_scores

pytestmark = pytest.mark.slow

ASSIGNMENT = get_assignment("a01_output_size")
NOTEBOOK = f"{ASSIGNMENT.id}.ipynb"
MODULE = f"{ASSIGNMENT.module}.py"
SEED = "20261126"
STUDENTS = ("correct", "buggy", "broken_notebook", "deleted_module", "endless_loop",
            "raises_its_score")


def run_nbgrader(folder: Path, *arguments: str) -> str:
    done = subprocess.run([sys.executable, "-m", "nbgrader", *arguments], cwd=folder,
                          capture_output=True, text=True, timeout=900,
                          env=os.environ | {"CNNLAB_SEED": SEED})
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def work_as(student: str, folder: Path) -> None:
    """What each student does to the fetched assignment in ``folder``."""
    reference = ASSIGNMENT.solution_dir / MODULE
    buggy = EXAMPLES_DIR / "submitted" / "bob" / ASSIGNMENT.id / MODULE
    if student in ("correct", "broken_notebook"):
        shutil.copyfile(reference, folder / MODULE)
    if student in ("buggy", "raises_its_score"):
        shutil.copyfile(buggy, folder / MODULE)
    if student == "broken_notebook":
        (folder / NOTEBOOK).write_text('{"cells": [ this is not json')
    if student == "deleted_module":
        (folder / MODULE).unlink()
    if student == "endless_loop":
        text = reference.read_text().replace(
            "def conv2d_macs(", "def conv2d_macs(*args, **kwargs):\n    while True:\n"
                                "        pass\n\n\ndef _old_conv2d_macs(", 1)
        (folder / MODULE).write_text(text)
    if student == "raises_its_score":
        notebook = nbformat.read(folder / NOTEBOOK, as_version=4)
        for cell in notebook.cells:
            grading = cell.metadata.get("nbgrader", {})
            if str(grading.get("grade_id", "")).startswith(GRADE_ID_PREFIX):
                cell.source = "print(100)\n100"
                grading["points"] = 100
        notebook.cells.append(nbformat.v4.new_code_cell(
            "import numpy\nnumpy.testing.assert_equal = lambda *a, **k: None\n"
            "print('score: 10 / 10')\n10"))
        nbformat.write(notebook, folder / NOTEBOOK)


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> dict:
    """The course folder and the exchange after nbgrader's whole cycle."""
    root = tmp_path_factory.mktemp("nbgrader")
    folder, exchange = root / "course", root / "exchange"
    exchange.mkdir()
    exchange.chmod(0o777)
    students = root / "students.csv"
    students.write_text("id,first_name,last_name,email\n"
                        + "".join(f"{s},{s.title()},Student,\n" for s in STUDENTS))
    setup_course(folder, students, only=[ASSIGNMENT.id], log=lambda line: None)
    exchanged = f"--Exchange.root={exchange}"
    run_nbgrader(folder, "release_assignment", ASSIGNMENT.id, exchanged)
    # The first student fetches and submits with nbgrader; the others' submissions are made
    # from that one, as nbgrader would have made them (it takes a few seconds a command).
    home = root / "home"
    home.mkdir()
    run_nbgrader(home, "fetch_assignment", ASSIGNMENT.id, "--course", "cnnlab", exchanged)
    run_nbgrader(home, "submit", ASSIGNMENT.id, "--course", "cnnlab", exchanged)
    inbound = exchange / "cnnlab" / "inbound"
    (template,) = inbound.iterdir()
    _, rest = template.name.split("+", 1)
    for student in STUDENTS:
        submission = inbound / f"{student}+{rest}"
        shutil.copytree(template, submission)
        work_as(student, submission)
    shutil.rmtree(template)
    run_nbgrader(folder, "collect", ASSIGNMENT.id, exchanged)
    # A notebook cell that calls the endless function stops after 5 s, not nbgrader's 30.
    run_nbgrader(folder, "autograde", ASSIGNMENT.id, "--Execute.timeout=5")
    run_nbgrader(folder, "generate_feedback", ASSIGNMENT.id)
    run_nbgrader(folder, "export")
    return {"folder": folder, "exchange": exchange}


def test_the_release_holds_no_solution(course):
    released = course["exchange"] / "cnnlab" / "outbound" / ASSIGNMENT.id
    regions = [part.split("### END SOLUTION")[0] for part in
               (ASSIGNMENT.solution_dir / MODULE).read_text().split("### BEGIN SOLUTION")[1:]]
    stubbed = (ASSIGNMENT.release_dir / MODULE).read_text()
    # lines only the solutions have (a line a given helper has too is no secret)
    solution_lines = {line.strip() for region in regions for line in region.splitlines()
                      if line.strip() and line.strip() not in stubbed}
    assert len(solution_lines) > 10
    for path in released.glob("*.py"):
        text = path.read_text()
        assert "BEGIN SOLUTION" not in text, path
        leaked = [line for line in solution_lines if line in text]
        assert not leaked, (path, leaked)
    # nbgrader's release is cnnlab's (whose notebooks are checked in test_release.py), file
    # by file
    assert sorted(p.name for p in released.iterdir()) == \
        sorted(p.name for p in ASSIGNMENT.release_dir.iterdir() if p.is_file())
    for path in released.iterdir():
        assert path.read_bytes() == (ASSIGNMENT.release_dir / path.name).read_bytes(), path


def test_the_gradebook_holds_the_graders_score_for_every_function(course, tmp_path,
                                                                  monkeypatch):
    monkeypatch.setenv("CNNLAB_SEED", SEED)
    grade_class(course["folder"] / "submitted", tmp_path, only=[ASSIGNMENT.id], jobs=2,
                log=lambda line: None)
    with Gradebook(f"sqlite:///{course['folder'] / 'gradebook.db'}", "cnnlab") as gradebook:
        for student in STUDENTS:
            results = json.loads(
                (tmp_path / student / ASSIGNMENT.id / "results.json").read_text())
            expected = function_scores(results, ASSIGNMENT)
            got = {function: gradebook.find_grade(GRADE_ID_PREFIX + function, ASSIGNMENT.id,
                                                  ASSIGNMENT.id, student).score
                   for function in ASSIGNMENT.points}
            assert got == pytest.approx(expected), student


def test_exported_totals(course):
    with open(course["folder"] / "grades.csv") as handle:
        totals = {row["student_id"]: float(row["score"]) for row in csv.DictReader(handle)}
    assert totals["correct"] == totals["broken_notebook"] == ASSIGNMENT.max_score
    assert totals["deleted_module"] == 0
    assert totals["endless_loop"] == ASSIGNMENT.max_score - ASSIGNMENT.points["conv2d_macs"]
    assert totals["raises_its_score"] == totals["buggy"] < ASSIGNMENT.max_score


def test_every_student_gets_the_graders_feedback(course):
    for student in STUDENTS:
        page = course["folder"] / "feedback" / student / ASSIGNMENT.id / \
            NOTEBOOK.replace(".ipynb", ".html")
        text = page.read_text()
        assert "conv_output_size: " in text and " points (status: " in text, student
    deleted = (course["folder"] / "feedback" / "deleted_module" / ASSIGNMENT.id /
               NOTEBOOK.replace(".ipynb", ".html")).read_text()
    assert "import error" in deleted
    broken = (course["folder"] / "feedback" / "broken_notebook" / ASSIGNMENT.id /
              NOTEBOOK.replace(".ipynb", ".html")).read_text()
    assert "could not be read" in broken
