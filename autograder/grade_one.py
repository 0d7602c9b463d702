"""Grade one submission of one assignment: run its hidden suite, write ``results.json``.

Run by ``autograder.grade`` as a trusted child process per submission, so that grading
jobs run side by side and a job that goes wrong can be killed without losing the others::

    python -m autograder.grade_one --assignment a01_output_size \\
        --submission submitted/alice/a01_output_size \\
        --results graded/alice/a01_output_size/results.json

Exits 0 when the suite ran, whatever the scores.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

import pytest

from cnnlab.course import SUITES_DIR, get_assignment


def pytest_arguments(assignment_id: str, extra: list[str]) -> list[str]:
    """The pytest command line that runs one hidden suite with the scoring plugin."""
    return [str(get_assignment(assignment_id).suite_dir), "-p", "autograder.plugin",
            "-c", str(SUITES_DIR / "pytest.ini"), "--rootdir", str(SUITES_DIR),
            "-p", "no:cacheprovider", "-q", "--assignment", assignment_id, *extra]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", required=True)
    # Paths are made absolute before the job moves to its scratch folder.
    parser.add_argument("--submission", required=True, type=os.path.abspath)
    parser.add_argument("--results", required=True, type=os.path.abspath)
    parser.add_argument("--hide", action="append", default=[], type=os.path.abspath)
    args, rest = parser.parse_known_args(argv)
    rest += ["--submission", args.submission, "--results", args.results]
    rest += [option for folder in args.hide for option in ("--hide", folder)]
    # Hidden suites need no third-party pytest plugins: leaving them out is faster and
    # keeps grading the same whatever else is installed.
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    with tempfile.TemporaryDirectory(prefix="cnnlab-grade-") as scratch:
        os.chdir(scratch)  # nothing a suite's tools write lands in the course folder
        code = pytest.main(pytest_arguments(args.assignment, rest))
    return 0 if code in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED) else int(code)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
