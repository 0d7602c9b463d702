"""Writing the grader's output files so that a reader (or a run killed half-way) never sees
half of one."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path


def write_atomically(path: Path, text: str, durable: bool = False) -> Path:
    """Write ``text`` to ``path`` through a temporary file beside it, renamed over ``path``:
    a reader sees the old file or the new one. With ``durable``, the bytes reach the disk
    before the rename (a crash of the machine keeps one of the two as well)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with open(descriptor, "w", newline="", encoding="utf-8") as handle:
            handle.write(text)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return path
