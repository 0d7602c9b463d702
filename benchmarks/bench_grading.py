"""How fast a class is graded: ``cnnlab grade`` with one job and with two, and nbgrader.

A synthetic class of ``--students`` students over ``--assignments`` (default: every
assignment) is made from the demo class's recipes (``cnnlab.demo``): each student hands in,
by turns, the reference, the example class's other style (Alice's), a buggy one (a demo
student's mistake), a broken module (a syntax error) or a slow one (the reference, after a
second asleep at import). The class is graded with ``--jobs 1`` and ``--jobs 2`` (the
same ``CNNLAB_SEED``, no reports) and the figures printed: seconds per student, per
submission, and the speed-up. With ``--nbgrader K``, K students per assignment are also
autograded by nbgrader, wired to cnnlab (``cnnlab course``), one after another as nbgrader
does, and its seconds per notebook printed beside.

    python benchmarks/bench_grading.py --students 50 --assignments a01_output_size \\
        a02_convolution a03_pooling --nbgrader 5
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from autograder.grade import grade_class
from cnnlab.course import ASSIGNMENTS, EXAMPLES_DIR
from cnnlab.demo import STUDENTS, Work, submission_text

SEED = "20261127"
KINDS = ("reference", "other style", "buggy", "broken", "slow")
FUTURE = "from __future__ import annotations\n"


def buggy_work(assignment_id: str) -> list[Work]:
    """The demo class's mistakes in ``assignment_id``."""
    return [works[assignment_id] for works in STUDENTS.values()
            if assignment_id in works and works[assignment_id].mistake]


def module_text(kind: str, assignment_id: str, number: int) -> str:
    """What student ``number`` of the kind ``kind`` hands in for ``assignment_id``."""
    assignment = ASSIGNMENTS[assignment_id]
    if kind == "other style":
        return (EXAMPLES_DIR / "submitted" / "alice" / assignment_id
                / f"{assignment.module}.py").read_text()
    reference = submission_text("bench", assignment_id, Work())
    if kind == "buggy" and buggy_work(assignment_id):
        bugs = buggy_work(assignment_id)
        return submission_text("bench", assignment_id, bugs[number % len(bugs)])
    if kind == "broken":
        return reference + "\ndef broken(:\n"
    if kind == "slow":  # after the module's docstring and __future__ import, which lead
        return reference.replace(FUTURE, FUTURE + "import time\n\ntime.sleep(1)\n", 1)
    return reference


def make_class(root: Path, students: int, assignments: list[str]) -> None:
    for number in range(students):
        kind = KINDS[number % len(KINDS)]
        for assignment_id in assignments:
            folder = root / f"s{number:03d}" / assignment_id
            folder.mkdir(parents=True)
            module = f"{ASSIGNMENTS[assignment_id].module}.py"
            (folder / module).write_text(module_text(kind, assignment_id, number))


def time_grading(root: Path, out: Path, jobs: int) -> float:
    started = time.monotonic()
    grade_class(root, out, jobs=jobs, log=lambda line: None, reports=False)
    return time.monotonic() - started


def time_nbgrader(root: Path, scratch: Path, students: int, assignments: list[str]) -> float:
    """Seconds per notebook of ``nbgrader autograde`` (cnnlab's hooks installed) over the
    first ``students`` students of the class in ``root``."""
    from cnnlab.nbgrader_course import setup_course

    names = sorted(p.name for p in root.iterdir())[:students]
    roster = scratch / "students.csv"
    roster.write_text("id,first_name,last_name,email\n"
                      + "".join(f"{name},{name},Student,\n" for name in names))
    course = scratch / "course"
    setup_course(course, roster, only=assignments, log=lambda line: None)
    for name in names:
        for assignment_id in assignments:
            target = course / "submitted" / name / assignment_id
            shutil.copytree(course / "release" / assignment_id, target)
            for module in (root / name / assignment_id).iterdir():
                shutil.copy(module, target / module.name)
    started = time.monotonic()
    for assignment_id in assignments:
        subprocess.run([sys.executable, "-m", "nbgrader", "autograde", assignment_id],
                       cwd=course, check=True, capture_output=True,
                       env=os.environ | {"CNNLAB_SEED": SEED})
    return (time.monotonic() - started) / (students * len(assignments))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=50)
    parser.add_argument("--assignments", nargs="+", default=list(ASSIGNMENTS),
                        choices=list(ASSIGNMENTS))
    parser.add_argument("--nbgrader", type=int, default=0, metavar="K",
                        help="also autograde K students per assignment with nbgrader")
    args = parser.parse_args()
    os.environ["CNNLAB_SEED"] = SEED
    count = args.students * len(args.assignments)
    with tempfile.TemporaryDirectory(prefix="cnnlab-bench-") as scratch:
        root = Path(scratch) / "submitted"
        make_class(root, args.students, args.assignments)
        print(f"{args.students} students x {len(args.assignments)} assignments "
              f"({', '.join(args.assignments)}): {count} submissions, kinds {KINDS} in turn")
        seconds = {jobs: time_grading(root, Path(scratch) / f"graded-{jobs}", jobs)
                   for jobs in (1, 2)}
        for jobs, total in seconds.items():
            print(f"cnnlab grade --jobs {jobs}: {total:7.1f} s, {total / args.students:5.2f} s "
                  f"per student, {total / count:5.2f} s per submission")
        print(f"speed-up of --jobs 2: {seconds[1] / seconds[2]:.2f}x")
        if args.nbgrader:
            per_notebook = time_nbgrader(root, Path(scratch), args.nbgrader, args.assignments)
            print(f"nbgrader autograde (cnnlab's hooks, {args.nbgrader} students per "
                  f"assignment): {per_notebook:.2f} s per notebook, so "
                  f"{per_notebook * count:.0f} s for this class one after another")


if __name__ == "__main__":
    main()
