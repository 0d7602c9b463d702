"""Attacks on the sandbox v2 that worked when the red team first tried them: each test
asserts the safe behaviour (and failed before the fix that made it hold).

Each hostile module defines the assignment's own function names (a02: ``conv2d_forward``,
``conv2d_backward``, ``conv_transpose2d_forward``), so every call is charged to a graded
function's budget, as in a real grading run.
"""

from __future__ import annotations

import importlib.util
import os
import time
from pathlib import Path

import numpy as np
import pytest
from support import AS_ROOT, BOXED, open_student, with_limits

from autograder.sandbox import remove_tree
from autograder.student import StudentError, StudentModule

USERNS = pytest.mark.skipif("userns" not in BOXED,
                            reason="needs a machine that allows user namespaces")


def _open(folder: Path, source: str, **changes) -> StudentModule:
    return open_student(folder, with_limits("a02_convolution", **changes), source)


# -- (b, c) a submission's wall-clock time is not bounded --------------------------------------


NAPPER = '''
import time

def conv2d_forward(seconds):
    time.sleep(seconds)  # under the call's wall-clock limit, and (as root) no CPU time
    return seconds
'''


@AS_ROOT
def test_sleeping_calls_cannot_outlast_the_submission_time(tmp_path, monkeypatch):
    """As root, a call may take ``wall_factor`` times its CPU limit in wall-clock time but is
    charged only the CPU it used: a function that sleeps just under that in every call is
    never stopped, so one submission can hold its grading job far past
    ``submission_seconds`` (the job is then killed, and the classmates of its batch not yet
    graded get ``grader error``)."""
    monkeypatch.setenv("CNNLAB_ISOLATION", "root")
    student = _open(tmp_path / "s", NAPPER, call_seconds=1, function_seconds=1,
                    submission_seconds=3)
    started = time.monotonic()
    try:
        for _ in range(3):
            try:
                student.conv2d_forward(2.7)  # wall limit of a call: 1 s * 3
            except StudentError:
                pass
    finally:
        student.close()
    assert time.monotonic() - started < 3 + 2.5


# -- (c) a folder chain longer than PATH_MAX in the submission ---------------------------------


def test_a_path_longer_than_path_max_in_the_submission_is_not_a_grader_error(tmp_path):
    """``plan_submission`` stats each entry by its full path: past PATH_MAX that raises
    ``OSError: File name too long`` in the grader, on every call (``grader error``, exit 1)."""
    folder = tmp_path / "s"
    student = _open(folder, "def conv2d_forward(x):\n    return x\n")
    home = os.getcwd()
    os.chdir(folder)
    try:
        for _ in range(2100):  # "d/" * 2100: over 4096 bytes
            os.mkdir("d")
            os.chdir("d")
    finally:
        os.chdir(home)
    try:
        assert student.conv2d_forward(3) == 3
    finally:
        student.close()
        remove_tree(folder)


# -- (d) the numpy-only rule: compiled code of a forbidden library, shipped in the submission --


@pytest.mark.skipif(importlib.util.find_spec("scipy") is None, reason="needs scipy here")
def test_a_compiled_scipy_kernel_in_the_submission_earns_nothing(tmp_path, level):
    """The box mounts its working folder executable, so a submission can carry SciPy's
    compiled correlation kernel (``scipy/signal/_sigtools*.so``, 100 kB, numpy only) under
    its own name, which the forbidden-library finder does not know, and use it for real."""
    import scipy.signal

    shipped = next(Path(scipy.signal.__file__).parent.glob("_sigtools.*.so"))
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / shipped.name).write_bytes(shipped.read_bytes())
    student = _open(folder, '''
import numpy as np
import _sigtools

def conv2d_forward(x, w, b=None):
    n, _, h, width = x.shape
    o, _, kh, kw = w.shape
    out = np.zeros((n, o, h - kh + 1, width - kw + 1))
    for i in range(n):
        for j in range(o):
            plane = np.zeros((1, h - kh + 1, width - kw + 1))
            _sigtools._correlateND(x[i], w[j], plane, 0)
            out[i, j] = plane[0] + b[j]
    return out
''')
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((2, 3, 7, 7)), rng.standard_normal((4, 3, 3, 3)), np.ones(4)
    try:
        with pytest.raises(StudentError):
            student.conv2d_forward(x, w, b)
    finally:
        student.close()




# -- (f) resources of the whole box, where there are no cgroups (user namespace) ---------------


HOG = '''
import os, time

HELD = []

def conv2d_forward(mib):
    """Hold ``mib`` MiB in memfds: tmpfs memory that no RLIMIT_AS counts."""
    chunk = b"x" * 2**20
    for start in range(0, mib, 32):
        fd = os.memfd_create("hold")
        for _ in range(min(32, mib - start)):
            os.write(fd, chunk)
        HELD.append(fd)
    return mib

def conv2d_backward(count):
    """Start ``count`` sleeping processes; return how many the box allowed."""
    made = 0
    for _ in range(count):
        try:
            pid = os.fork()
        except OSError:
            break
        if pid == 0:
            time.sleep(30)
            os._exit(0)
        made += 1
    return made
'''


@USERNS
def test_memfd_memory_counts_against_the_memory_limit_in_a_user_namespace(tmp_path,
                                                                          monkeypatch):
    """Without cgroups only RLIMIT_AS limits memory, and memfd (or a tmpfs mounted in a
    user namespace of the student's own) is not address space: one process holds 2.5x its
    limit, and more processes hold more."""
    monkeypatch.setenv("CNNLAB_ISOLATION", "userns")
    student = _open(tmp_path / "s", HOG, memory_bytes=512 * 2**20)
    try:
        with pytest.raises(StudentError):
            student.conv2d_forward(1280)
    finally:
        student.close()


@USERNS
@pytest.mark.skipif(os.geteuid() == 0, reason="the kernel exempts root's own user from "
                    "RLIMIT_NPROC: only a grader that is not root shows the limit here")
def test_processes_are_limited_in_a_user_namespace(tmp_path, monkeypatch):
    """In a user namespace (no cgroups) the box's processes are limited by RLIMIT_NPROC,
    counted for the grader's user in the box's namespace."""
    monkeypatch.setenv("CNNLAB_ISOLATION", "userns")
    student = _open(tmp_path / "s", HOG)
    try:
        made = student.conv2d_backward(150)
    except StudentError:
        made = 0
    finally:
        student.close()
    assert made < student.limits.processes
