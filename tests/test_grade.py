"""How the class grader reports a grading job that went wrong (the grader's fault)."""

from __future__ import annotations

import json

from autograder.grade import read_results


def test_a_job_that_wrote_nothing_is_a_grader_error(tmp_path):
    results = read_results(tmp_path / "results.json", None)
    assert results["extra_data"]["status"] == "grader error" and results["score"] == 0
    assert json.loads((tmp_path / "results.json").read_text()) == results


def test_a_stopped_job_keeps_its_partial_results_marked_as_grader_error(tmp_path):
    partial = {"score": 2.0, "max_score": 5.0, "output": "a01: 2 of 5 tests passed",
               "tests": [], "extra_data": {"status": "graded"}}
    (tmp_path / "results.json").write_text(json.dumps(partial))
    results = read_results(tmp_path / "results.json", "the grading job overran its 360 s")
    assert results["score"] == 2.0 and results["extra_data"]["status"] == "grader error"
    assert results["output"].endswith("the grading job overran its 360 s")
