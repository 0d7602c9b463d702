"""``cnnlab datasets build|verify``: rebuild the bundled weights, or check their checksums."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cnnlab.course import REPO_ROOT

#: The bundled data (cnnlab.digits.DATASETS_DIR; not imported here, so that other commands
#: start without importing torch).
DATASETS_DIR = REPO_ROOT / "datasets"


def add_parser(commands) -> None:
    """Add ``datasets build`` and ``datasets verify`` to the ``cnnlab`` subcommands."""
    datasets = commands.add_parser(
        "datasets", help="rebuild the bundled data and weights, or check their checksums")
    actions = datasets.add_subparsers(dest="action", required=True)
    for name, run, help_text in (
            ("build", build, "train the bundled backbones again and rewrite SHA256SUMS"),
            ("verify", verify, "check every file listed in SHA256SUMS (exit 1 naming "
                               "each file that is missing or differs)")):
        action = actions.add_parser(name, help=help_text)
        action.add_argument("--root", type=Path, default=DATASETS_DIR,
                            help=f"the datasets folder (default: {DATASETS_DIR})")
        action.set_defaults(run=run)


def build(args: argparse.Namespace) -> int:
    from cnnlab.digits import build as build_weights

    build_weights(args.root)
    return 0


def verify(args: argparse.Namespace) -> int:
    from cnnlab.digits import SUMS_FILE
    from cnnlab.digits import verify as check

    problems = check(args.root)
    for line in problems:
        print(f"cnnlab datasets verify: {line}", file=sys.stderr)
    if problems:
        return 1
    print(f"all files listed in {args.root / SUMS_FILE} match")
    return 0
