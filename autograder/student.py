"""The trusted side's handle on a student's module: calls go to the sandboxed worker.

``StudentModule`` makes ``student.conv2d_forward(x, w)`` look like a local call, and
``student.drive("forward", handle, x)`` run an action of the assignment's driver on the
student's objects. It keeps the worker alive between calls, starts a fresh one after a
crash or a timeout, gives every graded function its own time budget, and turns every way a
call can fail into a ``StudentError`` whose ``feedback`` tells the student what happened.
Whatever the worker sends back is checked here: an odd reply is the student's failure for
that call, never the grader's.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import TYPE_CHECKING

from autograder import wire
from autograder.results import STATUSES
from autograder.sandbox import (
    BoxLimits,
    SandboxedWorker,
    SandboxError,
    WorkerDied,
    WorkerTimeout,
)
from cnnlab.course import FORBIDDEN_ARRAY_LIBRARIES, Assignment

if TYPE_CHECKING:
    import pytest

#: The most of any one text from the worker that reaches the feedback (characters).
FEEDBACK_CHARS = 2000


class StudentError(Exception):
    """A call of student code that did not return a value.

    Attributes:
        feedback: what happened, for the student.
        outcome: the kind of failure, a word of ``autograder.results.OUTCOMES``.
    """

    def __init__(self, feedback: str, outcome: str = "crashed") -> None:
        super().__init__(feedback)
        self.feedback = feedback
        self.outcome = outcome


def student_failure(excinfo: pytest.ExceptionInfo) -> bool:
    """Whether a failed test is the student's failure (their code failed, or its answer was
    wrong), rather than the grader's error. As a module's ``__tracebackhide__``, it keeps
    that module's frames out of a student's failure in ``grading.log``: the test's own lines
    say where it failed, and pytest reads each frame's file again for every failed test
    (70 ms a failure, most of a broken submission's grading). A grader error shows them."""
    return excinfo.errisinstance((StudentError, AssertionError))


__tracebackhide__ = student_failure


class StudentRaised(StudentError):
    """The student's function raised an exception.

    Attributes:
        type_name: the exception's class name (``"ValueError"``).
        class_names: names of the class and its bases, to recognise subclasses.
        message: ``str()`` of the exception.
    """

    def __init__(self, feedback: str, type_name: str, class_names: list[str],
                 message: str, outcome: str = "raised") -> None:
        super().__init__(feedback, outcome)
        self.type_name = type_name
        self.class_names = class_names
        self.message = message


class GraderError(Exception):
    """The grading machinery failed (the sandbox could not be built): not the student's
    fault."""


def clip(text, limit: int = FEEDBACK_CHARS) -> str:
    """``str(text)`` cut to ``limit`` characters, saying how much was cut."""
    text = str(text)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... [{len(text) - limit} more characters]"


class StudentModule:
    """A student's module, run in a sandbox, with calls as attributes.

    Args:
        assignment: the assignment (module name, libraries, driver, limits).
        submission_dir: the student's folder for this assignment.
    """

    def __init__(self, assignment: Assignment, submission_dir: Path) -> None:
        self.assignment = assignment
        self.limits = assignment.limits
        self.submission_dir = Path(submission_dir)
        self.worker: SandboxedWorker | None = None
        self.import_failure: tuple[str, str] | None = None  # (feedback, outcome)
        self.timeouts: dict[str, int] = {}
        self.seconds_used: dict[str, float] = {}  # charged per function (s)
        self.wall_used = 0.0  # wall-clock time of every call and import (s)
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

    def start(self) -> None:
        """Start the worker and import the module now, rather than at the first call.
        Raises ``StudentError`` where the module cannot be imported (every call raises it
        then), ``GraderError`` where the sandbox fails."""
        if self.import_failure is not None:
            raise StudentError(*self.import_failure)
        self._ensure_worker()

    def call(self, function: str, *args, **kwargs):
        """Call ``function`` of the student's module in the sandbox and return its result.

        Raises ``StudentError`` (or ``StudentRaised``) when it does not return a value.
        """
        message = {"op": "call", "function": function, "args": args, "kwargs": kwargs}
        return self._request(function, function, message, self._call_seconds(function))

    def drive(self, action: str, *args, graded: str, seconds: float | None = None,
              **kwargs):
        """Run the driver's ``action`` on the student's objects (``construct``,
        ``forward``, ...) and return its report.

        Args:
            graded: the function or class being graded, whose time budget pays for it.
            seconds: the action's own time limit, where it needs more than a call of
                ``graded`` (its manifest's ``call_seconds``); at most the function's budget.
        """
        message = {"op": "drive", "action": action, "args": args, "kwargs": kwargs}
        return self._request(graded, f"{graded} ({action})", message,
                             seconds or self._call_seconds(graded))

    def _call_seconds(self, function: str) -> float:
        """The limit of one call of ``function``: the manifest's where it sets one."""
        own = {g.name: g.call_seconds for g in self.assignment.graded}.get(function)
        return own or self.limits.call_seconds

    def close(self) -> None:
        if self.worker is not None:
            self.worker.stop()
            self.worker = None

    # -- internals --------------------------------------------------------------------

    def _request(self, budget: str, what: str, message: dict, seconds: float):
        self._check_can_run(budget)
        self._ensure_worker()
        limit = min(seconds, self._seconds_left(budget), self._submission_left())
        started, cpu_before = time.monotonic(), self.worker.cpu_seconds()
        try:
            reply = self._ask(message, limit, cpu_before)
        except WorkerTimeout:
            self._lose_worker("timeout")
            self.timeouts[budget] = self.timeouts.get(budget, 0) + 1
            raise StudentError(f"{what} did not return within {limit:g} s: an endless "
                               "loop, or far too slow for inputs of this size?",
                               "timeout") from None
        except WorkerDied as died:
            self._lose_worker("crashed")
            raise StudentError(f"{what} crashed: {died}.{_printed(died.output)}") from None
        except wire.WireError as error:
            self._lose_worker("crashed")
            raise StudentError(f"{what} sent back data the grader cannot read: "
                               f"{clip(error, 300)}") from None
        finally:
            self._charge(budget, started, cpu_before)
        return self._result(what, reply)

    def _ask(self, message: dict, limit: float, cpu_before: float | None):
        try:
            return self.worker.request(message, self._wall(limit), self._cpu(limit),
                                       cpu_start=cpu_before)
        except SandboxError as error:
            self._lose_worker("grader error")
            raise GraderError(f"the sandbox failed: {clip(error, 500)}") from None

    def _wall(self, seconds: float) -> float:
        """Wall-clock time allowed for ``seconds`` of CPU time, where CPU time is counted,
        and never past the submission's total."""
        counted = self.worker is not None and self.worker.cgroups is not None
        return min(seconds * self.limits.wall_factor if counted else seconds,
                   self._submission_left())

    def _cpu(self, seconds: float) -> float | None:
        return seconds if self.worker is not None and self.worker.cgroups else None

    def _charge(self, budget: str, started: float, cpu_before: float | None) -> None:
        """Charge a call to its function: its CPU time where that is counted, but at least
        its wall-clock time over ``wall_factor`` (sleeping is not free); else its
        wall-clock time."""
        wall = time.monotonic() - started
        self.wall_used += wall
        worker = self.worker
        cpu_after = worker.cpu_seconds() if worker is not None else None
        if cpu_before is not None and cpu_after is not None:
            used = max(cpu_after - cpu_before, wall / self.limits.wall_factor)
        else:
            used = wall
        self.seconds_used[budget] = self.seconds_used.get(budget, 0.0) + used

    def _seconds_left(self, budget: str) -> float:
        return self.limits.function_seconds - self.seconds_used.get(budget, 0.0)

    def _submission_left(self) -> float:
        return self.limits.submission_seconds - self.wall_used

    def _check_can_run(self, budget: str) -> None:
        if self.import_failure is not None:
            raise StudentError(*self.import_failure)
        if budget not in self.assignment.points:
            raise GraderError(f"the suite grades {budget!r}, which is not a function of "
                              f"{self.assignment.id} in the course's manifest")
        if self._submission_left() <= 0:
            raise StudentError(f"not run: this submission used up its total time of "
                               f"{self.limits.submission_seconds:g} s", "timeout")
        if self._seconds_left(budget) <= 0:
            raise StudentError(f"not run: {budget} used up its time budget of "
                               f"{self.limits.function_seconds:g} s", "timeout")
        if self.timeouts.get(budget, 0) >= self.limits.timeouts_per_function:
            raise StudentError(f"not run: {budget} already timed out "
                               f"{self.timeouts[budget]} times", "timeout")

    def _box_limits(self) -> BoxLimits:
        limits = self.limits
        return BoxLimits(memory_bytes=limits.memory_bytes, processes=limits.processes,
                         wire=wire.WireLimits(max_buffer_bytes=limits.reply_bytes))

    def _ensure_worker(self) -> None:
        if self.worker is not None:
            return
        forbidden = FORBIDDEN_ARRAY_LIBRARIES if self.assignment.numpy_only else ()
        worker = SandboxedWorker(self.submission_dir, self.assignment.module,
                                 libraries=self.assignment.libraries, forbidden=forbidden,
                                 driver=self.assignment.driver, limits=self._box_limits())
        seconds = self.limits.import_seconds
        started = time.monotonic()
        try:
            reply = worker.start(min(seconds * self.limits.wall_factor,
                                     self._submission_left()))
        except WorkerTimeout:
            self._fail_import(f"importing {self.filename} did not finish within {seconds:g} s "
                              "(code at module level that never ends?)", "timeout", "timeout")
        except WorkerDied as died:
            self._fail_import(f"importing {self.filename} ended the worker: {died}."
                              f"{_printed(died.output)}", "import error", "crashed")
        except wire.WireError as error:
            self._fail_import(f"importing {self.filename} broke the grader's channel: "
                              f"{clip(error, 300)}", "import error", "crashed")
        except SandboxError as error:
            worker.stop()
            self.events.add("grader error")
            raise GraderError(f"the sandbox failed: {clip(error, 500)}") from None
        finally:
            self.wall_used += time.monotonic() - started
        if not isinstance(reply, dict) or reply.get("ok") is not True:
            error = reply.get("error") if isinstance(reply, dict) else None
            worker.stop()
            error = _error_fields(error)
            self._fail_import(self._import_feedback(error, worker.skipped), "import error",
                              _import_outcome(error))
        self.worker = worker

    def _fail_import(self, feedback: str, event: str, outcome: str):
        """Every later call fails with ``feedback`` too; ``event`` goes into the status."""
        self.import_failure = feedback, outcome
        self.events.add(event)
        raise StudentError(feedback, outcome)

    def _import_feedback(self, error: dict, skipped: list[str] = ()) -> str:
        if error["kind"] == "missing_module":
            if self.filename in skipped:
                return (f"{self.filename} was not graded: it is a link or larger than the "
                        f"grader accepts")
            present = sorted(path.name for path in self.submission_dir.iterdir())
            return (f"{self.filename} is missing from the submission (it holds: "
                    f"{clip(', '.join(present) or 'nothing', 500)})")
        forbidden = self._forbidden_library(error)
        if forbidden:
            return (f"{self.filename} could not be imported: it imports {forbidden!r}, and "
                    "this assignment allows numpy only")
        return (f"{self.filename} could not be imported: "
                f"{error['type']}: {error['message']}{_where(error)}")

    def _forbidden_library(self, error: dict) -> str | None:
        return _forbidden_library(error) if self.assignment.numpy_only else None

    def _lose_worker(self, event: str) -> None:
        self.events.add(event)
        if self.worker is not None:
            self.worker.stop()
        self.worker = None

    def _result(self, what: str, reply):
        if not isinstance(reply, dict) or not isinstance(reply.get("ok"), bool):
            self._lose_worker("crashed")
            raise StudentError(f"{what}: the worker sent back a reply the grader cannot read")
        if reply["ok"]:
            return reply.get("value")
        error = _error_fields(reply.get("error"))
        if error["kind"] == "missing_function":
            raise StudentError(f"{self.filename} has no function {what}", "missing")
        if error["kind"] in ("import", "missing_module"):
            self._fail_import(self._import_feedback(error), "import error",
                              _import_outcome(error))
        if error["kind"] != "raised":
            raise StudentError(f"{what} failed in the grader's worker: {error['type']} "
                               f"{error['message']}")
        forbidden = self._forbidden_library(error)
        if error["type"] == "NotImplementedError":
            feedback = f"{what} is not implemented yet (it raises NotImplementedError)"
            outcome = "not implemented"
        elif forbidden:
            feedback = (f"{what} earns no credit: this assignment allows numpy only, and it "
                        f"uses {forbidden!r}. Write the function with numpy alone")
            outcome = "forbidden library"
        else:
            feedback = f"{what} raised {error['type']}: {error['message']}{_where(error)}"
            outcome = "raised"
        raise StudentRaised(feedback, error["type"], error["mro"], error["message"], outcome)


def _error_fields(error) -> dict:
    """The fields of an error reply, each checked and clipped: the worker may send
    anything at all."""
    error = error if isinstance(error, dict) else {}
    mro = error.get("mro")
    mro = [clip(name, 100) for name in mro[:50]] if isinstance(mro, list) else []
    return {"kind": clip(error.get("kind", ""), 50), "type": clip(error.get("type", ""), 100),
            "mro": mro, "message": clip(error.get("message", "")),
            "traceback": clip(error.get("traceback", ""), 4000)}


def _import_outcome(error: dict) -> str:
    return "missing" if error["kind"] == "missing_module" else "raised"


_NO_MODULE = re.compile(r"No module named '([A-Za-z0-9_]+)")


def _forbidden_library(error: dict) -> str | None:
    """The forbidden library an error is about, if any: the worker's poison says so, and
    a plain ``import torch`` that got past the poison finds no torch in the sandbox."""
    if error["type"] == "ForbiddenLibraryError":
        match = re.search(r"uses '([A-Za-z0-9_]+)'", error["message"])
        return match.group(1) if match else "a forbidden library"
    match = _NO_MODULE.match(error["message"])
    if "ImportError" in error["mro"] and match and \
            match.group(1) in FORBIDDEN_ARRAY_LIBRARIES:
        return match.group(1)
    return None


def _where(error: dict) -> str:
    trace = error["traceback"].strip()
    return f"\n{trace}" if trace else ""


def _printed(output: str) -> str:
    output = output.strip()
    return f"\nIt printed last:\n{output[-800:]}" if output else ""
