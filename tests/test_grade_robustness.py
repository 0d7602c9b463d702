"""The class grader against what goes wrong around the suites: linked or oddly named
folders, grading jobs that fail, overrun or print nonsense, signals, an unsafe machine.

Most tests replace the grading job (``autograder.grade.job_command``) by a small script, so
that they run in a second or two.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
from support import make_submission

from autograder import grade
from autograder.grade import (
    RESERVED_NAMES,
    GradingInterrupted,
    GradingRefused,
    find_submissions,
    grade_class,
    read_results,
)
from autograder.sandbox import ISOLATION_LIMITS, remove_tree
from cnnlab import cli
from cnnlab.course import get_assignment

A01 = "a01_output_size"
JOB_COMMAND = grade.job_command  # python -m autograder.grade_one <its arguments>
#: What the replaced collection says an a01 submission is worth.
A01_POINTS = get_assignment(A01).max_score  # the manifest's 10 points

#: A stand-in for ``python -m autograder.grade_one``: ``FAKE_JOB MODE MARKERS <its args>``.
FAKE_JOB = r"""
import json, os, subprocess, sys, time
mode, markers, *args = sys.argv[1:]
results = [args[i + 1] for i, arg in enumerate(args) if arg == "--results"]
scratch = args[args.index("--scratch") + 1]
with open(os.path.join(markers, "started"), "w") as marker:
    marker.write(scratch)
if mode == "fail":
    sys.exit(3)
if mode == "pass":
    for path in results:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as handle:
            json.dump({"score": 10.0, "max_score": 10.0, "output": "all passed", "tests": [],
                       "extra_data": {"status": "graded", "finished": True}}, handle)
    sys.exit(0)
sleeper = [sys.executable, "-c", "import time; time.sleep(600)"]
if mode == "hang-with-children":  # one child in the job's process group, one escaped
    for name, own_session in (("child", False), ("escaped", True)):
        child = subprocess.Popen(sleeper, start_new_session=own_session)
        with open(os.path.join(markers, name), "w") as handle:
            handle.write(str(child.pid))
with open(os.path.join(markers, "hanging"), "w"):
    pass
time.sleep(600)
"""


@pytest.fixture
def scratch_root(tmp_path, monkeypatch) -> Path:
    """The temporary folder of the run's scratch, private to the test."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def fake_jobs(monkeypatch, mode: str, markers: Path) -> Path:
    """Grade with FAKE_JOB in ``mode``; it leaves its markers in ``markers``."""
    markers.mkdir(exist_ok=True)
    monkeypatch.setattr(grade, "job_command", lambda *args: [
        sys.executable, "-c", FAKE_JOB, mode, str(markers), *JOB_COMMAND(*args)[3:]])
    return markers


def no_jobs(monkeypatch) -> None:
    def refuse(*args):
        raise AssertionError("a grading job was started")
    monkeypatch.setattr(grade, "job_command", refuse)


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            state = handle.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def results_of(out: Path, student: str, assignment: str = A01) -> dict:
    return json.loads((out / student / assignment / "results.json").read_text())


def quiet(line: str) -> None:
    pass


# -- 1. linked submissions ------------------------------------------------------------------


def test_linked_submissions_are_refused_and_never_graded(tmp_path, monkeypatch, scratch_root):
    no_jobs(monkeypatch)
    subs, out = tmp_path / "submitted", tmp_path / "out"
    (subs / "sam").mkdir(parents=True)  # links to the solution instead of submitting files
    (subs / "sam" / A01).symlink_to(get_assignment(A01).solution_dir)
    elsewhere = make_submission(tmp_path / "elsewhere", "real", A01).parent
    (subs / "tim").symlink_to(elsewhere)  # a student folder that is a link to another's
    submissions, warnings = find_submissions(subs)
    assert {(s.student_id, bool(s.refused)) for s in submissions} == {("sam", True),
                                                                      ("tim", True)}
    rows = grade_class(subs, out, log=quiet)
    assert [(r["student_id"], r["score"], r["max_score"], r["status"]) for r in rows] == [
        ("sam", 0.0, A01_POINTS, "import error"), ("tim", 0.0, A01_POINTS, "import error")]
    assert "sam/a01_output_size is a symbolic link; submit the files themselves" in \
        results_of(out, "sam")["output"]
    assert "tim is a symbolic link; submit the files themselves" in \
        results_of(out, "tim")["output"]
    assert not (out / "sam" / A01 / "grading.log").exists()
    assert (out / "grades.csv").read_text().count("import error") == 2


# -- 2. odd student ids ---------------------------------------------------------------------


ODD_NAMES = [b"\xff\xfe", b"new\nline", b"tab\there", b"bell\x07", b".hidden", b"grades.csv",
             b"GRADES.CSV", b"report.html", b"logs", b"back\\slash"]


def _odd_class(subs: Path) -> None:
    for name in ODD_NAMES:
        folder = os.fsencode(subs) + b"/" + name
        os.makedirs(folder + b"/" + A01.encode())
        (Path(os.fsdecode(folder)) / A01 / "output_size.py").write_text("x = 1\n")


def test_folders_that_cannot_be_student_ids_are_skipped_with_a_warning(tmp_path):
    subs = tmp_path / "submitted"
    _odd_class(subs)
    make_submission(subs, "alice", A01)
    submissions, warnings = find_submissions(subs)
    assert [s.student_id for s in submissions] == ["alice"]
    for name in ODD_NAMES:
        shown = repr(os.fsdecode(name))
        assert sum(shown in warning for warning in warnings) == 1, (shown, warnings)
    assert {"grades.csv", "report.html", "logs"} <= RESERVED_NAMES


def test_a_class_of_odd_folders_still_gets_its_grades_csv(tmp_path, monkeypatch,
                                                          scratch_root):
    no_jobs(monkeypatch)
    subs, out, lines = tmp_path / "submitted", tmp_path / "out", []
    _odd_class(subs)
    assert grade_class(subs, out, log=lines.append) == []
    assert (out / "grades.csv").read_text().strip() == \
        "student_id,assignment,score,max_score,status"
    assert sum(line.startswith("warning: skipped student folder") for line in lines) == \
        len(ODD_NAMES)
    assert all(line.isprintable() for line in lines)


# -- 4. max scores --------------------------------------------------------------------------


def test_a_job_that_wrote_nothing_scores_zero_of_the_assignments_max(tmp_path, monkeypatch,
                                                                scratch_root):
    fake_jobs(monkeypatch, "fail", tmp_path / "markers")
    subs, out = tmp_path / "submitted", tmp_path / "out"
    make_submission(subs, "s1", A01)
    make_submission(subs, "s2", A01)
    rows = grade_class(subs, out, jobs=2, log=quiet)
    assert {r["status"] for r in rows} == {"grader error"}
    assert {(r["score"], r["max_score"]) for r in rows} == {(0.0, A01_POINTS)}
    assert results_of(out, "s1")["max_score"] == A01_POINTS
    assert "exit code 3" in results_of(out, "s1")["output"]


def test_results_of_an_earlier_run_do_not_stand(tmp_path, monkeypatch, scratch_root):
    fake_jobs(monkeypatch, "fail", tmp_path / "markers")
    subs, out = tmp_path / "submitted", tmp_path / "out"
    make_submission(subs, "s1", A01)
    earlier = out / "s1" / A01 / "results.json"
    earlier.parent.mkdir(parents=True)
    earlier.write_text(json.dumps({"score": 10.0, "max_score": 10.0, "output": "old",
                                   "tests": [], "extra_data": {"status": "graded",
                                                               "finished": True}}))
    [row] = grade_class(subs, out, log=quiet)
    assert (row["score"], row["max_score"], row["status"]) == (0.0, A01_POINTS,
                                                               "grader error")


# -- 5. processes, scratch, signals ---------------------------------------------------------


def test_remove_tree_takes_trees_deeper_than_recursion_and_path_limits(tmp_path):
    top = tmp_path / "deep"
    top.mkdir()
    descriptor = os.open(top, os.O_RDONLY)
    for _ in range(2500):  # paths past PATH_MAX, depth past the recursion limit
        os.mkdir("d", dir_fd=descriptor)
        inner = os.open("d", os.O_RDONLY, dir_fd=descriptor)
        os.close(os.open("f", os.O_WRONLY | os.O_CREAT, dir_fd=inner))
        os.close(descriptor)
        descriptor = inner
    os.close(descriptor)
    assert remove_tree(top) == []
    assert not top.exists()
    assert remove_tree(tmp_path / "missing") == []


def test_an_overrunning_job_is_killed_with_everything_it_started(tmp_path, monkeypatch,
                                                                 scratch_root):
    markers = fake_jobs(monkeypatch, "hang-with-children", tmp_path / "markers")
    monkeypatch.setattr(grade, "job_limit", lambda batch: 3.0)
    subs, out = tmp_path / "submitted", tmp_path / "out"
    make_submission(subs, "s1", A01)
    started = time.monotonic()
    [row] = grade_class(subs, out, log=quiet)
    assert time.monotonic() - started < 30
    assert (row["status"], row["max_score"]) == ("grader error", A01_POINTS)
    assert "overran its 3 s" in results_of(out, "s1")["output"]
    for name in ("child", "escaped"):
        assert not alive(int((markers / name).read_text())), name
    job_scratch = Path((markers / "started").read_text())
    assert job_scratch.parent.name.startswith("cnnlab-grade-")
    assert job_scratch.parent.parent == scratch_root
    assert not list(scratch_root.glob("cnnlab-grade-*"))


def test_sigint_kills_the_jobs_and_writes_the_grades(tmp_path, monkeypatch, scratch_root, capsys):
    markers = fake_jobs(monkeypatch, "hang-with-children", tmp_path / "markers")
    subs, out = tmp_path / "submitted", tmp_path / "out"
    for student in ("s1", "s2", "s3"):
        make_submission(subs, student, A01)

    def interrupt_once_hanging():
        deadline = time.monotonic() + 60
        while not (markers / "hanging").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        if (markers / "hanging").exists():
            os.kill(os.getpid(), signal.SIGINT)

    interrupter = threading.Thread(target=interrupt_once_hanging)
    interrupter.start()
    try:
        code = cli.main(["grade", str(subs), "--out", str(out), "--jobs", "1"])
    finally:
        interrupter.join()
    assert code == 130
    assert "interrupted by SIGINT" in capsys.readouterr().err
    rows = (out / "grades.csv").read_text().splitlines()
    assert len(rows) == 4 and all(r.endswith(",0.0,10.0,grader error") for r in rows[1:])
    assert "interrupted" in results_of(out, "s3")["output"]
    assert not alive(int((markers / "child").read_text()))
    assert not alive(int((markers / "escaped").read_text()))
    assert not list(scratch_root.glob("cnnlab-grade-*"))
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_interrupted_grade_class_raises_after_writing_the_grades(tmp_path, monkeypatch,
                                                                 scratch_root):
    fake_jobs(monkeypatch, "pass", tmp_path / "markers")
    subs, out = tmp_path / "submitted", tmp_path / "out"
    make_submission(subs, "s1", A01)
    real_find = grade.find_submissions

    def find_then_get_stopped(*args):
        os.kill(os.getpid(), signal.SIGTERM)  # before any job starts
        return real_find(*args)

    monkeypatch.setattr(grade, "find_submissions", find_then_get_stopped)
    with pytest.raises(GradingInterrupted) as stopped:
        grade_class(subs, out, log=quiet)
    assert stopped.value.signum == signal.SIGTERM
    assert [r["status"] for r in stopped.value.rows] == ["grader error"]
    assert not (tmp_path / "markers" / "started").exists()
    assert "grader error" in (out / "grades.csv").read_text()


# -- 6. odd results files -------------------------------------------------------------------


def _valid(**changes) -> str:
    results = {"score": 3.0, "max_score": 10.0, "output": "x", "tests": [],
               "extra_data": {"status": "graded", "finished": True}}
    return json.dumps(results | changes)


@pytest.mark.parametrize("text", [
    "{not json", "[1, 2]", '"a string"', "null", '{"score": 3}', "\xff\xfe",
    "[" * 100_000 + "]" * 100_000,
    _valid(score=float("nan")), _valid(score="10"), _valid(score=99.0), _valid(tests=None),
    _valid(extra_data=[]), _valid(extra_data={"status": "excellent", "finished": True}),
    _valid(max_score=5.0, score=5.0),  # not what the suite is worth
], ids=lambda text: text[:24])
def test_a_results_file_that_is_not_one_is_a_grader_error(tmp_path, text):
    path = tmp_path / "results.json"
    path.write_bytes(text.encode("utf-8", "surrogateescape") if text != "\xff\xfe"
                     else b"\xff\xfe")
    results = read_results(path, A01_POINTS)
    assert results["extra_data"]["status"] == "grader error"
    assert (results["score"], results["max_score"]) == (0.0, A01_POINTS)
    assert "no usable results.json" in results["output"]
    assert json.loads(path.read_text()) == results


def test_a_finished_valid_results_file_stands(tmp_path):
    path = tmp_path / "results.json"
    path.write_text(_valid())
    assert read_results(path, A01_POINTS, "the job overran") == json.loads(_valid())


# -- 7. a machine that allows no namespaces -------------------------------------------------


def test_an_unsafe_machine_is_refused_unless_allowed(tmp_path, monkeypatch, scratch_root):
    monkeypatch.setattr(grade, "isolation_level", lambda: ISOLATION_LIMITS)
    subs, out = tmp_path / "submitted", tmp_path / "out"
    make_submission(subs, "s1", A01)
    no_jobs(monkeypatch)
    with pytest.raises(GradingRefused, match="--unsafe-no-isolation"):
        grade_class(subs, out, log=quiet)
    assert not out.exists() and not list(scratch_root.iterdir())
    fake_jobs(monkeypatch, "pass", tmp_path / "markers")
    lines = []
    [row] = grade_class(subs, out, log=lines.append, allow_unsafe=True)
    assert row["status"] == "graded" and row["score"] == A01_POINTS
    assert any("no namespaces" in line and "--unsafe-no-isolation" in line for line in lines)


def test_cnnlab_grade_refuses_an_unsafe_machine_without_the_flag(tmp_path, monkeypatch,
                                                                 scratch_root, capsys):
    monkeypatch.setattr(grade, "isolation_level", lambda: ISOLATION_LIMITS)
    fake_jobs(monkeypatch, "pass", tmp_path / "markers")
    subs, out = tmp_path / "submitted", tmp_path / "out"
    make_submission(subs, "s1", A01)
    assert cli.main(["grade", str(subs), "--out", str(out)]) == 2
    assert "--unsafe-no-isolation" in capsys.readouterr().err
    assert not (tmp_path / "markers" / "started").exists()
    assert cli.main(["grade", str(subs), "--out", str(out), "--unsafe-no-isolation"]) == 0
    assert "warning: this machine allows no namespaces" in capsys.readouterr().out


# -- 3. exit codes, and grades.csv ----------------------------------------------------------


def test_cnnlab_grade_exits_1_naming_each_grader_error(tmp_path, monkeypatch, scratch_root, capsys):
    fake_jobs(monkeypatch, "fail", tmp_path / "markers")
    subs, out = tmp_path / "submitted", tmp_path / "out"
    make_submission(subs, "s1", A01)
    make_submission(subs, "s2", A01)
    assert cli.main(["grade", str(subs), "--out", str(out)]) == 1
    errors = [line for line in capsys.readouterr().err.splitlines() if "grader error" in line]
    assert len(errors) == 2
    for student, line in zip(("s1", "s2"), errors, strict=True):
        assert f"student {student}, assignment {A01}" in line and "exit code 3" in line


def test_cnnlab_grade_exits_0_when_every_submission_is_graded(tmp_path, monkeypatch,
                                                              scratch_root,
                                                              capsys):
    fake_jobs(monkeypatch, "pass", tmp_path / "markers")
    subs, out = tmp_path / "submitted", tmp_path / "out"
    make_submission(subs, "s1", A01)
    assert cli.main(["grade", str(subs), "--out", str(out)]) == 0
    assert capsys.readouterr().err == ""


def test_grades_csv_is_replaced_in_one_step(tmp_path, monkeypatch, scratch_root):
    fake_jobs(monkeypatch, "pass", tmp_path / "markers")
    subs, out = tmp_path / "submitted", tmp_path / "out"
    make_submission(subs, "s1", A01)
    out.mkdir()
    (out / "grades.csv").write_text("the previous grades\n")
    replaced, real_replace = [], os.replace

    def spy(source, target):
        if Path(target).name == "grades.csv":
            replaced.append((Path(source), Path(target), Path(source).read_text()))
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", spy)
    grade_class(subs, out, log=quiet)
    [(source, target, text)] = replaced
    assert source.parent == out and target == out / "grades.csv"
    assert text.startswith("student_id,") and "s1,a01_output_size,10.0,10.0,graded" in text
    # no temporary file left beside the grades and the reports
    assert sorted(p.name for p in out.iterdir()) == ["grades.csv", "lms_grades.csv",
                                                     "report.html", "s1"]
