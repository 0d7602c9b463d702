"""``cnnlab course FOLDER``: an nbgrader course folder, ready in one step.

It writes:

- ``nbgrader_config.py``: the course's folders, and :func:`cnnlab.nbgrader_hooks.install`,
  which makes nbgrader's ``generate_assignment`` release what ``cnnlab release`` does and its
  ``autograde`` score each function with the hidden suites in the sandbox;
- ``source/<id>/`` for every assignment: the released files (modules already stubbed: no
  solution code is in the course folder outside the source notebooks) and the source
  notebook from ``solutions/``;
- the gradebook: every assignment generated once with nbgrader's own ``generate_assignment``
  (so ``release/`` holds the student release and the gradebook every grade cell and its
  points), and the students of a CSV (nbgrader's ``db student import`` format: a column
  ``id``, optionally ``first_name``, ``last_name``, ``email``).

Then nbgrader's own ``release_assignment``, ``collect``, ``autograde``,
``generate_feedback`` and ``export`` work in that folder.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from cnnlab.course import ASSIGNMENTS, Assignment
from cnnlab.release import IGNORED_NAMES

CONFIG = '''"""nbgrader's configuration of this course, written by `cnnlab course`."""

try:
    from cnnlab.nbgrader_hooks import install
except ImportError as error:  # nbgrader would go on without cnnlab's hooks: stop it instead
    raise SystemExit(f"{{__file__}}: cannot import cnnlab ({{error}}); install it in the "
                     "environment that runs nbgrader") from None

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)
c.CourseDirectory.course_id = {course_id!r}
c.CourseDirectory.root = {root!r}
c.ClearSolutions.code_stub = {{"python": "# YOUR CODE HERE\\nraise NotImplementedError()"}}
install(c)
'''


class CourseError(RuntimeError):
    """An nbgrader command that failed while the course was set up."""


def nbgrader(folder: Path, *arguments: str) -> str:
    """Run ``nbgrader ARGUMENTS`` in ``folder``; its output, or ``CourseError``."""
    done = subprocess.run([sys.executable, "-m", "nbgrader", *arguments], cwd=folder,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise CourseError(f"nbgrader {' '.join(arguments)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout + done.stderr


def write_source(assignment: Assignment, source: Path) -> None:
    """``source/<id>/``: the release's files, with the source notebook."""
    folder = source / assignment.id
    if folder.exists():
        shutil.rmtree(folder)
    shutil.copytree(assignment.release_dir, folder,
                    ignore=shutil.ignore_patterns(*IGNORED_NAMES))
    shutil.copyfile(assignment.solution_dir / f"{assignment.id}.ipynb",
                    folder / f"{assignment.id}.ipynb")


def setup_course(folder: Path, students: Path | None = None, course_id: str = "cnnlab",
                 only: list[str] | None = None, log=print) -> None:
    """Set up (or bring up to date) the nbgrader course in ``folder``, with every assignment
    or those of ``only``."""
    folder = Path(folder).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "nbgrader_config.py").write_text(
        CONFIG.format(course_id=course_id, root=str(folder)))
    for assignment in ASSIGNMENTS.values():
        if only is not None and assignment.id not in only:
            continue
        write_source(assignment, folder / "source")
        nbgrader(folder, "generate_assignment", assignment.id, "--force")
        log(f"{assignment.id}: source/ and release/ written, {assignment.max_score:g} "
            "points in the gradebook")
    if students is not None:
        nbgrader(folder, "db", "student", "import", str(Path(students).resolve()))
        log(f"students imported from {students}")
    log(f"nbgrader course ready in {folder}: run nbgrader's commands there")
