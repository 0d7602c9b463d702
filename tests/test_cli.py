"""The ``cnnlab`` command as an instructor runs it (the demo class: ``test_demo.py``)."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from support import make_submission

from autograder.sandbox import ISOLATION_LIMITS, isolation_level

#: Where no namespaces are allowed, ``cnnlab grade`` needs the flag to grade at all.
UNSAFE = ["--unsafe-no-isolation"] if isolation_level() == ISOLATION_LIMITS else []


def cnnlab(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cnnlab", *args], capture_output=True,
                          text=True)


def test_a_folder_that_is_not_an_assignment_is_skipped_with_a_warning(tmp_path):
    (tmp_path / "submitted" / "erin" / "homework_7").mkdir(parents=True)
    run = cnnlab("grade", str(tmp_path / "submitted"), "--out", str(tmp_path / "out"), *UNSAFE)
    assert run.returncode == 0
    assert "skipped" in run.stdout and "homework_7" in run.stdout
    assert (tmp_path / "out" / "grades.csv").read_text().strip() == \
        "student_id,assignment,score,max_score,status"


def test_missing_submissions_folder_is_a_usage_error(tmp_path):
    run = cnnlab("grade", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out"))
    assert run.returncode == 2 and "is not a folder" in run.stderr


def test_bad_usage_exits_2(tmp_path):
    (tmp_path / "submitted").mkdir()
    for args, says in [(["--jobs", "0"], "--jobs"),
                       (["--out", str(tmp_path / "submitted" / "out")], "lies in SUBMISSIONS")]:
        run = cnnlab("grade", str(tmp_path / "submitted"), "--out", str(tmp_path / "out"),
                     *args)
        assert run.returncode == 2 and says in run.stderr, run.stderr


def _processes_mentioning(text: str) -> list[str]:
    """Processes whose command line mentions ``text``: for a run's folder, its grading jobs
    (their scratch, their results) and the workers they started (under its TMPDIR)."""
    found = []
    for name in os.listdir("/proc"):
        try:
            with open(f"/proc/{name}/cmdline", "rb") as handle:
                command = handle.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if name.isdigit() and text in command:
            found.append(f"{name}: {command}")
    return found


@pytest.mark.parametrize("stop, jobs", [(signal.SIGTERM, "2"), (signal.SIGINT, "1")],
                         ids=["SIGTERM, 2 jobs", "SIGINT, 1 job"])
def test_a_signal_stops_grading_and_leaves_nothing_behind(tmp_path, stop, jobs):
    subs, out, temporary = tmp_path / "submitted", tmp_path / "out", tmp_path / "tmp"
    temporary.mkdir()
    make_submission(subs, "looper", "a01_output_size", append="while True:\n    pass")
    grading = subprocess.Popen(
        [sys.executable, "-m", "cnnlab", "grade", str(subs), "--out", str(out), "--jobs", jobs,
         *UNSAFE],
        env=os.environ | {"TMPDIR": str(temporary)}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    results = out / "looper" / "a01_output_size" / "results.json"
    deadline = time.monotonic() + 60
    while not results.exists() and time.monotonic() < deadline and grading.poll() is None:
        time.sleep(0.05)
    assert results.exists(), "the grading job did not start"
    time.sleep(1)  # the job now waits on the worker stuck importing the module
    grading.send_signal(stop)
    stdout, stderr = grading.communicate(timeout=60)
    assert grading.returncode == 128 + stop, stdout + stderr
    assert f"interrupted by {stop.name}" in stderr
    assert not list(temporary.glob("cnnlab-grade-*"))
    deadline = time.monotonic() + 5
    while _processes_mentioning(str(tmp_path)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _processes_mentioning(str(tmp_path)) == []
    with open(out / "grades.csv", newline="") as handle:
        [row] = list(csv.DictReader(handle))
    assert (row["student_id"], row["status"]) == ("looper", "grader error")
    assert float(row["max_score"]) > 0
    assert "interrupted" in json.loads(results.read_text())["output"]
