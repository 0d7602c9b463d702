"""What a submission's grade depends on, as one digest: the files the sandbox would copy of
the submission, and the grader's own (the hidden suite, the reference, the grading engine,
the manifest). ``cnnlab grade`` keeps it in ``results.json`` (``extra_data.content_hash``)
and, run again on the same output folder, does not grade again a submission whose digest
is unchanged and whose grading finished.
"""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path

from autograder.sandbox import BoxLimits, plan_submission
from cnnlab.course import AUTOGRADER_DIR, REPO_ROOT, Assignment, get_assignment

#: Bytes read at a time.
CHUNK = 1024 * 1024
#: What the grader's own files are called (Python, the suites' data, pytest's settings).
SOURCE_SUFFIXES = (".py", ".json", ".ini")
#: Files of the grader itself that every grade depends on.
ENGINE = (AUTOGRADER_DIR, AUTOGRADER_DIR / "drivers", REPO_ROOT / "cnnlab" / "course.py",
          REPO_ROOT / "cnnlab" / "backbones.py")


def _add_file(digest, path: Path, name: str, follow: bool = False) -> None:
    """Add ``name`` and the bytes of ``path`` to ``digest`` (a link is followed only where
    ``follow``: the grader's own files, never a student's)."""
    digest.update(f"{name}\0".encode("utf-8", "surrogateescape"))
    descriptor = os.open(path, os.O_RDONLY | (0 if follow else os.O_NOFOLLOW))
    with os.fdopen(descriptor, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    digest.update(b"\0")


def source_files(place: Path) -> list[Path]:
    """``place`` itself, or the grader's Python and data files directly in the folder
    ``place`` (``SOURCE_SUFFIXES``)."""
    if place.is_file():
        return [place]
    return sorted(p for p in place.iterdir() if p.is_file() and p.suffix in SOURCE_SUFFIXES)


@functools.cache
def grader_digest(assignment_id: str) -> str:
    """The digest of everything on the grader's side that grading an assignment reads."""
    assignment = get_assignment(assignment_id)
    digest = hashlib.sha256()
    for place in (*ENGINE, assignment.suite_dir, assignment.solution_dir):
        for path in source_files(place):
            _add_file(digest, path, str(path.relative_to(REPO_ROOT)), follow=True)
    return digest.hexdigest()


def content_digest(folder: Path, assignment: Assignment, isolation: str) -> str:
    """The digest of grading ``folder`` (a submission of ``assignment``) at the isolation
    level ``isolation``: the files the sandbox copies of it, and the grader's own."""
    digest = hashlib.sha256(f"{grader_digest(assignment.id)}\0{isolation}\0".encode())
    files, skipped = plan_submission(folder, BoxLimits.submission_bytes)
    for relative in files:
        try:
            _add_file(digest, folder / relative, relative)
        except OSError:  # gone or changed since: the digest must not match any earlier one
            digest.update(os.urandom(16))
    digest.update("\0".join(["skipped", *skipped]).encode("utf-8", "surrogateescape"))
    return digest.hexdigest()
