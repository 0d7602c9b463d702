"""Helpers the project's tests share: build a submission, grade it, read its scores."""

from __future__ import annotations

import json
import shutil
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from autograder.grade import grade_class
from autograder.sandbox import ISOLATION_ROOT, ISOLATION_USERNS, available_level
from autograder.student import StudentModule
from cnnlab.course import EXAMPLES_DIR, Assignment, get_assignment
from cnnlab.demo import apply_edits

#: The isolation levels with a box, by the name ``CNNLAB_ISOLATION`` takes, and those this
#: machine allows (the strongest it allows, and every weaker one).
LEVELS = {"root": ISOLATION_ROOT, "userns": ISOLATION_USERNS}
BOXED = [name for name, level in LEVELS.items()
         if available_level() in LEVELS.values()
         and list(LEVELS.values()).index(level) >= list(LEVELS.values()).index(available_level())]
AS_ROOT = pytest.mark.skipif(available_level() != ISOLATION_ROOT,
                             reason="needs the grader to run as root")


def with_limits(assignment_id: str, **changes) -> Assignment:
    """The assignment with some of its limits changed (``call_seconds=3``, ...)."""
    base = get_assignment(assignment_id)
    return replace(base, limits=replace(base.limits, **changes))


def open_student(folder: Path, assignment: Assignment, source: str) -> StudentModule:
    """``source`` as the assignment's module in ``folder``, opened as the grader opens it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{assignment.module}.py").write_text(source)
    return StudentModule(assignment, folder)


def make_submission(root: Path, student: str, assignment_id: str, *,
                    source: Path | None = None, replace: dict[str, str] | None = None,
                    append: str = "",
                    files: dict[str, str] | None = None) -> Path:
    """Write ``root/<student>/<assignment_id>/`` as a student would submit it.

    Args:
        root: the ``submitted/`` folder.
        student: the student's id.
        assignment_id: e.g. ``"a01_output_size"``.
        source: the module file to submit; by default the reference solution's.
        replace: ``{old: new}`` text edits applied to the module, each ``old`` required to
            occur in it (so a mutant that no longer applies fails loudly).
        append: code put after the module's own (runs last at import; a ``def`` here
            replaces the module's function of that name).
        files: further files, ``{relative path: text}`` (a ``conftest.py``, a fake ``numpy.py``).
    """
    assignment = get_assignment(assignment_id)
    folder = root / student / assignment_id
    folder.mkdir(parents=True, exist_ok=True)
    module = source or assignment.solution_dir / f"{assignment.module}.py"
    try:
        text = apply_edits(module.read_text(), replace or {})
    except LookupError as missing:
        raise AssertionError(f"mutant for {student}: {missing.args[0]!r} not found in "
                             f"{module.name}") from None
    (folder / f"{assignment.module}.py").write_text(f"{text}\n{append}\n")
    for relative, content in (files or {}).items():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_text(content)
    return folder


def copy_release(root: Path, student: str, assignment_id: str) -> Path:
    """Submit the released stubs untouched, as a student who did nothing would."""
    folder = root / student / assignment_id
    shutil.copytree(get_assignment(assignment_id).release_dir, folder)
    return folder


def grade(root: Path, out: Path, jobs: int = 2) -> dict[str, dict]:
    """Grade every submission under ``root`` (all of one assignment); results by student,
    with the ``grades.csv`` status added as ``"status"``."""
    rows = grade_class(root, out, jobs=jobs, log=lambda line: None)
    assert len({row["assignment"] for row in rows}) <= 1, "grade one assignment at a time"
    return {row["student_id"]: json.loads(
        (out / row["student_id"] / row["assignment"] / "results.json").read_text())
        | {"status": row["status"]} for row in rows}


@dataclass(frozen=True)
class Mutant:
    """A submission made of the reference with text edits (``{old: new}``, see
    ``make_submission``), and the functions whose points grading it must lose: a single-edit
    bug loses its function's; a correct variant (the same answers in another style or other
    words) loses none. ``says``: words that some test's feedback must hold, where given;
    ``diagnosis``: the key of the known mistake (``autograder.diagnose``) that some failed
    test must name, where the bug is one the suite recognises."""

    edits: dict[str, str]
    loses: Collection[str] = ()
    says: str = ""
    diagnosis: str = ""

    @property
    def packable(self) -> bool:
        """Whether it may share a submission with other such mutants (``pack``): a
        realistic bug whose mistake the suite names, not an attack or a correct variant."""
        return bool(self.diagnosis and self.loses)


@dataclass
class _Submission:
    """Mutants that share one submission: their names, functions and edited module."""

    members: list[str]
    functions: set[str]
    text: str


def pack(assignment_id: str, mutants: dict[str, Mutant]) -> list[list[str]]:
    """The mutants dealt into submissions: packable ones share a submission where their
    functions (``loses``) are disjoint and their edits all still apply together, so that a
    grading run makes fewer submissions; every other mutant has one of its own. A shared
    submission must lose exactly the union of its mutants' functions, and each mutant's
    mistake is looked for in its own functions' tests (``assert_loses_exactly``)."""
    assignment = get_assignment(assignment_id)
    reference = (assignment.solution_dir / f"{assignment.module}.py").read_text()
    shared: list[_Submission] = []
    singles = []
    for name, mutant in mutants.items():
        if not mutant.packable:
            singles.append([name])
            continue
        for submission in shared:
            edited = _edited(submission.text, mutant.edits)
            if edited is not None and not submission.functions & set(mutant.loses):
                submission.members.append(name)
                submission.functions |= set(mutant.loses)
                submission.text = edited
                break
        else:
            edited = _edited(reference, mutant.edits)
            assert edited is not None, f"mutant {name}: its edits do not apply"
            shared.append(_Submission([name], set(mutant.loses), edited))
    return [submission.members for submission in shared] + singles


def _edited(text: str, edits: dict[str, str]) -> str | None:
    """``text`` with ``edits`` made, or None where one of them no longer applies."""
    try:
        return apply_edits(text, edits)
    except LookupError:
        return None


def assert_loses_exactly(results: dict, mutant: Mutant) -> None:
    """The submission lost points in the functions ``mutant.loses`` and nowhere else, its
    feedback says ``mutant.says`` and names the mistake ``mutant.diagnosis``. Where the
    mutant shared its submission with others (``pack``), it lost points in all of its own
    functions and in none beyond the shared ones (``results["packed"]``), and its words
    and mistake are found in its own functions' tests."""
    lost = set(lost_points(results))
    if "packed" in results:
        assert set(mutant.loses) <= lost <= set(results["packed"]), failures(results)
        own = [t for t in results["tests"] if function_of(t) in mutant.loses]
    else:
        assert lost == set(mutant.loses), failures(results)
        own = results["tests"]
    assert any(mutant.says in t["output"] for t in own), failures(results)
    if mutant.diagnosis:
        assert mutant.diagnosis in diagnoses(results | {"tests": own}), (
            diagnoses(results), failures(results))
    assert results["status"] == "graded"


def standard_grading_tests(assignment_id: str, mutants: dict[str, Mutant], jobs: int = 2):
    """What every suite's grading test module checks, for ``assignment_id``: the module-scope
    fixture ``results`` (one grading run of ``grade_alongside_reference`` with ``mutants``),
    and the tests that the reference and Alice's submission in another style earn full
    marks, and the released stubs nothing. A module assigns them to these names::

        results, test_reference_earns_full_marks, \\
            test_a_submission_in_another_style_earns_full_marks, \\
            test_released_stubs_earn_nothing = standard_grading_tests(ASSIGNMENT, MUTANTS)
    """
    @pytest.fixture(scope="module")
    def results(tmp_path_factory) -> dict[str, dict]:
        """Results of every submission, by student id, from one grading run."""
        return grade_alongside_reference(
            tmp_path_factory.mktemp("submitted"), tmp_path_factory.mktemp("graded"),
            assignment_id, mutants, jobs)

    def test_reference_earns_full_marks(results):
        assert_full_marks(results["reference"])

    def test_a_submission_in_another_style_earns_full_marks(results):
        assert_full_marks(results["plain_loops"])

    def test_released_stubs_earn_nothing(results):
        assert_stubs_earn_nothing(results["stubs"], set(get_assignment(assignment_id).points))

    return (results, test_reference_earns_full_marks,
            test_a_submission_in_another_style_earns_full_marks,
            test_released_stubs_earn_nothing)


def grade_alongside_reference(root: Path, out: Path, assignment_id: str,
                              mutants: dict[str, Mutant], jobs: int = 2
                              ) -> dict[str, dict]:
    """Grade, in one run, the reference (``"reference"``), the released stubs
    (``"stubs"``), Alice's example submission written in plain loops (``"plain_loops"``)
    and each mutant of the reference (by student id)."""
    assignment = get_assignment(assignment_id)
    make_submission(root, "reference", assignment_id)
    make_submission(root, "plain_loops", assignment_id, source=EXAMPLES_DIR / "submitted"
                    / "alice" / assignment_id / f"{assignment.module}.py")
    copy_release(root, "stubs", assignment_id)
    return grade_mutants(root, out, assignment_id, mutants, jobs)


def grade_mutants(root: Path, out: Path, assignment_id: str, mutants: dict[str, Mutant],
                  jobs: int = 2) -> dict[str, dict]:
    """Submit the ``mutants`` into ``root`` (several in one submission where ``pack``
    allows), grade everything there, and return the results by student id, each mutant's
    being those of its submission (with ``"packed"``: the functions its submission was
    meant to lose, where it shared one)."""
    packed = {}
    for number, members in enumerate(pack(assignment_id, mutants)):
        student = members[0] if len(members) == 1 else f"packed-{number}"
        edits = {old: new for name in members for old, new in mutants[name].edits.items()}
        make_submission(root, student, assignment_id, replace=edits)
        if len(members) > 1:
            packed.update({name: (student, {f for m in members for f in mutants[m].loses})
                           for name in members})
    results = grade(root, out, jobs)
    for name, (student, functions) in packed.items():
        results[name] = results[student] | {"packed": sorted(functions)}
    return results


def diagnoses(results: dict) -> set[str]:
    """The keys of the known mistakes that the submission's failed tests name."""
    return {t["extra_data"]["diagnosis"] for t in results["tests"]
            if t["extra_data"].get("diagnosis")}


def function_of(test: dict) -> str:
    """The function a result's test checks: its name up to the first ``": "``."""
    return test["name"].split(": ", 1)[0]


def lost_tests(results: dict) -> set[str]:
    """Names of the tests that did not earn all their points."""
    return {t["name"] for t in results["tests"] if t["score"] < t["max_score"]}


def failed_tests(results: dict) -> set[str]:
    """Names of the tests whose check failed (a passed error-message or worked-example test
    that earns nothing until its function's generated cases pass is not among them)."""
    return {t["name"] for t in results["tests"] if t["extra_data"]["outcome"] != "passed"}


def lost_points(results: dict) -> dict[str, float]:
    """Points lost per function, only functions that lost some."""
    lost: dict[str, float] = defaultdict(float)
    for test in results["tests"]:
        if test["score"] < test["max_score"]:
            lost[function_of(test)] += test["max_score"] - test["score"]
    return dict(lost)


def failures(results: dict) -> list[str]:
    """``"<test name>: <feedback>"`` for each test that lost points, for assert messages."""
    return [f"{t['name']}: {t['output'][:200]}" for t in results["tests"]
            if t["score"] < t["max_score"]]


def assert_full_marks(results: dict) -> None:
    assert results["score"] == results["max_score"] > 0, "\n".join(failures(results))
    assert results["status"] == "graded"


def assert_stubs_earn_nothing(stubs: dict, functions: set[str]) -> None:
    """The released stubs lose every function's points, each test saying it is not written
    yet, and that is a grade, not a grader error."""
    assert stubs["score"] == 0 and stubs["max_score"] > 0
    assert set(lost_points(stubs)) == functions
    assert all("not implemented yet" in t["output"] for t in stubs["tests"]), failures(stubs)
    assert stubs["status"] == "graded"
