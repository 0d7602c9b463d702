"""The pytest plugin that turns a hidden suite's run into a Gradescope ``results.json``.

Loaded with ``-p autograder.plugin`` by ``autograder.grade_one``. It gives the suites their
fixtures (``student``, ``reference``, ``rng``), requires every test to carry ``@graded``,
and records each test's score and feedback. The results file is written once the tests are
collected (every test at zero, "not run"), again as the tests run (at most every
``WRITE_SECONDS``) and at the end, so a grading job that is killed still leaves a valid,
partial result; ``extra_data.finished`` says whether the suite ran to its end.
"""

from __future__ import annotations

import json
import math
import os
import time
import zlib
from pathlib import Path

import numpy as np
import pytest

from autograder.compare import Mismatch
from autograder.files import write_atomically
from autograder.results import (
    KINDS,
    SubmissionResult,
    TestResult,
    difference_map,
    ungraded_results,
)
from autograder.sandbox import isolation_level
from autograder.similarity import fingerprint, read_source
from autograder.student import StudentError, StudentModule, clip
from cnnlab.course import get_assignment

#: The most feedback one test gets (characters): whatever the student's code returned or
#: raised, a results.json stays small.
FEEDBACK_CHARS = 4000
#: Seconds between two writes of the results while the tests run. A job killed half-way
#: loses the results of at most that long; a write after every test (2 ms each: the
#: Markdown summary, the JSON, the file) took a fifth of a quick suite's time.
WRITE_SECONDS = 0.5
_SCORER = pytest.StashKey["Scorer"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("cnnlab", "cnnlab grading")
    group.addoption("--assignment", help="assignment id, e.g. a01_output_size")
    group.addoption("--submission", help="the student's folder for that assignment")
    group.addoption("--results", help="where to write results.json")
    group.addoption("--content-hash", default="",
                    help="what the grade depends on (autograder.digests), kept in the results")
    group.addoption("--seed", type=int, default=os.environ.get("CNNLAB_SEED"),
                    help="seed of the generated inputs (default: $CNNLAB_SEED, else fresh)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "graded(function, weight, kind): a scored hidden test")
    if config.getoption("--assignment"):
        scorer = Scorer(config)
        config.stash[_SCORER] = scorer
        config.pluginmanager.register(scorer, "cnnlab-scorer")


class Scorer:
    """Collects the outcome of each hidden test of one submission into a
    ``SubmissionResult`` and writes it as ``results.json`` as the tests run."""

    def __init__(self, config: pytest.Config) -> None:
        self.assignment = get_assignment(config.getoption("--assignment"))
        self.submission = Path(config.getoption("--submission"))
        self.results_path = Path(config.getoption("--results"))
        seed = config.getoption("--seed")
        seed = int(np.random.SeedSequence().entropy % 2**32) if seed is None else int(seed)
        module = f"{self.assignment.module}.py"
        self.result = SubmissionResult(self.assignment.id, seed, isolation_level(), fingerprint(
            read_source(self.submission / module),
            read_source(self.assignment.release_dir / module)),
            config.getoption("--content-hash") or None)
        self.started = time.monotonic()
        self.written_at = -math.inf  # when results.json was last written (monotonic s)
        self.grader_errors = 0
        self.broken: str | None = None  # why the suite does not fit the manifest
        self._student: StudentModule | None = None
        self._reference = None

    @property
    def student(self) -> StudentModule:
        if self._student is None:
            self._student = StudentModule(self.assignment, self.submission)
        return self._student

    @property
    def reference(self):
        if self._reference is None:
            self._reference = self.assignment.load_reference()
        return self._reference

    # -- hooks ------------------------------------------------------------------------

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        markers = {}
        for item in items:
            marker = item.get_closest_marker("graded")
            if marker is None:
                self.broken_suite(f"{item.nodeid}: a hidden test needs @graded")
            function, weight, kind = self.marker_fields(marker)
            if function not in self.assignment.points:
                self.broken_suite(f"{item.nodeid}: {function!r} is not graded in "
                                  f"{self.assignment.id} (see cnnlab/course.py)")
            markers[item.nodeid] = (item, function, weight, kind)
        totals: dict[str, float] = {}
        for _, function, weight, _ in markers.values():
            totals[function] = totals.get(function, 0.0) + weight
        untested = set(self.assignment.points) - set(totals)
        if untested:
            self.broken_suite(f"no hidden test grades {', '.join(sorted(untested))}")
        for nodeid, (item, function, weight, kind) in markers.items():
            share = self.assignment.points[function] * weight / totals[function]
            self.result.tests[nodeid] = TestResult(function, case_name(item), kind, share)
        self.write()

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:  # a broken suite: the job stops, and nobody is to blame but us
            self.grader_errors += 1

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        outcome = yield
        report = outcome.get_result()
        if item.nodeid not in self.result.tests or (call.when != "call" and not report.failed):
            return
        test = self.result.tests[item.nodeid]
        if report.passed:
            test.outcome, test.message = "passed", "passed"
        else:
            error = call.excinfo.value if call.excinfo else None
            test.outcome, test.message = self.outcome(error)
            if isinstance(error, Mismatch):
                test.diagnosis = error.mistake.key if error.mistake else None
                if error.actual is not None:
                    test.maps = difference_map(error.actual, error.expected)
        if time.monotonic() - self.written_at >= WRITE_SECONDS:
            self.write()

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool | None:
        """Import the student's module before the tests run. A module that cannot be
        imported fails every test the same way: each test is recorded so at once, and none
        is run (pytest takes 10 ms to report each failure, most of such a grading)."""
        if session.config.option.collectonly or session.testsfailed or self.broken:
            return None
        try:
            self.student.start()
        except StudentError as error:
            outcome, message = self.outcome(error)
            for test in self.result.tests.values():
                test.outcome, test.message = outcome, message
            session.config.get_terminal_writer().line(
                f"{len(self.result.tests)} tests not run, each failing with: {message}")
            return True
        except Exception:  # noqa: BLE001 - the grader's error, which each test then reports
            pass
        return None

    def pytest_sessionfinish(self) -> None:
        if self._student is not None:
            self._student.close()
        self.result.finished = True
        self.write()

    def marker_fields(self, marker: pytest.Mark) -> tuple[str, float, str]:
        """``(function, weight, kind)`` of a test's ``@graded`` marker, checked."""
        function = marker.kwargs["function"]
        weight = float(marker.kwargs.get("weight", 1.0))
        kind = marker.kwargs.get("kind", "cases")
        if kind not in KINDS or not weight > 0:
            self.broken_suite(f"@graded({function!r}): kind {kind!r}, weight {weight}")
        return function, weight, kind

    def broken_suite(self, problem: str) -> None:
        """Stop: the suite does not fit the manifest. That is the grader's error, and the
        results say so."""
        self.grader_errors += 1
        self.broken = problem
        self.write()
        raise pytest.UsageError(problem)

    # -- results ----------------------------------------------------------------------

    def outcome(self, error: BaseException | None) -> tuple[str, str]:
        """What a failed test's exception says: its outcome and its feedback."""
        replay = f" (seed {self.result.seed})"
        if isinstance(error, StudentError):
            return error.outcome, clip(error.feedback, FEEDBACK_CHARS) + replay
        if isinstance(error, AssertionError):
            return "wrong", clip(str(error) or "a check failed", FEEDBACK_CHARS) + replay
        self.grader_errors += 1
        return "grader error", clip(f"grader error, not the student's fault: "
                                    f"{type(error).__name__}: {error}", FEEDBACK_CHARS) + replay

    @property
    def status(self) -> str:
        if self.grader_errors:
            return "grader error"
        return self._student.status if self._student is not None else "graded"

    def write(self) -> None:
        self.written_at = time.monotonic()
        self.result.status = self.status
        self.result.execution_time = time.monotonic() - self.started
        if self.broken is None:
            results = self.result.to_gradescope()
        else:
            results = ungraded_results(self.assignment.max_score, "grader error",
                                       f"grader error, not the student's fault: the hidden "
                                       f"suite does not fit the manifest: {self.broken}")
        # Indented for a reader once the tests are done; compact (and four times faster to
        # write) while they run.
        indent = 2 if self.result.finished or self.broken is not None else None
        write_atomically(self.results_path, json.dumps(results, indent=indent))


def case_name(item: pytest.Item) -> str:
    """``"<first docstring line> [<parameter id>]"``: what the test tries."""
    doc = (item.function.__doc__ or "").strip().splitlines()
    description = doc[0].strip() if doc else item.originalname.removeprefix("test_").replace(
        "_", " ")
    callspec = getattr(item, "callspec", None)
    return description + (f" [{callspec.id}]" if callspec else "")


@pytest.fixture(scope="session")
def student(request: pytest.FixtureRequest) -> StudentModule:
    """The student's module, run in the sandbox."""
    return request.config.stash[_SCORER].student


@pytest.fixture(scope="session")
def reference(request: pytest.FixtureRequest):
    """The reference solution's module, imported in the trusted process."""
    return request.config.stash[_SCORER].reference


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> np.random.Generator:
    """A generator seeded by the run's seed and the test, fresh for every grading run."""
    seed = request.config.stash[_SCORER].result.seed
    return np.random.default_rng([seed, zlib.crc32(request.node.nodeid.encode())])
