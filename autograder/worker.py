"""The program that runs a student's module inside the sandbox.

Started by ``autograder.box`` (or, without isolation, by ``autograder.sandbox``) as
``python -I -S -B -u worker.py READ_FD WRITE_FD LIBRARY_DIR...``, with this file, ``wire.py``
and the assignment's driver in a read-only runtime folder, and the student's files in its
working folder. The runtime folder and the library folders go on ``sys.path`` before numpy
and ``wire`` are imported; the working folder is added only after them.

It reads requests and writes replies in the wire format (see ``wire``) on the two pipe
descriptors; what the student prints goes to stdout/stderr, never into the channel.

    {"op": "init", "module", "forbidden": [...], "driver": name | None}   import the module
    {"op": "call", "function", "args", "kwargs"}        call a function of the student's module
    {"op": "drive", "action", "args", "kwargs"}         run an action of the driver on it

Replies are ``{"ok": true, "value": ...}`` or ``{"ok": false, "error": {...}}``. Nothing here
is trusted by the grader: it only carries the student's answers, which are checked outside.
"""

from __future__ import annotations

import os
import sys

sys.path[:0] = [os.path.dirname(os.path.abspath(__file__)), *sys.argv[3:]]

import importlib  # noqa: E402
import importlib.abc  # noqa: E402
import importlib.util  # noqa: E402
import traceback  # noqa: E402
import types  # noqa: E402

import numpy  # noqa: E402, F401  (imported before the student's folder is on sys.path)
import wire  # noqa: E402

TRACEBACK_LINES = 12
#: What the worker accepts from the grader: the grader is trusted, and sends weights and
#: inputs far larger than any reply may be.
REQUEST_LIMITS = wire.WireLimits(max_json_bytes=64 * 1024**2, max_buffer_bytes=4 * 1024**3,
                                 max_nodes=10_000_000)


class ForbiddenLibraryError(ImportError):
    """Raised when student code uses a library that the assignment does not allow."""


class _Phase:
    """While the student's module is being imported, using a forbidden library only
    records the use (a ``@numba.njit`` decorator, a ``torch.float32`` constant): the
    functions that then use the result fail, each with its own message, and the others
    still earn their points."""

    importing = False


def _forbidden(name: str):
    if _Phase.importing:
        return _Poison(f"{name}(...)")
    raise ForbiddenLibraryError(
        f"this assignment allows numpy only, but the code uses {name.split('.')[0]!r}"
    )


class _Poison:
    """Stands in for anything reached through a forbidden library: using it raises."""

    def __init__(self, name: str) -> None:
        object.__setattr__(self, "_name", name)

    def __getattr__(self, attribute: str):
        if attribute.startswith("__") and attribute.endswith("__"):
            raise AttributeError(attribute)
        return _Poison(f"{self._name}.{attribute}")

    def __call__(self, *args, **kwargs):
        return _forbidden(self._name)

    def __repr__(self) -> str:
        return f"<forbidden {self._name}>"


for _dunder in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__",
                "__matmul__", "__rmatmul__", "__truediv__", "__getitem__", "__iter__",
                "__len__", "__bool__", "__array__", "__index__", "__float__", "__int__"):
    setattr(_Poison, _dunder, lambda self, *args, **kwargs: _forbidden(self._name))


class _PoisonModule(types.ModuleType):
    def __getattr__(self, attribute: str):
        if attribute.startswith("__") and attribute.endswith("__"):
            raise AttributeError(attribute)
        return _Poison(f"{self.__name__}.{attribute}")


class _ForbiddenFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports forbidden libraries as poison modules, so that only the functions that use
    them fail, with a message that says why. This is for the message only: the libraries
    themselves are not in the sandbox, so removing this finder gains nothing."""

    def __init__(self, forbidden: list[str]) -> None:
        self.forbidden = frozenset(forbidden)

    def find_spec(self, fullname, path=None, target=None):
        if fullname.split(".")[0] in self.forbidden:
            return importlib.util.spec_from_loader(fullname, self, is_package=True)
        return None

    def create_module(self, spec):
        module = _PoisonModule(spec.name)
        module.__path__ = []
        return module

    def exec_module(self, module):
        pass


def _error(kind: str, exc: BaseException | None = None, message: str = "") -> dict:
    if exc is None:
        return {"ok": False, "error": {"kind": kind, "type": "", "mro": [],
                                       "message": message, "traceback": ""}}
    return {"ok": False, "error": {
        "kind": kind,
        "type": type(exc).__name__,
        "mro": [cls.__name__ for cls in type(exc).__mro__],
        "message": _safe_str(exc),
        "traceback": _student_traceback(exc),
    }}


def _safe_str(exc: BaseException) -> str:
    try:
        return str(exc)[:2000]
    except Exception:
        return "<the exception's message could not be printed>"


def _student_traceback(exc: BaseException) -> str:
    """The traceback lines that point into the student's files, newest last."""
    directory = os.getcwd()
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if f.filename.startswith(directory)]
    lines = traceback.format_list(frames)[-TRACEBACK_LINES:]
    return "".join(lines).replace(directory + os.sep, "")[-4000:]


class Worker:
    def __init__(self, read_fd: int, write_fd: int) -> None:
        self.reader = os.fdopen(read_fd, "rb", buffering=0)
        self.write_fd = write_fd
        self.module = None
        self.driver = None
        self.actions: dict = {}
        self.context_class = None
        self.context = None
        self.import_error: dict | None = None

    def serve(self) -> None:
        while True:
            request = self._read()
            if request is None:
                return
            self._write(self.handle(request))

    def handle(self, request: dict) -> dict:
        op = request.get("op")
        if op == "init":
            return self.load(request)
        if op in ("call", "drive"):
            return self.run(request)
        return _error("protocol", message=f"unknown op {op!r}")

    def load(self, request: dict) -> dict:
        name = request["module"]
        if request.get("driver"):  # trusted code: imported before the student's folder
            self.driver = importlib.import_module(request["driver"])
            # Kept now: the student's module could replace them in the driver afterwards
            # (its reports are checked by the grader all the same).
            self.actions = dict(self.driver.ACTIONS)
            self.context_class = self.driver.Context
        if request.get("forbidden"):
            sys.meta_path.insert(0, _ForbiddenFinder(request["forbidden"]))
        directory = os.getcwd()
        sys.path.insert(0, directory)
        if not os.path.isfile(os.path.join(directory, f"{name}.py")):
            self.import_error = _error("missing_module", message=f"{name}.py not found")
        else:
            _Phase.importing = True
            try:
                self.module = importlib.import_module(name)
            except BaseException as exc:  # SystemExit at import is a broken module too
                self.import_error = _error("import", exc)
            finally:
                _Phase.importing = False
        if self.driver is not None and self.module is not None:
            self.context = self.context_class(self.module)
        return self.import_error or {"ok": True, "value": None}

    def run(self, request: dict) -> dict:
        if self.module is None:
            return self.import_error or _error("protocol", message="module not loaded")
        if request["op"] == "call":
            function = getattr(self.module, request["function"], None)
            if not callable(function):
                return _error("missing_function", message=f"no function {request['function']!r}")
        else:
            action = self.actions.get(request["action"])
            if action is None:
                return _error("protocol", message=f"no driver action {request['action']!r}")

            def function(*args, **kwargs):
                return action(self.context, *args, **kwargs)
        try:
            value = function(*request.get("args", ()), **request.get("kwargs", {}))
        except BaseException as exc:
            return _error("raised", exc)
        return {"ok": True, "value": value}

    def _read(self) -> dict | None:
        header = self._read_exactly(wire.HEADER_BYTES)
        if header is None:
            return None
        json_bytes, buffer_bytes = wire.read_header(header, REQUEST_LIMITS)
        json_part = self._read_exactly(json_bytes)
        buffers = self._read_exactly(buffer_bytes)
        if json_part is None or buffers is None:
            return None
        return wire.decode(json_part, buffers, REQUEST_LIMITS)

    def _read_exactly(self, count: int) -> bytearray | None:
        data = bytearray(count)
        view, done = memoryview(data), 0
        while done < count:
            received = self.reader.readinto(view[done:])
            if not received:
                return None
            done += received
        return data

    def _write(self, reply: dict) -> None:
        frame = wire.encode(reply)
        view = memoryview(frame)
        while view:
            view = view[os.write(self.write_fd, view):]


if __name__ == "__main__":
    Worker(int(sys.argv[1]), int(sys.argv[2])).serve()
