"""``cnnlab gradescope``: the bundle's ``run_autograder`` run here, in a folder laid out as
Gradescope lays out ``/autograder``, on a correct submission and a broken one."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import zipfile
from pathlib import Path

import pytest
from support import make_submission

from autograder.gradescope import ROOT_ENV
from autograder.sandbox import ISOLATION_LIMITS, isolation_level
from cnnlab.gradescope_bundle import build_bundle

pytestmark = pytest.mark.slow

A01 = "a01_output_size"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    return build_bundle(A01, tmp_path_factory.mktemp("bundle"), visibility="after_published",
                        allow_unsafe=isolation_level() == ISOLATION_LIMITS)


def test_the_bundle_holds_the_scripts_and_only_this_assignments_grader(bundle):
    with zipfile.ZipFile(bundle) as archive:
        names = set(archive.namelist())
        run = archive.getinfo("run_autograder")
        setup = archive.read("setup.sh").decode()
    assert {"setup.sh", "run_autograder", "autograder/grade.py", "cnnlab/course.py",
            f"autograder/suites/{A01}/test_conv_output_size.py",
            f"solutions/{A01}/output_size.py", f"assignments/{A01}/output_size.py"} <= names
    assert not any(name.startswith(("autograder/suites/a02", "solutions/a02", "tests/"))
                   for name in names)
    assert run.external_attr >> 16 & stat.S_IXUSR
    assert "torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu" in setup
    assert "numpy==" in setup and "pytest==" in setup


def run_autograder(bundle: Path, root: Path, submission: Path | None) -> dict:
    """Lay ``root`` out as Gradescope's ``/autograder`` and run the bundle's script."""
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(root / "source")
    script = root / "run_autograder"
    shutil.copy(root / "source" / "run_autograder", script)
    script.chmod(0o755)
    if submission is not None:
        shutil.copytree(submission, root / "submission")
    run = subprocess.run([str(script)], env=os.environ | {ROOT_ENV: str(root)},
                         capture_output=True, text=True, timeout=600)
    results = json.loads((root / "results" / "results.json").read_text())
    return results | {"exit code": run.returncode, "stderr": run.stderr}


def test_a_correct_submission_gets_full_marks_with_gradescopes_fields(bundle, tmp_path):
    folder = make_submission(tmp_path / "made", "student", A01)
    results = run_autograder(bundle, tmp_path / "autograder", folder)
    assert results["exit code"] == 0, results["stderr"]
    assert results["score"] == results["max_score"] == 10
    assert results["output_format"] == "md" and results["execution_time"] > 0
    assert {t["visibility"] for t in results["tests"]} == {"after_published"}
    functions = results["extra_data"]["functions"]
    assert functions["conv_output_size"]["score"] == functions["conv_output_size"]["max_score"]
    assert sum(f["max_score"] for f in functions.values()) == pytest.approx(10)


def test_a_broken_submission_scores_zero_and_says_why(bundle, tmp_path):
    folder = make_submission(tmp_path / "made", "student", A01, append="def broken(:\n")
    results = run_autograder(bundle, tmp_path / "autograder", folder)
    assert results["exit code"] == 0, results["stderr"]
    assert results["score"] == 0 and results["extra_data"]["status"] == "import error"
    assert "SyntaxError" in json.dumps(results["tests"])


def test_nothing_uploaded_scores_zero(bundle, tmp_path):
    results = run_autograder(bundle, tmp_path / "autograder", None)
    assert results["score"] == 0 and results["max_score"] == 10
