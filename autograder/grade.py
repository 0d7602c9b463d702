"""Grade a class: every ``<student>/<assignment>/`` folder under SUBMISSIONS.

Submissions are dealt into batches, each graded by a trusted child process
(``autograder.grade_one``), up to ``jobs`` at a time; a batch may hold several
assignments. Each job leads its own process group; a job that overruns its submissions'
time budgets is killed with everything it started. The ``results.json`` it wrote stand, a
submission it did not finish is marked ``grader error`` and the tests it did not reach
score zero. The max score of each assignment is the manifest's (``cnnlab.course``),
whatever happened to a job. The class's ``grades.csv`` is written at the end
(atomically), one row per student and assignment.

Student folders with names that cannot be student ids are skipped with a warning; a student
or assignment folder that is a symbolic link (or resolves outside SUBMISSIONS) is never
graded: it scores zero as an ``import error`` that says why.

A run makes one scratch folder (``cnnlab-grade-*`` in the temporary folder) for its jobs and
removes it at the end. SIGINT and SIGTERM stop a run cleanly: the running jobs are killed,
the scratch folder is removed, ``grades.csv`` is written for what finished (the rest are
``grader error``, "interrupted"), and ``grade_class`` raises ``GradingInterrupted``.
"""

from __future__ import annotations

import contextlib
import csv
import ctypes
import hashlib
import io
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from pathlib import Path

from tqdm import tqdm

from autograder.digests import content_digest
from autograder.files import write_atomically
from autograder.grade_one import PARENT_ENV, PROGRESS_FILE
from autograder.results import STATUSES, ungraded_results
from autograder.sandbox import ISOLATION_LIMITS, isolation_level, remove_tree, sweep
from cnnlab.course import ASSIGNMENTS, REPO_ROOT, Assignment

#: Seconds a grading job may take for its own start-up (Python, PyTorch, the suite).
JOB_MARGIN_SECONDS = 120
#: Seconds a hidden suite may spend on one submission besides the student's code.
SUITE_SECONDS = 120
#: Seconds between two updates of the progress bar.
PROGRESS_SECONDS = 0.5
#: Seconds to wait for a killed process to be gone.
KILL_WAIT_SECONDS = 30
#: Most submissions one grading job takes on: more share the start-up, fewer share a failure.
BATCH_SIZE = 8
#: What a job printed that is kept in a ``grading.log`` when the job went wrong.
PRINTED_TAIL_BYTES = 64 * 1024
#: A ``results.json`` larger than this is not read.
MAX_RESULTS_BYTES = 64 * 1024 * 1024
CSV_COLUMNS = ("student_id", "assignment", "score", "max_score", "status")
#: Names the output folder uses at its top level: no student id may take one of them.
RESERVED_NAMES = frozenset({"grades.csv", "report.html", "lms_grades.csv", "logs"})
UNSAFE_MESSAGE = (
    "this machine allows no namespaces, so student code would run with resource limits only "
    "and could read everything this user can (other students' submissions, the hidden "
    "suites, the solutions). Run as root, or allow unprivileged user namespaces, or pass "
    "--unsafe-no-isolation to grade anyway")


class GradingRefused(Exception):
    """The class is not graded at all (an unsafe machine without ``allow_unsafe``)."""


class GradingInterrupted(Exception):
    """The run was stopped by a signal; ``grades.csv`` holds ``rows`` all the same."""

    def __init__(self, signum: int, rows: list[dict]) -> None:
        super().__init__(f"interrupted by {signal_name(signum)}")
        self.signum = signum
        self.rows = rows


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


@dataclass(frozen=True)
class Submission:
    student_id: str
    assignment: Assignment
    folder: Path
    #: Why it is not graded (it is a symbolic link, ...); None for a submission to grade.
    refused: str | None = None
    #: What its grade depends on (``autograder.digests``), once known.
    digest: str | None = None

    def results_path(self, out: Path) -> Path:
        return out / self.student_id / self.assignment.id / "results.json"


# -- finding the submissions --------------------------------------------------------------


def student_id_problem(name: str) -> str | None:
    """Why a folder name cannot be a student id (None when it can)."""
    try:
        name.encode("utf-8")  # os.fsdecode keeps undecodable bytes as lone surrogates
    except UnicodeEncodeError:
        return "its name is not valid UTF-8"
    if not name.isprintable():
        return "its name holds control or other unprintable characters"
    if any(separator in name for separator in ("/", "\\", os.sep, os.altsep) if separator):
        return "its name holds a path separator"
    if name.startswith("."):
        return "its name starts with '.'"
    if name.casefold() in RESERVED_NAMES:
        return f"the output folder uses {name!r} for its own files"
    return None


def _linked(path: Path, root: Path, shown: str) -> str | None:
    """Why ``path`` may not be graded as found: a symbolic link, or outside ``root``."""
    if path.is_symlink():
        return f"{shown} is a symbolic link; submit the files themselves"
    if not path.resolve().is_relative_to(root):
        return f"{shown} lies outside the submissions folder; submit the files themselves"
    return None


def _folders(path: Path) -> list[os.DirEntry]:
    """The entries of ``path`` that are folders or links, by name."""
    with os.scandir(path) as entries:
        return sorted((e for e in entries if e.is_symlink() or e.is_dir(follow_symlinks=False)),
                      key=lambda e: e.name)


def find_submissions(root: Path, only: list[str] | None = None) -> tuple[list[Submission],
                                                                       list[str]]:
    """Submissions under ``root`` (nbgrader's ``submitted/`` layout), and warnings about
    folders that are skipped: not an assignment of the course, not a usable student id.
    A student or assignment folder that is a symbolic link is returned ``refused``."""
    submissions, warnings = [], []
    real_root = root.resolve()
    for student in _folders(root):
        name, path = student.name, root / student.name
        if student.is_symlink() and not path.is_dir():
            warnings.append(f"skipped {name!r} in {str(root)!r}: a link to no folder")
            continue
        problem = student_id_problem(name)
        if problem:
            warnings.append(f"skipped student folder {name!r} in {str(root)!r}: {problem}")
            continue
        student_refused = _linked(path, real_root, name)
        try:
            entries = _folders(path)
        except OSError as error:
            warnings.append(f"skipped student folder {name!r}: cannot list it ({error})")
            continue
        for entry in entries:
            if entry.name not in ASSIGNMENTS:
                if not student_refused:
                    warnings.append(f"skipped {str(path / entry.name)!r}: not an assignment "
                                    "of this course")
                continue
            if only is not None and entry.name not in only:
                continue
            folder = path / entry.name
            refused = student_refused or _linked(folder, real_root, f"{name}/{entry.name}")
            if refused:
                warnings.append(f"not grading {name}/{entry.name} (scored 0): {refused}")
            submissions.append(Submission(name, ASSIGNMENTS[entry.name], folder, refused))
    return submissions, warnings


def batches(submissions: list[Submission], jobs: int) -> list[list[Submission]]:
    """Deal the submissions into batches for grading jobs: at least ``jobs`` batches where
    there are enough submissions, at most ``BATCH_SIZE`` in each. Dealt in turn, so that
    each batch gets its share of every assignment (a job starts Python, pytest and
    PyTorch once for all its submissions, whatever their assignments)."""
    if not submissions:
        return []
    count = max(min(jobs, len(submissions)), math.ceil(len(submissions) / BATCH_SIZE))
    return [submissions[start::count] for start in range(count)]


# -- the run's processes ------------------------------------------------------------------


def _children() -> dict[int, int]:
    """``{pid: process group}`` of this process's children, from /proc."""
    children, me = {}, os.getpid()
    try:
        names = os.listdir("/proc")
    except OSError:
        return children
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(fields) > 2 and int(fields[1]) == me:
            children[int(name)] = int(fields[2])
    return children


def _killpg(group: int) -> None:
    with contextlib.suppress(OSError):
        os.killpg(group, signal.SIGKILL)


def _prctl(option: int, value) -> int:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(option, value, 0, 0, 0)
    except (OSError, AttributeError):
        return -1


_PR_SET_CHILD_SUBREAPER, _PR_GET_CHILD_SUBREAPER = 36, 37


@contextlib.contextmanager
def _subreaper():
    """Make this process the one that inherits the orphans of its jobs (a sandboxed worker
    whose job was killed, a daemon a student started), so that they can be killed."""
    was = ctypes.c_int(0)
    if _prctl(_PR_GET_CHILD_SUBREAPER, ctypes.byref(was)) != 0 or was.value:
        yield
        return
    _prctl(_PR_SET_CHILD_SUBREAPER, 1)
    try:
        yield
    finally:
        _prctl(_PR_SET_CHILD_SUBREAPER, 0)


class Jobs:
    """The processes of one grading run, each started as the leader of a process group of
    its own, so that a timeout, a signal or the end of the run kills it with everything it
    started. A signal handler calls ``interrupt``; no job starts after that."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._running: dict[int, subprocess.Popen] = {}
        self._reaping: set[int] = set()  # ended, killed, not yet reaped by their Popen
        self._baseline = set(_children())
        self.signum: int | None = None

    def start(self, command: list[str], log: Path) -> subprocess.Popen | None:
        """Start ``command`` (its output to ``log``); None once the run is interrupted."""
        with self._lock:
            if self.signum is not None:
                return None
            with open(log, "wb") as output:
                process = subprocess.Popen(command, cwd=REPO_ROOT, stdin=subprocess.DEVNULL,
                                           stdout=output, stderr=subprocess.STDOUT,
                                           start_new_session=True, env=os.environ | {
                                               PARENT_ENV: str(os.getpid())})
            self._running[process.pid] = process
            return process

    def wait(self, process: subprocess.Popen, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for ``process`` to end; then kill its process
        group, whatever is left of it, and reap it. Whether it ended in time."""
        deadline, delay, ended = time.monotonic() + timeout, 0.005, False
        while True:
            try:  # WNOWAIT: the leader stays a zombie, so its group id cannot be reused
                ended = os.waitid(os.P_PID, process.pid,
                                  os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
            except ChildProcessError:
                ended = True
            remaining = deadline - time.monotonic()
            if ended or remaining <= 0:
                break
            time.sleep(min(delay, remaining))
            delay = min(delay * 2, 0.1)
        with self._lock:
            _killpg(process.pid)
            self._running.pop(process.pid, None)
            self._reaping.add(process.pid)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=KILL_WAIT_SECONDS)
            with self._lock:
                self._reaping.discard(process.pid)
        self.sweep_orphans()
        return ended

    def interrupt(self, signum: int) -> None:
        """A signal arrived: kill every running job."""
        with self._lock:
            self.signum = self.signum or signum
            for pid in list(self._running):
                _killpg(pid)

    def kill_all(self) -> None:
        with self._lock:
            for pid in list(self._running):
                _killpg(pid)
        self.sweep_orphans()

    def sweep_orphans(self) -> None:
        """Kill and reap the processes that were handed to this one when their parent, in a
        killed job, died (see ``_subreaper``)."""
        give_up = time.monotonic() + KILL_WAIT_SECONDS / 6
        while time.monotonic() < give_up:
            with self._lock:  # no job starts meanwhile: its process is not an orphan
                # One in the process group of a running job dies with that job.
                orphans = {pid: group for pid, group in _children().items()
                           if pid not in self._running and pid not in self._reaping
                           and pid not in self._baseline and group not in self._running}
                for pid, group in orphans.items():
                    if group not in (0, os.getpgrp()):
                        _killpg(group)
                    with contextlib.suppress(OSError):
                        os.kill(pid, signal.SIGKILL)
            if not orphans:
                return
            deadline = min(time.monotonic() + 1, give_up)
            for pid in orphans:
                while time.monotonic() < deadline:
                    try:
                        if os.waitpid(pid, os.WNOHANG)[0]:
                            break
                    except ChildProcessError:
                        break
                    time.sleep(0.01)


@contextlib.contextmanager
def _stop_on_signals(jobs: Jobs):
    """While grading (in the main thread), SIGINT and SIGTERM kill the running jobs and
    record the signal; the run then finishes up and ``grade_class`` raises."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    signals = (signal.SIGINT, signal.SIGTERM)
    previous = {number: signal.signal(number, lambda number, frame: jobs.interrupt(number))
                for number in signals}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, signal.SIG_DFL if handler is None else handler)


# -- grading -------------------------------------------------------------------------------


def job_command(batch: list[Submission], out: Path, scratch: Path) -> list[str]:
    """The command line of the grading job for ``batch``."""
    command = [sys.executable, "-m", "autograder.grade_one", "--scratch", str(scratch)]
    for submission in batch:
        command += ["--assignment", submission.assignment.id,
                    "--submission", str(submission.folder.resolve()),
                    "--results", str(submission.results_path(out).resolve()),
                    "--content-hash", submission.digest or ""]
    return command


def job_limit(batch: list[Submission]) -> float:
    """Seconds the grading job for ``batch`` may run: each submission's own time limit
    (student code) and the suite's time for it (references, oracles), plus the start-up."""
    return sum(s.assignment.limits.submission_seconds + SUITE_SECONDS
               for s in batch) + JOB_MARGIN_SECONDS


def _interrupted(signum: int) -> str:
    return (f"interrupted: cnnlab grade was stopped by {signal_name(signum)} before this "
            "submission was done")


def _tail(path: Path) -> bytes:
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(handle.tell() - PRINTED_TAIL_BYTES, 0))
            return handle.read()
    except OSError:
        return b""


def grade_batch(batch: list[Submission], out: Path, scratch: Path,
                jobs: Jobs) -> tuple[str | None, bytes]:
    """Run one grading job over ``batch`` in the folder ``scratch``; return
    what went wrong with the job (None if nothing) and the end of what it printed."""
    scratch.mkdir(parents=True, exist_ok=True)
    log = scratch.with_name(f"{scratch.name}.log")
    limit = job_limit(batch)
    process = jobs.start(job_command(batch, out, scratch), log)
    if process is None:
        return _interrupted(jobs.signum), b""
    ended = jobs.wait(process, limit)
    if jobs.signum is not None and not (ended and process.returncode == 0):
        problem = _interrupted(jobs.signum)
    elif not ended:
        problem = f"the grading job overran its {limit:g} s and was stopped"
    elif process.returncode != 0:
        problem = f"the grading job failed (exit code {process.returncode})"
    else:
        problem = None
    return problem, _tail(log)


def _number(value) -> float | None:
    """``value`` as a float if it is a finite, non-negative number, else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) and value >= 0 else None


def _problem_with(results) -> str | None:
    """What makes ``results`` (a parsed ``results.json``) unusable; None if nothing."""
    if not isinstance(results, dict):
        return "it is not a JSON object"
    score, max_score = _number(results.get("score")), _number(results.get("max_score"))
    if score is None or max_score is None:
        return "its score or max_score is not a number"
    if score > max_score + 1e-9:
        return "its score is above its max_score"
    if not isinstance(results.get("tests"), list) or not isinstance(results.get("output"),
                                                                     str):
        return "it lacks its tests or output"
    extra = results.get("extra_data")
    if not isinstance(extra, dict) or extra.get("status") not in STATUSES:
        return "it lacks a known status"
    return None


def load_results(path: Path, max_score: float) -> tuple[dict | None, str | None]:
    """The results in ``path`` and what makes them unusable (None where nothing does):
    missing, too large, not JSON, not a results file (``_problem_with``), or of another
    ``max_score`` than the assignment's."""
    try:
        if path.stat().st_size > MAX_RESULTS_BYTES:
            raise ValueError("it is too large")
        results = json.loads(path.read_text())
        unusable = _problem_with(results)
    except FileNotFoundError:
        return None, "the grading job wrote none"
    except (OSError, ValueError, RecursionError) as error:
        return None, f"it could not be read ({type(error).__name__}: {error})"
    if unusable is None and abs(float(results["max_score"]) - max_score) > 1e-6:
        unusable = (f"its max_score {results['max_score']:g} is not the assignment's "
                    f"{max_score:g}")
    return results, unusable


def read_results(path: Path, max_score: float, problem: str | None = None,
                 printed: bytes = b"") -> dict:
    """A submission's results, marked ``grader error`` where the job wrote none, wrote
    something that is not a results file, or did not finish them; then ``problem`` and what
    the job ``printed`` are added to its log. ``max_score`` is the assignment's (the
    manifest's), for results the job did not write, and to check those it did."""
    results, unusable = load_results(path, max_score)
    if unusable is not None:
        results = ungraded_results(max_score, "grader error",
                                   f"no usable results.json: {unusable}", finished=False)
    if results["extra_data"].get("finished") is not True:
        why = problem or "the grading job ended before this submission was done"
        results["output"] = f"{results['output']}\n\n**Grader error**: {why}: see grading.log\n"
        results["extra_data"]["status"] = "grader error"
        results["extra_data"]["problem"] = "; ".join(
            filter(None, [results["extra_data"].get("problem"), why]))
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path.with_name("grading.log"), "ab") as log:
            log.write(f"\n{why}\n".encode() + printed)
        _write_json(path, results)
    return results


def graded_before(submission: Submission, out: Path) -> dict | None:
    """The results in ``out`` of an earlier grading of ``submission`` that stand: finished,
    not a grader error, of the same files by the same grader; else None."""
    if submission.refused:
        return None
    results, unusable = load_results(submission.results_path(out),
                                     submission.assignment.max_score)
    if unusable is not None:
        return None
    extra = results["extra_data"]
    same = (extra.get("content_hash") == submission.digest and extra.get("finished") is True
            and extra.get("status") != "grader error")
    return results if same else None


def refused_results(submission: Submission, path: Path) -> dict:
    """Write and return the results of a submission that is not graded (a link)."""
    results = ungraded_results(submission.assignment.max_score, "import error",
                               f"not graded: {submission.refused}", refused=submission.refused)
    _write_json(path, results)
    return results


def _write_json(path: Path, data: dict) -> None:
    write_atomically(path, json.dumps(data, indent=2))


def grades_row(student_id: str, assignment_id: str, results: dict) -> dict:
    """A submission's row of ``grades.csv``, from its results."""
    return {"student_id": student_id, "assignment": assignment_id, "score": results["score"],
            "max_score": results["max_score"], "status": results["extra_data"]["status"]}


def write_grades(out: Path, rows: list[dict]) -> Path:
    """Write ``out/grades.csv`` atomically: a reader sees the old file or the new one."""
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return write_atomically(out / "grades.csv", text.getvalue(), durable=True)


def grader_errors(rows: list[dict], out: Path) -> list[str]:
    """One line per ``grader error`` row: student, assignment and why (from results.json)."""
    lines = []
    for row in rows:
        if row["status"] != "grader error":
            continue
        try:
            results = json.loads((out / row["student_id"] / row["assignment"]
                                  / "results.json").read_text())
            blamed = [str(t["output"]) for t in results["tests"]
                      if str(t["output"]).startswith("grader error")]
            reasons = [results["extra_data"].get("problem"), *blamed[:1]]
            reason = "; ".join(str(r) for r in reasons if r) or "see its grading.log"
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            reason = "see its results.json and grading.log"
        reason = "".join(c if c.isprintable() else " " for c in reason[:2000])
        lines.append(f"grader error: student {row['student_id']}, assignment "
                     f"{row['assignment']}: {reason}")
    return lines


def _outcome(future, failed):
    """The result of ``future``, or ``failed(error)`` where the grader itself failed: never
    an exception, so that the class's grades are written all the same."""
    try:
        return future.result()
    except Exception as error:
        return failed(error)


def in_shard(student_id: str, shard: tuple[int, int] | None) -> bool:
    """Whether ``student_id`` is graded by shard ``(k, n)`` (k of n, from 1): students are
    dealt by a hash of their id, so every machine deals them alike whatever else it sees."""
    if shard is None:
        return True
    number, count = shard
    hashed = int.from_bytes(hashlib.sha256(student_id.encode("utf-8")).digest()[:8], "big")
    return hashed % count == number - 1


def merge_outputs(shards: list[Path], out: Path) -> list[dict]:
    """Join the output folders of several ``cnnlab grade --shard`` runs into ``out``: each
    submission's folder is copied, and ``grades.csv`` is written from all their results.
    A submission found in two shards is an error (``ValueError``), unless the two are the
    same. Returns the rows of ``grades.csv``."""
    found: dict[tuple[str, str], Path] = {}
    for shard in shards:
        for results in sorted(shard.glob("*/*/results.json")):
            student, assignment = results.parent.parent.name, results.parent.name
            if assignment not in ASSIGNMENTS or student_id_problem(student):
                continue
            key = (student, assignment)
            if key in found and found[key].read_bytes() != results.read_bytes():
                raise ValueError(f"{student}/{assignment} was graded in both {found[key]} "
                                 f"and {results}")
            found[key] = results
    rows = []
    for (student, assignment), results in sorted(found.items()):
        target = out / student / assignment
        if target.resolve() != results.parent.resolve():
            shutil.copytree(results.parent, target, dirs_exist_ok=True)
        rows.append(grades_row(student, assignment, read_results(
            target / "results.json", ASSIGNMENTS[assignment].max_score)))
    out.mkdir(parents=True, exist_ok=True)
    write_grades(out, rows)
    return rows


def grade_class(submissions_root: Path, out: Path, only: list[str] | None = None,
                jobs: int = 1, log=print, allow_unsafe: bool = False,
                reports: bool = True, progress: bool = False, force: bool = False,
                shard: tuple[int, int] | None = None) -> list[dict]:
    """Grade every submission under ``submissions_root`` into ``out``; return the csv rows,
    one per submission, read from the results on disk.

    A submission whose results in ``out`` come from a finished grading of the same files by
    the same grader (``autograder.digests``) is not graded again, unless ``force``. With
    ``shard`` ``(k, n)``, only the students of that shard are graded (see ``in_shard``). With
    ``reports``, also write the HTML reports (``autograder.report``); with ``progress``,
    show a progress bar on stderr.

    Raises ``GradingRefused`` (before anything runs) where the machine allows no namespaces
    and ``allow_unsafe`` is false, and ``GradingInterrupted`` after writing ``grades.csv``
    when SIGINT or SIGTERM stopped the run.
    """
    started = time.monotonic()
    warnings = []
    if isolation_level() == ISOLATION_LIMITS:
        if not allow_unsafe:
            raise GradingRefused(UNSAFE_MESSAGE)
        warnings.append("this machine allows no namespaces: student code runs with resource "
                        "limits only and can read what this user can (--unsafe-no-isolation)")
    running = Jobs()
    with _stop_on_signals(running):
        submissions, found_warnings = find_submissions(submissions_root, only)
        submissions = [s for s in submissions if in_shard(s.student_id, shard)]
        for warning in warnings + found_warnings:
            log(f"warning: {warning}")
        out.mkdir(parents=True, exist_ok=True)
        level = isolation_level()
        submissions = [s if s.refused else replace(
            s, digest=content_digest(s.folder, s.assignment, level)) for s in submissions]
        done = {s: graded_before(s, out) for s in submissions if not force}
        done = {s: results for s, results in done.items() if results is not None}
        if done:
            log(f"kept the results of {len(done)} submissions graded before with the same "
                "files and grader (--force grades them again)")
        fresh = [s for s in submissions if s not in done]
        for submission in fresh:  # a result of an earlier run must not stand
            path = submission.results_path(out)
            for stale in (path, path.with_name("grading.log")):
                with contextlib.suppress(FileNotFoundError):
                    stale.unlink()
        results = done | _grade(fresh, out, jobs, running, log, progress)
        rows = [grades_row(s.student_id, s.assignment.id, results[s]) for s in submissions]
        write_grades(out, rows)
        if reports:
            write_class_reports(out, log)
    if running.signum is not None:
        raise GradingInterrupted(running.signum, rows)
    log(f"graded {len(submissions)} submissions in {time.monotonic() - started:.1f} s")
    return rows


def write_class_reports(out: Path, log) -> None:
    """The HTML reports of ``out``; a failure to draw them is logged, and loses no grade."""
    from autograder.report import write_reports  # matplotlib: only when reports are wanted

    try:
        write_reports(out)
    except Exception as error:  # the grades are written: a report must not lose them
        log(f"warning: could not write the reports ({type(error).__name__}: {error}); "
            f"`cnnlab report {out}` tries again")


def _show_progress(graded: list, scratch: Path, total: int, shown: bool) -> None:
    """Until every grading job in ``graded`` is done, a progress bar on stderr (where
    ``shown``): submissions done, how many failed to run (did not end as ``graded``: an import
    error, a timeout, a crash) and the time left. Each job adds a line with a submission's
    status to ``PROGRESS_FILE`` in its folder when it is done with it."""
    if not shown:  # nobody watches: the progress files need not be read
        return
    with tqdm(total=total, unit="submission", desc="grading", file=sys.stderr,
              dynamic_ncols=True) as bar:
        finished = False
        while not finished:
            finished = not wait(graded, timeout=PROGRESS_SECONDS).not_done
            statuses = [line for path in scratch.glob(f"*/{PROGRESS_FILE}")
                        for line in _read_lines(path)]
            bar.set_postfix_str(f"{sum(s != 'graded' for s in statuses)} failed to run",
                                refresh=False)
            bar.update(len(statuses) - bar.n)


def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_text().split()
    except OSError:
        return []


def _grade(submissions: list[Submission], out: Path, jobs: int,
           running: Jobs, log, progress: bool = False) -> dict[Submission, dict]:
    """Run the grading jobs in one scratch folder, which is removed at the end whatever
    happens; return each submission's results."""
    to_grade = [s for s in submissions if not s.refused]
    work = batches(to_grade, jobs)
    scratch = Path(tempfile.mkdtemp(prefix="cnnlab-grade-"))
    with _subreaper():
        try:
            with ThreadPoolExecutor(max_workers=max(jobs, 1)) as pool:
                graded = [pool.submit(grade_batch, batch, out, scratch / f"job-{number}",
                                      running)
                          for number, batch in enumerate(work)]
                _show_progress(graded, scratch, len(to_grade), progress)
                outcomes = [_outcome(future, lambda error: (
                    f"the grader failed: {type(error).__name__}: {error}", b""))
                    for future in graded]
        finally:
            running.kill_all()
            left = remove_tree(scratch)
            if left:
                log(f"warning: could not remove the scratch folder {str(scratch)!r}: "
                    f"{', '.join(repr(p) for p in left)}")
            try:
                stuck = sweep()
            except OSError as error:  # cleaning up must not lose the grades
                stuck = [f"{type(error).__name__}: {error}"]
            if stuck:
                log(f"warning: the sandbox's clean-up left {stuck!r}")
    results = {}
    for batch, (problem, printed) in zip(work, outcomes, strict=True):
        for s in batch:
            results[s] = read_results(s.results_path(out), s.assignment.max_score, problem,
                                      printed)
    for s in submissions:
        if s.refused:
            results[s] = refused_results(s, s.results_path(out))
    return results
