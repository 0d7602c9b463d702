"""Build the student release, ``assignments/``, from the one source, ``solutions/``.

- In ``.py`` files every ``### BEGIN SOLUTION`` ... ``### END SOLUTION`` region becomes
  ``raise NotImplementedError("<function>: ...")`` at the region's indentation, so
  signatures, docstrings and the helpers given to students stay as they are.
- Notebooks go through nbgrader's own preprocessors, in the order of its
  ``generate_assignment`` (solutions cleared, outputs cleared, hidden tests removed, cells
  locked and checksummed), less the steps that need nbgrader's database.
- Every other file is copied as it is (the text of a linked file); caches and checkpoints
  are left out.
- Generated files are added: ``cnnlab release`` gives each assignment a ``conftest.py`` that
  ends a run of the visible checks with what the grader checks after them, from the manifest
  (``hidden_checks_conftest``).

``ReleaseBuilder.stale_files()`` compares a fresh build with the committed release, for
``cnnlab release --check``.
"""

from __future__ import annotations

import filecmp
import re
import shutil
import tempfile
from pathlib import Path

import nbformat
from nbgrader import preprocessors as nbgrader_steps

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
IGNORED_NAMES = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache", ".hypothesis",
                 ".DS_Store"}
NOTEBOOK_STEPS = (
    nbgrader_steps.LockCells, nbgrader_steps.ClearSolutions, nbgrader_steps.ClearOutput,
    nbgrader_steps.CheckCellMetadata, nbgrader_steps.ComputeChecksums,
    nbgrader_steps.ClearHiddenTests, nbgrader_steps.ClearMarkScheme,
    nbgrader_steps.ComputeChecksums, nbgrader_steps.CheckCellMetadata,
)
_DEF = re.compile(r"^(\s*)(?:async\s+)?def\s+(\w+)")


class ReleaseError(ValueError):
    """A source file that cannot be released (an unclosed solution region, ...)."""


def release_python(source: str, filename: str = "<source>") -> str:
    """Replace each solution region of a Python source by a ``NotImplementedError`` stub."""
    released, region_start, function = [], None, None
    for number, line in enumerate(source.splitlines(keepends=True), start=1):
        marker = line.strip()
        if region_start is None:
            match = _DEF.match(line)
            if match:
                function = match.group(2)
            if marker == BEGIN_SOLUTION:
                region_start = number
                indent = line[: len(line) - len(line.lstrip())]
                task = f"{function}: " if function else ""
                released.append(f'{indent}raise NotImplementedError("{task}your code here")\n')
            elif marker == END_SOLUTION:
                raise ReleaseError(f"{filename}:{number}: {END_SOLUTION} without a begin")
            else:
                released.append(line)
        elif marker == BEGIN_SOLUTION:
            raise ReleaseError(f"{filename}:{number}: solution region inside the one "
                               f"opened at line {region_start}")
        elif marker == END_SOLUTION:
            region_start = None
    if region_start is not None:
        raise ReleaseError(f"{filename}:{region_start}: {BEGIN_SOLUTION} never closed")
    return "".join(released)


def release_notebook(source: str) -> str:
    """Run a source notebook through nbgrader's release steps; return the student's copy."""
    notebook = nbformat.reads(source, as_version=4)
    resources: dict = {}
    for step in NOTEBOOK_STEPS:
        notebook, resources = step().preprocess(notebook, resources)
    return nbformat.writes(notebook) + "\n"


def hidden_checks_conftest(assignment_id: str, points: dict[str, float],
                           hidden_tests: dict[str, int]) -> str:
    """The text of a release's ``conftest.py``: after the visible checks, a summary of the
    hidden tests each function still faces (``hidden_tests``) and its ``points``."""
    rows = "".join(f"    {function!r}: ({points[function]:g}, {hidden_tests.get(function, 0)}),\n"
                   for function in points)
    return f'''"""Written by ``cnnlab release`` from the course manifest (do not edit): after the
visible checks, what the grader checks in {assignment_id}."""

#: function -> (its points, its hidden tests)
HIDDEN_TESTS = {{
{rows}}}


def pytest_terminal_summary(terminalreporter):
    terminalreporter.section("what the grader checks after these")
    terminalreporter.write_line(
        "These checks are a sample. The grader runs its own tests, on fresh inputs, against "
        "PyTorch:")
    for function, (points, tests) in HIDDEN_TESTS.items():
        terminalreporter.write_line(f"  {{function:<30}} {{points:>4g}} points over "
                                    f"{{tests}} hidden tests")
    terminalreporter.write_line(
        "A function's error-message and worked-example tests count once all its generated "
        "cases pass.")
'''


class ReleaseBuilder:
    """Builds ``release_root`` (``assignments/``) from ``source_root`` (``solutions/``), plus
    the ``generated`` files (``{path relative to the release: text}``)."""

    def __init__(self, source_root: Path, release_root: Path,
                 generated: dict[Path, str] | None = None) -> None:
        self.source_root = Path(source_root)
        self.release_root = Path(release_root)
        self.generated = generated or {}

    def source_files(self) -> list[Path]:
        """Every file to release, relative to the source root, in a stable order."""
        return sorted(
            path.relative_to(self.source_root) for path in self.source_root.rglob("*")
            if path.is_file() and not IGNORED_NAMES.intersection(
                path.relative_to(self.source_root).parts)
        )

    def build(self, target: Path | None = None) -> list[Path]:
        """Write the release into ``target`` (default: the release root), replacing it."""
        target = Path(target or self.release_root)
        if target.exists():
            shutil.rmtree(target)
        written = []
        for relative in self.source_files():
            source, destination = self.source_root / relative, target / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            if source.suffix == ".py":
                destination.write_text(release_python(source.read_text(), str(relative)))
            elif source.suffix == ".ipynb":
                destination.write_text(release_notebook(source.read_text()))
            else:
                shutil.copyfile(source, destination)
            written.append(destination)
        for relative, text in self.generated.items():
            destination = target / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_text(text)
            written.append(destination)
        return written

    def stale_files(self) -> list[str]:
        """Files of the committed release that differ from a fresh build, are missing from
        it, or should not be there; empty when the release is up to date."""
        with tempfile.TemporaryDirectory(prefix="cnnlab-release-") as scratch:
            fresh = Path(scratch) / "release"
            self.build(fresh)
            expected = {p.relative_to(fresh) for p in fresh.rglob("*") if p.is_file()}
            committed = {p.relative_to(self.release_root) for p in self.release_root.rglob("*")
                         if p.is_file() and not IGNORED_NAMES.intersection(
                             p.relative_to(self.release_root).parts)} \
                if self.release_root.exists() else set()
            stale = [f"{p} (missing)" for p in expected - committed]
            stale += [f"{p} (not in solutions/)" for p in committed - expected]
            stale += [f"{p} (out of date)" for p in expected & committed
                      if not filecmp.cmp(fresh / p, self.release_root / p, shallow=False)]
        return sorted(stale)
