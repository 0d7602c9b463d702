"""The sandboxed worker: what student code can and cannot do, and how failures read.

Most tests run at every isolation level this machine allows (``CNNLAB_ISOLATION`` forces a
weaker one), so a grader running as root also proves the user-namespace path.
"""

from __future__ import annotations

import os
import re
import socket
import sysconfig
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from support import AS_ROOT, open_student, with_limits

from autograder import sandbox
from autograder.sandbox import (
    ISOLATION_LIMITS,
    WORKER_UID_BASE,
)
from autograder.student import StudentError, StudentModule, StudentRaised
from cnnlab.course import REPO_ROOT, Graded, get_assignment

MODULE = '''
import os, signal, socket, subprocess, sys, time
import numpy as np

def double(x):
    return 2 * x

def read(path):
    with open(path, "rb") as handle:
        return handle.read(100).decode("latin-1")

def write(path, text):
    with open(path, "w") as handle:
        handle.write(text)
    return True

def exists(path):
    return os.path.exists(path)

def walk(top):
    """Every path visible under top, /proc left out."""
    seen = []
    for folder, folders, files in os.walk(top):
        if folder.startswith("/proc"):
            folders[:] = []
            continue
        seen += [os.path.join(folder, name) for name in folders + files]
    return seen

def processes():
    return sorted(int(p) for p in os.listdir("/proc") if p.isdigit())

def connect_tcp():
    socket.create_connection(("127.0.0.1", 9), timeout=1)

def connect_unix(address):
    client = socket.socket(socket.AF_UNIX)
    client.connect(address)
    return True

def whoami():
    return os.getuid()

def spin():
    while True:
        pass

def print_forever():
    while True:
        print("x" * 1000)

def sleep_forever():
    time.sleep(10_000)

def allocate(gib):
    return np.ones(int(gib * 2**30 // 8)).sum()

def fill(path, mib):
    with open(path, "wb") as handle:
        for _ in range(mib):
            handle.write(b"x" * 2**20)
    return True

def leave_daemon(marker):
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", marker],
                     start_new_session=True)
    if os.fork() == 0:  # and a double-forked one
        if os.fork() == 0:
            os.setsid()
            os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(60)",
                                      marker])
        os._exit(0)
    return True

def hard_exit():
    os._exit(7)

def kill_parents():
    for pid in (os.getppid(), 1, -1):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    return True

def close_reply_pipe_and_stay():
    os.close(int(sys.argv[2]))
    time.sleep(60)

def forge_reply(json_text, buffers=b""):
    import struct
    data = json_text.encode()
    os.write(int(sys.argv[2]), struct.pack(">II", len(data), len(buffers)) + data + buffers)
    time.sleep(60)

def shapes(arrays):
    return {name: array.shape for name, array in arrays.items()}

def nest_a_namespace():
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(0x10000000 | 0x00020000) != 0:  # CLONE_NEWUSER | CLONE_NEWNS
        error = ctypes.get_errno()
        raise OSError(error, os.strerror(error))  # PermissionError for EPERM
    return True

def memory_file():
    return os.memfd_create("code")

def weird():
    return object()

def big_endian():
    return np.arange(6, dtype=">f8").reshape(2, 3)

def non_finite():
    return np.float64("nan"), np.float32("inf"), float("-inf")

def huge_string():
    return "x" * 4_000_000

def long_message():
    raise ValueError("y" * 300_000)

def deep_folders(depth):
    home = os.getcwd()
    for top in ("/tmp", home):
        os.chdir(top)
        for _ in range(depth):
            os.mkdir("d")
            os.chdir("d")
    os.chdir(home)
    return True

def busy_children(count, seconds):
    for _ in range(count):
        if os.fork() == 0:
            os.setsid()
            end = time.time() + seconds
            while time.time() < end:
                pass
            os._exit(0)
    return True

def fork_forever():
    while True:
        if os.fork() == 0:
            time.sleep(60)
            os._exit(0)

def environment():
    return dict(os.environ)

def fail():
    raise KeyError("missing key")

def shout(megabytes):
    chunk = "z" * 2**20
    for _ in range(megabytes):
        print(chunk)
    return True

def escape_numpy_only():
    sys.meta_path[:] = [f for f in sys.meta_path if "Forbidden" not in type(f).__name__]
    for name in list(sys.modules):
        if name.startswith("torch"):
            del sys.modules[name]
    sys.path += ["/root/.pyenv/versions/3.11.7/lib/python3.11/site-packages",
                 "/usr/lib/python3/dist-packages", "/usr/local/lib/python3.11/site-packages"]
    import torch
    return float(torch.ones(1).sum())

def use_torch():
    import torch
    return float(torch.ones(1).sum())
'''


def limits(assignment_id: str = "a02_convolution", **changes):
    """An assignment (a02, numpy only, by default) with shorter limits, grading every
    function of ``MODULE``."""
    shorter = with_limits(assignment_id, call_seconds=3, import_seconds=10,
                          memory_bytes=2 * 1024**3, **changes)
    graded = tuple(Graded(name, 1) for name in re.findall(r"^def (\w+)", MODULE, re.M))
    return replace(shorter, graded=graded + (Graded("total", 1), Graded("nothing_here", 1)))


def _open(folder: Path, assignment=None, source: str = MODULE) -> StudentModule:
    return open_student(folder, assignment or limits(), source)


@pytest.fixture
def student(tmp_path, level):
    module = _open(tmp_path / "submission")
    (tmp_path / "submission" / "secret.py").symlink_to(REPO_ROOT / "autograder" / "plugin.py")
    yield module
    module.close()


# -- what the box holds ---------------------------------------------------------------------


def test_arrays_and_scalars_cross_the_boundary(student):
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    doubled = student.double(x)
    assert doubled.dtype == np.float32 and np.array_equal(doubled, 2 * x)
    assert student.double((1, 2)) == (1, 2, 1, 2)


def _allowed(path: str) -> bool:
    """The allow list, written out: what a worker may see, and nothing else."""
    binds, empty, links = sandbox.system_paths()
    allowed = [b["target"] for b in binds] + [link for link, _ in links] + [
        "/box/work", "/box/runtime", "/tmp", "/var/tmp", "/dev/shm", "/etc/ld.so.cache",
        "/proc"]
    allowed += [f"/dev/{name}" for name in ("null", "zero", "full", "random", "urandom",
                                            "fd", "stdin", "stdout", "stderr")]
    allowed += [f"{sandbox.BOX_LIB}/{top}" for _, top in sandbox.library_entries(("numpy",))]
    if any(path == a or path.startswith(a + "/") for a in allowed):
        return True
    return any(a.startswith(path + "/") for a in allowed)  # a folder on the way to one


def test_the_worker_sees_exactly_the_allow_list(student, tmp_path):
    planted = [tmp_path / "secret-answers.py",
               Path("/tmp") / f"cnnlab-planted-{os.getpid()}.txt"]
    for secret in planted:
        secret.write_text("the answers")
    try:
        visible = student.walk("/")
    finally:
        for secret in planted:
            secret.unlink()
    assert "/box/work/output_size.py" not in visible  # a02's module is convolution.py
    assert "/box/work/convolution.py" in visible and "/box/runtime/worker.py" in visible
    outside = [path for path in visible if not _allowed(path)]
    assert outside == []
    assert not any("planted" in path or "secret-answers" in path for path in visible)
    assert not any("torch" in path.split("/")[-1] for path in visible)


@pytest.mark.parametrize("secret", [
    REPO_ROOT / "solutions" / "a02_convolution" / "convolution.py",
    REPO_ROOT / "autograder" / "suites",
    REPO_ROOT,
    Path(sysconfig.get_paths()["purelib"]) / "torch",
    Path("/etc/passwd"),
])
def test_course_and_machine_are_not_there(student, secret):
    assert student.exists(str(secret)) is False


def test_another_clone_of_the_course_is_not_there(student, tmp_path):
    clone = tmp_path / "srv" / "cnnlab" / "solutions" / "a02_convolution"
    clone.mkdir(parents=True)
    (clone / "convolution.py").write_text("def conv2d_forward(): return 'the answer'")
    assert student.exists(str(clone / "convolution.py")) is False


def test_links_in_the_submission_are_not_followed(student):
    assert student.exists("/box/work/secret.py") is False
    assert student.exists("/box/work/convolution.py") is True


def test_no_network(student):
    with pytest.raises(StudentRaised) as raised:
        student.connect_tcp()
    assert raised.value.type_name in ("OSError", "ConnectionRefusedError")


def test_no_unix_socket_outside_the_box(student, tmp_path):
    path = tmp_path / "listening.sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    abstract = socket.socket(socket.AF_UNIX)
    abstract.bind(f"\0cnnlab-test-{os.getpid()}")
    for listening in (server, abstract):
        listening.listen()
    try:
        for address in (str(path), f"\0cnnlab-test-{os.getpid()}"):
            with pytest.raises(StudentRaised):
                student.connect_unix(address)
    finally:
        server.close()
        abstract.close()


def test_only_the_boxs_own_processes_are_visible(student):
    assert student.processes() == [1, 2]  # the box's init and the worker itself


def test_the_environment_carries_nothing_of_the_grader(student, monkeypatch):
    monkeypatch.setenv("CNNLAB_SEED", "1234")
    student.close()  # the next call starts a worker with the environment as it is now
    assert "CNNLAB_SEED" not in student.environment()
    assert set(student.environment()) <= {"PATH", "HOME", "LANG", "OMP_NUM_THREADS",
                                          "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                                          "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "LC_CTYPE"}


@AS_ROOT
def test_runs_as_a_user_of_the_reserved_block(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNLAB_ISOLATION", "root")
    first, second = _open(tmp_path / "one"), _open(tmp_path / "two")
    try:
        uids = {first.whoami(), second.whoami()}
    finally:
        first.close()
        second.close()
    assert len(uids) == 2
    assert all(WORKER_UID_BASE <= uid < WORKER_UID_BASE + sandbox.WORKER_UID_COUNT
               for uid in uids)


# -- nothing outlives a worker, nothing crosses between workers -----------------------------


@pytest.mark.parametrize("folder", ["/tmp", "/var/tmp", "/dev/shm", "/box/work"])
def test_files_written_vanish_with_the_worker(student, folder):
    marker = f"{folder}/stash-{os.getpid()}"
    assert student.write(marker, "kept?") is True
    assert student.exists(marker) is True
    student.close()
    assert student.exists(marker) is False
    assert not os.path.exists(marker)  # nor on the machine


def test_a_classmate_graded_at_the_same_time_is_invisible(tmp_path, level):
    alice, bob = _open(tmp_path / "alice"), _open(tmp_path / "bob")
    try:
        assert alice.write("/box/work/alices-answer.py", "secret") is True
        assert alice.write("/tmp/alices-note", "secret") is True
        assert bob.exists("/box/work/alices-answer.py") is False
        assert bob.exists("/tmp/alices-note") is False
        assert not any("alice" in path for path in bob.walk("/"))
    finally:
        alice.close()
        bob.close()


def test_no_sandbox_folder_is_left_on_the_machine(student):
    before = set(Path("/tmp").glob("cnnlab-sandbox-*"))
    student.double(1)
    student.deep_folders(3000)
    student.close()
    assert set(Path("/tmp").glob("cnnlab-sandbox-*")) == before


def test_a_deep_folder_chain_does_not_break_the_grader(student):
    assert student.deep_folders(3000) is True
    student.close()
    assert student.double(2) == 4


def _processes_with(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and marker.encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            pass
    return found


def test_processes_left_behind_are_killed(student):
    marker = f"cnnlab-daemon-{os.getpid()}-{time.monotonic_ns()}"
    assert student.leave_daemon(marker) is True
    time.sleep(0.5)
    assert len(_processes_with(marker)) == 2
    student.close()
    time.sleep(0.5)
    assert _processes_with(marker) == []


@pytest.mark.parametrize("call", ["nest_a_namespace", "memory_file"])
def test_namespaces_and_memory_files_are_refused(student, call):
    with pytest.raises(StudentRaised) as raised:
        student.call(call)
    assert raised.value.type_name == "PermissionError"


def test_killing_the_parents_harms_nobody(student):
    assert student.kill_parents() is True
    assert student.double(3) == 6
    assert student.status == "graded"


def test_a_fork_bomb_is_contained(student):
    started = time.monotonic()
    with pytest.raises(StudentError):
        student.fork_forever()
    assert time.monotonic() - started < 12
    student.close()
    assert student.double(5) == 10


# -- limits ---------------------------------------------------------------------------------


def test_endless_loop_times_out_and_the_worker_comes_back(student):
    started = time.monotonic()
    with pytest.raises(StudentError, match="did not return within 3 s"):
        student.spin()
    assert time.monotonic() - started < 12
    assert student.double(2) == 4
    assert student.status == "timeout"


def test_printing_without_end_times_out_as_an_endless_loop_does(student):
    "the grader wakes for each burst of output: the call's time limit holds all the same"
    started = time.monotonic()
    with pytest.raises(StudentError, match="did not return within 3 s"):
        student.print_forever()
    assert time.monotonic() - started < 12
    assert student.double(2) == 4


def test_sleeping_forever_times_out_on_the_wall_clock(student):
    with pytest.raises(StudentError, match="did not return"):
        student.sleep_forever()


def test_a_function_that_keeps_timing_out_is_not_waited_for_again(student):
    for _ in range(2):
        with pytest.raises(StudentError, match="did not return"):
            student.spin()
    started = time.monotonic()
    with pytest.raises(StudentError, match="already timed out 2 times"):
        student.spin()
    assert time.monotonic() - started < 0.5


def test_each_function_has_its_own_time_budget(tmp_path, level):
    student = _open(tmp_path / "s", limits(function_seconds=4))
    try:
        for _ in range(2):
            with pytest.raises(StudentError):
                student.spin()  # 3 s, then the last 1 s of its budget
        with pytest.raises(StudentError, match="spin used up its time budget of 4 s"):
            student.spin()
        assert student.double(7) == 14  # another function still runs
    finally:
        student.close()


def test_memory_limit(student):
    with pytest.raises(StudentError) as raised:
        student.allocate(4)
    assert "MemoryError" in raised.value.feedback or "killed" in raised.value.feedback
    assert student.double(1) == 2


@pytest.mark.parametrize("folder", ["/dev/shm", "/tmp", "/box/work"])
def test_the_private_tmpfs_are_small(student, folder):
    with pytest.raises(StudentError):
        student.fill(f"{folder}/big", 120)
    assert student.double(1) == 2


@AS_ROOT
def test_busy_children_get_one_cpu_between_them(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNLAB_ISOLATION", "root")
    student = _open(tmp_path / "s")
    try:
        student.double(1)
        started, before = time.monotonic(), student.worker.cpu_seconds()
        assert student.busy_children(20, 1.5) is True
        time.sleep(1.5)
        used = student.worker.cpu_seconds() - before
        elapsed = time.monotonic() - started  # the forks share the quota: they take time
    finally:
        student.close()
    assert used < elapsed * 1.25, \
        f"{used:.2f} CPU seconds in {elapsed:.2f} s: the quota did not hold"


def test_printing_a_lot_fails_nothing(tmp_path, level):
    printer = MODULE + "\nprint('x' * 2**20 * 200)\n"
    student = _open(tmp_path / "s", source=printer)
    try:
        assert student.double(2) == 4
        assert student.shout(50) is True
        assert student.worker.output.dropped > 200 * 2**20
        assert len(student.worker.output.data) <= 64 * 1024
    finally:
        student.close()


# -- replies --------------------------------------------------------------------------------


def test_hard_exit_is_reported_as_a_crash(student):
    with pytest.raises(StudentError, match="exited with code 7"):
        student.hard_exit()
    assert student.status == "crashed"
    assert student.double(3) == 6


def test_a_worker_that_closes_its_pipe_is_not_waited_for(student):
    started = time.monotonic()
    with pytest.raises(StudentError, match="crashed"):
        student.close_reply_pipe_and_stay()
    assert time.monotonic() - started < 5
    assert student.double(1) == 2


@pytest.mark.parametrize("forged", [
    '{"ok": true, "value": {"__npscalar__": {"dtype": "int64", "value": ' + "1" * 31 + "}}}",
    '{"ok": false, "error": {"kind": "raised", "type": "ValueError", "mro": 5, '
    '"message": "x"}}',
    '{"ok": true, "value": ' + "[" * 100_000 + "]" * 100_000 + "}",
    '{"ok": "yes"}',
    '[1, 2]',
    "not json",
])
def test_a_forged_reply_is_the_students_failure(student, forged):
    assert student.double(1) == 2
    launcher = student.worker.process.pid
    with pytest.raises(StudentError) as raised:
        student.forge_reply(forged)
    if student.worker is None:  # a reply the grader could not read: that worker is gone
        with pytest.raises(ProcessLookupError):
            os.kill(launcher, 0)
    assert "grader error" not in raised.value.feedback
    assert student.status != "grader error"
    student.close()  # a forged reply that reads well leaves the worker busy: start anew
    assert student.double(1) == 2


def test_a_state_dict_of_resnet50_size_crosses_to_the_worker(student):
    weights = {f"layer{i}.weight": np.zeros((256, 256, 3, 3), np.float32) for i in range(45)}
    assert student.shapes(weights) == {name: (256, 256, 3, 3) for name in weights}


def test_a_huge_reply_is_refused_before_it_is_read(student):
    with pytest.raises(StudentError, match="cannot read"):
        student.huge_string()


def test_exception_messages_are_clipped(student):
    with pytest.raises(StudentRaised) as raised:
        student.long_message()
    assert len(raised.value.feedback) < 3000


def test_big_endian_and_non_finite_values_read_true(student):
    assert np.array_equal(student.big_endian(), np.arange(6.0).reshape(2, 3))
    nan, inf, minus_inf = student.non_finite()
    assert np.isnan(nan) and inf == np.inf and minus_inf == -np.inf


def test_unsupported_results_and_exceptions_read_clearly(student):
    assert "object" in repr(student.weird())
    with pytest.raises(StudentRaised, match="fail raised KeyError: 'missing key'") as raised:
        student.fail()
    assert 'convolution.py", line' in raised.value.feedback


def test_missing_function(student):
    with pytest.raises(StudentError, match="has no function nothing_here"):
        student.nothing_here()


def test_a_missing_module_is_named_with_what_the_folder_holds(tmp_path, level):
    (tmp_path / "Output_Size.py").write_text("def conv_output_size(): pass\n")
    module = StudentModule(get_assignment("a01_output_size"), tmp_path)
    with pytest.raises(StudentError, match=r"output_size.py is missing from the submission "
                                           r"\(it holds: Output_Size.py\)"):
        module.conv_output_size(5, 3)
    assert module.status == "import error"


# -- the numpy-only rule --------------------------------------------------------------------


def test_numpy_only_cannot_be_escaped(student):
    with pytest.raises(StudentRaised) as raised:
        student.escape_numpy_only()
    assert "numpy alone" in raised.value.feedback
    with pytest.raises(StudentRaised, match="numpy alone"):
        student.use_torch()
    assert student.double(4) == 8


def test_a_forbidden_decorator_at_import_costs_only_its_function(tmp_path, level):
    source = MODULE + '''
import numba

@numba.njit
def _fast_sum(x):
    return x.sum()

def total(x):
    return _fast_sum(x)
'''
    student = _open(tmp_path / "s", source=source)
    try:
        with pytest.raises(StudentRaised, match="total earns no credit: this assignment "
                                                "allows numpy only, and it uses 'numba'"):
            student.total(np.ones(3))
        assert student.double(2) == 4
        assert student.status == "graded"
    finally:
        student.close()


def test_torch_is_there_where_the_assignment_allows_it(tmp_path, level):
    student = _open(tmp_path / "s", limits("a01_output_size"))
    try:
        assert student.use_torch() == 1.0
    finally:
        student.close()


# -- without a box --------------------------------------------------------------------------


def test_resource_limits_only_still_grades(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNLAB_ISOLATION", "limits")
    student = _open(tmp_path / "s")
    try:
        assert sandbox.isolation_level() == ISOLATION_LIMITS
        assert student.double(21) == 42
        with pytest.raises(StudentError, match="did not return"):
            student.spin()
    finally:
        student.close()
    assert not list(Path("/tmp").glob(f"cnnlab-sandbox-*/work/{student.filename}"))


def test_a_level_stronger_than_the_machine_allows_is_refused(monkeypatch):
    monkeypatch.setenv("CNNLAB_ISOLATION", "sideways")
    with pytest.raises(sandbox.SandboxError, match="use one of"):
        sandbox.isolation_level()
