"""The results model: what grading one submission found, test by test.

The scoring plugin fills a ``SubmissionResult`` while the hidden suite runs; Gradescope's
``results.json`` is one rendering of it (``to_gradescope``), and reports read the same
fields (each test's function, case, kind, outcome and message) rather than parse strings.

Points: a function's points (the manifest's, ``cnnlab.course``) are shared by its tests in
proportion to their weights. Tests of kind ``errors`` (the contract's ValueErrors) and
``example`` (worked examples whose answers a student could copy) count only when every test
of kind ``cases`` of the same function passed: a function that computes nothing earns
nothing, however well it raises.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from autograder.feedback import summary_markdown

#: What happened to a submission as a whole (``grades.csv``'s status), most serious first.
STATUSES = ("grader error", "import error", "crashed", "timeout", "graded")
#: What can happen to one test, in words a report can count.
OUTCOMES = ("passed", "wrong", "raised", "not implemented", "forbidden library", "missing",
            "timeout", "crashed", "not run", "grader error")
#: The largest map of a wrong array that a result keeps (rows and columns).
MAP_CELLS = 16
#: Kinds of test: generated cases, the contract's errors, worked examples.
KINDS = ("cases", "errors", "example")
GATED_KINDS = ("errors", "example")
NOT_RUN = "not run: the grading job ended before this test"
GATED = ("(counts once every generated case of {function} passes: {failed} of {total} do "
         "not yet)")


@dataclass
class TestResult:
    """One hidden test of one submission.

    Attributes:
        function: the function or class it checks (a name of the manifest).
        case: what it tries, in words (``"stride 2, dilation 2 [float32]"``).
        kind: one of ``KINDS``.
        max_score: its share of the function's points.
        outcome: one of ``OUTCOMES``.
        message: the feedback: what differs, where, by how much; or why it did not run.
        diagnosis: the key of the known mistake its wrong answer shows (see
            ``autograder.diagnose``), or None.
        maps: where a wrong array differs, for a report to draw (``difference_map``), or
            None.
    """

    function: str
    case: str
    kind: str
    max_score: float
    outcome: str = "not run"
    message: str = NOT_RUN
    diagnosis: str | None = None
    maps: dict | None = None

    @property
    def name(self) -> str:
        return f"{self.function}: {self.case}"


@dataclass
class SubmissionResult:
    """Every test of one submission, and what happened to the submission as a whole.

    Attributes:
        assignment: the assignment's id.
        seed: the seed of the generated inputs (``CNNLAB_SEED`` replays it).
        status: ``graded``, ``timeout``, ``crashed``, ``import error`` or ``grader error``.
        finished: whether the suite ran to its end.
        isolation: the sandbox's isolation level.
        execution_time: seconds the suite ran.
        fingerprint: the submitted code's fingerprint (``autograder.similarity``), or None.
        content_hash: what the grade depends on (``autograder.digests``), or None.
    """

    assignment: str
    seed: int
    isolation: str
    fingerprint: str | None = None
    content_hash: str | None = None
    tests: dict[str, TestResult] = field(default_factory=dict)
    status: str = "graded"
    finished: bool = False
    execution_time: float = 0.0

    def scores(self) -> dict[str, tuple[float, str]]:
        """Each test's score and the feedback it shows, gating applied."""
        failing: dict[str, int] = {}
        generated: dict[str, int] = {}
        for test in self.tests.values():
            if test.kind == "cases":
                generated[test.function] = generated.get(test.function, 0) + 1
                failing[test.function] = failing.get(test.function, 0) + (
                    test.outcome != "passed")
        scored = {}
        for key, test in self.tests.items():
            if test.outcome != "passed":
                scored[key] = (0.0, test.message)
            elif test.kind in GATED_KINDS and failing.get(test.function):
                scored[key] = (0.0, "passed " + GATED.format(
                    function=test.function, failed=failing[test.function],
                    total=generated[test.function]))
            else:
                scored[key] = (test.max_score, "passed")
        return scored

    def to_gradescope(self) -> dict:
        """The Gradescope ``results.json`` of this submission."""
        scored = self.scores()
        tests = [{"name": test.name, "score": round(scored[key][0], 9),
                  "max_score": round(test.max_score, 9), "output": scored[key][1],
                  "output_format": "text",
                  "extra_data": {"function": test.function, "case": test.case,
                                 "kind": test.kind, "outcome": test.outcome,
                                 "diagnosis": test.diagnosis, "maps": test.maps}}
                 for key, test in self.tests.items()]
        results = {
            "score": round(sum(score for score, _ in scored.values()), 6),
            "max_score": round(sum(t.max_score for t in self.tests.values()), 6),
            "execution_time": round(self.execution_time, 3),
            "output_format": "md",
            "tests": tests,
            "extra_data": {"assignment": self.assignment, "status": self.status,
                           "seed": self.seed, "finished": self.finished,
                           "isolation": self.isolation, "fingerprint": self.fingerprint,
                           "content_hash": self.content_hash},
        }
        return results | {"output": summary_markdown(results)}


def difference_map(actual: np.ndarray, expected: np.ndarray) -> dict:
    """Where ``actual`` differs from ``expected`` (same shape), as small plain lists a report
    can draw: the 2-D slice (the last two axes) that holds the largest error, cropped to at
    most ``MAP_CELLS`` square around it.

    Returns ``{"where": "[1, 2, 0:7, 3:10]", "expected": rows, "got": rows}``; a value that
    is not finite is None.
    """
    error = np.abs(actual - expected)
    error[~np.isfinite(error)] = np.inf
    worst = np.unravel_index(int(np.argmax(error)), error.shape)
    if actual.ndim < 2:
        worst = (0, *worst) if actual.ndim == 1 else (0, 0)
        actual, expected = actual.reshape(1, -1), expected.reshape(1, -1)
    lead, (row, column) = worst[:-2], worst[-2:]
    rows = _window(row, actual.shape[-2])
    columns = _window(column, actual.shape[-1])
    where = [str(i) for i in lead] + [f"{rows.start}:{rows.stop}", f"{columns.start}:"
                                      f"{columns.stop}"]
    return {"where": f"[{', '.join(where)}]",
            "expected": _plain_rows(expected[lead][rows, columns]),
            "got": _plain_rows(actual[lead][rows, columns])}


def _window(centre: int, length: int) -> slice:
    start = min(max(centre - MAP_CELLS // 2, 0), max(length - MAP_CELLS, 0))
    return slice(start, min(start + MAP_CELLS, length))


def _plain_rows(values: np.ndarray) -> list[list[float | None]]:
    return [[float(f"{v:.6g}") if np.isfinite(v) else None for v in row] for row in values]


def ungraded_results(max_score: float, status: str, output: str, finished: bool = True,
                     **extra) -> dict:
    """The ``results.json`` of a submission that no suite graded (a refused link, a job
    that wrote nothing usable): no tests, zero of the assignment's full ``max_score``;
    ``output`` says why, and ``extra_data.problem`` too."""
    return {"score": 0.0, "max_score": round(max_score, 6), "execution_time": 0.0,
            "output": output, "output_format": "md", "tests": [],
            "extra_data": {"status": status, "finished": finished, "problem": output,
                           **extra}}
