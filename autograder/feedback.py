"""A submission's feedback, function by function, from its ``results.json``.

``function_feedback`` reads a results file (Gradescope's format with the grader's
``extra_data``) into one ``FunctionFeedback`` per graded function: its points, how many of
its hidden checks passed, and its failures folded, so that a stub's twelve "not implemented
yet" read as one line. ``summary_markdown`` writes that as the Markdown that ``results.json``
carries in ``output`` (``output_format: md``); ``autograder.report`` draws the same as the
student's HTML page. Neither ever shows a hidden test's source: only its case in words, what
differed, and the mistake it shows where one was recognised.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from cnnlab.course import ASSIGNMENTS

#: Outcomes that say the same for every check of a function (a stub, a forbidden import, a
#: function that timed out before): one line stands for all of them.
WHOLE_FUNCTION_OUTCOMES = ("not implemented", "missing", "forbidden library", "timeout",
                           "crashed", "not run", "grader error")
#: The failures of a function that are listed one by one; the others are counted.
LISTED_FAILURES = 3
_SEED = re.compile(r" \(seed \d+\)$")
#: What starts a recognised mistake's words in a check's feedback (``autograder.diagnose``).
MISTAKE_WORDS = " Likely mistake: "


@dataclass
class Failure:
    """Checks of one function that failed the same way (or one check that failed).

    Attributes:
        case: the check's case in words (the first one's, where several are folded).
        outcome: the outcome word (``"wrong"``, ``"not implemented"``, ...).
        message: the feedback, without the seed (the page gives it once).
        count: how many checks it stands for.
        diagnosis: the known mistake's key, or None.
        mistake: the known mistake's words (what it is, and a hint), or "".
        maps: the difference map of the check, or None.
    """

    case: str
    outcome: str
    message: str
    count: int = 1
    diagnosis: str | None = None
    mistake: str = ""
    maps: dict | None = None


@dataclass
class FunctionFeedback:
    """What one graded function earned and why."""

    function: str
    score: float = 0.0
    max_score: float = 0.0
    passed: int = 0
    total: int = 0
    gated: int = 0
    failures: list[Failure] = field(default_factory=list)

    @property
    def mistakes(self) -> dict[str, int]:
        """The words of each known mistake its failures show, and in how many checks."""
        found: dict[str, int] = {}
        for failure in self.failures:
            if failure.mistake:
                found[failure.mistake] = found.get(failure.mistake, 0) + failure.count
        return found

    @property
    def headline(self) -> str:
        checks = f"{self.passed} of {self.total} hidden checks passed"
        if self.gated:
            checks += (f" ({self.gated} of them count once every generated case of the "
                       "function passes)")
        return f"{self.function}: {points(self.score)} / {points(self.max_score)} points, {checks}"


def points(value: float) -> str:
    """``12.5``, ``3``, ``0.333``: points as a reader writes them."""
    return f"{value:.3g}" if value != int(value) else str(int(value))


def function_feedback(results: dict) -> list[FunctionFeedback]:
    """Each graded function's feedback, in the order of the results' tests."""
    functions: dict[str, FunctionFeedback] = {}
    for test in results.get("tests", []):
        extra = test.get("extra_data") or {}
        name = extra.get("function") or str(test.get("name", "")).split(": ", 1)[0]
        feedback = functions.setdefault(name, FunctionFeedback(name))
        feedback.score += test["score"]
        feedback.max_score += test["max_score"]
        feedback.total += 1
        outcome = extra.get("outcome", "wrong" if test["score"] < test["max_score"] else "passed")
        if outcome == "passed":
            feedback.passed += 1
            feedback.gated += test["score"] < test["max_score"]
            continue
        message, _, mistake = _SEED.sub("", str(test.get("output", ""))).partition(
            MISTAKE_WORDS)
        folded = next((f for f in feedback.failures if outcome in WHOLE_FUNCTION_OUTCOMES
                       and f.outcome == outcome and f.message == message), None)
        if folded is not None:
            folded.count += 1
            continue
        feedback.failures.append(Failure(
            extra.get("case", test.get("name", "")), outcome, message,
            diagnosis=extra.get("diagnosis"), mistake=mistake and "Likely mistake: " + mistake,
            maps=extra.get("maps")))
    return sorted(functions.values(), key=lambda f: _manifest_order(results, f.function))


def _manifest_order(results: dict, function: str) -> int:
    """Where ``function`` comes in its assignment's manifest (unknown ones last)."""
    assignment = ASSIGNMENTS.get((results.get("extra_data") or {}).get("assignment"))
    names = list(assignment.points) if assignment else []
    return names.index(function) if function in names else len(names)


def seed_line(results: dict) -> str:
    extra = results.get("extra_data") or {}
    if extra.get("seed") is None:
        return ""
    return (f"The inputs were drawn with seed {extra['seed']}: CNNLAB_SEED={extra['seed']} "
            "draws the same ones again.")


def status_line(results: dict) -> str:
    """A sentence on the submission as a whole, where it was not simply graded."""
    status = (results.get("extra_data") or {}).get("status", "graded")
    return {
        "graded": "",
        "import error": "The module could not be imported, so no function could be checked.",
        "timeout": "Some calls ran out of time; the functions they belong to lost points.",
        "crashed": "The module crashed the process that ran it during some calls.",
        "grader error": "The grader failed on this submission, not the student: an "
                        "instructor will look at it.",
    }.get(status, f"Status: {status}.")


def failure_lines(feedback: FunctionFeedback) -> list[tuple[Failure, str]]:
    """The failures to show, each with its text; beyond ``LISTED_FAILURES`` distinct ones,
    one line counts the rest."""
    shown = [(failure, _failure_text(failure)) for failure in
             feedback.failures[:LISTED_FAILURES]]
    rest = sum(f.count for f in feedback.failures[LISTED_FAILURES:])
    if rest:
        shown.append((None, f"{rest} more {'check' if rest == 1 else 'checks'} failed; fix "
                            "the ones above first"))
    return shown


def _failure_text(failure: Failure) -> str:
    if failure.count > 1:
        return f"{failure.count} checks: {failure.message}"
    return f"{failure.case}: {failure.message}"


def summary_markdown(results: dict) -> str:
    """The feedback as Markdown: a heading with the score, then each function's points,
    checks passed and failures."""
    assignment = (results.get("extra_data") or {}).get("assignment", "this assignment")
    lines = [f"# {assignment}: {points(results['score'])} / {points(results['max_score'])} "
             "points", ""]
    for sentence in (status_line(results), seed_line(results)):
        if sentence:
            lines += [_escape(sentence), ""]
    for feedback in function_feedback(results):
        lines += [f"## {_escape(feedback.headline)}", ""]
        for words, count in feedback.mistakes.items():
            lines.append(f"- **{_escape(words)}** ({_checks(count)})")
        for _, text in failure_lines(feedback):
            lines.append(f"- {_escape(text)}")
        if feedback.failures:
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _checks(count: int) -> str:
    return "in 1 check" if count == 1 else f"in {count} checks"


def _escape(text: str) -> str:
    """``text`` with Markdown's special characters escaped, so a message reads as written."""
    return re.sub(r"([\\`*_{}\[\]<>#|])", r"\\\1", text)
