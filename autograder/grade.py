"""Grade a class: every ``<student>/<assignment>/`` folder under SUBMISSIONS.

Submissions are dealt into batches of one assignment, each graded by a trusted child
process (``autograder.grade_one``), up to ``jobs`` at a time. A job that overruns its
submissions' time budgets is killed; the ``results.json`` it wrote stand, a submission it
did not finish is marked ``grader error`` and the tests it did not reach score zero. The class's
``grades.csv`` is written at the end, one row per student and assignment.
"""

from __future__ import annotations

import csv
import json
import math
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from autograder.sandbox import ISOLATION_LIMITS, isolation_level
from cnnlab.course import ASSIGNMENTS, REPO_ROOT, Assignment

#: Seconds a grading job may take beyond its submissions' time budgets (start-up, references).
JOB_MARGIN_SECONDS = 120
#: Most submissions one grading job takes on: more share the start-up, fewer share a failure.
BATCH_SIZE = 8
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


def batches(submissions: list[Submission], jobs: int) -> list[list[Submission]]:
    """Deal the submissions of each assignment into batches for grading jobs: at least
    ``jobs`` batches where there are enough submissions, at most ``BATCH_SIZE`` in each."""
    dealt = []
    for assignment in dict.fromkeys(s.assignment for s in submissions):
        group = [s for s in submissions if s.assignment == assignment]
        count = max(min(jobs, len(group)), math.ceil(len(group) / BATCH_SIZE))
        dealt += [group[start::count] for start in range(count)]
    return dealt


def grade_batch(batch: list[Submission], out: Path, hide: tuple[Path, ...]) -> list[dict]:
    """Run one grading job over ``batch`` (one assignment); return each ``results.json``."""
    assignment = batch[0].assignment
    command = [sys.executable, "-m", "autograder.grade_one", "--assignment", assignment.id]
    for submission in batch:
        command += ["--submission", str(submission.folder.resolve()),
                    "--results", str(submission.results_path(out).resolve())]
    for folder in hide:
        command += ["--hide", str(folder.resolve())]
    limit = len(batch) * assignment.limits.submission_seconds + JOB_MARGIN_SECONDS
    try:
        job = subprocess.run(command, capture_output=True, timeout=limit, cwd=REPO_ROOT,
                             check=False)
        problem = None if job.returncode == 0 else \
            f"the grading job failed (exit code {job.returncode})"
        printed = job.stdout + job.stderr
    except subprocess.TimeoutExpired as stopped:
        problem = f"the grading job overran its {limit:g} s and was stopped"
        printed = (stopped.stdout or b"") + (stopped.stderr or b"")
    return [read_results(s.results_path(out), problem, printed) for s in batch]


def read_results(path: Path, problem: str | None = None, printed: bytes = b"") -> dict:
    """A submission's results, marked ``grader error`` where the job wrote none or did not
    finish them; then ``problem`` and what the job ``printed`` are added to its log."""
    try:
        results = json.loads(path.read_text())
    except (OSError, ValueError):
        results = {"score": 0, "max_score": 0, "tests": [], "output": "no results",
                   "extra_data": {"status": "grader error"}}
    if not results.get("extra_data", {}).get("finished"):
        why = problem or "the grading job ended before this submission was done"
        results["output"] = f"{results.get('output', '')}; {why}: see grading.log"
        results.setdefault("extra_data", {})["status"] = "grader error"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path.with_name("grading.log"), "ab") as log:
            log.write(f"\n{why}\n".encode() + printed)
        path.write_text(json.dumps(results, indent=2))
    return results


def grade_class(submissions_root: Path, out: Path, only: list[str] | None = None,
                jobs: int = 1, log=print) -> list[dict]:
    """Grade every submission under ``submissions_root`` into ``out``; return the csv rows."""
    started = time.monotonic()
    submissions, warnings = find_submissions(submissions_root, only)
    if isolation_level() == ISOLATION_LIMITS:
        warnings.append("this machine allows no namespaces: student code runs with resource "
                        "limits only and can read what this user can (run as root to isolate)")
    for warning in warnings:
        log(f"warning: {warning}")
    out.mkdir(parents=True, exist_ok=True)
    hide = (submissions_root, out)
    work = batches(submissions, jobs)
    with ThreadPoolExecutor(max_workers=max(jobs, 1)) as pool:
        graded = list(pool.map(lambda batch: grade_batch(batch, out, hide), work))
    results = {submission: result for batch, batch_results in zip(work, graded, strict=True)
               for submission, result in zip(batch, batch_results, strict=True)}
    rows = [{"student_id": s.student_id, "assignment": s.assignment.id,
             "score": results[s]["score"], "max_score": results[s]["max_score"],
             "status": results[s]["extra_data"].get("status", "graded")}
            for s in submissions]
    with open(out / "grades.csv", "w", newline="") as csv_file:
        writer = csv.DictWriter(csv_file, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    log(f"graded {len(submissions)} submissions in {time.monotonic() - started:.1f} s")
    return rows
