"""``cnnlab gradescope ASSIGNMENT``: the autograder bundle that Gradescope takes.

The zip holds Gradescope's two scripts and what grading one assignment reads, nothing more:

- ``setup.sh`` builds the image: a virtual environment with the packages grading needs, at
  the versions installed here (PyTorch's CPU build from PyTorch's own index);
- ``run_autograder`` grades ``/autograder/submission`` with ``autograder.gradescope`` and
  writes ``/autograder/results/results.json``;
- the grading engine (``autograder/``, the assignment's hidden suite only), the ``cnnlab``
  package (the manifest), the reference module, the released stub (for the fingerprints of
  alike code) and, for a06, the bundled weights.

Student code still runs in the sandbox there; where the container allows no namespaces,
grading stops with a grader error unless the bundle was built with
``--unsafe-no-isolation``.
"""

from __future__ import annotations

import importlib.metadata
import stat
import zipfile
from pathlib import Path

from cnnlab.course import AUTOGRADER_DIR, REPO_ROOT, get_assignment

#: Gradescope's settings of when a student sees a test's result.
VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
#: The packages the grader imports, installed at the versions found here.
PACKAGES = ("numpy", "pytest", "tqdm", "scikit-learn")
#: PyTorch's own index of CPU builds.
TORCH_INDEX = "https://download.pytorch.org/whl/cpu"

SETUP = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image.
set -euo pipefail
if ! command -v python3 >/dev/null || ! python3 -m venv --help >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq python3 python3-venv >/dev/null
fi
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install --quiet torch=={torch} --index-url {index}
/autograder/venv/bin/pip install --quiet {packages}
"""

RUN = """#!/usr/bin/env bash
# Gradescope runs this for each submission: grade it, write results/results.json.
ROOT="${{CNNLAB_GRADESCOPE_ROOT:-/autograder}}"
PYTHON="$ROOT/venv/bin/python"
[ -x "$PYTHON" ] || PYTHON=python3
cd "$ROOT/source"
PYTHONPATH="$ROOT/source" exec "$PYTHON" -m autograder.gradescope --assignment {assignment} \\
    --visibility {visibility}{unsafe}
"""


def version(package: str) -> str:
    """The installed version of ``package``, without a local build tag (``2.13.0+cpu``)."""
    return importlib.metadata.version(package).split("+")[0]


def bundle_files(assignment_id: str) -> dict[str, Path]:
    """What the bundle carries of the repository: ``{path in the zip: file here}``."""
    from autograder.digests import source_files  # the grader's: only when a bundle is made

    assignment = get_assignment(assignment_id)
    places = [AUTOGRADER_DIR, AUTOGRADER_DIR / "drivers", AUTOGRADER_DIR / "suites",
              assignment.suite_dir, REPO_ROOT / "cnnlab"]
    files = {}
    for place in places:
        for path in source_files(place):
            files[str(path.relative_to(REPO_ROOT))] = path
    module = f"{assignment.module}.py"
    files[str((assignment.solution_dir / module).relative_to(REPO_ROOT))] = \
        assignment.solution_dir / module
    files[str((assignment.release_dir / module).relative_to(REPO_ROOT))] = \
        assignment.release_dir / module
    if assignment_id == "a06_finetuning":
        for path in sorted((REPO_ROOT / "datasets").iterdir()):
            files[str(path.relative_to(REPO_ROOT))] = path
    return files


def build_bundle(assignment_id: str, folder: Path, visibility: str = "after_published",
                 allow_unsafe: bool = False) -> Path:
    """Write ``folder/cnnlab-<assignment>-gradescope.zip``; return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"cnnlab-{assignment_id}-gradescope.zip"
    packages = " ".join(f"{name}=={version(name)}" for name in PACKAGES)
    scripts = {
        "setup.sh": SETUP.format(torch=version("torch"), index=TORCH_INDEX,
                                 packages=packages),
        "run_autograder": RUN.format(assignment=assignment_id, visibility=visibility,
                                     unsafe=" --unsafe-no-isolation" if allow_unsafe else ""),
    }
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, text in scripts.items():
            entry = zipfile.ZipInfo(name)
            entry.external_attr = (stat.S_IFREG | 0o755) << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            bundle.writestr(entry, text)
        for name, path in bundle_files(assignment_id).items():
            bundle.write(path, name)
    return target
