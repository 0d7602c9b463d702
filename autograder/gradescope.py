"""Grade one submission as Gradescope's autograder: its ``run_autograder`` runs this.

Gradescope puts the student's files in ``/autograder/submission`` and reads
``/autograder/results/results.json``. The submission is graded as ``cnnlab grade`` grades
one (the hidden suite in a trusted job, the student's code in the sandbox), and its results
are given Gradescope's fields: each test's ``visibility`` (the bundle's setting; by default
``after_published``, so that hidden tests show once the instructor publishes the grades),
``output_format: md`` for the summary, ``execution_time``, and the points per function in
``extra_data.functions``. ``CNNLAB_GRADESCOPE_ROOT`` replaces ``/autograder`` (for tests).

    python -m autograder.gradescope --assignment a02_convolution \\
        [--visibility after_published] [--unsafe-no-isolation]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from autograder.feedback import function_feedback
from autograder.files import write_atomically
from autograder.grade import GradingRefused, grade_class
from autograder.results import ungraded_results
from cnnlab.course import ASSIGNMENTS, get_assignment
from cnnlab.gradescope_bundle import VISIBILITIES

ROOT_ENV = "CNNLAB_GRADESCOPE_ROOT"
#: The student id the one submission is graded under.
STUDENT = "submission"


def submitted_folder(submission: Path, module: str) -> Path:
    """The folder of ``submission`` that holds ``module`` (a student may upload a folder):
    ``submission`` itself unless only a subfolder holds it."""
    if (submission / module).is_file():
        return submission
    found = sorted(p.parent for p in submission.rglob(module)
                   if p.is_file() and not p.is_symlink())
    return found[0] if found else submission


def gradescope_results(results: dict, visibility: str, seconds: float) -> dict:
    """``results`` (as ``cnnlab grade`` writes them) with Gradescope's fields added."""
    functions = {f.function: {"score": round(f.score, 6), "max_score": round(f.max_score, 6),
                              "checks_passed": f.passed, "checks": f.total}
                 for f in function_feedback(results)}
    tests = [test | {"visibility": visibility} for test in results.get("tests", [])]
    return results | {
        "tests": tests, "visibility": visibility, "stdout_visibility": "hidden",
        "output_format": "md", "execution_time": round(seconds, 3),
        "extra_data": (results.get("extra_data") or {}) | {"functions": functions},
    }


def grade_submission(assignment_id: str, root: Path, visibility: str,
                     allow_unsafe: bool) -> dict:
    """Grade ``root/submission`` and write ``root/results/results.json``; return it."""
    started = time.monotonic()
    assignment = get_assignment(assignment_id)
    with tempfile.TemporaryDirectory(prefix="cnnlab-gradescope-") as scratch:
        submitted = Path(scratch) / "submitted" / STUDENT / assignment_id
        source = submitted_folder(root / "submission", f"{assignment.module}.py")
        if source.is_dir():
            shutil.copytree(source, submitted, symlinks=True)
        else:  # nothing uploaded: graded as a module that is missing
            submitted.mkdir(parents=True)
        out = Path(scratch) / "graded"
        try:
            grade_class(submitted.parent.parent, out, [assignment_id], jobs=1,
                        log=lambda line: print(line, file=sys.stderr),
                        allow_unsafe=allow_unsafe, reports=False)
            results = json.loads((out / STUDENT / assignment_id / "results.json").read_text())
        except GradingRefused as refused:
            results = ungraded_results(assignment.max_score, "grader error",
                                       f"grader error, not the student's fault: {refused}")
    results = gradescope_results(results, visibility, time.monotonic() - started)
    write_atomically(root / "results" / "results.json", json.dumps(results, indent=2))
    return results


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", required=True, choices=sorted(ASSIGNMENTS))
    parser.add_argument("--visibility", choices=VISIBILITIES, default="after_published")
    parser.add_argument("--unsafe-no-isolation", action="store_true")
    args = parser.parse_args(argv)
    root = Path(os.environ.get(ROOT_ENV, "/autograder"))
    results = grade_submission(args.assignment, root, args.visibility,
                               args.unsafe_no_isolation)
    return 1 if results["extra_data"].get("status") == "grader error" else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
