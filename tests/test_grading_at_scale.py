"""Grading a class as a large course does: the same grades whatever the number of jobs,
results never half-written, a run killed half-way finished by running it again, shards
graded apart and merged."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support import make_submission

from autograder.grade import grade_class, in_shard, merge_outputs

pytestmark = pytest.mark.slow

A01, A03 = "a01_output_size", "a03_pooling"
#: A fixed seed: the same inputs for every run, so that the runs can be compared.
SEED = "20261127"
#: Submissions whose scores depend on the drawn inputs, and some that do not; two
#: assignments, so that a job grades both.
CLASS = {
    ("ada", A01): {},
    ("ada", A03): {},
    ("ben", A01): {"    return (padded - window) // stride + 1":
                   "    return round((padded - window) / stride) + 1"},
    ("ben", A03): {"    stride = kernel if stride is None else":
                   "    stride = (1, 1) if stride is None else"},
    ("dee", A01): {"weights + (out_channels if bias else 0)": "weights"},
}


@pytest.fixture(scope="module", autouse=True)
def fixed_seed():
    previous = os.environ.get("CNNLAB_SEED")
    os.environ["CNNLAB_SEED"] = SEED
    yield
    if previous is None:
        del os.environ["CNNLAB_SEED"]
    else:
        os.environ["CNNLAB_SEED"] = previous


@pytest.fixture(scope="module")
def submitted(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("submitted")
    for (student, assignment_id), edits in CLASS.items():
        make_submission(root, student, assignment_id, replace=edits)
    return root


def grade(submitted: Path, out: Path, **options) -> list[str]:
    """Grade into ``out`` without reports; return what the run logged."""
    said = []
    grade_class(submitted, out, reports=False, log=said.append, **options)
    return said


def csv_of(out: Path) -> list[dict]:
    with open(out / "grades.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def scores_of(out: Path) -> dict:
    """Each test of each submission: its score and feedback (not their timings)."""
    found = {}
    for path in sorted(out.glob("*/*/results.json")):
        for test in json.loads(path.read_text())["tests"]:
            found[path.parent.parent.name, test["name"]] = (test["score"], test["output"])
    return found


def assert_same_scores(out: Path, expected: Path) -> None:
    """Every test of every submission in ``out`` scored and said what it did in
    ``expected``; the message lists the tests that differ."""
    got, wanted = scores_of(out), scores_of(expected)
    assert got.keys() == wanted.keys()
    assert {key: (got[key], wanted[key]) for key in got if got[key] != wanted[key]} == {}


@pytest.fixture(scope="module")
def one_job(submitted, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("one_job")
    grade(submitted, out, jobs=1)
    return out


def test_one_job_and_two_give_the_same_grades(submitted, one_job, tmp_path):
    grade(submitted, tmp_path, jobs=2)
    assert csv_of(tmp_path) == csv_of(one_job)
    assert_same_scores(tmp_path, one_job)
    assert {row["student_id"] for row in csv_of(one_job) if row["score"] != row["max_score"]} \
        == {"ben", "dee"}


def test_a_rerun_grades_only_what_changed_unless_forced(submitted, one_job, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(one_job, out)
    before = {p: p.read_bytes() for p in out.glob("*/*/results.json")}
    assert "kept the results of 5 submissions" in " ".join(grade(submitted, out, jobs=2))
    assert {p: p.read_bytes() for p in out.glob("*/*/results.json")} == before
    changed = tmp_path / "changed"
    shutil.copytree(submitted, changed)
    module = changed / "ada" / A01 / "output_size.py"
    module.write_text(module.read_text() + "\n# one more comment\n")
    assert "kept the results of 4 submissions" in " ".join(grade(changed, out, jobs=2))
    regraded = [p for p in before if p.read_bytes() != before[p]]
    assert [p.parent.parent.name for p in regraded] == ["ada"]
    assert not any("kept" in line for line in grade(changed, out, jobs=2, force=True))
    assert csv_of(out) == csv_of(one_job)


def test_a_run_killed_anywhere_leaves_readable_results_and_a_rerun_finishes_it(
        submitted, one_job, tmp_path):
    out, scratch = tmp_path / "out", tmp_path / "tmp"
    scratch.mkdir()
    for delay in (1.5, 4.0):  # killed during the start-up of a job, then while grading
        run = subprocess.Popen([sys.executable, "-m", "cnnlab", "grade", str(submitted),
                                "--out", str(out), "--jobs", "1"],
                               env=os.environ | {"TMPDIR": str(scratch)},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        run.send_signal(signal.SIGKILL)
        run.wait()
        for path in out.glob("*/*/results.json"):
            json.loads(path.read_text())  # never half-written
        if (out / "grades.csv").exists():
            csv_of(out)
    grade(submitted, out, jobs=2)
    assert csv_of(out) == csv_of(one_job)
    assert_same_scores(out, one_job)


def test_shards_graded_apart_and_merged_give_one_runs_grades(submitted, one_job, tmp_path):
    shards = [tmp_path / "shard-1", tmp_path / "shard-2"]
    for number, shard in enumerate(shards, start=1):
        grade(submitted, shard, jobs=1, shard=(number, 2))
    assert all(csv_of(shard) for shard in shards)  # these three students fall in both
    merge_outputs(shards, tmp_path / "merged")
    assert csv_of(tmp_path / "merged") == csv_of(one_job)
    assert_same_scores(tmp_path / "merged", one_job)


def test_every_student_falls_in_exactly_one_shard():
    for student in ("ada", "ben", "zoë", "s1234567"):
        assert sum(in_shard(student, (k, 3)) for k in (1, 2, 3)) == 1
