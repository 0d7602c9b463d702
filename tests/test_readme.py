"""The README's numbers are the manifest's (``cnnlab/course.py``): a change to a limit or to
an assignment's points that the README does not follow fails here."""

from __future__ import annotations

import pytest

from cnnlab.course import ASSIGNMENTS, REPO_ROOT, Limits

README = (REPO_ROOT / "README.md").read_text()
LIMITS = Limits()


def _flat(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("assignment", ASSIGNMENTS.values(), ids=ASSIGNMENTS)
def test_each_assignment_is_listed_with_its_points(assignment):
    row = next((line for line in README.splitlines() if line.startswith(f"| `{assignment.id}`")),
               None)
    assert row is not None, f"{assignment.id} is not in the README's table"
    assert row.rstrip().endswith(f"| {assignment.max_score:g} |"), row


@pytest.mark.parametrize("sentence", [
    f"A call may use {LIMITS.call_seconds:g} s of CPU time "
    f"({LIMITS.call_seconds * LIMITS.wall_factor:g} s of wall-clock time)",
    f"importing the module {LIMITS.import_seconds:g} s",
    f"each graded function {LIMITS.function_seconds:g} s over all its tests",
    f"may take {LIMITS.submission_seconds:g} s of wall-clock time",
    f"{LIMITS.memory_bytes // 1024**3} GiB of address space",
    f"{LIMITS.processes} processes",
    "times out " + {1: "once", 2: "twice"}.get(LIMITS.timeouts_per_function,
                                               f"{LIMITS.timeouts_per_function} times"),
])
def test_the_limits_in_the_readme_are_the_manifests(sentence):
    assert _flat(sentence) in _flat(README)
