"""Fingerprints of submitted code, to find submissions that are suspiciously alike.

Two submissions get the same fingerprint when their written functions are the same code up
to comments, docstrings and other strings, blank lines, and names (each non-builtin name is
renumbered in order of first use in its function, and functions are compared whatever
their names). Functions left as released
(the stub) do not count, so two students who wrote nothing are not "alike". The grader
computes the fingerprint in its trusted process, from the file the student submitted, and
keeps it in ``results.json`` (``extra_data.fingerprint``); the class report groups by it.
"""

from __future__ import annotations

import ast
import builtins
import hashlib
import io
import keyword
import os
import stat
import tokenize
from pathlib import Path

#: The largest module read for a fingerprint (bytes).
MAX_SOURCE_BYTES = 1024 * 1024
_KEPT_NAMES = frozenset(keyword.kwlist) | frozenset(dir(builtins)) | {"self", "np", "torch",
                                                                      "nn", "F"}
_SKIPPED = frozenset({tokenize.COMMENT, tokenize.NL, tokenize.ENCODING,
                      tokenize.ENDMARKER, tokenize.TYPE_COMMENT})


def read_source(path: Path) -> str | None:
    """The text of ``path`` if it is a regular file (not a link, a pipe or a device) of at
    most ``MAX_SOURCE_BYTES``, in UTF-8; else None."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
    except OSError:
        return None
    with os.fdopen(descriptor, "rb") as handle:
        status = os.fstat(handle.fileno())
        if not stat.S_ISREG(status.st_mode) or status.st_size > MAX_SOURCE_BYTES:
            return None
        try:
            return handle.read(MAX_SOURCE_BYTES).decode("utf-8")
        except (OSError, UnicodeDecodeError):
            return None


def normalised(code: str) -> str:
    """``code`` as its tokens, comments and strings dropped and local names renumbered."""
    names: dict[str, str] = {}
    tokens = []
    for token in tokenize.generate_tokens(io.StringIO(code).readline):
        if token.type in _SKIPPED:
            continue
        if token.type == tokenize.STRING:
            tokens.append("S")
        elif token.type == tokenize.NAME and token.string not in _KEPT_NAMES:
            tokens.append(names.setdefault(token.string, f"v{len(names)}"))
        else:
            tokens.append(token.string)
    return " ".join(tokens)


def functions(source: str) -> dict[str, str]:
    """Each top-level function or class of ``source``, normalised, by name."""
    tree = ast.parse(source)
    found = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            body = node.body[1:] if ast.get_docstring(node) is not None and len(
                node.body) > 1 else node.body
            found[node.name] = normalised("\n".join(ast.unparse(part) for part in body))
    return found


def fingerprint(source: str | None, stub: str | None) -> str | None:
    """A short hash of the functions of ``source`` that are none of ``stub``'s (the released
    module's stubs and given helpers, under any name); None when there are none, or the
    source cannot be read or parsed."""
    if source is None:
        return None
    try:
        written = functions(source)
        released = set(functions(stub).values()) if stub is not None else set()
    except (SyntaxError, ValueError, RecursionError, tokenize.TokenError):
        return None
    kept = sorted(code for code in written.values() if code not in released)
    if not kept:
        return None
    return hashlib.sha256(repr(kept).encode()).hexdigest()[:16]
