"""Start a student's module in a sandboxed worker process and talk to it.

The worker (``worker.py`` beside this file) is started by the launcher ``box.py`` in a world
of its own, built from an allow list (see ``box.py`` for how): the interpreter, the standard
library, the Python libraries its assignment may use and nothing else of site-packages, the
system's shared libraries, a private copy of the submission in a tmpfs, private tmpfs for
``/tmp``, ``/var/tmp`` and ``/dev/shm``, a minimal ``/dev`` and its own ``/proc``. No network.

Three isolation levels, the strongest the machine allows (``isolation_level``):

- ``ISOLATION_ROOT`` (the grader runs as root): the box, a user id of its own from a
  reserved range, and cgroups that count memory, processes and CPU time;
- ``ISOLATION_USERNS`` (an ordinary user, user namespaces allowed): the same box through a
  user namespace, with resource limits (``setrlimit``) instead of cgroups;
- ``ISOLATION_LIMITS``: no box, resource limits only. ``cnnlab grade`` refuses to grade at
  this level unless told ``--unsafe-no-isolation``.

``CNNLAB_ISOLATION`` (``root``, ``userns`` or ``limits``) forces a level no stronger than the
machine allows, so that the tests prove every level on one machine.

Nothing the worker sends is trusted: replies are decoded by ``wire`` under ``WireLimits``,
and the student's printing comes back through a pipe of which only the tail is kept.
"""

from __future__ import annotations

import fcntl
import itertools
import json
import os
import pwd
import resource
import select
import shutil
import signal
import stat
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass, field
from functools import cache, cached_property
from importlib import metadata
from pathlib import Path

from autograder import wire

HERE = Path(__file__).resolve().parent
RUNTIME_FILES = ("worker.py", "wire.py")
DRIVERS_DIR = HERE / "drivers"
#: Trusted files a driver imports besides itself, copied beside it into the runtime folder.
DRIVER_COMPANIONS = {
    "torch_training": (DRIVERS_DIR / "torch_modules.py",
                       HERE.parent / "cnnlab" / "backbones.py"),
}

#: Seconds between two readings of a busy worker's CPU time.
CPU_CHECK_SECONDS = 0.25

ISOLATION_ROOT = "namespaces and own user"
ISOLATION_USERNS = "namespaces (user namespace)"
ISOLATION_LIMITS = "resource limits only"
FORCED_LEVELS = {"root": ISOLATION_ROOT, "userns": ISOLATION_USERNS,
                 "limits": ISOLATION_LIMITS}

#: Paths inside the box.
BOX_WORK, BOX_RUNTIME, BOX_LIB = "/box/work", "/box/runtime", "/box/lib"
#: The user id the worker has inside a user namespace (it maps to the grader's own).
USERNS_INSIDE_UID = 1000
#: Worker user ids (as root): a block inside systemd's range for containers, each id held
#: by a lock while a worker uses it, and skipped where a real account has it.
WORKER_UID_BASE, WORKER_UID_COUNT = 1_800_000_000, 4096
#: Where worker cgroups are made, below each controller's root.
CGROUP_PARENT = "cnnlab"


@dataclass(frozen=True)
class BoxLimits:
    """What one worker may use. Sizes in bytes, times in seconds.

    Attributes:
        memory_bytes: address space of each process (``RLIMIT_AS``), and with cgroups the
            memory of the whole box (processes and its tmpfs) plus ``tmpfs_bytes`` * 3.
        processes: processes and threads of the box (cgroup ``pids.max``, else ``RLIMIT_NPROC``
            as root).
        cpus: CPU cores the box may use at once (cgroup CPU quota).
        file_bytes: largest file the student may write (``RLIMIT_FSIZE``).
        open_files: open file descriptors per process.
        tmpfs_bytes: size of each private tmpfs (``/tmp``, ``/var/tmp``, ``/dev/shm``).
        submission_bytes: the most of a submission that is copied into the box.
        output_tail_bytes: how much of the student's printing is kept (the last bytes).
        wire: what the grader accepts in one reply.
    """

    memory_bytes: int = 4 * 1024**3
    processes: int = 64
    cpus: float = 1.0
    file_bytes: int = 64 * 1024**2
    open_files: int = 256
    tmpfs_bytes: int = 64 * 1024**2
    submission_bytes: int = 20 * 1024**2
    output_tail_bytes: int = 64 * 1024
    wire: wire.WireLimits = field(default_factory=wire.WireLimits)


class WorkerTimeout(Exception):
    """The worker did not answer within its time; it has been stopped."""


class WorkerDied(Exception):
    """The worker ended (crash, ``os._exit``, a limit) before answering; it has been stopped.

    Attributes:
        output: the tail of what the student's code printed.
    """

    def __init__(self, message: str, output: str) -> None:
        super().__init__(message)
        self.output = output


class SandboxError(Exception):
    """The sandbox itself failed (it could not be built): the grader's fault."""


# -- isolation level ------------------------------------------------------------------------


@cache
def available_level() -> str:
    """The strongest isolation this machine allows, found once by starting a box."""
    candidates = [ISOLATION_ROOT] if os.geteuid() == 0 else []
    for level in candidates + [ISOLATION_USERNS]:
        if _box_works(level):
            return level
    return ISOLATION_LIMITS


def isolation_level() -> str:
    """The isolation workers get: ``available_level()``, or a weaker one that
    ``CNNLAB_ISOLATION`` asks for."""
    available = available_level()
    asked = os.environ.get("CNNLAB_ISOLATION")
    if not asked:
        return available
    if asked not in FORCED_LEVELS:
        raise SandboxError(f"CNNLAB_ISOLATION={asked!r}: use one of {', '.join(FORCED_LEVELS)}")
    order = list(FORCED_LEVELS.values())
    if order.index(FORCED_LEVELS[asked]) < order.index(available):
        raise SandboxError(f"CNNLAB_ISOLATION={asked!r}: this machine allows only {available!r}")
    return FORCED_LEVELS[asked]


def _box_works(level: str) -> bool:
    with tempfile.TemporaryDirectory(prefix="cnnlab-probe-") as empty:
        plan = SandboxPlan.for_probe(Path(empty), level)
        try:
            launched = subprocess.run(
                [sys.executable, "-I", "-S", str(HERE / "box.py")], input=plan.to_json(),
                capture_output=True, timeout=30, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return False
    return launched.returncode == 0 and launched.stdout == b"box ok\n"


# -- what the box holds ---------------------------------------------------------------------


@cache
def library_entries(libraries: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """``(site-packages folder, top-level name)`` of every file and folder that the given
    distributions and everything they require install (their scripts and caches aside)."""
    wanted, seen, entries = list(libraries), set(), set()
    while wanted:
        name = _normalise(wanted.pop())
        if name in seen:
            continue
        seen.add(name)
        try:
            distribution = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        site = str(Path(distribution.locate_file("")).resolve())
        for path in distribution.files or ():
            top = path.parts[0]
            if top not in ("..", "__pycache__") and not top.endswith(".pth"):
                entries.add((site, top))
        for requirement in distribution.requires or ():
            if "extra ==" not in requirement:
                wanted.append(_requirement_name(requirement))
    return tuple(sorted(e for e in entries if os.path.lexists(os.path.join(*e))))


def _normalise(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def _requirement_name(requirement: str) -> str:
    for stop in " ;[(<>=!~":
        requirement = requirement.split(stop, 1)[0]
    return requirement


@cache
def system_paths() -> tuple[list[dict], list[str], list[list[str]]]:
    """The read-only binds, masked folders and links that every box holds: the
    interpreter, its standard library (with no site-packages) and the shared libraries."""
    binds, empty, links = [], [], []

    def bind(path: str) -> None:
        binds.append({"source": path, "target": path})

    executable = os.path.realpath(sys.executable)
    bind(executable)
    shared = sysconfig.get_config_var("INSTSONAME")
    if sysconfig.get_config_var("Py_ENABLE_SHARED") and shared:
        library = os.path.join(sysconfig.get_config_var("LIBDIR"), shared)
        if os.path.exists(library):
            bind(os.path.realpath(library))
    stdlib = os.path.realpath(sysconfig.get_paths()["stdlib"])
    bind(stdlib)
    empty += [os.path.join(stdlib, name) for name in ("site-packages", "dist-packages")
              if os.path.isdir(os.path.join(stdlib, name))]
    multiarch = sysconfig.get_config_var("MULTIARCH") or ""
    for folder in ("/lib", "/lib64", "/usr/lib64", "/lib/" + multiarch,
                   "/usr/lib/" + multiarch):
        if os.path.islink(folder):
            links.append([folder, os.readlink(folder)])
        elif os.path.realpath(folder) != folder:
            continue  # reached through a link above: the link and its target do
        elif os.path.isdir(folder) and folder.rstrip("/") not in ("/lib", "/usr/lib"):
            bind(folder)
    if os.path.exists("/etc/ld.so.cache"):
        bind("/etc/ld.so.cache")
    return binds, empty, links


def plan_submission(folder: Path, max_bytes: int) -> tuple[list[str], list[str]]:
    """The files of ``folder`` that go into the box (regular files, in order, up to
    ``max_bytes`` in all) and those that do not (links, special files, past the limit), as
    paths relative to ``folder``."""
    files, skipped, total = [], [], 0
    stack = [folder]
    while stack:  # no recursion, so a deep tree cannot break the grader
        current = stack.pop()
        try:
            children = sorted(os.scandir(current), key=lambda e: e.name)
        except OSError:  # unreadable, or a path too long to name (past PATH_MAX)
            skipped.append(os.path.relpath(current, folder))
            continue
        for entry in children:
            relative = os.path.relpath(entry.path, folder)
            try:
                status = entry.stat(follow_symlinks=False)
            except OSError:
                skipped.append(relative)
                continue
            if stat.S_ISDIR(status.st_mode):
                stack.append(Path(entry.path))
            elif stat.S_ISREG(status.st_mode) and total + status.st_size <= max_bytes:
                total += status.st_size
                files.append(relative)
            else:
                skipped.append(relative)
    return files, skipped


@dataclass
class SandboxPlan:
    """Everything ``box.py`` needs to build one box, sent to it as JSON."""

    level: str
    submission: Path
    files: list[str]
    libraries: tuple[str, ...]
    runtime: dict[str, str]
    argv: list[str]
    env: dict[str, str]
    limits: BoxLimits
    uid: int | None = None
    cgroups: list[str] = field(default_factory=list)
    pass_fds: tuple[int, ...] = ()
    status_fd: int = -1

    @classmethod
    def for_probe(cls, empty: Path, level: str) -> SandboxPlan:
        """A box that only prints ``box ok``: proof that this level works here."""
        return cls(level, empty, [], (), {}, [
            os.path.realpath(sys.executable), "-I", "-S", "-c", "print('box ok')"],
            {}, BoxLimits(), uid=WORKER_UID_BASE if level == ISOLATION_ROOT else None)

    def to_json(self) -> bytes:
        binds, empty, links = system_paths()
        binds = binds + [{"source": os.path.join(site, top), "target": f"{BOX_LIB}/{top}"}
                         for site, top in library_entries(self.libraries)]
        limits = self.limits
        rlimits = {"RLIMIT_AS": limits.memory_bytes, "RLIMIT_FSIZE": limits.file_bytes,
                   "RLIMIT_NOFILE": limits.open_files, "RLIMIT_CORE": 0}
        if self.uid is not None or self.level == ISOLATION_USERNS:
            # Counted for the worker's own user id, or for the grader's user in the box's
            # user namespace (the kernel exempts root's: a grader running as root has
            # cgroups, and CNNLAB_ISOLATION=userns there cannot show this limit).
            rlimits["RLIMIT_NPROC"] = limits.processes
        plan = {"user_namespace": self.level == ISOLATION_USERNS, "uid": self.uid,
                # In a user namespace the grader's own user is the worker's, seen inside as
                # USERNS_INSIDE_UID.
                "inside_uid": USERNS_INSIDE_UID, "outside_uid": os.getuid(),
                "outside_gid": os.getgid(),
            "cgroups": self.cgroups,
            "binds": binds, "empty": empty, "symlinks": links,
            "sizes": {"tmp": limits.tmpfs_bytes, "shm": limits.tmpfs_bytes,
                      "work": limits.submission_bytes + limits.tmpfs_bytes,
                      "submission": limits.submission_bytes},
            "work": BOX_WORK, "runtime_dir": BOX_RUNTIME, "runtime": self.runtime,
            "submission": {"source": str(self.submission), "files": self.files},
            "rlimits": rlimits, "argv": self.argv, "env": self.env,
            "pass_fds": list(self.pass_fds), "status_fd": self.status_fd,
            # Where numpy alone is allowed, no code but the box's libraries may run.
            "exec_memory": self.libraries != ("numpy",),
        }
        return json.dumps(plan).encode()


# -- cgroups and user ids -------------------------------------------------------------------


class Cgroups:
    """The worker's cgroups: memory, processes and CPU, counted and limited by the kernel.

    cgroup v2 where ``/sys/fs/cgroup`` is one, else v1's ``memory``, ``pids``, ``cpu`` and
    ``cpuacct`` controllers. ``Cgroups.create`` returns ``None`` where they cannot be made
    (not root, or no such controllers): the resource limits are the fallback then.
    """

    ROOT = Path("/sys/fs/cgroup")
    V1_CONTROLLERS = ("memory", "pids", "cpu", "cpuacct")

    def __init__(self, folders: list[Path], version: int) -> None:
        self.folders = folders
        self.version = version

    @classmethod
    def create(cls, name: str, limits: BoxLimits) -> Cgroups | None:
        if os.geteuid() != 0:
            return None
        memory = limits.memory_bytes + 3 * limits.tmpfs_bytes
        quota, period = int(limits.cpus * 100_000), 100_000
        try:
            if (cls.ROOT / "cgroup.controllers").exists():
                parent = cls.ROOT / CGROUP_PARENT
                parent.mkdir(exist_ok=True)
                (cls.ROOT / "cgroup.subtree_control").write_text("+memory +pids +cpu")
                (parent / "cgroup.subtree_control").write_text("+memory +pids +cpu")
                group = cls([parent / name], 2)
                group.folders[0].mkdir()
                group._set("memory.max", memory)
                group._set("memory.swap.max", 0, optional=True)
                group._set("pids.max", limits.processes)
                group._set("cpu.max", f"{quota} {period}")
                return group
            roots = [cls.ROOT / c for c in cls.V1_CONTROLLERS]
            if not all((root / "cgroup.procs").exists() for root in roots):
                return None
            group = cls([root / CGROUP_PARENT / name for root in roots], 1)
            for folder in group.folders:
                folder.mkdir(parents=True)
            group._set("memory.limit_in_bytes", memory)
            group._set("memory.memsw.limit_in_bytes", memory, optional=True)
            group._set("pids.max", limits.processes)
            group._set("cpu.cfs_period_us", period)
            group._set("cpu.cfs_quota_us", quota)
            return group
        except OSError:
            return None

    def _set(self, name: str, value, optional: bool = False) -> None:
        for folder in self.folders:
            if (folder / name).exists():
                (folder / name).write_text(str(value))
                return
        if not optional:
            raise OSError(f"cgroup file {name} not found")

    @property
    def procs_files(self) -> list[str]:
        return [str(folder / "cgroup.procs") for folder in self.folders]

    @cached_property
    def _usage_file(self) -> str | None:
        """The file that counts the box's CPU time: v2's ``cpu.stat``, v1's
        ``cpuacct.usage`` (in whichever controller's folder has it)."""
        name = "cpu.stat" if self.version == 2 else "cpuacct.usage"
        return next((str(folder / name) for folder in self.folders
                     if (folder / name).exists()), None)

    def cpu_seconds(self) -> float:
        """CPU time used by every process of the box so far (s); 0 where it cannot be read.
        Read twice in every call of the student's code, so it is one plain read."""
        if self._usage_file is None:
            return 0.0
        try:
            handle = os.open(self._usage_file, os.O_RDONLY)
            try:
                text = os.read(handle, 4096)
            finally:
                os.close(handle)
        except OSError:
            return 0.0
        try:
            if self.version == 1:
                return int(text) / 1e9
            for line in text.splitlines():
                if line.startswith(b"usage_usec "):
                    return int(line.split()[1]) / 1e6
        except ValueError:
            pass
        return 0.0

    def kill_and_remove(self) -> bool:
        """Kill every process in the cgroups, then remove them; False if one stayed."""
        return all(_kill_and_remove_folder(folder) for folder in self.folders)


def _kill_and_remove_folder(folder: Path, attempts: int = 50) -> bool:
    for _ in range(attempts):
        try:
            pids = [int(p) for p in (folder / "cgroup.procs").read_text().split()]
        except (OSError, ValueError):
            return not folder.exists()
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            folder.rmdir()
            return True
        except OSError:
            time.sleep(0.02)
    return False


def sweep() -> list[str]:
    """Remove the cgroups that grading jobs left behind (a job killed from outside); kill
    what is still in them. Returns the folders that could not be removed."""
    left = []
    for parent in [Cgroups.ROOT / CGROUP_PARENT] + [
            Cgroups.ROOT / c / CGROUP_PARENT for c in Cgroups.V1_CONTROLLERS]:
        if not parent.is_dir():
            continue
        for folder in sorted(p for p in parent.iterdir() if p.is_dir()):
            if not _job_alive(folder.name) and not _kill_and_remove_folder(folder):
                left.append(str(folder))
    return left


def _job_alive(name: str) -> bool:
    """Cgroups are named ``<job pid>-<start time>-<n>``: is that job still running?"""
    try:
        pid, started = name.split("-")[:2]
        return _start_time(int(pid)) == started
    except (ValueError, OSError):
        return False


def _start_time(pid: int) -> str:
    with open(f"/proc/{pid}/stat") as handle:
        return handle.read().rsplit(")", 1)[1].split()[19]


class UidLease:
    """A worker user id from the reserved block, held (by an advisory lock) until released,
    so that two workers never share one, whichever grading job started them."""

    LOCKS = Path("/run/cnnlab-worker-uids")

    def __init__(self) -> None:
        self.LOCKS.mkdir(mode=0o700, exist_ok=True)
        for slot in range(WORKER_UID_COUNT):
            uid = WORKER_UID_BASE + slot
            if _account_exists(uid):
                continue
            handle = open(self.LOCKS / str(slot), "a")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            self.uid, self._handle = uid, handle
            return
        raise SandboxError("no free worker user id")

    def release(self) -> None:
        self._handle.close()


def _account_exists(uid: int) -> bool:
    try:
        pwd.getpwuid(uid)
        return True
    except KeyError:
        return False


# -- the student's output -------------------------------------------------------------------


class OutputTail:
    """What the student's code prints: the last ``keep`` bytes, and how many came before."""

    def __init__(self, keep: int) -> None:
        self.keep = keep
        self.data = bytearray()
        self.dropped = 0

    def add(self, chunk: bytes) -> None:
        self.data += chunk
        if len(self.data) > self.keep:
            excess = len(self.data) - self.keep
            del self.data[:excess]
            self.dropped += excess

    def text(self, last: int | None = None) -> str:
        """The tail as text (at most ``last`` bytes of it), saying what was left out."""
        data = self.data if last is None else self.data[-last:]
        left_out = self.dropped + len(self.data) - len(data)
        head = f"[{left_out} bytes of output before this were not kept]\n" if left_out else ""
        return head + data.decode("utf-8", "replace")


# -- the worker -----------------------------------------------------------------------------


@dataclass
class _Launch:
    """How to start one worker: the command, what it reads on its input, and for an
    unboxed worker its folder, environment and limits."""

    command: list[str]
    stdin: bytes
    cwd: Path | None = None
    env: dict[str, str] = field(default_factory=dict)
    preexec: object = None


class SandboxedWorker:
    """One worker process holding one student's module, in a box.

    Args:
        submission_dir: the student's folder for one assignment.
        module: the module to import from it (``output_size``).
        libraries: the distributions the student's code may import (``("numpy",)``).
        forbidden: top-level module names that import as poison, so that a function that
            uses them fails with a message that says why.
        driver: name of a module of ``autograder/drivers`` that the worker loads beside the
            student's module (for assignments whose answers are PyTorch objects), or None.
        limits: what the box may use.
    """

    def __init__(self, submission_dir: Path, module: str, *, libraries: tuple[str, ...],
                 forbidden: tuple[str, ...] = (), driver: str | None = None,
                 limits: BoxLimits = BoxLimits()) -> None:
        self.submission_dir = Path(submission_dir)
        self.module = module
        self.libraries = libraries
        self.forbidden = list(forbidden)
        self.driver = driver
        self.limits = limits
        self.level = isolation_level()
        self.files, self.skipped = plan_submission(self.submission_dir,
                                                   limits.submission_bytes)
        self.output = OutputTail(limits.output_tail_bytes)
        self.process: subprocess.Popen | None = None
        self.cgroups: Cgroups | None = None
        self._uid: UidLease | None = None
        self._scratch: Path | None = None
        self._fds: list[int] = []

    # -- life cycle -------------------------------------------------------------------

    def start(self, timeout: float) -> dict:
        """Start the worker and import the student's module; return the worker's reply."""
        to_worker_r, self._to_worker = os.pipe()
        self._from_worker, from_worker_w = os.pipe()
        self._output, output_w = os.pipe()
        self._status, status_w = os.pipe()
        self._fds = [self._to_worker, self._from_worker, self._output, self._status]
        for descriptor in (self._output, self._status):
            os.set_blocking(descriptor, False)
        runtime = {name: (HERE / name).read_text() for name in RUNTIME_FILES}
        if self.driver:
            runtime[f"{self.driver}.py"] = (DRIVERS_DIR / f"{self.driver}.py").read_text()
            for path in DRIVER_COMPANIONS.get(self.driver, ()):
                runtime[path.name] = path.read_text()
        worker_args = [str(to_worker_r), str(from_worker_w)]
        try:
            if self.level == ISOLATION_LIMITS:
                launch = self._unboxed(runtime, worker_args)
            else:
                launch = self._boxed(runtime, worker_args, (to_worker_r, from_worker_w),
                                     status_w)
            self.process = subprocess.Popen(
                launch.command, stdin=subprocess.PIPE, stdout=output_w, stderr=output_w,
                pass_fds=(to_worker_r, from_worker_w, status_w), start_new_session=True,
                cwd=launch.cwd, env=launch.env, preexec_fn=launch.preexec)
            self.process.stdin.write(launch.stdin)
            self.process.stdin.close()
        finally:
            for descriptor in (to_worker_r, from_worker_w, output_w, status_w):
                os.close(descriptor)
        return self.request({"op": "init", "module": self.module, "forbidden": self.forbidden,
                             "driver": self.driver}, timeout)

    def _boxed(self, runtime: dict[str, str], worker_args: list[str],
               pass_fds: tuple[int, ...], status_fd: int) -> _Launch:
        """The launcher ``box.py``, with the plan of this worker's box on its input."""
        if self.level == ISOLATION_ROOT:
            self._uid = UidLease()
            self.cgroups = Cgroups.create(_cgroup_name(), self.limits)
        python = os.path.realpath(sys.executable)
        plan = SandboxPlan(
            self.level, self.submission_dir, self.files, self.libraries, runtime,
            [python, "-I", "-S", "-B", "-u", f"{BOX_RUNTIME}/worker.py", *worker_args, BOX_LIB],
            self._environment(Path(BOX_WORK)), self.limits,
            uid=self._uid.uid if self._uid else None,
            cgroups=self.cgroups.procs_files if self.cgroups else [], pass_fds=pass_fds,
            status_fd=status_fd)
        return _Launch([sys.executable, "-I", "-S", str(HERE / "box.py")], plan.to_json())

    def _unboxed(self, runtime: dict[str, str], worker_args: list[str]) -> _Launch:
        """Resource limits only (``--unsafe-no-isolation``): the runtime and a copy of the
        submission in a folder of our own, and every installed library on the path."""
        self._scratch = Path(tempfile.mkdtemp(prefix="cnnlab-sandbox-"))
        for name, text in runtime.items():
            (self._scratch / name).write_text(text)
        work = self._scratch / "work"
        work.mkdir()
        for relative in self.files:
            (work / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self.submission_dir / relative, work / relative,
                            follow_symlinks=False)
        library_dirs = sorted({site for site, _ in library_entries(self.libraries)})
        return _Launch([sys.executable, "-I", "-S", "-B", "-u", str(self._scratch / "worker.py"),
                        *worker_args, *library_dirs], b"", cwd=work,
                       env=self._environment(work), preexec=self._limit_unboxed)

    def _limit_unboxed(self) -> None:
        for kind, value in ((resource.RLIMIT_AS, self.limits.memory_bytes),
                            (resource.RLIMIT_FSIZE, self.limits.file_bytes),
                            (resource.RLIMIT_NOFILE, self.limits.open_files),
                            (resource.RLIMIT_CORE, 0)):
            resource.setrlimit(kind, (value, value))

    def _environment(self, work: Path) -> dict[str, str]:
        env = {"PATH": "/usr/bin:/bin", "HOME": str(work), "LANG": "C.UTF-8",
               "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
            if name in os.environ:
                env[name] = os.environ[name]
        return env

    def stop(self) -> None:
        """Kill the worker and everything it started; release what it held. Never raises."""
        if self.process is not None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except OSError:
                pass
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            self.process = None
        self.drain_output()
        for descriptor in self._fds:
            try:
                os.close(descriptor)
            except OSError:
                pass
        self._fds = []
        if self.cgroups is not None:
            self.cgroups.kill_and_remove()
            self.cgroups = None
        if self._uid is not None:
            self._uid.release()
            self._uid = None
        if self._scratch is not None:
            remove_tree(self._scratch)
            self._scratch = None

    # -- talking ----------------------------------------------------------------------

    def cpu_seconds(self) -> float | None:
        """CPU time the box has used so far (s), where cgroups count it."""
        return self.cgroups.cpu_seconds() if self.cgroups else None

    def request(self, message: dict, timeout: float, cpu_limit: float | None = None,
                cpu_start: float | None = None):
        """Send one request and return the decoded reply.

        Waits up to ``timeout`` seconds of wall-clock time, and where cgroups count CPU time,
        up to ``cpu_limit`` seconds of it past ``cpu_start`` (the box's CPU time when the
        caller read it; read here if not given). Raises ``WorkerTimeout`` or ``WorkerDied`` (the
        worker is then stopped), or ``wire.WireError`` for a reply that breaks the format or
        the limits (the worker is stopped too), or ``SandboxError`` if the box could not be
        built.
        """
        deadline = time.monotonic() + timeout
        cpu_start = self.cpu_seconds() if cpu_start is None else cpu_start
        try:
            self._send(wire.encode(message), deadline, cpu_start, cpu_limit)
            header = self._read_exactly(wire.HEADER_BYTES, deadline, cpu_start, cpu_limit)
            json_bytes, buffer_bytes = wire.read_header(header, self.limits.wire)
            json_part = self._read_exactly(json_bytes, deadline, cpu_start, cpu_limit)
            buffers = self._read_exactly(buffer_bytes, deadline, cpu_start, cpu_limit)
            return wire.decode(json_part, buffers, self.limits.wire)
        except BrokenPipeError:
            raise self._died() from None
        except wire.WireError:
            self.stop()
            raise

    def _send(self, frame: bytes, deadline: float, cpu_start, cpu_limit) -> None:
        view = memoryview(frame)
        while view:
            self._wait(self._to_worker, deadline, cpu_start, cpu_limit, writing=True)
            view = view[os.write(self._to_worker, view[:1 << 20]):]

    def _read_exactly(self, count: int, deadline: float, cpu_start, cpu_limit) -> bytearray:
        data = bytearray(count)
        view, done = memoryview(data), 0
        while done < count:
            self._wait(self._from_worker, deadline, cpu_start, cpu_limit)
            received = os.readv(self._from_worker, [view[done:done + (1 << 20)]])
            if not received:
                raise self._died()
            done += received
        return data

    def _wait(self, fd: int, deadline: float, cpu_start, cpu_limit,
              writing: bool = False) -> None:
        """Wait until ``fd`` is ready, draining the student's output meanwhile. The CPU time
        is read (from the cgroup: a file read, not free) only when the wait wakes without
        the worker being ready: after ``CPU_CHECK_SECONDS`` of quiet, or for its output."""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.stop()
                raise WorkerTimeout("wall-clock time")
            readers = [self._output] + ([] if writing else [fd])
            ready, writable, _ = select.select(readers, [fd] if writing else [], [],
                                               min(remaining, CPU_CHECK_SECONDS))
            if self._output in ready:
                self.drain_output()
            if writable or fd in ready:
                return
            if cpu_limit is not None and cpu_start is not None and \
                    self.cpu_seconds() - cpu_start > cpu_limit:
                self.stop()
                raise WorkerTimeout("CPU time")

    def drain_output(self) -> None:
        """Move what the student printed from the pipe into ``output`` (never blocks)."""
        if not self._fds:
            return
        for _ in range(64):
            try:
                chunk = os.read(self._output, 1 << 16)
            except (BlockingIOError, OSError):
                return
            if not chunk:
                return
            self.output.add(chunk)

    def _died(self) -> WorkerDied | SandboxError:
        process = self.process
        code = None
        if process is not None:
            try:
                code = process.wait(timeout=2)
            except subprocess.TimeoutExpired:
                code = None
        try:
            status = os.read(self._status, 4096) if self._fds else b""
        except OSError:
            status = b""
        self.stop()
        if status:
            return SandboxError(status.decode("utf-8", "replace"))
        return WorkerDied(describe_exit(code), self.output.text())


_CGROUP_NUMBERS = itertools.count(1)


def _cgroup_name() -> str:
    """``<job pid>-<its start time>-<n>``: unique, and tells ``sweep`` whose it is."""
    return f"{os.getpid()}-{_start_time(os.getpid())}-{next(_CGROUP_NUMBERS)}"


def describe_exit(code: int | None) -> str:
    """Say in words how the worker ended, from the exit code of its launcher."""
    if code is None:
        return "the worker stopped answering"
    if code < 0 or code > 128:
        number = -code if code < 0 else code - 128
        name = signal.Signals(number).name if number in signal.valid_signals() else str(number)
        hint = {"SIGKILL": " (killed: the memory limit, or a timeout)",
                "SIGXCPU": " (the CPU-time limit)", "SIGSEGV": " (a crash)",
                "SIGXFSZ": " (a file larger than allowed)"}.get(name, "")
        return f"the worker was killed by {name}{hint}"
    return f"the worker exited with code {code} (sys.exit or os._exit in the student's code?)"


def remove_tree(top: Path) -> list[str]:
    """Remove ``top`` and everything below it, however deep: no recursion, and ``rm -rf``
    (which works relative to each folder) for paths too long to name. Raises nothing;
    returns ``[top]`` if something could not be removed, else ``[]``."""
    top_name = os.fspath(top)
    stack = [(top_name, False)]
    while stack:  # depth first, each folder removed after what it holds
        path, listed = stack.pop()
        try:
            if listed:
                os.rmdir(path)
            elif os.path.isdir(path) and not os.path.islink(path):
                os.chmod(path, 0o700)
                stack.append((path, True))
                with os.scandir(path) as entries:
                    stack += [(entry.path, False) for entry in entries]
            else:
                os.unlink(path)
        except OSError:
            continue
    if os.path.lexists(top_name):
        try:
            subprocess.run(["rm", "-rf", "--", top_name], capture_output=True, timeout=60,
                           check=False)
        except (OSError, subprocess.SubprocessError):
            pass
    return [top_name] if os.path.lexists(top_name) else []
