"""``cnnlab demo``, the README's first command: the demo class graded, every report written,
and every mistake made on purpose named in the feedback."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from support import diagnoses

from autograder.sandbox import ISOLATION_LIMITS, isolation_level
from cnnlab.demo import MARKER, STUDENTS, expected_mistakes, prepare

pytestmark = pytest.mark.slow

#: Where no namespaces are allowed, grading needs the flag to run at all.
UNSAFE = ["--unsafe-no-isolation"] if isolation_level() == ISOLATION_LIMITS else []


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path]:
    """One run of ``cnnlab demo`` and its ``graded`` folder."""
    out = tmp_path_factory.mktemp("demo")
    run = subprocess.run([sys.executable, "-m", "cnnlab", "demo", "--out", str(out), "--jobs",
                          "2", *UNSAFE], capture_output=True, text=True)
    return run, out / "graded"


@pytest.fixture(scope="module")
def rows(demo) -> dict[tuple[str, str], dict]:
    with open(demo[1] / "grades.csv", newline="") as handle:
        return {(row["student_id"], row["assignment"]): row for row in csv.DictReader(handle)}


def results_of(graded: Path, student: str, assignment: str) -> dict:
    return json.loads((graded / student / assignment / "results.json").read_text())


def test_the_demo_grades_its_class_and_says_where_the_reports_are(demo, rows):
    run, graded = demo
    assert run.returncode == 0, run.stderr
    assert (graded / "report.html").as_uri() in run.stdout
    assert len({student for student, _ in rows}) == 4 + len(STUDENTS)
    for student, assignment in rows:
        assert (graded / student / assignment / "feedback.html").is_file()
    assert (graded / "lms_grades.csv").is_file()


def test_the_example_class_within_it_is_graded_as_ever(demo, rows):
    status = {key: row["status"] for key, row in rows.items() if key[0] in
              ("alice", "bob", "carol", "dave")}
    assert status == {("alice", "a01_output_size"): "graded",
                      ("alice", "a02_convolution"): "graded",
                      ("alice", "a03_pooling"): "graded",
                      ("alice", "a04_receptive_field"): "graded",
                      ("alice", "a05_resnet"): "graded",
                      ("alice", "a06_finetuning"): "graded",
                      ("bob", "a01_output_size"): "graded",
                      ("bob", "a02_convolution"): "graded",
                      ("bob", "a03_pooling"): "graded",
                      ("carol", "a01_output_size"): "import error",
                      ("dave", "a01_output_size"): "timeout"}
    for key in [k for k in rows if k[0] == "alice"]:
        assert rows[key]["score"] == rows[key]["max_score"], key
    for key in [k for k in rows if k[0] == "bob"]:  # half done, with a bug or two
        assert 0 < float(rows[key]["score"]) < float(rows[key]["max_score"]), key
    assert float(rows["carol", "a01_output_size"]["score"]) == 0
    dave = results_of(demo[1], "dave", "a01_output_size")
    passed = {t["name"].split(": ")[0] for t in dave["tests"] if t["score"] == t["max_score"]}
    assert "conv_output_size" in passed and "pool_output_size" not in passed


def test_every_mistake_made_on_purpose_is_named(demo):
    named = {key: diagnoses(results_of(demo[1], *key)) for key in expected_mistakes()}
    assert {key: mistake for key, mistake in expected_mistakes().items()
            if mistake not in named[key]} == {}


def test_work_handed_in_right_or_not_at_all_scores_as_it_should(demo, rows):
    for student, works in STUDENTS.items():
        for assignment, work in works.items():
            row = rows[student, assignment]
            if work.stubs:
                assert float(row["score"]) == 0 and row["status"] == "graded"
            elif not work.edits:
                assert row["score"] == row["max_score"], (student, assignment)
    assert rows["ivan", "a02_convolution"]["status"] == "import error"


def test_the_class_report_finds_the_students_who_handed_in_the_same_code(demo):
    page = BeautifulSoup((demo[1] / "report.html").read_text(), "html.parser")
    alike = next(h for h in page.find_all("h2") if h.get_text() == "Submissions alike")
    rows = [[cell.get_text(" ", strip=True) for cell in row.find_all("td")]
            for row in alike.find_next("table").find_all("tr")[1:]]
    assert ["a02_convolution", "erin , judy"] in [row[:2] for row in rows]


def test_a_demo_replaces_its_own_folder_and_refuses_any_other(tmp_path):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "mine.txt").write_text("keep me")
    with pytest.raises(FileExistsError):
        prepare(tmp_path / "notes")
    submitted, graded = prepare(tmp_path / "demo")
    (graded / "stale").mkdir(parents=True)
    assert (tmp_path / "demo" / MARKER).is_file()
    prepare(tmp_path / "demo")
    assert not (graded / "stale").exists() and (submitted / "erin").is_dir()
