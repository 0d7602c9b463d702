"""The pytest plugin that turns a hidden suite's run into a Gradescope ``results.json``.

Loaded with ``-p autograder.plugin`` by ``autograder.grade_one``. It gives the suites their
fixtures (``student``, ``reference``, ``rng``), requires every test to carry ``@graded``,
and records each test's score and feedback. The results file is written once the tests are
collected (every test at zero, "not run") and again after each test, so a grading job that
is killed still leaves a valid, partial result; ``extra_data.finished`` says whether the
suite ran to its end.
"""

from __future__ import annotations

import importlib.util
import json
import os
import time
import zlib
from pathlib import Path

import numpy as np
import pytest

from autograder.sandbox import isolation_level
from autograder.student import StudentError, StudentModule, clip
from cnnlab.course import get_assignment

NOT_RUN = "not run: the grading job ended before this test"
#: The most feedback one test gets (characters): whatever the student's code returned or
#: raised, a results.json stays small.
FEEDBACK_CHARS = 4000
_SCORER = pytest.StashKey["Scorer"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("cnnlab", "cnnlab grading")
    group.addoption("--assignment", help="assignment id, e.g. a01_output_size")
    group.addoption("--submission", help="the student's folder for that assignment")
    group.addoption("--results", help="where to write results.json")
    group.addoption("--seed", type=int, default=os.environ.get("CNNLAB_SEED"),
                    help="seed of the generated inputs (default: $CNNLAB_SEED, else fresh)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "graded(function, points): a scored hidden test")
    if config.getoption("--assignment"):
        scorer = Scorer(config)
        config.stash[_SCORER] = scorer
        config.pluginmanager.register(scorer, "cnnlab-scorer")


class Scorer:
    """Collects the score of each hidden test of one submission."""

    def __init__(self, config: pytest.Config) -> None:
        self.assignment = get_assignment(config.getoption("--assignment"))
        self.submission = Path(config.getoption("--submission"))
        self.results_path = Path(config.getoption("--results"))
        seed = config.getoption("--seed")
        self.seed = int(np.random.SeedSequence().entropy % 2**32) if seed is None else int(seed)
        self.started = time.monotonic()
        self.tests: dict[str, dict] = {}
        self.grader_errors = 0
        self.finished = False
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
            path = self.assignment.solution_dir / f"{self.assignment.module}.py"
            spec = importlib.util.spec_from_file_location(f"reference_{self.assignment.id}",
                                                          path)
            self._reference = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(self._reference)
        return self._reference

    # -- hooks ------------------------------------------------------------------------

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            marker = item.get_closest_marker("graded")
            if marker is None:
                raise pytest.UsageError(f"{item.nodeid}: a hidden test needs @graded")
            self.tests[item.nodeid] = {"name": test_name(item, marker.kwargs["function"]),
                                       "score": 0.0,
                                       "max_score": float(marker.kwargs.get("points", 1.0)),
                                       "output": NOT_RUN}
        self.write()

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:  # a broken suite: the job stops, and nobody is to blame but us
            self.grader_errors += 1

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        outcome = yield
        report = outcome.get_result()
        if item.nodeid not in self.tests or (call.when != "call" and not report.failed):
            return
        test = self.tests[item.nodeid]
        if report.passed:
            test["score"], test["output"] = test["max_score"], "passed"
        else:
            test["score"], test["output"] = 0.0, self.feedback(call.excinfo)
        self.write()

    def pytest_sessionfinish(self) -> None:
        if self._student is not None:
            self._student.close()
        self.finished = True
        self.write()

    # -- results ----------------------------------------------------------------------

    def feedback(self, excinfo: pytest.ExceptionInfo | None) -> str:
        if excinfo is None:
            return "failed"
        error = excinfo.value
        if isinstance(error, StudentError):
            return clip(error.feedback, FEEDBACK_CHARS)
        if isinstance(error, AssertionError):
            return clip(str(error) or "a check failed", FEEDBACK_CHARS)
        self.grader_errors += 1
        return clip(f"grader error, not the student's fault: {type(error).__name__}: {error} "
                    f"(seed {self.seed})", FEEDBACK_CHARS)

    @property
    def status(self) -> str:
        if self.grader_errors:
            return "grader error"
        return self._student.status if self._student is not None else "graded"

    def write(self) -> None:
        tests = list(self.tests.values())
        results = {
            "score": round(sum(t["score"] for t in tests), 6),
            "max_score": round(sum(t["max_score"] for t in tests), 6),
            "execution_time": round(time.monotonic() - self.started, 3),
            "output": f"{self.assignment.id}: {sum(t['score'] == t['max_score'] for t in tests)}"
                      f" of {len(tests)} tests passed",
            "tests": tests,
            "extra_data": {"status": self.status, "seed": self.seed, "finished": self.finished,
                           "isolation": isolation_level()},
        }
        self.results_path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.results_path.with_suffix(".tmp")
        temporary.write_text(json.dumps(results, indent=2))
        temporary.replace(self.results_path)


def test_name(item: pytest.Item, function: str) -> str:
    """``"<function>: <first docstring line> [<parameter id>]"``."""
    doc = (item.function.__doc__ or "").strip().splitlines()
    description = doc[0].strip() if doc else item.originalname.removeprefix("test_").replace(
        "_", " ")
    callspec = getattr(item, "callspec", None)
    return f"{function}: {description}" + (f" [{callspec.id}]" if callspec else "")


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
    seed = request.config.stash[_SCORER].seed
    return np.random.default_rng([seed, zlib.crc32(request.node.nodeid.encode())])
