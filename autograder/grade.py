"""Grade a class: every ``<student>/<assignment>/`` folder under SUBMISSIONS.

Each submission is graded by its own trusted child process (``autograder.grade_one``), up
to ``jobs`` at a time. A job that overruns its assignment's budget is killed; its partial
``results.json`` stands, the tests it did not reach scoring zero. The class's
``grades.csv`` is written at the end, one row per student and assignment.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from cnnlab.course import ASSIGNMENTS, REPO_ROOT, Assignment

#: Seconds a grading job may take beyond its submission's time budget (start-up, reference).
JOB_MARGIN_SECONDS = 120
CSV_COLUMNS = ("student_id", "assignment", "score", "max_score", "status")


@dataclass(frozen=True)
class Submission:
    student_id: str
    assignment: Assignment
    folder: Path

    def results_path(self, out: Path) -> Path:
        return out / self.student_id / self.assignment.id / "results.json"


def find_submissions(root: Path, only: list[str] | None = None) -> tuple[list[Submission],
                                                                       list[str]]:
    """Submissions under ``root`` (nbgrader's ``submitted/`` layout), and warnings about
    folders that are not one of the course's assignments."""
    submissions, warnings = [], []
    for student in sorted(p for p in root.iterdir() if p.is_dir()
                          and not p.name.startswith(".")):
        for folder in sorted(p for p in student.iterdir() if p.is_dir()):
            if folder.name not in ASSIGNMENTS:
                warnings.append(f"skipped {folder}: not an assignment of this course")
            elif only is None or folder.name in only:
                submissions.append(Submission(student.name, ASSIGNMENTS[folder.name], folder))
    return submissions, warnings


def grade_submission(submission: Submission, out: Path, hide: tuple[Path, ...]) -> dict:
    """Run one grading job and return its ``results.json`` content."""
    results = submission.results_path(out)
    command = [sys.executable, "-m", "autograder.grade_one",
               "--assignment", submission.assignment.id,
               "--submission", str(submission.folder.resolve()),
               "--results", str(results.resolve())]
    for folder in hide:
        command += ["--hide", str(folder.resolve())]
    log = results.with_name("grading.log")
    log.parent.mkdir(parents=True, exist_ok=True)
    limit = submission.assignment.limits.submission_seconds + JOB_MARGIN_SECONDS
    with open(log, "wb") as log_file:
        try:
            job = subprocess.run(command, stdout=log_file, stderr=subprocess.STDOUT,
                                 timeout=limit, cwd=REPO_ROOT, check=False)
            ended_early = None if job.returncode == 0 else \
                f"the grading job failed (exit code {job.returncode}): see {log}"
        except subprocess.TimeoutExpired:
            ended_early = f"the grading job overran its {limit:g} s and was stopped"
    return read_results(results, ended_early)


def read_results(path: Path, ended_early: str | None) -> dict:
    """The job's results, marked ``grader error`` where it wrote none or was stopped."""
    try:
        results = json.loads(path.read_text())
    except (OSError, ValueError):
        results = {"score": 0, "max_score": 0, "tests": [],
                   "output": "the grading job wrote no results: see grading.log",
                   "extra_data": {"status": "grader error"}}
    if ended_early:
        results["output"] = f"{results.get('output', '')}; {ended_early}"
        results.setdefault("extra_data", {})["status"] = "grader error"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2))
    return results


def grade_class(submissions_root: Path, out: Path, only: list[str] | None = None,
                jobs: int = 1, log=print) -> list[dict]:
    """Grade every submission under ``submissions_root`` into ``out``; return the csv rows."""
    started = time.monotonic()
    submissions, warnings = find_submissions(submissions_root, only)
    for warning in warnings:
        log(f"warning: {warning}")
    out.mkdir(parents=True, exist_ok=True)
    hide = (submissions_root, out)
    with ThreadPoolExecutor(max_workers=max(jobs, 1)) as pool:
        results = list(pool.map(lambda s: grade_submission(s, out, hide), submissions))
    rows = [{"student_id": s.student_id, "assignment": s.assignment.id,
             "score": r["score"], "max_score": r["max_score"],
             "status": r.get("extra_data", {}).get("status", "graded")}
            for s, r in zip(submissions, results, strict=True)]
    with open(out / "grades.csv", "w", newline="") as csv_file:
        writer = csv.DictWriter(csv_file, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    log(f"graded {len(submissions)} submissions in {time.monotonic() - started:.1f} s")
    return rows
