"""The ``cnnlab`` command: ``cnnlab release [--check]`` and ``cnnlab grade``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from cnnlab.course import ASSIGNMENTS, ASSIGNMENTS_DIR, SOLUTIONS_DIR


def release(args: argparse.Namespace) -> int:
    from cnnlab.release import ReleaseBuilder

    builder = ReleaseBuilder(SOLUTIONS_DIR, ASSIGNMENTS_DIR)
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
    from autograder.grade import grade_class

    if not args.submissions.is_dir():
        print(f"cnnlab grade: {args.submissions} is not a folder", file=sys.stderr)
        return 2
    grade_class(args.submissions, args.out, args.assignment, args.jobs)
    print(f"grades: {args.out / 'grades.csv'}; feedback per submission: "
          f"{args.out}/<student>/<assignment>/results.json")
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
    grade_command.add_argument("--jobs", type=int, default=min(os.cpu_count() or 1, 8),
                               help="grading jobs run at the same time (default: one per "
                                    "CPU core, at most 8)")
    grade_command.set_defaults(run=grade)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
