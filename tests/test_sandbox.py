"""The sandboxed worker: what student code can and cannot do, and how failures read."""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import replace

import numpy as np
import pytest

from autograder.sandbox import ISOLATION_LIMITS, isolation_level
from autograder.student import StudentError, StudentModule, StudentRaised
from cnnlab.course import REPO_ROOT, get_assignment

ISOLATED = pytest.mark.skipif(isolation_level() == ISOLATION_LIMITS,
                              reason="this machine allows no namespaces")
AS_ROOT = pytest.mark.skipif(os.geteuid() != 0, reason="needs the grader to run as root")

MODULE = '''
import os, socket, subprocess, sys, time
import numpy as np

def double(x):
    return 2 * x

def read(path):
    with open(path) as handle:
        return handle.read()

def listing(path):
    return sorted(os.listdir(path))

def connect():
    socket.create_connection(("127.0.0.1", 9), timeout=1)

def whoami():
    return os.getuid()

def spin():
    while True:
        pass

def allocate(gib):
    return np.ones(int(gib * 2**30 // 8)).sum()

def leave_daemon(marker):
    subprocess.Popen([sys.executable, "-c",
                      "import time,sys; time.sleep(3); open(sys.argv[1], 'w').write('alive')",
                      marker], start_new_session=True)
    return True

def hard_exit():
    os._exit(7)

def weird():
    return object()

def fork_forever():
    children = 0
    while True:
        if os.fork() == 0:
            time.sleep(60)
            os._exit(0)
        children += 1

def environment():
    return dict(os.environ)

def fail():
    raise KeyError("missing key")
'''


@pytest.fixture
def student(tmp_path):
    folder = tmp_path / "submission"
    folder.mkdir()
    (folder / "output_size.py").write_text(MODULE)
    (folder / "secret.py").symlink_to(REPO_ROOT / "autograder" / "plugin.py")
    assignment = replace(get_assignment("a01_output_size"),
                         limits=replace(get_assignment("a01_output_size").limits,
                                        call_seconds=3, memory_bytes=2 * 1024**3))
    module = StudentModule(assignment, folder, hide=(tmp_path,))
    yield module
    module.close()


def test_arrays_and_scalars_cross_the_boundary(student):
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    doubled = student.double(x)
    assert doubled.dtype == np.float32 and np.array_equal(doubled, 2 * x)
    assert student.double((1, 2)) == (1, 2, 1, 2)


@ISOLATED
@pytest.mark.parametrize("secret", ["solutions", "autograder", "tests"])
def test_course_folders_are_hidden(student, secret):
    with pytest.raises(StudentRaised) as raised:
        student.listing(str(REPO_ROOT / secret))
    assert raised.value.type_name in ("PermissionError", "FileNotFoundError")


@ISOLATED
def test_reference_solution_cannot_be_read(student):
    with pytest.raises(StudentRaised):
        student.read(str(REPO_ROOT / "solutions" / "a01_output_size" / "output_size.py"))


@ISOLATED
def test_no_network(student):
    with pytest.raises(StudentRaised) as raised:
        student.connect()
    assert raised.value.type_name in ("OSError", "ConnectionRefusedError")
    assert "unreachable" in raised.value.message.lower()


@AS_ROOT
def test_runs_as_an_unprivileged_user(student):
    assert student.whoami() != 0


def test_endless_loop_times_out_and_the_worker_comes_back(student):
    started = time.monotonic()
    with pytest.raises(StudentError, match="did not return within 3 s"):
        student.spin()
    assert time.monotonic() - started < 6
    assert student.double(2) == 4
    assert student.status == "timeout"


def test_a_function_that_keeps_timing_out_is_not_waited_for_again(student):
    for _ in range(2):
        with pytest.raises(StudentError, match="did not return"):
            student.spin()
    started = time.monotonic()
    with pytest.raises(StudentError, match="already timed out 2 times"):
        student.spin()
    assert time.monotonic() - started < 0.5


def test_memory_limit(student):
    with pytest.raises(StudentRaised) as raised:
        student.allocate(4)
    assert raised.value.type_name == "MemoryError"
    assert student.double(1) == 2


def test_hard_exit_is_reported_as_a_crash(student):
    with pytest.raises(StudentError, match="exited with code 7"):
        student.hard_exit()
    assert student.status == "crashed"
    assert student.double(3) == 6


@AS_ROOT
def test_processes_left_behind_are_killed(student):
    with tempfile.TemporaryDirectory() as visible:  # outside the hidden folders
        os.chmod(visible, 0o777)  # the worker's user may write the marker, if it survives
        marker = os.path.join(visible, "daemon-was-here")
        assert student.leave_daemon(marker) is True
        student.close()
        time.sleep(4)
        assert not os.path.exists(marker)


def test_unsupported_results_and_exceptions_read_clearly(student):
    assert "object" in repr(student.weird())
    with pytest.raises(StudentRaised, match="fail raised KeyError: 'missing key'") as raised:
        student.fail()
    assert 'output_size.py", line' in raised.value.feedback


def test_missing_function(student):
    with pytest.raises(StudentError, match="has no function nothing_here"):
        student.nothing_here()


def test_links_in_the_submission_are_not_followed(student):
    assert "secret.py" not in student.listing(".")
    assert "output_size.py" in student.listing(".")


def test_the_environment_carries_nothing_of_the_grader(student, monkeypatch):
    monkeypatch.setenv("CNNLAB_SEED", "1234")
    student.close()  # the next call starts a worker with the environment as it is now
    assert "CNNLAB_SEED" not in student.environment()
    assert set(student.environment()) <= {"PATH", "HOME", "LANG", "OMP_NUM_THREADS",
                                          "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                                          "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "LC_CTYPE"}


@AS_ROOT
def test_a_fork_bomb_is_contained(student):
    started = time.monotonic()
    with pytest.raises(StudentRaised) as raised:
        student.fork_forever()
    assert raised.value.type_name in ("BlockingIOError", "OSError")
    assert time.monotonic() - started < 3
    student.close()
    assert student.double(5) == 10


def test_a_missing_module_is_named_with_what_the_folder_holds(tmp_path):
    (tmp_path / "Output_Size.py").write_text("def conv_output_size(): pass\n")
    module = StudentModule(get_assignment("a01_output_size"), tmp_path)
    with pytest.raises(StudentError, match=r"output_size.py is missing from the submission "
                                           r"\(it holds: Output_Size.py\)"):
        module.conv_output_size(5, 3)
    assert module.status == "import error"
