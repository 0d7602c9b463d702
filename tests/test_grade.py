"""How the class grader shares out the work, and reports a grading job that went wrong."""

from __future__ import annotations

import json
from pathlib import Path

from autograder import results as model
from autograder.grade import BATCH_SIZE, Submission, batches, read_results
from cnnlab.course import get_assignment


def _class(size: int, assignment_id: str) -> list[Submission]:
    assignment = get_assignment(assignment_id)
    return [Submission(f"s{i:03d}", assignment, Path(f"s{i:03d}")) for i in range(size)]


def test_batches_share_out_every_submission_keep_every_job_busy_and_stay_small():
    a01, a02 = _class(3 * BATCH_SIZE + 1, "a01_output_size"), _class(1, "a02_convolution")
    dealt = batches(a01 + a02, jobs=2)
    everyone = [s for batch in dealt for s in batch]
    assert sorted(everyone, key=id) == sorted(a01 + a02, key=id)
    assert all(len(batch) <= BATCH_SIZE for batch in dealt)
    assert len(dealt) == 4  # 26 submissions need 4 batches, whatever their assignments
    assert len(batches(_class(4, "a01_output_size"), jobs=2)) == 2
    assert batches([], jobs=2) == []


def test_one_students_assignments_are_shared_between_the_jobs():
    """One student's three assignments with two jobs: two batches, not three jobs."""
    student = [Submission("s000", get_assignment(a), Path(a)) for a in
               ("a01_output_size", "a02_convolution", "a03_pooling")]
    dealt = batches(student, jobs=2)
    assert [len(batch) for batch in dealt] == [2, 1]


def test_a_job_that_wrote_nothing_is_a_grader_error(tmp_path):
    results = read_results(tmp_path / "results.json", 10.0,
                           "the grading job failed (exit code 1)", b"Traceback ...")
    assert results["extra_data"]["status"] == "grader error"
    assert (results["score"], results["max_score"]) == (0, 10.0)
    assert json.loads((tmp_path / "results.json").read_text()) == results
    assert "Traceback" in (tmp_path / "grading.log").read_text()


def _partial(tmp_path: Path, finished: bool) -> Path:
    partial = {"score": 2.0, "max_score": 5.0, "output": "a01: 2 of 5 tests passed",
               "tests": [], "extra_data": {"status": "graded", "finished": finished}}
    (tmp_path / "results.json").write_text(json.dumps(partial))
    return tmp_path / "results.json"


def test_an_unfinished_submission_keeps_its_partial_results_as_a_grader_error(tmp_path):
    results = read_results(_partial(tmp_path, False), 5.0, "the grading job overran its 360 s")
    assert results["score"] == 2.0 and results["extra_data"]["status"] == "grader error"
    assert "the grading job overran its 360 s" in results["output"]


def test_a_finished_submission_stands_whatever_happened_later_in_its_batch(tmp_path):
    results = read_results(_partial(tmp_path, True), 5.0, "the grading job overran its 360 s")
    assert results["extra_data"]["status"] == "graded"
    assert results["output"] == "a01: 2 of 5 tests passed"


def test_each_test_result_carries_its_function_case_kind_and_outcome():
    result = model.SubmissionResult("a03_pooling", seed=7, isolation="namespaces")
    result.tests["t1"] = model.TestResult("global_avg_pool2d", "batch of one", "cases", 2.0,
                                    "wrong", "expected shape (1, 1), got (1,)")
    result.tests["t2"] = model.TestResult("global_avg_pool2d", "rank 3", "errors", 1.0, "passed",
                                    "passed")
    [wrong, gated] = result.to_gradescope()["tests"]
    assert wrong["name"] == "global_avg_pool2d: batch of one"
    assert wrong["extra_data"] == {"function": "global_avg_pool2d", "case": "batch of one",
                                   "kind": "cases", "outcome": "wrong", "diagnosis": None,
                                   "maps": None}
    assert (gated["score"], gated["max_score"]) == (0.0, 1.0)  # its cases do not pass yet
    assert "counts once every generated case" in gated["output"]


def test_the_progress_bar_counts_the_submissions_each_job_reports_done(tmp_path, capsys):
    from concurrent.futures import Future

    from autograder.grade import _show_progress
    from autograder.grade_one import PROGRESS_FILE

    for job, statuses in enumerate([["graded", "timeout"], ["graded"]]):
        (tmp_path / f"job-{job}").mkdir()
        (tmp_path / f"job-{job}" / PROGRESS_FILE).write_text("\n".join(statuses) + "\n")
    done = Future()
    done.set_result(None)
    _show_progress([done], tmp_path, total=4, shown=True)
    bar = capsys.readouterr().err
    assert "3/4" in bar and "1 failed to run" in bar
    _show_progress([done], tmp_path, total=4, shown=False)
    assert capsys.readouterr().err == ""
