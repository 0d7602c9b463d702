"""The HTML reports of a graded class, read from its output folder.

- ``OUT/<student>/<assignment>/feedback.html``: one page per submission, for the student:
  each function's points and hidden checks passed, the known mistakes its failures show
  with a hint, the failed cases with what differed, and pictures of a wrong map next to
  the expected one.
- ``OUT/report.html``: one page for the instructor: the scores of each assignment, the pass
  rate of every function and test, the most frequent mistakes, the submissions worth a look
  by hand (zero through an import error, a timeout or a crash; grader errors), and groups of
  submissions whose code is the same up to names and comments.
- ``OUT/lms_grades.csv``: one row per student, one column per assignment, and the total: the
  shape a learning management system imports.

Every page is one file with its pictures embedded and no script, so it opens offline.
Everything is read from ``grades.csv`` and the ``results.json`` files, so ``cnnlab report
OUT`` draws the same pages again after a grading run.
"""

from __future__ import annotations

import csv
import functools
import html
import io
import statistics
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from autograder import figures
from autograder.feedback import (
    FunctionFeedback,
    failure_lines,
    function_feedback,
    points,
    seed_line,
    status_line,
)
from autograder.files import write_atomically
from autograder.grade import load_results
from cnnlab.course import ASSIGNMENTS

#: Mistakes listed in the class report, most frequent first.
TOP_MISTAKES = 15
#: Statuses that give a submission zero without the grader having judged its functions.
NEEDS_A_LOOK = ("import error", "timeout", "crashed")
STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto;
       padding: 0 1rem; color: #222; line-height: 1.45; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2rem; }
h3 { font-size: 1.05rem; margin-bottom: .3rem; }
table { border-collapse: collapse; margin: .5rem 0; }
th, td { border: 1px solid #ccc; padding: .25rem .5rem; text-align: left;
         vertical-align: top; }
th { background: #f0f0f0; } td.number { text-align: right; }
.mistake { background: #fff4e0; border-left: 4px solid #e69500; padding: .4rem .7rem;
           margin: .4rem 0; }
.full { color: #1a7f37; } .lost { color: #b42318; }
.muted { color: #666; font-size: .9rem; }
code { background: #f5f5f5; padding: 0 .2rem; }
img { max-width: 100%; }
"""


@dataclass(frozen=True)
class Graded:
    """One row of ``grades.csv`` and the ``results.json`` it points to (None if unreadable)."""

    student_id: str
    assignment: str
    score: float
    max_score: float
    status: str
    results: dict | None

    @functools.cached_property
    def functions(self) -> list[FunctionFeedback]:
        """Each graded function's feedback (``autograder.feedback``), read once."""
        return function_feedback(self.results or {})

    @property
    def page(self) -> str:
        """Its feedback page, relative to the output folder."""
        return f"{self.student_id}/{self.assignment}/feedback.html"


def read_class(out: Path) -> list[Graded]:
    """Every row of ``out/grades.csv`` with its results."""
    with open(out / "grades.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [Graded(row["student_id"], row["assignment"], float(row["score"]),
                   float(row["max_score"]), row["status"],
                   load_results(out / row["student_id"] / row["assignment"] / "results.json",
                                float(row["max_score"]))[0])
            for row in rows]


def write_reports(out: Path) -> list[Path]:
    """Write every feedback page, the class report and ``lms_grades.csv`` into ``out`` (which
    holds ``grades.csv``); return the paths written."""
    graded = read_class(out)
    written = []
    for submission in graded:
        if submission.results is not None:
            written.append(write_atomically(out / submission.page, student_page(submission)))
    written.append(write_atomically(out / "report.html", class_page(graded)))
    written.append(write_lms_grades(out, graded))
    return written


def write_lms_grades(out: Path, graded: list[Graded]) -> Path:
    """``lms_grades.csv``: a row per student, a column per assignment (blank where nothing
    was submitted), then the total and the most it could be."""
    assignments = [a for a in ASSIGNMENTS if any(g.assignment == a for g in graded)]
    scores: dict[str, dict[str, float]] = defaultdict(dict)
    for submission in graded:
        scores[submission.student_id][submission.assignment] = submission.score
    maxima = {g.assignment: g.max_score for g in graded}
    rows = [["student_id", *assignments, "total", "max_total"]]
    rows += [[student, *(points(by[a]) if a in by else "" for a in assignments),
              points(sum(by.values())), points(sum(maxima[a] for a in assignments))]
             for student, by in sorted(scores.items())]
    text = io.StringIO(newline="")
    csv.writer(text).writerows(rows)
    return write_atomically(out / "lms_grades.csv", text.getvalue())


# -- HTML -----------------------------------------------------------------------------------


def page(title: str, body: str) -> str:
    """A whole HTML page: ``title`` and ``body`` (HTML), the style inline."""
    return (f"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n"
            f"<body>\n{body}\n</body>\n</html>\n")


def _e(text) -> str:
    return html.escape(str(text))


def _table(header: list[str], rows: list[list[str]], numbers: tuple[int, ...] = ()) -> str:
    """A table whose cells are already HTML; the columns ``numbers`` aligned right."""
    head = "".join(f"<th>{_e(cell)}</th>" for cell in header)
    body = "".join("<tr>" + "".join(
        f"<td class=\"number\">{cell}</td>" if index in numbers else f"<td>{cell}</td>"
        for index, cell in enumerate(row)) + "</tr>\n" for row in rows)
    return f"<table>\n<tr>{head}</tr>\n{body}</table>\n"


def student_page(submission: Graded) -> str:
    """The feedback page of one submission."""
    results = submission.results or {}
    title = (f"{submission.assignment}: {points(submission.score)} / "
             f"{points(submission.max_score)} points")
    parts = [f"<h1>{_e(title)}</h1>",
             f"<p class=\"muted\">Student {_e(submission.student_id)}</p>"]
    for sentence in (status_line(results), seed_line(results)):
        if sentence:
            parts.append(f"<p>{_e(sentence)}</p>")
    if not results.get("tests"):
        parts.append(f"<p>{_e(results.get('output', 'No results were written.'))}</p>")
    for feedback in submission.functions:
        mark = "full" if feedback.score >= feedback.max_score - 1e-9 else "lost"
        parts.append(f"<h2 class=\"{mark}\">{_e(feedback.headline)}</h2>")
        for words, count in feedback.mistakes.items():
            parts.append(f"<div class=\"mistake\">{_e(words)} <span class=\"muted\">"
                         f"({count} of the failed checks)</span></div>")
        lines = failure_lines(feedback)
        if lines:
            parts.append("<ul>" + "".join(f"<li>{_e(text)}</li>" for _, text in lines)
                         + "</ul>")
        pictured = next((f for f in feedback.failures if f.maps), None)
        if pictured is not None:
            parts.append(f"<p>Where <em>{_e(pictured.case)}</em> differs:</p>"
                         f"<img alt=\"expected and actual values of {_e(pictured.case)}\" "
                         f"src=\"{figures.difference_maps(pictured.maps)}\">")
    parts.append(_every_check(results))
    return page(f"{submission.student_id} · {title}", "\n".join(parts))


def _every_check(results: dict) -> str:
    """Every hidden check by its case, passed or not (never its source)."""
    rows = [[_e(test.get("name", "")),
             "passed" if test["score"] >= test["max_score"] - 1e-12 else "<span class=\"lost\">"
             "not passed</span>", points(test["score"]), points(test["max_score"])]
            for test in results.get("tests", [])]
    if not rows:
        return ""
    return ("<details><summary>Every hidden check</summary>\n"
            + _table(["check", "result", "points", "of"], rows, numbers=(2, 3))
            + "</details>")


def class_page(graded: list[Graded]) -> str:
    """The instructor's page for the whole class."""
    students = sorted({g.student_id for g in graded})
    parts = [f"<h1>Class report: {len(students)} students, {len(graded)} submissions</h1>",
             "<p><a href=\"grades.csv\">grades.csv</a> (a row per submission) · "
             "<a href=\"lms_grades.csv\">lms_grades.csv</a> (a row per student, for a "
             "learning management system)</p>"]
    parts += _needs_a_look(graded)
    parts += _frequent_mistakes(graded)
    for assignment in ASSIGNMENTS:
        submissions = [g for g in graded if g.assignment == assignment]
        if submissions:
            parts += _assignment_section(assignment, submissions)
    parts += _alike(graded)
    return page("cnnlab class report", "\n".join(parts))


def _link(submission: Graded, text: str | None = None) -> str:
    return f"<a href=\"{_e(submission.page)}\">{_e(text or submission.student_id)}</a>"


def _needs_a_look(graded: list[Graded]) -> list[str]:
    rows = [[_link(g), _e(g.assignment), _e(g.status), points(g.score)]
            for g in graded if g.status == "grader error"
            or (g.status in NEEDS_A_LOOK and g.score == 0)]
    if not rows:
        return ["<h2>Worth a look by hand</h2><p>None: every submission was graded.</p>"]
    return ["<h2>Worth a look by hand</h2>",
            "<p>Submissions that scored zero through an import error, a timeout or a crash, "
            "and any the grader failed on (grader error).</p>",
            _table(["student", "assignment", "status", "points"], rows, numbers=(3,))]


def _frequent_mistakes(graded: list[Graded]) -> list[str]:
    """The known mistakes by how many students made each."""
    students: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    words: dict[tuple[str, str, str], str] = {}
    for submission in graded:
        for feedback in submission.functions:
            for failure in feedback.failures:
                if failure.diagnosis:
                    key = (submission.assignment, feedback.function, failure.diagnosis)
                    students[key].add(submission.student_id)
                    words.setdefault(key, failure.mistake)
    if not students:
        return ["<h2>Most frequent mistakes</h2><p>No known mistake was recognised.</p>"]
    ranked = sorted(students.items(), key=lambda item: (-len(item[1]), item[0]))[:TOP_MISTAKES]
    rows = [[_e(assignment), _e(function), f"<strong>{_e(key)}</strong><br>"
             f"<span class=\"muted\">{_e(words[(assignment, function, key)])}</span>",
             str(len(who))] for (assignment, function, key), who in ranked]
    return ["<h2>Most frequent mistakes</h2>",
            _table(["assignment", "function", "mistake", "students"], rows, numbers=(3,))]


def _assignment_section(assignment: str, submissions: list[Graded]) -> list[str]:
    scores = [g.score for g in submissions]
    max_score = submissions[0].max_score
    summary = _table(
        ["submissions", "mean", "median", "full marks", "zero"],
        [[str(len(scores)), points(round(statistics.mean(scores), 2)),
          points(statistics.median(scores)), str(sum(s >= max_score for s in scores)),
          str(sum(s == 0 for s in scores))]], numbers=(0, 1, 2, 3, 4))
    functions, tests = _pass_rates(submissions)
    names = list(functions)
    function_rows = [[_e(name), points(ASSIGNMENTS[assignment].points.get(name, 0)),
                      f"{100 * functions[name][0] / functions[name][1]:.0f} %"]
                     for name in names]
    test_rows = [[_e(name), f"{100 * passed / total:.0f} %"]
                 for name, (passed, total) in tests.items()]
    parts = [f"<h2>{_e(assignment)} (out of {points(max_score)})</h2>", summary,
             f"<img alt=\"score distribution of {_e(assignment)}\" src=\""
             f"{figures.score_histogram(scores, max_score, assignment)}\">"]
    if names:
        parts += [_table(["function", "points", "students with full points"], function_rows,
                         numbers=(1, 2)),
                  f"<img alt=\"pass rate per function of {_e(assignment)}\" src=\""
                  f"{figures.pass_rates(names, [p / t for p, t in functions.values()], assignment)}"
                  "\">",
                  "<details><summary>Pass rate of every hidden test</summary>\n"
                  + _table(["test", "students who passed"], test_rows, numbers=(1,))
                  + "</details>"]
    parts.append("<details><summary>Every student</summary>\n" + _table(
        ["student", "points", "status"],
        [[_link(g), points(g.score), _e(g.status)] for g in sorted(
            submissions, key=lambda g: g.student_id)], numbers=(1,)) + "</details>")
    return parts


def _pass_rates(submissions: list[Graded]) -> tuple[dict[str, tuple[int, int]],
                                                    dict[str, tuple[int, int]]]:
    """``(passed, out of)`` per function (full points) and per test (passed), over the
    submissions whose results could be read."""
    functions: dict[str, list[int]] = {}
    tests: dict[str, list[int]] = {}
    for submission in submissions:
        results = submission.results or {}
        for feedback in submission.functions:
            tally = functions.setdefault(feedback.function, [0, 0])
            tally[0] += feedback.score >= feedback.max_score - 1e-9
            tally[1] += 1
        for test in results.get("tests", []):
            tally = tests.setdefault(str(test.get("name")), [0, 0])
            tally[0] += test["score"] >= test["max_score"] - 1e-12
            tally[1] += 1
    return ({k: tuple(v) for k, v in functions.items()},
            {k: tuple(v) for k, v in tests.items()})


def _alike(graded: list[Graded]) -> list[str]:
    """Groups of submissions of one assignment with the same code fingerprint."""
    groups: dict[tuple[str, str], list[Graded]] = defaultdict(list)
    for submission in graded:
        mark = ((submission.results or {}).get("extra_data") or {}).get("fingerprint")
        if isinstance(mark, str):
            groups[(submission.assignment, mark)].append(submission)
    alike = sorted(((key, members) for key, members in groups.items() if len(members) > 1),
                   key=lambda item: (item[0][0], -len(item[1])))
    heading = "<h2>Submissions alike</h2>"
    if not alike:
        return [heading, "<p>No two submissions of an assignment have the same code "
                "(up to names, comments and strings).</p>"]
    rows = [[_e(assignment), ", ".join(_link(g) for g in members), f"<code>{_e(mark)}</code>"]
            for (assignment, mark), members in alike]
    return [heading, "<p>Each row: submissions whose written functions are the same code up "
            "to names, comments and strings. Short functions (a01's formulas) can be alike "
            "by chance; read them before concluding anything.</p>",
            _table(["assignment", "students", "fingerprint"], rows)]

