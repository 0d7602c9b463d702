"""Start a student's module in an isolated worker process and talk to it.

The worker (``worker.py`` beside this file) runs with:
- a copy of the submission's plain files as its working directory, nothing else of theirs;
- resource limits: address space, CPU seconds, file size, open files, processes;
- when the grader runs as root: its own mount and network namespaces, in which the course
  repository, the submissions and the output folder are covered by empty read-only mounts
  (so ``solutions/`` and ``autograder/`` cannot be read), no network, and a user id of its
  own, so that every process it leaves behind can be killed;
- as another user: the same namespaces through a user namespace where the kernel allows it,
  else the resource limits only (``isolation_level`` says which).

Nothing the worker sends is unpickled or executed: replies are decoded by ``wire``.
"""

from __future__ import annotations

import ctypes
import os
import resource
import select
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from functools import cache
from pathlib import Path

from autograder import wire

RUNTIME_FILES = ("worker.py", "wire.py")
MAX_SUBMISSION_BYTES = 20 * 1024 * 1024
MAX_PROCESSES = 64
MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_OPEN_FILES = 256
OUTPUT_TAIL_BYTES = 2000

_CLONE_NEWNS = 0x00020000
_CLONE_NEWIPC = 0x08000000
_CLONE_NEWUSER = 0x10000000
_CLONE_NEWNET = 0x40000000
_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_NOEXEC = 1, 2, 4, 8
_MS_BIND, _MS_REC, _MS_PRIVATE = 1 << 12, 1 << 14, 1 << 18

ISOLATION_ROOT = "namespaces and own user"
ISOLATION_USERNS = "namespaces (user namespace)"
ISOLATION_LIMITS = "resource limits only"


class WorkerTimeout(Exception):
    """The worker did not answer within the time limit; it has been killed."""


class WorkerDied(Exception):
    """The worker process ended (crash, ``os._exit``, memory limit) before answering."""

    def __init__(self, message: str, output: str) -> None:
        super().__init__(message)
        self.output = output


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _enter_namespaces(flags: int, hidden: list[str],
                      reachable: dict[str, list[str]] | None = None, stash: str = "") -> None:
    """In a forked child: new namespaces, then an empty read-only mount over each hidden path.

    ``reachable`` maps a folder that other users may not enter (``/root``) to the folders
    below it that the worker needs (the Python installation). Those are bound to numbered
    folders under ``stash``, the closed folder is covered by an empty tmpfs that anyone may
    enter, and they are bound back at their own paths: the worker sees them, nothing beside.
    """
    libc = _libc()
    _check(libc.unshare(flags), "unshare")
    _check(libc.mount(None, b"/", None, _MS_REC | _MS_PRIVATE, None), "make / private")
    for number, (closed, folders) in enumerate((reachable or {}).items()):
        stashed = [os.path.join(stash, f"{number}.{i}") for i in range(len(folders))]
        for folder, place in zip(folders, stashed, strict=True):
            _bind(libc, folder, place)
        _check(libc.mount(b"tmpfs", os.fsencode(closed), b"tmpfs", _MS_NOSUID | _MS_NODEV,
                          b"size=64k,mode=755"), f"open {closed}")
        for folder, place in zip(folders, stashed, strict=True):
            os.makedirs(folder, exist_ok=True)
            _bind(libc, place, folder)
    for path in hidden:
        if os.path.exists(path):  # else already covered by one of the tmpfs above
            _check(libc.mount(b"tmpfs", os.fsencode(path), b"tmpfs",
                              _MS_RDONLY | _MS_NOSUID | _MS_NODEV | _MS_NOEXEC,
                              b"size=4k,mode=000"), f"hide {path}")


def _bind(libc, source: str, target: str) -> None:
    _check(libc.mount(os.fsencode(source), os.fsencode(target), None, _MS_BIND | _MS_REC, None),
           f"bind {source} to {target}")


def closed_ancestors() -> dict[str, list[str]]:
    """Folders that other users may not enter, each with the Python installations below it
    that the worker needs (empty where every installation is open to all)."""
    plan: dict[str, list[str]] = {}
    for prefix in sorted({Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()}):
        closed = [a for a in reversed(prefix.parents) if not a.stat().st_mode & stat.S_IXOTH]
        if closed:
            plan.setdefault(str(closed[0]), []).append(str(prefix))
    return plan


@cache
def isolation_level() -> str:
    """The strongest isolation this machine allows, found once by trying it in a child."""
    if os.geteuid() == 0:
        candidates = [(ISOLATION_ROOT, _CLONE_NEWNS | _CLONE_NEWNET | _CLONE_NEWIPC)]
    else:
        candidates = [(ISOLATION_USERNS, _CLONE_NEWUSER | _CLONE_NEWNS | _CLONE_NEWNET)]
    probe_dir = Path(tempfile.mkdtemp(prefix="cnnlab-probe-"))
    marker = probe_dir / "visible"
    marker.touch()
    try:
        for level, flags in candidates:
            pid = os.fork()
            if pid == 0:  # child: try, report by exit status, never return
                try:
                    _enter_namespaces(flags, [str(probe_dir)])
                    os._exit(1 if os.path.exists(marker) else 0)  # False when unreadable
                except BaseException:
                    os._exit(1)
            _, status = os.waitpid(pid, 0)
            if os.waitstatus_to_exitcode(status) == 0:
                return level
    finally:
        shutil.rmtree(probe_dir)
    return ISOLATION_LIMITS


def hidden_paths(extra: list[Path]) -> list[str]:
    """Folders the worker must not see: the course repository (less the folder that holds
    the running Python, if it lies inside) and the given folders (submissions, output)."""
    from cnnlab.course import REPO_ROOT

    python_home = Path(sys.prefix).resolve()
    repo = REPO_ROOT.resolve()
    if repo in python_home.parents:
        paths = [child for child in repo.iterdir()
                 if child.is_dir() and child not in python_home.parents and child != python_home]
    else:
        paths = [repo]
    paths += [p.resolve() for p in extra if p.exists()]
    return sorted({str(p) for p in paths})


def copy_submission(source: Path, target: Path) -> list[str]:
    """Copy the regular files of ``source`` (recursively) into ``target``; skip links,
    special files and anything past ``MAX_SUBMISSION_BYTES``. Return what was skipped,
    as paths relative to ``source``."""
    skipped, total = [], 0
    for path in sorted(source.rglob("*")):
        relative, status = path.relative_to(source), path.lstat()
        if stat.S_ISDIR(status.st_mode):
            (target / relative).mkdir(parents=True, exist_ok=True)
        elif stat.S_ISREG(status.st_mode) and total + status.st_size <= MAX_SUBMISSION_BYTES:
            total += status.st_size
            (target / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target / relative)
        else:
            skipped.append(str(relative))
    return skipped


class SandboxedWorker:
    """One worker process holding one student's module.

    Args:
        submission_dir: the student's folder for one assignment.
        module: name of the module to import from it (``output_size``).
        memory_bytes: address-space limit of the worker (bytes).
        cpu_seconds: CPU-time limit of the worker (s), a backstop behind the wall-clock limits.
        forbidden: top-level module names the student code may not use.
        hide: further folders to hide from the worker (the submissions, the output).
    """

    def __init__(self, submission_dir: Path, module: str, *, memory_bytes: int,
                 cpu_seconds: float, forbidden: tuple[str, ...] = (),
                 hide: tuple[Path, ...] = ()) -> None:
        self.submission_dir = Path(submission_dir)
        self.module = module
        self.memory_bytes = memory_bytes
        self.cpu_seconds = int(cpu_seconds) + 1
        self.forbidden = list(forbidden)
        self.hidden = hidden_paths(list(hide) + [self.submission_dir])
        self.level = isolation_level()
        as_root = self.level == ISOLATION_ROOT
        self.uid = 200_000 + os.getpid() if as_root else None
        self.reachable = closed_ancestors() if as_root else {}
        self.skipped: list[str] = []
        self.process: subprocess.Popen | None = None
        self.base: Path | None = None

    # -- life cycle -------------------------------------------------------------------

    def start(self, timeout: float) -> dict:
        """Start the worker and import the student's module; return the worker's reply."""
        self.base = Path(tempfile.mkdtemp(prefix="cnnlab-sandbox-"))
        runtime, work = self.base / "runtime", self.base / "work"
        runtime.mkdir()
        work.mkdir()
        for number, folders in enumerate(self.reachable.values()):
            for i in range(len(folders)):
                (self.base / "stash" / f"{number}.{i}").mkdir(parents=True)
        for name in RUNTIME_FILES:
            shutil.copyfile(Path(__file__).with_name(name), runtime / name)
        self.skipped = copy_submission(self.submission_dir, work)
        if self.uid is not None:
            os.chmod(self.base, 0o711)
            os.chmod(runtime, 0o755)
            for path in [work, *work.rglob("*")]:
                os.lchown(path, self.uid, self.uid)
        to_worker_r, self._to_worker = os.pipe()
        self._from_worker, from_worker_w = os.pipe()
        self.output_path = self.base / "output.txt"
        with open(self.output_path, "wb") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-E", "-s", "-B", "-u", str(runtime / "worker.py"),
                 str(to_worker_r), str(from_worker_w)],
                cwd=work, env=self._environment(work), stdin=subprocess.DEVNULL,
                stdout=output, stderr=output, pass_fds=(to_worker_r, from_worker_w),
                start_new_session=True, preexec_fn=self._confine,
            )
        os.close(to_worker_r)
        os.close(from_worker_w)
        return self.request({"op": "init", "directory": str(work), "module": self.module,
                             "forbidden": self.forbidden}, timeout)

    def _environment(self, work: Path) -> dict[str, str]:
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(work), "LANG": "C.UTF-8",
               "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
            if name in os.environ:
                env[name] = os.environ[name]
        return env

    def _confine(self) -> None:
        """Runs in the child between fork and exec: namespaces, limits, then the user id."""
        if self.level == ISOLATION_ROOT:
            _enter_namespaces(_CLONE_NEWNS | _CLONE_NEWNET | _CLONE_NEWIPC, self.hidden,
                              self.reachable, str(self.base / "stash"))
        elif self.level == ISOLATION_USERNS:
            _enter_namespaces(_CLONE_NEWUSER | _CLONE_NEWNS | _CLONE_NEWNET, self.hidden)
        limits = [(resource.RLIMIT_AS, self.memory_bytes),
                  (resource.RLIMIT_CPU, self.cpu_seconds),
                  (resource.RLIMIT_FSIZE, MAX_FILE_BYTES),
                  (resource.RLIMIT_NOFILE, MAX_OPEN_FILES),
                  (resource.RLIMIT_CORE, 0)]
        if self.uid is not None:
            limits.append((resource.RLIMIT_NPROC, MAX_PROCESSES))
        for kind, value in limits:
            resource.setrlimit(kind, (value, value))
        if self.uid is not None:
            os.setgroups([])
            os.setgid(self.uid)
            os.setuid(self.uid)

    def stop(self) -> None:
        """Kill the worker and everything it started; remove its folders."""
        if self.process is not None:
            for fd in (self._to_worker, self._from_worker):
                os.close(fd)
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            if self.uid is not None:
                _kill_all_of_user(self.uid)
            self.process.wait()
            self.process = None
        if self.base is not None:
            shutil.rmtree(self.base, ignore_errors=True)
            self.base = None

    # -- talking ----------------------------------------------------------------------

    def request(self, message: dict, timeout: float) -> dict:
        """Send one request and wait up to ``timeout`` seconds for the reply.

        Raises ``WorkerTimeout`` or ``WorkerDied`` (the worker is then stopped), or
        ``wire.WireError`` for a reply that breaks the format.
        """
        deadline = time.monotonic() + timeout
        try:
            frame = wire.encode_message(message)
            view = memoryview(frame)
            while view:
                self._wait(self._to_worker, deadline, timeout, writing=True)
                view = view[os.write(self._to_worker, view):]
            header = self._read_exactly(wire.HEADER_BYTES, deadline, timeout)
            payload = self._read_exactly(wire.decode_length(header), deadline, timeout)
        except BrokenPipeError:
            raise self._died() from None
        return wire.decode_payload(payload)

    def _wait(self, fd: int, deadline: float, timeout: float, writing: bool = False) -> None:
        remaining = max(deadline - time.monotonic(), 0)
        readers, writers = ([], [fd]) if writing else ([fd], [])
        if not any(select.select(readers, writers, [], remaining)):
            self.stop()
            raise WorkerTimeout(f"no answer within {timeout:g} s")

    def _read_exactly(self, count: int, deadline: float, timeout: float) -> bytes:
        chunks = []
        while count:
            self._wait(self._from_worker, deadline, timeout)
            chunk = os.read(self._from_worker, min(count, 1 << 20))
            if not chunk:
                raise self._died()
            chunks.append(chunk)
            count -= len(chunk)
        return b"".join(chunks)

    def _died(self) -> WorkerDied:
        code = self.process.wait() if self.process else None
        output = self.output_tail()
        self.stop()
        return WorkerDied(describe_exit(code), output)

    def output_tail(self) -> str:
        """The last lines the student's code printed (stdout and stderr together)."""
        try:
            with open(self.output_path, "rb") as output:
                output.seek(0, os.SEEK_END)
                output.seek(max(output.tell() - OUTPUT_TAIL_BYTES, 0))
                return output.read().decode("utf-8", "replace")
        except (OSError, AttributeError):
            return ""


def describe_exit(code: int | None) -> str:
    """Say in words how the worker ended, from its exit code."""
    if code is None:
        return "the worker ended"
    if code < 0:
        name = signal.Signals(-code).name if -code in signal.valid_signals() else str(-code)
        hint = {"SIGKILL": " (killed: the memory or CPU limit, or a timeout)",
                "SIGXCPU": " (the CPU-time limit)", "SIGSEGV": " (a crash)"}.get(name, "")
        return f"the worker was killed by {name}{hint}"
    return f"the worker exited with code {code} (sys.exit or os._exit in the student's code?)"


def _kill_all_of_user(uid: int) -> None:
    """Kill every process of ``uid`` (the worker's own user id), daemons and all."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setgid(uid)
            os.setuid(uid)
            os.kill(-1, signal.SIGKILL)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
