"""nbgrader, wired to cnnlab: its own commands release, autograde and give feedback as
``cnnlab release`` and ``cnnlab grade`` do.

An ``nbgrader_config.py`` that the project ships calls :func:`install`, which changes three
things in nbgrader, in the nbgrader process only:

- ``generate_assignment`` passes every ``.py`` file it copies through ``cnnlab release``'s
  stubbing (nbgrader copies files that are not notebooks as they are, solutions and all) and
  writes the assignment's ``conftest.py``, so its release is ``cnnlab release``'s;
- ``autograde`` keeps each student's own modules (``Autograde.exclude_overwriting``: nbgrader
  would otherwise put the source folder's copies over them), grades the student's module with
  the hidden suite in the sandbox, exactly as ``cnnlab grade`` does, and writes each graded
  function's score into the gradebook, into the grade cell ``cnnlab_<function>`` that every
  notebook ends with (:func:`grading_cells`, kept in step with the manifest by
  ``cnnlab release``). The scores are decided here, never in the student's kernel: the
  preprocessor :class:`HiddenSuiteScores` replaces those cells' outputs, after nbgrader has
  run the notebook, with the score (nbgrader's partial credit) and the grader's feedback;
- a submitted notebook that is missing or not valid JSON is replaced, in ``submitted/``, by
  the released one with a note at the top (an unreadable one is kept beside it, renamed
  ``.unreadable``), so that the module's scores still count and ``generate_feedback`` still
  writes the student a page.
"""

from __future__ import annotations

import glob
import json
import shutil
import tempfile
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.converters import Autograde, GenerateAssignment
from nbgrader.preprocessors import NbGraderPreprocessor, SaveAutoGrades

from autograder import feedback
from cnnlab.course import ASSIGNMENTS, DEFAULT_JOBS, Assignment
from cnnlab.release import hidden_checks_conftest, release_python

GRADE_ID_PREFIX = "cnnlab_"
GRADING_HEADING = "## What the grader scores"
GRADING_TEXT = (
    f"{GRADING_HEADING}\n\nThe cells below are filled in when your work is graded: each "
    "shows a function's points from the grader's hidden tests of your module, and what they "
    "found. Nothing to do here: until then they show 0.")
#: (assignment id, student id) -> the results.json of the student's module.
_RESULTS: dict[tuple[str, str], dict] = {}
#: What ``install`` was told: grade even where the machine allows no namespaces.
_SETTINGS = {"allow_unsafe": False}


# -- the grading cells of a notebook --------------------------------------------------------


def grading_cells(assignment: Assignment) -> list[nbformat.NotebookNode]:
    """A markdown heading and, for each graded function of ``assignment``, a locked
    autograder test cell ``cnnlab_<function>`` worth the function's points."""
    heading = nbformat.v4.new_markdown_cell(GRADING_TEXT, id="cnnlab-grading")
    # A cell shows 0 until the grader's score replaces it: nbgrader run without cnnlab's
    # hooks (a configuration that failed to load) then gives 0, never full marks.
    heading.metadata["nbgrader"] = {"grade": False, "solution": False, "locked": True,
                                    "grade_id": "cnnlab_grading", "schema_version": 3}
    cells = [heading]
    for graded in assignment.graded:
        cell = nbformat.v4.new_code_cell(
            f"# {graded.name}: {graded.points:g} points, from the grader's hidden tests of "
            "your module.\n0  # your points here, once graded", id=f"cnnlab-{graded.name}"
            .replace("_", "-"))
        cell.metadata["nbgrader"] = {
            "grade": True, "solution": False, "locked": True, "points": graded.points,
            "grade_id": GRADE_ID_PREFIX + graded.name, "schema_version": 3}
        cells.append(cell)
    return cells


def is_grading_cell(cell) -> bool:
    return str(cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")).startswith(
        GRADE_ID_PREFIX)


def sync_grading_cells(path: Path, assignment: Assignment) -> bool:
    """Make the notebook at ``path`` end with ``grading_cells(assignment)``, replacing any
    it had; write it only if that changes it. Returns whether it did."""
    text = path.read_text()
    notebook = nbformat.reads(text, as_version=4)
    notebook.cells = [c for c in notebook.cells if not is_grading_cell(c)]
    notebook.cells += grading_cells(assignment)
    updated = nbformat.writes(notebook) + "\n"
    if updated == text:
        return False
    path.write_text(updated)
    return True


# -- scores from the hidden suite -----------------------------------------------------------


def grade_modules(submissions: dict[str, Path], assignment_id: str,
                  allow_unsafe: bool = False, log=print) -> dict[str, dict]:
    """The results of ``cnnlab grade`` for students' folders of one assignment
    (``{student id: folder}``), graded together, in parallel: copies are graded in a scratch
    folder (the grader never runs a linked folder), and a missing folder is graded as
    empty."""
    from autograder.grade import grade_class

    with tempfile.TemporaryDirectory(prefix="cnnlab-nbgrader-") as scratch:
        root, out = Path(scratch) / "submitted", Path(scratch) / "graded"
        for student_id, submission in submissions.items():
            folder = root / student_id / assignment_id
            folder.parent.mkdir(parents=True)
            if submission.is_dir():
                shutil.copytree(submission, folder, symlinks=True)
            else:
                folder.mkdir()
        grade_class(root, out, only=[assignment_id], jobs=DEFAULT_JOBS,
                    log=log, allow_unsafe=allow_unsafe, reports=False)
        return {student_id: json.loads((out / student_id / assignment_id
                                        / "results.json").read_text())
                for student_id in submissions}


def function_scores(results: dict, assignment: Assignment) -> dict[str, float]:
    """Points earned per graded function (every function of the manifest, 0 where the
    results have none of its tests)."""
    earned = {f.function: f.score for f in feedback.function_feedback(results)}
    return {function: round(min(earned.get(function, 0.0), points), 6)
            for function, points in assignment.points.items()}


def function_feedback(results: dict, function: str, score: float, points: float) -> str:
    """What the grader found for ``function``: its score, how many hidden checks passed, the
    known mistakes its failures show and the failures, folded as in every report
    (``autograder.feedback``)."""
    lines = [f"{function}: {score:g} of {points:g} points "
             f"(status: {results.get('extra_data', {}).get('status', 'graded')})"]
    found = next((f for f in feedback.function_feedback(results) if f.function == function),
                 None)
    if found is not None:
        lines.append(f"  {found.passed} of {found.total} hidden checks passed")
        lines += [f"  {words}" for words in found.mistakes]
        lines += [f"  FAILED {text}" for _, text in feedback.failure_lines(found)]
    elif not results.get("tests") and results.get("output"):  # not graded: why
        lines.append(f"  {results['output']}")
    return "\n".join(lines) + "\n"


def results_for(coursedir, assignment_id: str, student_id: str, allow_unsafe: bool,
                log) -> dict:
    """The student's results, graded once per nbgrader process: the first student's
    grading grades every student of the assignment that this nbgrader run takes on (its
    ``--student`` pattern), all at once, so that they are graded in parallel."""
    key = (assignment_id, student_id)
    if key not in _RESULTS:
        def folder(student: str) -> Path:
            return Path(coursedir.format_path(coursedir.submitted_directory, student,
                                              assignment_id))

        pattern = str(folder(coursedir.student_id))
        students = {Path(path).parent.name for path in glob.glob(pattern)
                    if (assignment_id, Path(path).parent.name) not in _RESULTS}
        students.add(student_id)
        graded = grade_modules({s: folder(s) for s in sorted(students)}, assignment_id,
                               allow_unsafe, log)
        _RESULTS.update({(assignment_id, s): results for s, results in graded.items()})
    return _RESULTS[key]


def store_scores(coursedir, assignment_id: str, student_id: str, results: dict) -> None:
    """Write each function's score into the gradebook's ``cnnlab_<function>`` grades of
    every notebook of the assignment (whatever becomes of the notebooks themselves)."""
    assignment = ASSIGNMENTS[assignment_id]
    scores = function_scores(results, assignment)
    with Gradebook(coursedir.db_url, coursedir.course_id) as gradebook:
        for notebook in gradebook.find_assignment(assignment_id).notebooks:
            for function, score in scores.items():
                try:
                    grade = gradebook.find_grade(GRADE_ID_PREFIX + function, notebook.name,
                                                 assignment_id, student_id)
                except MissingEntry:
                    continue
                grade.auto_score = score
                grade.needs_manual_grade = False
        gradebook.db.commit()


class HiddenSuiteScores(NbGraderPreprocessor):
    """After nbgrader runs a submitted notebook: each ``cnnlab_<function>`` cell's outputs
    become the grader's feedback and the function's score (nbgrader's partial credit), so
    that ``SaveAutoGrades`` records the sandbox's score and ``generate_feedback`` shows the
    grader's words. Whatever the student's kernel printed there is gone."""

    def preprocess(self, nb, resources):
        assignment_id = resources["nbgrader"]["assignment"]
        self._assignment = ASSIGNMENTS.get(assignment_id)
        if self._assignment is not None:
            key = (assignment_id, resources["nbgrader"]["student"])
            if key not in _RESULTS:  # graded by install()'s Autograde.init_assignment
                raise RuntimeError(f"{key}: not graded by cnnlab; is its nbgrader_config.py "
                                   "calling cnnlab.nbgrader_hooks.install?")
            self._results = _RESULTS[key]
            self._scores = function_scores(self._results, self._assignment)
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, index):
        if self._assignment is None or not is_grading_cell(cell) or cell.cell_type != "code":
            return cell, resources
        function = cell.metadata["nbgrader"]["grade_id"][len(GRADE_ID_PREFIX):]
        if function in self._scores:
            score, points = self._scores[function], self._assignment.points[function]
            cell.outputs = [
                nbformat.v4.new_output("stream", name="stdout", text=function_feedback(
                    self._results, function, score, points)),
                nbformat.v4.new_output("execute_result", data={"text/plain": f"{score:g}"},
                                       execution_count=cell.get("execution_count")),
            ]
        return cell, resources


# -- broken or missing notebooks ------------------------------------------------------------


def _unreadable(path: Path) -> str | None:
    """Why a submitted notebook cannot be graded as it is, or None."""
    if not path.is_file():
        return "was not submitted"
    try:
        nbformat.read(path, as_version=4)
    except Exception as error:  # noqa: BLE001 (any reason a notebook cannot be read)
        return f"could not be read ({type(error).__name__})"
    return None


def stand_in(released: Path, why: str, path: Path) -> None:
    """Write at ``path`` the released notebook with a note at the top saying why it stands
    in for the student's; a file already there (the unreadable one) is kept beside it as
    ``<name>.ipynb.unreadable``."""
    notebook = nbformat.read(released, as_version=4)
    note = nbformat.v4.new_markdown_cell(
        f"**Your notebook {why}**: this is the released notebook in its place. Your module "
        "was graded as it is; the points of this notebook's other cells are lost.")
    notebook.cells.insert(0, note)
    if path.exists():
        path.replace(path.with_name(path.name + ".unreadable"))
    nbformat.write(notebook, path)


# -- installing it into nbgrader ------------------------------------------------------------


def install(c, allow_unsafe: bool = False) -> None:
    """Wire nbgrader's commands to cnnlab (see the module's docstring). ``c`` is the config
    of the ``nbgrader_config.py`` that calls this; ``allow_unsafe`` grades even where the
    machine allows no namespaces (``cnnlab grade --unsafe-no-isolation``)."""
    try:
        _SETTINGS["allow_unsafe"] = allow_unsafe
        c.Autograde.exclude_overwriting = {
            a.id: sorted(p.name for p in a.solution_dir.glob("*.py"))
            for a in ASSIGNMENTS.values()}
        steps = list(Autograde.class_traits()["autograde_preprocessors"].default())
        steps.insert(steps.index(SaveAutoGrades), HiddenSuiteScores)
        c.Autograde.autograde_preprocessors = steps
        if not getattr(GenerateAssignment, "_cnnlab_installed", False):
            _wrap_generate_assignment()
            _wrap_autograde()
    except Exception as error:  # traitlets would log it and run nbgrader without the hooks
        raise SystemExit(f"cnnlab could not wire itself into nbgrader: "
                         f"{type(error).__name__}: {error}") from error


def _wrap_generate_assignment() -> None:
    original = GenerateAssignment.init_assignment

    def init_assignment(self, assignment_id: str, student_id: str) -> None:
        original(self, assignment_id, student_id)
        destination = Path(self._format_dest(assignment_id, student_id))
        for path in destination.rglob("*.py"):
            path.write_text(release_python(path.read_text(), str(path)))
        if assignment_id in ASSIGNMENTS:
            from autograder.grade_one import hidden_tests

            assignment = ASSIGNMENTS[assignment_id]
            (destination / "conftest.py").write_text(hidden_checks_conftest(
                assignment_id, assignment.points, hidden_tests(assignment_id)))

    GenerateAssignment.init_assignment = init_assignment
    GenerateAssignment._cnnlab_installed = True


def _wrap_autograde() -> None:
    original = Autograde.init_assignment

    def init_assignment(self, assignment_id: str, student_id: str) -> None:
        original(self, assignment_id, student_id)
        if assignment_id not in ASSIGNMENTS:
            return
        results = results_for(self.coursedir, assignment_id, student_id,
                              _SETTINGS["allow_unsafe"], self.log.info)
        store_scores(self.coursedir, assignment_id, student_id, results)
        released = Path(self.coursedir.format_path(self.coursedir.release_directory, ".",
                                                   assignment_id))
        submitted = Path(self._format_source(assignment_id, student_id))
        with Gradebook(self.coursedir.db_url, self.coursedir.course_id) as gradebook:
            names = [n.name for n in gradebook.find_assignment(assignment_id).notebooks]
        kept = [n for n in self.notebooks if Path(n).stem not in names]
        for name in names:
            path = submitted / f"{name}.ipynb"
            why = _unreadable(path)
            if why is None:
                kept.append(str(path))
            elif (released / f"{name}.ipynb").is_file():
                self.log.warning("%s %s: the released notebook stands in for it", path, why)
                stand_in(released / f"{name}.ipynb", why, path)
                kept.append(str(path))
        self.notebooks = sorted(kept)

    Autograde.init_assignment = init_assignment
    Autograde._cnnlab_installed = True
