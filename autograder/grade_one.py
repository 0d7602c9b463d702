"""Grade submissions of one assignment: run its hidden suite on each, write ``results.json``.

Run by ``autograder.grade`` as a trusted child process per batch of submissions, so that
batches run side by side, Python and PyTorch start once per batch, and a batch that goes
wrong can be killed without losing the others::

    python -m autograder.grade_one --assignment a01_output_size \\
        --submission submitted/alice/a01_output_size \\
        --results graded/alice/a01_output_size/results.json \\
        [--submission ... --results ...]

Each submission's pytest output goes to ``grading.log`` beside its ``results.json``.
Exits 0 when every suite ran, whatever the scores.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import pytest

from cnnlab.course import SUITES_DIR, get_assignment


def pytest_arguments(assignment_id: str, extra: list[str]) -> list[str]:
    """The pytest command line that runs one hidden suite with the scoring plugin."""
    return [str(get_assignment(assignment_id).suite_dir), "-p", "autograder.plugin",
            "-c", str(SUITES_DIR / "pytest.ini"), "--rootdir", str(SUITES_DIR),
            "-p", "no:cacheprovider", "-q", "--assignment", assignment_id, *extra]


def run_logged(arguments: list[str], log: Path) -> int:
    """``pytest.main(arguments)`` with everything it prints sent to ``log``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(log, "wb") as handle:
        os.dup2(handle.fileno(), 1)
        os.dup2(handle.fileno(), 2)
        try:
            return pytest.main(arguments)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            for fd, original in zip((1, 2), saved, strict=True):
                os.dup2(original, fd)
                os.close(original)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", required=True)
    # Paths are made absolute before the job moves to its scratch folder.
    parser.add_argument("--submission", action="append", required=True, type=os.path.abspath)
    parser.add_argument("--results", action="append", required=True, type=os.path.abspath)
    parser.add_argument("--hide", action="append", default=[], type=os.path.abspath)
    args, rest = parser.parse_known_args(argv)
    if len(args.submission) != len(args.results):
        parser.error("give one --results for each --submission")
    # Hidden suites need no third-party pytest plugins: leaving them out is faster and
    # keeps grading the same whatever else is installed.
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    hide = [option for folder in args.hide for option in ("--hide", folder)]
    failed = 0
    with tempfile.TemporaryDirectory(prefix="cnnlab-grade-") as scratch:
        os.chdir(scratch)  # nothing a suite's tools write lands in the course folder
        for submission, results in zip(args.submission, args.results, strict=True):
            arguments = pytest_arguments(args.assignment, [
                *rest, *hide, "--submission", submission, "--results", results])
            code = run_logged(arguments, Path(results).with_name("grading.log"))
            failed += code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
