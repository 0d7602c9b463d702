"""The trusted side's handle on a student's module: calls go to the sandboxed worker.

``StudentModule`` makes ``student.conv2d_forward(x, w)`` look like a local call. It keeps
the worker alive between calls, starts a fresh one after a crash or a timeout, enforces the
per-call and per-submission time limits, and turns every way a call can fail into a
``StudentError`` whose ``feedback`` tells the student what happened.
"""

from __future__ import annotations

import time
from pathlib import Path

from autograder import wire
from autograder.sandbox import SandboxedWorker, WorkerDied, WorkerTimeout
from cnnlab.course import FORBIDDEN_ARRAY_LIBRARIES, Assignment

#: Status words for ``grades.csv``, most serious first.
STATUSES = ("grader error", "import error", "crashed", "timeout", "graded")


class StudentError(Exception):
    """A call of student code that did not return a value; ``feedback`` says why."""

    def __init__(self, feedback: str) -> None:
        super().__init__(feedback)
        self.feedback = feedback


class StudentRaised(StudentError):
    """The student's function raised an exception.

    Attributes:
        type_name: the exception's class name (``"ValueError"``).
        class_names: names of the class and its bases, to recognise subclasses.
        message: ``str()`` of the exception.
    """

    def __init__(self, feedback: str, type_name: str, class_names: list[str],
                 message: str) -> None:
        super().__init__(feedback)
        self.type_name = type_name
        self.class_names = class_names
        self.message = message


class StudentModule:
    """A student's module, run in a sandbox, with calls as attributes.

    Args:
        assignment: the assignment (module name, limits, numpy-only rule).
        submission_dir: the student's folder for this assignment.
        hide: folders besides the course repository to hide from the worker.
    """

    def __init__(self, assignment: Assignment, submission_dir: Path,
                 hide: tuple[Path, ...] = ()) -> None:
        self.assignment = assignment
        self.limits = assignment.limits
        self.submission_dir = Path(submission_dir)
        self.hide = hide
        self.worker: SandboxedWorker | None = None
        self.import_failure: str | None = None
        self.timeouts: dict[str, int] = {}
        self.seconds_used = 0.0
        self.events: set[str] = set()

    @property
    def filename(self) -> str:
        return f"{self.assignment.module}.py"

    @property
    def status(self) -> str:
        """The most serious thing that happened to this submission, a word of ``STATUSES``."""
        return next((s for s in STATUSES if s in self.events), "graded")

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, **kwargs: self.call(name, *args, **kwargs)

    def call(self, function: str, *args, **kwargs):
        """Call ``function`` of the student's module in the sandbox and return its result.

        Raises ``StudentError`` (or ``StudentRaised``) when it does not return a value.
        """
        self._check_can_run(function)
        self._ensure_worker()
        message = {"op": "call", "function": function,
                   "args": wire.to_wire(list(args)), "kwargs": wire.to_wire(kwargs)}
        timeout = min(self.limits.call_seconds, self._seconds_left())
        started = time.monotonic()
        try:
            reply = self.worker.request(message, timeout)
        except WorkerTimeout:
            self._lose_worker("timeout")
            self.timeouts[function] = self.timeouts.get(function, 0) + 1
            raise StudentError(f"{function} did not return within {timeout:g} s: an endless "
                               "loop, or far too slow for inputs of this size?") from None
        except WorkerDied as died:
            self._lose_worker("crashed")
            raise StudentError(f"{function} crashed: {died}.{_printed(died.output)}") from None
        except wire.WireError as error:
            self._lose_worker("crashed")
            raise StudentError(f"{function} sent back data the grader cannot read: {error}") \
                from None
        finally:
            self.seconds_used += time.monotonic() - started
        return self._result(function, reply)

    def close(self) -> None:
        if self.worker is not None:
            self.worker.stop()
            self.worker = None

    # -- internals --------------------------------------------------------------------

    def _seconds_left(self) -> float:
        return self.limits.submission_seconds - self.seconds_used

    def _check_can_run(self, function: str) -> None:
        if self.import_failure is not None:
            raise StudentError(self.import_failure)
        if self._seconds_left() <= 0:
            raise StudentError(f"not run: this submission used up its time budget of "
                               f"{self.limits.submission_seconds:g} s")
        if self.timeouts.get(function, 0) >= self.limits.timeouts_per_function:
            raise StudentError(f"not run: {function} already timed out "
                               f"{self.timeouts[function]} times")

    def _ensure_worker(self) -> None:
        if self.worker is not None:
            return
        forbidden = FORBIDDEN_ARRAY_LIBRARIES if self.assignment.numpy_only else ()
        worker = SandboxedWorker(self.submission_dir, self.assignment.module,
                                 memory_bytes=self.limits.memory_bytes,
                                 cpu_seconds=self.limits.submission_seconds,
                                 forbidden=forbidden, hide=self.hide)
        timeout = min(self.limits.call_seconds, self._seconds_left())
        started = time.monotonic()
        try:
            reply = worker.start(timeout)
        except WorkerTimeout:
            self._fail_import(f"importing {self.filename} did not finish within {timeout:g} s "
                              "(code at module level that never ends?)", "timeout")
        except WorkerDied as died:
            self._fail_import(f"importing {self.filename} ended the worker: {died}."
                              f"{_printed(died.output)}", "import error")
        except wire.WireError as error:
            worker.stop()
            self._fail_import(f"importing {self.filename} broke the grader's channel: {error}",
                              "import error")
        finally:
            self.seconds_used += time.monotonic() - started
        if not reply.get("ok"):
            worker.stop()
            self._fail_import(self._import_feedback(reply.get("error", {}), worker.skipped),
                              "import error")
        self.worker = worker

    def _fail_import(self, feedback: str, event: str):
        self.import_failure = feedback
        self.events.add(event)
        raise StudentError(feedback)

    def _import_feedback(self, error: dict, skipped: list[str] = ()) -> str:
        if error.get("kind") == "missing_module":
            if self.filename in skipped:
                return (f"{self.filename} was not graded: it is a link or larger than the "
                        f"grader accepts")
            present = sorted(path.name for path in self.submission_dir.iterdir())
            return (f"{self.filename} is missing from the submission (it holds: "
                    f"{', '.join(present) or 'nothing'})")
        return (f"{self.filename} could not be imported: "
                f"{error.get('type')}: {error.get('message')}{_where(error)}")

    def _lose_worker(self, event: str) -> None:
        self.events.add(event)
        self.worker = None

    def _result(self, function: str, reply: dict):
        if reply.get("ok"):
            try:
                return wire.from_wire(reply.get("value"))
            except (wire.WireError, TypeError, ValueError) as error:
                raise StudentError(f"{function} returned data the grader cannot read: "
                                   f"{error}") from None
        error = reply.get("error") if isinstance(reply.get("error"), dict) else {}
        kind, type_name = error.get("kind"), str(error.get("type", ""))
        message = str(error.get("message", ""))
        if kind == "missing_function":
            raise StudentError(f"{self.filename} has no function {function}")
        if kind in ("import", "missing_module"):
            self._fail_import(self._import_feedback(error), "import error")
        if kind != "raised":
            raise StudentError(f"{function} failed in the grader's worker: {type_name} {message}")
        if type_name == "NotImplementedError":
            feedback = f"{function} is not implemented yet (it raises NotImplementedError)"
        elif type_name == "ForbiddenLibraryError":
            feedback = (f"{function} earns no credit: {message}. In this assignment the "
                        "functions must be written with numpy alone")
        else:
            feedback = f"{function} raised {type_name}: {message}{_where(error)}"
        classes = [str(name) for name in error.get("mro", [])]
        raise StudentRaised(feedback, type_name, classes, message)


def _where(error: dict) -> str:
    trace = str(error.get("traceback", "")).strip()
    return f"\n{trace}" if trace else ""


def _printed(output: str) -> str:
    output = output.strip()
    return f"\nIt printed last:\n{output[-800:]}" if output else ""
