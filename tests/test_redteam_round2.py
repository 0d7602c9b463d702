"""Attacks on the sandbox that worked in the red team's second round: each test asserts the
safe behaviour (and failed before the fix that made it hold).

As in ``test_redteam``, each hostile module defines the assignment's own function names
(a02: ``conv2d_forward``, ...), so that every call is charged to a graded function.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support import open_student, with_limits

from autograder.sandbox import remove_tree, sweep
from autograder.student import GraderError, StudentError, StudentModule
from cnnlab.course import REPO_ROOT, get_assignment


def _open(folder: Path, source: str, **changes) -> StudentModule:
    return open_student(folder, with_limits("a02_convolution", **changes), source)




# -- (1, 7) machine code runs from writable memory, despite noexec ----------------------------


MACHINE_CODE = '''
import ctypes, mmap

def conv2d_forward(value):
    """Write ``mov eax, value; ret`` into anonymous memory mapped writable and executable,
    and call it. The same route runs any compiled code the submission carries as data (a
    forbidden library's kernel, loaded by a small ELF loader written in Python)."""
    page = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    page.write(b"\\xb8" + int(value).to_bytes(4, "little") + b"\\xc3")
    address = ctypes.addressof(ctypes.c_char.from_buffer(page))
    return ctypes.CFUNCTYPE(ctypes.c_int)(address)()

def conv2d_backward(value):
    """The same through mmap(PROT_READ | PROT_WRITE) and then mprotect(PROT_READ | PROT_EXEC)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                          ctypes.c_int, ctypes.c_long]
    address = libc.mmap(None, 4096, 3, 0x22, -1, 0)  # MAP_PRIVATE | MAP_ANONYMOUS
    ctypes.memmove(address, b"\\xb8" + int(value).to_bytes(4, "little") + b"\\xc3", 6)
    if libc.mprotect(ctypes.c_void_p(address), 4096, 5) != 0:
        raise OSError(ctypes.get_errno(), "mprotect")
    return ctypes.CFUNCTYPE(ctypes.c_int)(address)()
'''


@pytest.mark.skipif(os.uname().machine != "x86_64", reason="x86_64 machine code")
@pytest.mark.parametrize("function", ["conv2d_forward", "conv2d_backward"])
def test_machine_code_cannot_run_from_anonymous_memory(tmp_path, level, function):
    """``noexec`` covers files only: anonymous memory may still be mapped (or mprotected)
    executable, so a submission runs machine code it wrote itself, which is what the
    noexec tmpfs and the memfd_create refusal were meant to stop (README: "Nothing writable
    can be run or loaded as code"). A seccomp rule refusing PROT_EXEC for anonymous
    mmap and for mprotect/pkey_mprotect would close it."""
    student = _open(tmp_path / "s", MACHINE_CODE)
    try:
        with pytest.raises(StudentError):
            student.call(function, 42)
    finally:
        student.close()


# -- (3) a worker's exit code poses as a failure of the sandbox ---------------------------------


FAKE_SETUP_FAILURE = '''
import os, sys

def conv2d_forward(x):
    print("sandbox setup failed in build_root (line 1): not the student's fault",
          file=sys.stderr, flush=True)
    os._exit(121)  # autograder.box.SETUP_FAILED
'''


def test_a_worker_cannot_pose_as_a_sandbox_failure(tmp_path, level):
    """The grader tells a box that could not be built from a crashed worker by the
    launcher's exit code alone, SETUP_FAILED (121), which the worker can exit with too: its
    failed call then raises ``GraderError``, the test is recorded as "grader error, not the
    student's fault" with the message the student printed, and the submission's status in
    grades.csv is ``grader error``."""
    student = _open(tmp_path / "s", FAKE_SETUP_FAILURE)
    try:
        with pytest.raises(StudentError):
            student.conv2d_forward(1)
    except GraderError as error:
        pytest.fail(f"the student's os._exit(121) became a grader error: {error}")
    finally:
        student.close()


# -- (5, 6) a `cnnlab grade` killed with SIGKILL leaves its jobs running ------------------------


SLEEPER = '''
import time

def conv2d_forward(*args, **kwargs):
    time.sleep(20)
    raise ValueError("slow")

conv2d_backward = conv_transpose2d_forward = conv2d_forward
'''


def _scratch_of(pid: int) -> Path | None:
    """The run's scratch folder (``cnnlab-grade-*``), from a job's ``--scratch``."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            words = handle.read().decode().split("\0")
        return Path(words[words.index("--scratch") + 1]).parent
    except (OSError, ValueError, IndexError):
        return None


def _processes_naming(text: str) -> list[int]:
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as handle:
                if text.encode() in handle.read():
                    found.append(int(name))
        except OSError:
            pass
    return found


def test_grading_jobs_die_with_a_killed_grade_run(tmp_path):
    """The grading jobs lead sessions of their own and nothing ties them to ``cnnlab
    grade``: killed with SIGKILL (the OOM killer, a CI timeout), it leaves every running job
    and its boxes going, unsupervised, for up to a submission's 900 s each, and its scratch
    folder. A rerun on the same ``--out`` (say, after a student resubmits) finishes and
    writes grades.csv, and then the orphaned job overwrites that student's results.json
    with the old submission's, partial, result (seen: 30/30 in grades.csv, 0/30 in
    results.json)."""
    submissions = tmp_path / "submitted"
    folder = submissions / "eve" / "a02_convolution"
    folder.mkdir(parents=True)
    (folder / f"{get_assignment('a02_convolution').module}.py").write_text(SLEEPER)
    out = tmp_path / "graded"
    run = subprocess.Popen([sys.executable, "-m", "cnnlab.cli", "grade", str(submissions),
                            "--out", str(out), "--jobs", "1"], cwd=REPO_ROOT,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    marker = str(folder)
    scratch = None
    try:
        deadline = time.monotonic() + 90
        while not _processes_naming(f"--submission\0{marker}"):
            assert run.poll() is None, "cnnlab grade ended before its job started"
            assert time.monotonic() < deadline, "the grading job did not start"
            time.sleep(0.2)
        scratch = _scratch_of(_processes_naming(f"--submission\0{marker}")[0])
        time.sleep(2)  # the job is in the student's first call
        run.send_signal(signal.SIGKILL)
        run.wait(timeout=10)
        time.sleep(3)
        left = _processes_naming(f"--submission\0{marker}")
        assert not left, f"the killed run's grading job {left} is still running"
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
        for pid in _processes_naming(f"--submission\0{marker}"):
            try:
                os.killpg(pid, signal.SIGKILL)  # the job leads its group; its boxes die too
            except OSError:
                pass
        time.sleep(1)
        if scratch is not None and scratch.name.startswith("cnnlab-grade-"):
            remove_tree(scratch)
        sweep()  # the killed job's cgroups
