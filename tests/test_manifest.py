"""The manifest (``cnnlab/course.py``) decides what each function is worth, and the suites
answer to it: points shared by weight, a suite that grades something else is the grader's
error, and every failure names the seed that replays it. Also how the scoring plugin writes
a suite's results as it runs."""

from __future__ import annotations

import itertools
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from support import function_of, make_submission

from autograder import plugin
from autograder.files import write_atomically
from autograder.grade_one import pytest_arguments, run_logged
from autograder.student import GraderError, StudentModule
from cnnlab import course

pytestmark = pytest.mark.slow

A03 = "a03_pooling"
GLOBAL = "global_avg_pool2d"
BROKEN_GLOBAL = "def global_avg_pool2d(x):\n    return x.mean(axis=(1, 2))\n"


def run_suite(tmp_path: Path, submission: Path, *extra: str) -> dict:
    """Grade ``submission`` with the a03 suite in this process; return its results."""
    results = tmp_path / f"results-{len(list(tmp_path.glob('results-*')))}.json"
    run_logged(pytest_arguments(A03, ["--submission", str(submission), "--results",
                                      str(results), *extra]), results.with_suffix(".log"))
    return json.loads(results.read_text())


def points_by_function(results: dict) -> dict[str, tuple[float, float]]:
    """``{function: (score, max_score)}``."""
    totals: dict[str, list[float]] = {}
    for test in results["tests"]:
        total = totals.setdefault(function_of(test), [0.0, 0.0])
        total[0] += test["score"]
        total[1] += test["max_score"]
    return {name: (round(s, 6), round(m, 6)) for name, (s, m) in totals.items()}


@pytest.fixture(scope="module")
def broken_global(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("submitted")
    return make_submission(root, "student", A03, append=BROKEN_GLOBAL)


def test_points_come_from_the_manifest_and_move_only_their_function(
        tmp_path, monkeypatch, broken_global):
    before = points_by_function(run_suite(tmp_path, broken_global, "--seed", "5"))
    assert {name: maximum for name, (_, maximum) in before.items()} == \
        course.get_assignment(A03).points
    assert before[GLOBAL][0] == 0
    assignment = course.get_assignment(A03)
    doubled = replace(assignment, graded=tuple(
        replace(g, points=g.points * 2) if g.name == GLOBAL else g for g in assignment.graded))
    monkeypatch.setitem(course.ASSIGNMENTS, A03, doubled)
    after = points_by_function(run_suite(tmp_path, broken_global, "--seed", "5"))
    assert after[GLOBAL] == (0, 2 * before[GLOBAL][1])
    assert {k: v for k, v in after.items() if k != GLOBAL} == \
        {k: v for k, v in before.items() if k != GLOBAL}


def test_a_suite_that_grades_a_function_the_manifest_lacks_is_a_grader_error(
        tmp_path, monkeypatch, broken_global):
    assignment = course.get_assignment(A03)
    monkeypatch.setitem(course.ASSIGNMENTS, A03, replace(assignment, graded=tuple(
        g for g in assignment.graded if g.name != GLOBAL)))
    results = run_suite(tmp_path, broken_global)
    assert results["extra_data"]["status"] == "grader error"


def test_calling_a_function_the_manifest_lacks_is_a_grader_error(tmp_path, broken_global):
    student = StudentModule(course.get_assignment(A03), broken_global)
    with pytest.raises(GraderError, match="not a function of a03_pooling"):
        student.conv2d_forward(1)


def test_the_seed_in_a_failure_replays_the_same_inputs(tmp_path, broken_global):
    first = run_suite(tmp_path, broken_global)
    failed = [t for t in first["tests"] if t["score"] < t["max_score"]]
    seed = first["extra_data"]["seed"]
    assert failed and all(f"(seed {seed})" in t["output"] for t in failed)
    replayed = run_suite(tmp_path, broken_global, "--seed", str(seed))
    assert [t["output"] for t in replayed["tests"]] == [t["output"] for t in first["tests"]]


def test_a_reference_that_disagrees_with_pytorch_is_a_grader_error(
        tmp_path, monkeypatch, broken_global):
    make_submission(tmp_path, "solutions", A03, append=BROKEN_GLOBAL)
    monkeypatch.setattr(course, "SOLUTIONS_DIR", tmp_path / "solutions")
    results = run_suite(tmp_path, broken_global)
    assert results["extra_data"]["status"] == "grader error"
    disagreeing = [t for t in results["tests"] if "disagree" in t["output"]]
    assert disagreeing and all(function_of(t) == GLOBAL for t in disagreeing)


#: A grading job whose manifest lacks global_avg_pool2d, which the a03 suite grades.
WITHOUT_GLOBAL = """
import runpy, sys
from dataclasses import replace
from cnnlab import course
pooling = course.ASSIGNMENTS["a03_pooling"]
course.ASSIGNMENTS["a03_pooling"] = replace(pooling, graded=tuple(
    g for g in pooling.graded if g.name != "global_avg_pool2d"))
sys.argv[0] = "grade_one"
runpy.run_module("autograder.grade_one", run_name="__main__")
"""


def test_cnnlab_grade_exits_1_and_names_each_grader_error(tmp_path, monkeypatch, capsys):
    from autograder import grade
    from cnnlab.cli import main

    job_command = grade.job_command
    monkeypatch.setattr(grade, "job_command", lambda *args: [
        sys.executable, "-c", WITHOUT_GLOBAL, *job_command(*args)[3:]])
    make_submission(tmp_path / "submitted", "alice", A03)
    assignment = course.get_assignment(A03)
    monkeypatch.setitem(course.ASSIGNMENTS, A03, replace(assignment, graded=tuple(
        g for g in assignment.graded if g.name != GLOBAL)))
    code = main(["grade", str(tmp_path / "submitted"), "--out", str(tmp_path / "out")])
    assert code == 1
    stderr = capsys.readouterr().err
    assert "grader error: student alice, assignment a03_pooling" in stderr
    assert "'global_avg_pool2d' is not graded in a03_pooling" in stderr


@pytest.mark.parametrize("error, says", [(GraderError, "the sandbox failed: no namespaces"),
                                         (RuntimeError, "a bug in the grader")])
def test_a_worker_that_cannot_start_is_a_grader_error_in_every_test(
        tmp_path, monkeypatch, broken_global, error, says):
    """The worker starts before the tests (to find a module that cannot be imported); when
    the grader fails there, the tests still run, and each says it is the grader's error."""
    def fail(self):
        raise error(says)
    monkeypatch.setattr(StudentModule, "_ensure_worker", fail)
    results = run_suite(tmp_path, broken_global)
    assert results["extra_data"]["status"] == "grader error" and results["score"] == 0
    assert all(t["output"].startswith("grader error, not the student's fault: "
                                      f"{error.__name__}: {says}")
               for t in results["tests"])


def test_results_are_written_after_collection_now_and_then_and_at_the_end(
        tmp_path, monkeypatch, broken_global):
    """Not after every test (2 ms each, a fifth of a quick suite's time): at most every
    ``WRITE_SECONDS`` while the tests run, then once more, indented, at the end."""
    written = []

    def recording(path, text, durable=False):
        written.append((time.monotonic(), text))
        return write_atomically(path, text, durable)

    monkeypatch.setattr(plugin, "write_atomically", recording)
    results = run_suite(tmp_path, broken_global)
    assert 2 <= len(written) < len(results["tests"])
    assert json.loads(written[0][1])["extra_data"]["finished"] is False
    running = [moment for moment, _ in written[:-1]]
    assert all(later - earlier >= plugin.WRITE_SECONDS
               for earlier, later in itertools.pairwise(running))
    assert written[-1][1].startswith("{\n") and json.loads(written[-1][1]) == results
