"""The program that runs a student's module inside the sandbox.

Started by ``autograder.sandbox`` as ``python -E -s -B -u worker.py READ_FD WRITE_FD``, with
this file and ``wire.py`` copied into a read-only runtime folder (the script's folder is first
on ``sys.path``; the student's folder is added only once numpy and ``wire`` are imported).
It reads requests and writes replies in the wire format (see ``wire``) on the two pipe
descriptors; the student's prints go to a file, never into the channel. Requests:

    {"op": "init", "directory", "module", "forbidden": [...]}   import the student's module
    {"op": "call", "function", "args", "kwargs"}                call one of its functions

Replies are ``{"ok": true, "value": ...}`` or ``{"ok": false, "error": {...}}``. Nothing here
is trusted by the grader: it only carries the student's answers, which are checked outside.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import os
import sys
import traceback
import types

import numpy  # noqa: F401  (imported before the student's folder is on sys.path)
import wire

TRACEBACK_LINES = 12


class ForbiddenLibraryError(ImportError):
    """Raised when student code uses a library that the assignment does not allow."""


def _forbidden(name: str):
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
        _forbidden(self._name)

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
    """Imports forbidden libraries as poison modules, so that only the functions that
    use them fail, each with a message that says why."""

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
        if op == "call":
            return self.call(request)
        return _error("protocol", message=f"unknown op {op!r}")

    def load(self, request: dict) -> dict:
        directory, name = request["directory"], request["module"]
        if request.get("forbidden"):
            sys.meta_path.insert(0, _ForbiddenFinder(request["forbidden"]))
        sys.path.insert(0, directory)
        if not os.path.isfile(os.path.join(directory, f"{name}.py")):
            self.import_error = _error("missing_module", message=f"{name}.py not found")
        else:
            try:
                self.module = importlib.import_module(name)
            except BaseException as exc:  # SystemExit at import is a broken module too
                self.import_error = _error("import", exc)
        return self.import_error or {"ok": True, "value": None}

    def call(self, request: dict) -> dict:
        if self.module is None:
            return self.import_error or _error("protocol", message="module not loaded")
        name = request["function"]
        function = getattr(self.module, name, None)
        if not callable(function):
            return _error("missing_function", message=f"no function {name!r}")
        try:
            args = wire.from_wire(request.get("args", []))
            kwargs = wire.from_wire(request.get("kwargs", {}))
            value = function(*args, **kwargs)
        except BaseException as exc:
            return _error("raised", exc)
        try:
            return {"ok": True, "value": wire.to_wire(value)}
        except BaseException as exc:
            return _error("unencodable", exc)

    def _read(self) -> dict | None:
        header = self._read_exactly(wire.HEADER_BYTES)
        if header is None:
            return None
        payload = self._read_exactly(wire.decode_length(header))
        return None if payload is None else wire.decode_payload(payload)

    def _read_exactly(self, count: int) -> bytes | None:
        chunks = []
        while count:
            chunk = self.reader.read(count)
            if not chunk:
                return None
            chunks.append(chunk)
            count -= len(chunk)
        return b"".join(chunks)

    def _write(self, reply: dict) -> None:
        try:
            frame = wire.encode_message(reply)
        except (TypeError, ValueError) as exc:
            frame = wire.encode_message(_error("unencodable", exc))
        view = memoryview(frame)
        while view:
            view = view[os.write(self.write_fd, view):]


if __name__ == "__main__":
    Worker(int(sys.argv[1]), int(sys.argv[2])).serve()
