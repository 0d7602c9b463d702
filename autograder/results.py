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

#: What happened to a submission as a whole (``grades.csv``'s status), most serious first.
STATUSES = ("grader error", "import error", "crashed", "timeout", "graded")
#: What can happen to one test, in words a report can count.
OUTCOMES = ("passed", "wrong", "raised", "not implemented", "forbidden library", "missing",
            "timeout", "crashed", "not run", "grader error")
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
    """

    function: str
    case: str
    kind: str
    max_score: float
    outcome: str = "not run"
    message: str = NOT_RUN

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
    """

    assignment: str
    seed: int
    isolation: str
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
                  "extra_data": {"function": test.function, "case": test.case,
                                 "kind": test.kind, "outcome": test.outcome}}
                 for key, test in self.tests.items()]
        passed = sum(t["score"] == t["max_score"] for t in tests)
        return {
            "score": round(sum(score for score, _ in scored.values()), 6),
            "max_score": round(sum(t.max_score for t in self.tests.values()), 6),
            "execution_time": round(self.execution_time, 3),
            "output": f"{self.assignment}: {passed} of {len(tests)} tests passed",
            "tests": tests,
            "extra_data": {"status": self.status, "seed": self.seed,
                           "finished": self.finished, "isolation": self.isolation},
        }


def ungraded_results(max_score: float, status: str, output: str, finished: bool = True,
                     **extra) -> dict:
    """The ``results.json`` of a submission that no suite graded (a refused link, a job
    that wrote nothing usable): no tests, zero of the assignment's full ``max_score``."""
    return {"score": 0.0, "max_score": round(max_score, 6), "execution_time": 0.0,
            "output": output, "tests": [],
            "extra_data": {"status": status, "finished": finished, **extra}}
