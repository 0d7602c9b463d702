"""The ``cnnlab`` command: ``cnnlab demo``, ``cnnlab release [--check]``, ``cnnlab grade``,
``cnnlab grade merge``, ``cnnlab report``, ``cnnlab gradescope``, ``cnnlab course`` and
``cnnlab datasets build|verify``."""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from cnnlab import datasets_cli
from cnnlab.course import ASSIGNMENTS, ASSIGNMENTS_DIR, DEFAULT_JOBS, SOLUTIONS_DIR
from cnnlab.gradescope_bundle import VISIBILITIES


def release(args: argparse.Namespace) -> int:
    from autograder.grade_one import hidden_tests
    from cnnlab.nbgrader_hooks import sync_grading_cells
    from cnnlab.release import ReleaseBuilder, hidden_checks_conftest

    notebooks = {a.id: a.solution_dir / f"{a.id}.ipynb" for a in ASSIGNMENTS.values()}
    if args.check:
        with tempfile.TemporaryDirectory() as scratch:
            unsynced = [str(path) for a_id, path in notebooks.items()
                        if sync_grading_cells(Path(shutil.copy(path, scratch)),
                                              ASSIGNMENTS[a_id])]
        if unsynced:
            print("the grading cells of these notebooks differ from the manifest; run "
                  f"`cnnlab release`: {', '.join(unsynced)}", file=sys.stderr)
            return 1
    else:
        for assignment_id, path in notebooks.items():
            if sync_grading_cells(path, ASSIGNMENTS[assignment_id]):
                print(f"updated the grading cells of {path}")
    builder = ReleaseBuilder(SOLUTIONS_DIR, ASSIGNMENTS_DIR, generated={
        Path(a.id) / "conftest.py": hidden_checks_conftest(a.id, a.points, hidden_tests(a.id))
        for a in ASSIGNMENTS.values()})
    if args.check:
        stale = builder.stale_files()
        if stale:
            print("assignments/ is stale; run `cnnlab release`. Differences:", file=sys.stderr)
            for line in stale:
                print(f"  {line}", file=sys.stderr)
            return 1
        print("assignments/ is up to date with solutions/")
        return 0
    written = builder.build()
    print(f"wrote {len(written)} files to {ASSIGNMENTS_DIR}")
    return 0


def grade(args: argparse.Namespace) -> int:
    """Exit 0 when every submission was graded, 1 when any ended as ``grader error`` (one
    line on stderr for each), 2 on bad usage, 128 + the signal when stopped by one."""
    if not args.submissions.is_dir():
        return _usage("grade", f"{args.submissions} is not a folder")
    if args.jobs < 1:
        return _usage("grade", "--jobs must be at least 1")
    submissions, out = args.submissions.resolve(), args.out.resolve()
    if out == submissions or submissions in out.parents:
        return _usage("grade", f"--out {args.out} lies in SUBMISSIONS; put the grades elsewhere")
    if (args.out / "grades.csv").is_dir() or (args.out.exists() and not args.out.is_dir()):
        return _usage("grade", f"--out {args.out} cannot take grades.csv")
    return _grade_class("grade", args.submissions, args.out, args.assignment, args.jobs,
                        args.unsafe_no_isolation, force=args.force, shard=args.shard)


def _usage(command: str, message: str) -> int:
    print(f"cnnlab {command}: {message}", file=sys.stderr)
    return 2


def _grade_class(command: str, submissions: Path, out: Path, only: list[str] | None,
                 jobs: int, allow_unsafe: bool, force: bool = False,
                 shard: tuple[int, int] | None = None) -> int:
    """Grade the class in ``submissions`` into ``out`` with its reports, saying so; the exit
    code of ``cnnlab grade``."""
    from autograder.grade import (
        GradingInterrupted,
        GradingRefused,
        grade_class,
        signal_name,
    )

    try:
        rows = grade_class(submissions, out, only, jobs, allow_unsafe=allow_unsafe,
                           progress=sys.stderr.isatty(), force=force, shard=shard)
    except GradingRefused as refused:
        return _usage(command, f"not grading: {refused}")
    except GradingInterrupted as stopped:
        done = sum(row["status"] != "grader error" for row in stopped.rows)
        print(f"cnnlab {command}: interrupted by {signal_name(stopped.signum)}: stopped the "
              f"grading jobs and removed their scratch folder; wrote {out / 'grades.csv'}"
              f" with {done} of {len(stopped.rows)} submissions done, the rest marked "
              "'grader error' (interrupted)", file=sys.stderr)
        return 128 + stopped.signum
    print(f"grades: {out / 'grades.csv'}; class report: {out / 'report.html'}; "
          f"feedback per submission: {out}/<student>/<assignment>/feedback.html "
          "(and results.json)")
    return _exit_code(command, rows, out)


def _exit_code(command: str, rows: list[dict], out: Path) -> int:
    """1 where a submission ended as ``grader error`` (a line on stderr for each), else 0."""
    from autograder.grade import grader_errors

    errors = grader_errors(rows, out)
    for line in errors:
        print(f"cnnlab {command}: {line}", file=sys.stderr)
    return 1 if errors else 0


def merge(args: argparse.Namespace) -> int:
    """``cnnlab grade merge``: join shards' output folders into one, with its reports."""
    from autograder.grade import merge_outputs, write_class_reports

    missing = [str(shard) for shard in args.shards if not (shard / "grades.csv").is_file()]
    if missing:
        return _usage("grade merge", f"not the output of cnnlab grade: {', '.join(missing)}")
    try:
        rows = merge_outputs(args.shards, args.out)
    except ValueError as error:
        return _usage("grade merge", str(error))
    write_class_reports(args.out, print)
    print(f"merged {len(args.shards)} shards: {len(rows)} submissions in "
          f"{args.out / 'grades.csv'}; class report: {args.out / 'report.html'}")
    return _exit_code("grade merge", rows, args.out)


def shard(text: str) -> tuple[int, int]:
    """``"2/5"`` -> ``(2, 5)``: the second of five shards."""
    try:
        number, count = (int(part) for part in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not K/N (e.g. 2/5)") from None
    if not 1 <= number <= count:
        raise argparse.ArgumentTypeError(f"{text!r}: K must be between 1 and N")
    return number, count


def gradescope(args: argparse.Namespace) -> int:
    """Write the Gradescope autograder bundle of one assignment."""
    from cnnlab.gradescope_bundle import build_bundle

    bundle = build_bundle(args.assignment, args.out, args.visibility, args.unsafe_no_isolation)
    print(f"wrote {bundle}: upload it as the autograder of a Gradescope programming "
          "assignment (its setup.sh installs what grading needs)")
    return 0


def demo(args: argparse.Namespace) -> int:
    """Grade the demo class into ``--out`` and write every report (see ``cnnlab.demo``)."""
    from cnnlab.demo import prepare

    if args.jobs < 1:
        return _usage("demo", "--jobs must be at least 1")
    try:
        submitted, graded = prepare(args.out)
    except FileExistsError as error:
        return _usage("demo", str(error))
    print(f"the demo class is in {submitted}; grading it into {graded} (a few minutes)")
    code = _grade_class("demo", submitted, graded, None, args.jobs, args.unsafe_no_isolation)
    if code in (0, 1):
        print(f"open {(graded / 'report.html').resolve().as_uri()} (the class report, which "
              "links every student's feedback page)")
    return code


def report(args: argparse.Namespace) -> int:
    """Draw the reports of a graded class again from its ``grades.csv`` and results."""
    from autograder.report import write_reports

    if not (args.out / "grades.csv").is_file():
        print(f"cnnlab report: {args.out} holds no grades.csv (grade with `cnnlab grade` "
              "first)", file=sys.stderr)
        return 2
    written = write_reports(args.out)
    print(f"wrote {len(written)} files: the class report {args.out / 'report.html'}, "
          f"{args.out / 'lms_grades.csv'} and each submission's feedback.html")
    return 0


def course(args: argparse.Namespace) -> int:
    from cnnlab.nbgrader_course import CourseError, setup_course

    if args.students is not None and not args.students.is_file():
        print(f"cnnlab course: {args.students} is not a file", file=sys.stderr)
        return 2
    try:
        setup_course(args.folder, args.students, args.course_id)
    except CourseError as error:
        print(f"cnnlab course: {error}", file=sys.stderr)
        return 1
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="cnnlab", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)

    release_command = commands.add_parser(
        "release", help="build assignments/ (the student release) from solutions/")
    release_command.add_argument("--check", action="store_true",
                                 help="fail, naming the files, if assignments/ is stale")
    release_command.set_defaults(run=release)

    grade_command = commands.add_parser(
        "grade", help="grade SUBMISSIONS/<student>/<assignment>/ with the hidden suites")
    grade_command.add_argument("submissions", type=Path, metavar="SUBMISSIONS")
    grade_command.add_argument("--out", type=Path, required=True,
                               help="folder for grades.csv and the results.json files")
    grade_command.add_argument("--assignment", nargs="+", choices=sorted(ASSIGNMENTS),
                               metavar="ID", help="grade only these assignments")
    _jobs_and_isolation(grade_command)
    grade_command.add_argument("--force", action="store_true",
                               help="grade again submissions whose results in OUT come from "
                                    "the same files and grader")
    grade_command.add_argument("--shard", type=shard, metavar="K/N",
                               help="grade only the K-th of N shards of the students (dealt "
                                    "by a hash of their id); join the shards' OUT folders "
                                    "with `cnnlab grade merge`")
    grade_command.set_defaults(run=grade)

    demo_command = commands.add_parser(
        "demo", help="grade the bundled demo class and write every report (a few minutes)")
    demo_command.add_argument("--out", type=Path, default=Path("cnnlab-demo"),
                              help="folder for the demo class and its grades (default: "
                                   "cnnlab-demo; a previous demo there is replaced)")
    _jobs_and_isolation(demo_command)
    demo_command.set_defaults(run=demo)

    gradescope_command = commands.add_parser(
        "gradescope", help="write the Gradescope autograder bundle (a zip) of an assignment")
    gradescope_command.add_argument("assignment", choices=sorted(ASSIGNMENTS),
                                    metavar="ASSIGNMENT")
    gradescope_command.add_argument("--out", type=Path, default=Path("."),
                                    help="folder for the zip (default: the current one)")
    gradescope_command.add_argument("--visibility", default="after_published",
                                    choices=VISIBILITIES,
                                    help="when students see the hidden tests' results "
                                         "(default: after_published)")
    gradescope_command.add_argument("--unsafe-no-isolation", action="store_true",
                                    help="grade even where Gradescope's container allows no "
                                         "namespaces (resource limits only)")
    gradescope_command.set_defaults(run=gradescope)

    report_command = commands.add_parser(
        "report", help="draw the HTML reports of a graded class again (feedback.html per "
                       "submission, report.html, lms_grades.csv)")
    report_command.add_argument("out", type=Path, metavar="OUT",
                                help="the output folder of `cnnlab grade`")
    report_command.set_defaults(run=report)

    course_command = commands.add_parser(
        "course", help="set up an nbgrader course folder (configuration, source/, release/, "
                       "gradebook, students)")
    course_command.add_argument("folder", type=Path, metavar="FOLDER")
    course_command.add_argument("--students", type=Path, metavar="CSV",
                                help="students to import (nbgrader's CSV: id, first_name, "
                                     "last_name, email)")
    course_command.add_argument("--course-id", default="cnnlab",
                                help="nbgrader's course id (default: cnnlab)")
    course_command.set_defaults(run=course)

    datasets_cli.add_parser(commands)
    return root


def _jobs_and_isolation(command: argparse.ArgumentParser) -> None:
    """The grading options that ``grade`` and ``demo`` share."""
    command.add_argument("--jobs", type=int, default=DEFAULT_JOBS,
                         help="grading jobs run at the same time (default: one per CPU "
                              "core, at most 8)")
    command.add_argument("--unsafe-no-isolation", action="store_true",
                         help="grade even where the machine allows no namespaces (student "
                              "code then runs with resource limits only)")


def merge_parser() -> argparse.ArgumentParser:
    """``cnnlab grade merge SHARD... --out OUT`` (a folder named ``merge`` to grade is
    ``./merge``)."""
    command = argparse.ArgumentParser(
        prog="cnnlab grade merge", description="join the output folders of `cnnlab grade "
        "--shard K/N` runs into one: every submission's results, grades.csv and the reports")
    command.add_argument("shards", type=Path, nargs="+", metavar="SHARD",
                         help="output folders of cnnlab grade --shard")
    command.add_argument("--out", type=Path, required=True, help="the joined output folder")
    command.set_defaults(run=merge)
    return command


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:2] == ["grade", "merge"]:
        args = merge_parser().parse_args(argv[2:])
    else:
        args = parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
