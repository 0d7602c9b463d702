"""The ``cnnlab`` command as an instructor runs it, on the bundled example class."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest

from cnnlab.course import EXAMPLES_DIR


def cnnlab(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cnnlab", *args], capture_output=True,
                          text=True)


@pytest.mark.slow
def test_grading_the_example_class(tmp_path):
    run = cnnlab("grade", str(EXAMPLES_DIR / "submitted"), "--out", str(tmp_path))
    assert run.returncode == 0, run.stderr
    assert str(tmp_path / "grades.csv") in run.stdout
    with open(tmp_path / "grades.csv", newline="") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames[:4] == ["student_id", "assignment", "score", "max_score"]
        rows = {(row["student_id"], row["assignment"]): row for row in reader}
    status = {key: row["status"] for key, row in rows.items()}
    assert status == {("alice", "a01_output_size"): "graded",
                      ("alice", "a02_convolution"): "graded",
                      ("alice", "a03_pooling"): "graded",
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
    dave = json.loads((tmp_path / "dave" / "a01_output_size" / "results.json").read_text())
    passed = {t["name"].split(": ")[0] for t in dave["tests"] if t["score"] == t["max_score"]}
    assert "conv_output_size" in passed and "pool_output_size" not in passed


def test_a_folder_that_is_not_an_assignment_is_skipped_with_a_warning(tmp_path):
    (tmp_path / "submitted" / "erin" / "homework_7").mkdir(parents=True)
    run = cnnlab("grade", str(tmp_path / "submitted"), "--out", str(tmp_path / "out"))
    assert run.returncode == 0
    assert "skipped" in run.stdout and "homework_7" in run.stdout
    assert (tmp_path / "out" / "grades.csv").read_text().strip() == \
        "student_id,assignment,score,max_score,status"


def test_missing_submissions_folder_is_a_usage_error(tmp_path):
    run = cnnlab("grade", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out"))
    assert run.returncode == 2 and "is not a folder" in run.stderr
