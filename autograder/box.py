"""Build the sandbox's world and start the worker in it: the launcher of every worker.

Run by ``autograder.sandbox`` as ``python -I -S box.py`` with a JSON plan on standard input
(see ``SandboxPlan.to_json`` there). It uses the standard library only, and it runs as the
grader's user: root, or an ordinary user whose kernel allows user namespaces.

What it does, in the manner of isolate and bubblewrap ("allow, don't hide"):

1. joins the worker's cgroups (memory, processes, CPU), when the plan names any;
2. enters new mount, PID, network, IPC and UTS namespaces (and a user namespace when the
   grader is not root);
3. forks: the child is process 1 of the new PID namespace. It mounts an empty tmpfs as the
   new root and puts in it, read-only, exactly the paths the plan allows (the interpreter,
   the standard library, the libraries the assignment may use, the shared system
   libraries); a fresh ``/proc``; a minimal ``/dev``; private, size-limited tmpfs for
   ``/tmp``, ``/var/tmp``, ``/dev/shm`` and the working folder, into which it copies the
   submission's files; then ``pivot_root`` and detaches the old root, so nothing else of
   the machine exists in the box;
4. process 1 forks once more: that child drops to the worker's own user id and ``exec``s
   the worker; process 1 stays behind only to reap orphans, and exits with the worker.
   When it exits, the kernel kills every process left in the namespace.

Both the launcher and process 1 die with their parent (``PR_SET_PDEATHSIG``), so killing
the grading job kills every box it started. A failure of this script before the worker
runs writes why on the status pipe and exits with ``SETUP_FAILED``: the sandbox's fault,
not the student's.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import signal
import stat
import sys
import traceback

SETUP_FAILED = 121

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 1 << 12, 1 << 14, 1 << 18
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38
#: ``pivot_root`` has no libc wrapper; its system call number per architecture.
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}

#: seccomp (x86_64): what the worker may not call. memfd_create, unshare, setns, mount,
#: umount2, pivot_root, keyctl, add_key, request_key, ptrace, bpf, perf_event_open,
#: userfaultfd, io_uring (3), open_tree, move_mount, fsopen, fsconfig, fsmount, fspick,
#: mount_setattr.
REFUSED_SYSCALLS = (319, 272, 308, 165, 166, 155, 250, 248, 249, 101, 321, 298, 323,
                    425, 426, 427, 428, 429, 430, 431, 432, 433, 442)
SYS_CLONE, SYS_CLONE3 = 56, 435
SYS_MMAP, SYS_MPROTECT, SYS_PKEY_MPROTECT, SYS_SHMAT = 9, 10, 329, 30
NAMESPACE_FLAGS = (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID
                   | CLONE_NEWNET | 0x02000000)  # the last: CLONE_NEWCGROUP
PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 22, 2
SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_ERRNO, SECCOMP_RET_ALLOW = 0x80000000, 0x50000, 0x7FFF0000
AUDIT_ARCH_X86_64 = 0xC000003E

#: Where the new root is mounted before ``pivot_root``: the first of these that is not a
#: source of the plan (mounting over it in the private namespace hides nothing we need).
STAGING_CANDIDATES = ("/mnt", "/media", "/srv", "/opt", "/home", "/var/tmp", "/tmp")
DEVICES = ("null", "zero", "full", "random", "urandom")

_libc = ctypes.CDLL(None, use_errno=True)
_STATUS_FD = -1  # set by main: the write end of the grader's status pipe


class SetupError(Exception):
    """The sandbox could not be built: the grader's fault."""


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise SetupError(f"{what}: {os.strerror(errno)}")


def _mount(source: str | None, target: str, fstype: str | None, flags: int,
           data: str | None = None) -> None:
    _check(_libc.mount(os.fsencode(source) if source else None, os.fsencode(target),
                       os.fsencode(fstype) if fstype else None, flags,
                       os.fsencode(data) if data else None), f"mount {target}")


def _pivot_root(new_root: str, put_old: str) -> None:
    number = SYS_PIVOT_ROOT.get(os.uname().machine)
    if number is None:
        raise SetupError(f"pivot_root: no system call number known for {os.uname().machine}")
    _check(_libc.syscall(number, os.fsencode(new_root), os.fsencode(put_old)), "pivot_root")


def _locked_flags(path: str) -> int:
    """Flags a read-only remount must keep (the kernel refuses to drop them in a user
    namespace)."""
    status = os.statvfs(path)
    flags = 0
    for bit, flag in ((os.ST_NOSUID, MS_NOSUID), (os.ST_NODEV, MS_NODEV),
                      (os.ST_NOEXEC, MS_NOEXEC)):
        if status.f_flag & bit:
            flags |= flag
    return flags


def _bind_read_only(source: str, target: str) -> None:
    if os.path.isdir(source):
        os.makedirs(target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if not os.path.exists(target):
            os.close(os.open(target, os.O_CREAT | os.O_WRONLY, 0o444))
    _mount(source, target, None, MS_BIND)
    _mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV
           | _locked_flags(source))


def _tmpfs(target: str, size: int, mode: int, owner: int | None = None) -> None:
    """A private tmpfs of ``size`` bytes at ``target``. Nothing on it can be run or mapped
    as code (``noexec``): a student cannot bring a compiled library of their own."""
    os.makedirs(target, exist_ok=True)
    options = f"size={size},mode={mode:o}"
    if owner is not None:
        options += f",uid={owner},gid={owner}"
    _mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, options)


def _write(path: str, text: str) -> None:
    with open(path, "w") as handle:
        handle.write(text)


def _copy_submission(source: str, files: list[str], target: str, owner: int | None,
                     max_bytes: int) -> None:
    """Copy the plan's regular files (checked again here: no links, nothing special)."""
    total = 0
    for relative in files:
        path = os.path.join(source, relative)
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        try:
            if not stat.S_ISREG(os.fstat(descriptor).st_mode):
                continue
            destination = os.path.join(target, relative)
            os.makedirs(os.path.dirname(destination), exist_ok=True)
            with open(descriptor, "rb", closefd=False) as reader, \
                    open(destination, "wb") as writer:
                while chunk := reader.read(1 << 20):
                    total += len(chunk)
                    if total > max_bytes:
                        raise SetupError("the submission grew past its size limit")
                    writer.write(chunk)
        finally:
            os.close(descriptor)
    if owner is not None:
        for folder, folders, names in os.walk(target):
            for name in folders + names:
                os.lchown(os.path.join(folder, name), owner, owner)


def _staging_point(plan: dict) -> str:
    sources = [m["source"] for m in plan["binds"]] + [plan["submission"]["source"]]
    for candidate in STAGING_CANDIDATES:
        if os.path.isdir(candidate) and not os.path.islink(candidate) and not any(
                s == candidate or s.startswith(candidate + "/") for s in sources):
            return candidate
    raise SetupError("no folder to build the new root on")


def build_root(plan: dict) -> None:
    """As process 1 of the new namespaces: build the box's root and move into it."""
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    root = _staging_point(plan)
    _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=1m,mode=755")
    for bind in plan["binds"]:
        _bind_read_only(bind["source"], root + bind["target"])
    for mask in plan["empty"]:
        _tmpfs(root + mask, 4096, 0o555)
        _mount(None, root + mask, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
    for link, target in plan["symlinks"]:
        os.makedirs(os.path.dirname(root + link), exist_ok=True)
        os.symlink(target, root + link)
    _make_dev(root + "/dev", plan["sizes"]["shm"])
    for folder in ("/tmp", "/var/tmp"):
        _tmpfs(root + folder, plan["sizes"]["tmp"], 0o1777)
    owner = plan.get("uid")
    work = root + plan["work"]
    _tmpfs(work, plan["sizes"]["work"], 0o700, owner)
    submission = plan["submission"]
    _copy_submission(submission["source"], submission["files"], work, owner,
                     plan["sizes"]["submission"])
    for name, text in plan["runtime"].items():
        path = root + plan["runtime_dir"] + "/" + name
        os.makedirs(os.path.dirname(path), exist_ok=True)
        _write(path, text)
    os.makedirs(root + "/proc", exist_ok=True)
    _mount("proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    os.makedirs(root + "/.old-root")
    _pivot_root(root, root + "/.old-root")
    os.chdir("/")
    _check(_libc.umount2(b"/.old-root", MNT_DETACH), "detach the old root")
    os.rmdir("/.old-root")
    _mount(None, "/", None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV
           | MS_NOEXEC)


def _make_dev(dev: str, shm_bytes: int) -> None:
    _tmpfs(dev, 65536, 0o755)
    for name in DEVICES:
        _bind_device("/dev/" + name, f"{dev}/{name}")
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                         ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):
        os.symlink(target, f"{dev}/{name}")
    _tmpfs(f"{dev}/shm", shm_bytes, 0o1777)
    _mount(None, dev, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NOEXEC)


def _bind_device(source: str, target: str) -> None:
    os.close(os.open(target, os.O_CREAT | os.O_WRONLY, 0o666))
    _mount(source, target, None, MS_BIND)
    # noexec: mapping /dev/zero would give executable memory past the seccomp filter.
    _mount(None, target, None, MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NOEXEC
           | _locked_flags(source))


def _enter_namespaces(plan: dict) -> None:
    flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS
    if plan["user_namespace"]:
        _check(_libc.unshare(flags | CLONE_NEWUSER), "unshare")
        _write("/proc/self/setgroups", "deny")  # the kernel's condition for a gid_map
        _write("/proc/self/uid_map", f"{plan['inside_uid']} {plan['outside_uid']} 1")
        _write("/proc/self/gid_map", f"{plan['inside_uid']} {plan['outside_gid']} 1")
    else:
        _check(_libc.unshare(flags), "unshare")


def die_with_parent() -> None:
    """Be killed (SIGKILL) when the parent ends, whichever way it ends."""
    _check(_libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl(PDEATHSIG)")


def _exit_like(status: int) -> None:
    code = os.waitstatus_to_exitcode(status)
    os._exit(128 - code if code < 0 else code)


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte),
                ("k", ctypes.c_uint)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter))]


def _seccomp_program(exec_memory: bool) -> list[tuple[int, int, int, int]]:
    """A seccomp filter (classic BPF) for x86_64: ``EPERM`` for the system calls that build
    namespaces, mounts, in-memory files (``memfd_create``: code or memory out of reach of
    ``noexec`` and the limits), keys, ``ptrace``, ``bpf`` and ``io_uring``; ``ENOSYS`` for
    ``clone3``, so that the C library falls back to ``clone``, whose namespace flags are
    refused; every other call allowed. Without ``exec_memory`` (numpy-only assignments)
    also ``EPERM`` for making memory executable that no file of the box backs (``mmap`` of
    anonymous memory, ``mprotect``, SysV shared memory): machine code of the student's own
    cannot run, only the libraries the box holds."""
    load, jeq, jge, ret, and_ = 0x20, 0x15, 0x35, 0x06, 0x54
    eperm, enosys = SECCOMP_RET_ERRNO | 1, SECCOMP_RET_ERRNO | 38
    nr, prot, flags, prot_exec, anonymous = 0, 32, 40, 0x4, 0x20  # offsets and bits
    program = [(load, 0, 0, 4), (jeq, 1, 0, AUDIT_ARCH_X86_64),
               (ret, 0, 0, SECCOMP_RET_KILL_PROCESS), (load, 0, 0, nr),
               (jge, 0, 1, 0x40000000), (ret, 0, 0, eperm)]  # the x32 calls
    for number in REFUSED_SYSCALLS + (() if exec_memory else (SYS_SHMAT,)):
        program += [(jeq, 0, 1, number), (ret, 0, 0, eperm)]
    if not exec_memory:
        program += [(jeq, 1, 0, SYS_MPROTECT), (jeq, 0, 4, SYS_PKEY_MPROTECT),
                    (load, 0, 0, prot), (and_, 0, 0, prot_exec), (jeq, 1, 0, 0),
                    (ret, 0, 0, eperm), (load, 0, 0, nr),
                    (jeq, 0, 7, SYS_MMAP), (load, 0, 0, prot), (and_, 0, 0, prot_exec),
                    (jeq, 4, 0, 0), (load, 0, 0, flags), (and_, 0, 0, anonymous),
                    (jeq, 1, 0, 0), (ret, 0, 0, eperm), (load, 0, 0, nr)]
    program += [(jeq, 0, 1, SYS_CLONE3), (ret, 0, 0, enosys),
                (jeq, 0, 4, SYS_CLONE), (load, 0, 0, 16), (and_, 0, 0, NAMESPACE_FLAGS),
                (jeq, 1, 0, 0), (ret, 0, 0, eperm), (ret, 0, 0, SECCOMP_RET_ALLOW)]
    return program


def _filter_system_calls(exec_memory: bool) -> None:
    if os.uname().machine != "x86_64":
        return  # the system call numbers above are x86_64's
    program = _seccomp_program(exec_memory)
    filters = (_SockFilter * len(program))(*program)
    prog = _SockFprog(len(program), filters)
    _check(_libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0),
           "prctl(SECCOMP)")


def _become_worker(plan: dict) -> None:
    die_with_parent()
    uid = plan.get("uid")
    if uid is not None:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(NO_NEW_PRIVS)")
    os.chdir(plan["work"])
    _filter_system_calls(plan["exec_memory"])
    os.execve(plan["argv"][0], plan["argv"], plan["env"])


def run_worker(plan: dict) -> None:
    """Process 1's last step: start the worker as its own user and reap until it ends."""
    for kind, value in plan["rlimits"].items():
        resource.setrlimit(getattr(resource, kind), (value, value))
    worker = os.fork()
    if worker == 0:
        try:
            _become_worker(plan)
        except (OSError, SetupError) as error:
            _report(error)
        os._exit(SETUP_FAILED)
    for descriptor in plan["pass_fds"]:
        os.close(descriptor)
    os.closerange(3, 1024)
    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGPIPE):
        signal.signal(number, signal.SIG_IGN)
    while True:
        pid, status = os.wait()
        if pid == worker:
            _exit_like(status)


def _report(error: BaseException) -> None:
    """Tell the grader what failed, and where, on the status pipe: a channel the worker
    never holds (it is closed when the worker's program starts), so a student cannot
    pass their own failure off as the sandbox's."""
    where = traceback.extract_tb(error.__traceback__)[-1]
    message = f"sandbox setup failed in {where.name} (line {where.lineno}): {error}"
    try:
        os.write(_STATUS_FD, message.encode()[:4000])
    except OSError:
        pass


def main() -> None:
    global _STATUS_FD
    plan = json.loads(sys.stdin.buffer.read())
    _STATUS_FD = plan["status_fd"]
    if _STATUS_FD >= 0:  # a probe has none
        os.set_inheritable(_STATUS_FD, False)  # closed when the worker's program starts
    null = os.open("/dev/null", os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    try:
        die_with_parent()
        for procs in plan["cgroups"]:
            _write(procs, str(os.getpid()))
        _enter_namespaces(plan)
        first = os.fork()
    except (OSError, SetupError) as error:
        _report(error)
        os._exit(SETUP_FAILED)
    if first == 0:
        try:
            die_with_parent()
            build_root(plan)
            _libc.sethostname(b"box", 3)
        except (OSError, SetupError) as error:
            _report(error)
            os._exit(SETUP_FAILED)
        run_worker(plan)
    for descriptor in plan["pass_fds"]:
        os.close(descriptor)
    _, status = os.waitpid(first, 0)
    _exit_like(status)


if __name__ == "__main__":
    main()
