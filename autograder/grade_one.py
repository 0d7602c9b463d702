"""Grade submissions: run each one's hidden suite on it, and write its ``results.json``.

Run by ``autograder.grade`` as a trusted child process per batch of submissions, so that
batches run side by side, Python and PyTorch start once per batch, and a batch that goes
wrong can be killed without losing the others::

    python -m autograder.grade_one --assignment a01_output_size \\
        --submission submitted/alice/a01_output_size \\
        --results graded/alice/a01_output_size/results.json \\
        [--content-hash DIGEST] [--assignment ... --submission ... --results ... ...]

One ``--assignment`` applies to every submission; several give each submission its own.

Each submission's pytest output goes to ``grading.log`` beside its ``results.json``.
Exits 0 when every suite ran, whatever the scores. ``--scratch DIR`` names the job's working
folder (made if missing, left in place: ``autograder.grade`` removes the run's scratch);
without it the job makes and removes a temporary one.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
from pathlib import Path

import pytest

from autograder.box import die_with_parent
from cnnlab.course import SUITES_DIR, get_assignment

#: The file in its working folder to which a job adds each finished submission's status,
#: one line each, for ``cnnlab grade``'s progress bar.
PROGRESS_FILE = "progress"
#: Set by ``cnnlab grade`` to its process id: a job dies with it, even if it is killed
#: with SIGKILL, so that no job of an earlier run writes into a later run's results.
PARENT_ENV = "CNNLAB_GRADE_PID"


#: pytest's plugins that a hidden suite does without: the cache writes files, and the
#: unraisable- and thread-exception plugins run a full garbage collection at the end of every
#: session (0.8 s of each submission's grading).
UNUSED_PLUGINS = ("cacheprovider", "unraisableexception", "threadexception")


def pytest_arguments(assignment_id: str, extra: list[str]) -> list[str]:
    """The pytest command line that runs one hidden suite with the scoring plugin."""
    return [str(get_assignment(assignment_id).suite_dir), "-p", "autograder.plugin",
            "-c", str(SUITES_DIR / "pytest.ini"), "--rootdir", str(SUITES_DIR),
            *(argument for plugin in UNUSED_PLUGINS for argument in ("-p", f"no:{plugin}")),
            "-q", "--assignment", assignment_id, *extra]


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


def hidden_tests(assignment_id: str) -> dict[str, int]:
    """How many hidden tests check each function of the assignment, from collecting its
    suite (nothing runs) with the scoring plugin, which lists every test and its function;
    a suite that cannot be collected raises ``RuntimeError``."""
    with tempfile.TemporaryDirectory(prefix="cnnlab-collect-") as scratch:
        results = Path(scratch) / "results.json"
        code = run_logged(pytest_arguments(assignment_id, [
            "--collect-only", "--submission", str(Path(scratch) / "none"),
            "--results", str(results)]), Path(scratch) / "collect.log")
        if code != pytest.ExitCode.OK:
            raise RuntimeError(f"the hidden suite of {assignment_id} cannot be collected: "
                               + (Path(scratch) / "collect.log").read_text()[-2000:])
        tests = json.loads(results.read_text())["tests"]
    counts: dict[str, int] = {}
    for test in tests:
        function = test["extra_data"]["function"]
        counts[function] = counts.get(function, 0) + 1
    return counts


def _record_progress(results: Path) -> None:
    """Add the status of the submission just graded to ``PROGRESS_FILE``."""
    try:
        status = json.loads(results.read_text())["extra_data"]["status"]
    except (OSError, ValueError, KeyError, TypeError):
        status = "unknown"
    with open(PROGRESS_FILE, "a") as progress:
        progress.write(f"{status.replace(' ', '_')}\n")


@contextlib.contextmanager
def working_folder(scratch: str | None):
    """Run in ``scratch`` (made if missing, kept), else in a fresh temporary folder."""
    if scratch is not None:
        Path(scratch).mkdir(parents=True, exist_ok=True)
        os.chdir(scratch)
        yield Path(scratch)
        return
    with tempfile.TemporaryDirectory(prefix="cnnlab-grade-") as temporary:
        os.chdir(temporary)
        yield Path(temporary)


def main(argv: list[str]) -> int:
    parent = os.environ.pop(PARENT_ENV, None)
    if parent is not None:
        die_with_parent()
        if os.getppid() != int(parent):  # it died before we could ask to follow it
            return 1
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", action="append", required=True,
                        help="the assignment of every submission, or of each in turn")
    # Paths are made absolute before the job moves to its scratch folder.
    parser.add_argument("--submission", action="append", default=[], type=os.path.abspath)
    parser.add_argument("--results", action="append", default=[], type=os.path.abspath)
    parser.add_argument("--content-hash", action="append", default=[],
                        help="what each submission's grade depends on (kept in its results)")
    parser.add_argument("--scratch", type=os.path.abspath,
                        help="working folder of the job (default: a temporary one)")
    args, rest = parser.parse_known_args(argv)
    # Hidden suites need no third-party pytest plugins: leaving them out is faster and
    # keeps grading the same whatever else is installed.
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    if not args.submission:
        parser.error("give at least one --submission")
    if len(args.submission) != len(args.results):
        parser.error("give one --results for each --submission")
    hashes = args.content_hash or [""] * len(args.submission)
    if len(hashes) != len(args.submission):
        parser.error("give one --content-hash for each --submission, or none")
    assignments = args.assignment * len(args.submission) if len(args.assignment) == 1 \
        else args.assignment
    if len(assignments) != len(args.submission):
        parser.error("give one --assignment, or one for each --submission")
    failed = 0
    # Nothing a suite's tools write lands in the course folder.
    with working_folder(args.scratch):
        for assignment, submission, results, digest in zip(
                assignments, args.submission, args.results, hashes, strict=True):
            arguments = pytest_arguments(assignment, [
                *rest, "--submission", submission, "--results", results,
                "--content-hash", digest])
            code = run_logged(arguments, Path(results).with_name("grading.log"))
            failed += code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED)
            _record_progress(Path(results))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
