"""The data-only format in which arguments and results cross the sandbox boundary.

A message is a 4-byte big-endian length followed by that many bytes of UTF-8 JSON.
Values are JSON scalars, lists and string-keyed dicts, plus tagged objects:

    {"__tuple__": [...]}                                   a tuple
    {"__ndarray__": {"dtype", "shape", "data"}}            a numpy array, data in base64
    {"__npscalar__": {"dtype", "value"}}                   a numpy scalar
    {"__float__": "nan" | "inf" | "-inf"}                  a non-finite float
    {"__unsupported__": {"type", "repr"}}                  anything else (decoded as Unsupported)

Decoding never runs code: only the dtypes in ``ALLOWED_DTYPES`` are rebuilt, with
``numpy.frombuffer``, and sizes are checked against the shape. This module is copied
into the sandbox, so it imports nothing but the standard library and numpy.
"""

from __future__ import annotations

import base64
import json
import math
import struct

import numpy as np

ALLOWED_DTYPES = frozenset(
    {"bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
     "float16", "float32", "float64"}
)
MAX_MESSAGE_BYTES = 256 * 1024 * 1024
_HEADER = struct.Struct(">I")
HEADER_BYTES = _HEADER.size


class WireError(ValueError):
    """A message that does not follow the wire format."""


class Unsupported:
    """Stands for a value the student returned that the wire cannot carry (a list of
    torch tensors, a custom object, ...). Tests compare it as a wrong answer."""

    def __init__(self, type_name: str, text: str) -> None:
        self.type_name = type_name
        self.text = text

    def __repr__(self) -> str:
        return f"<{self.type_name} object: {self.text}>"


def to_wire(value):
    """Turn ``value`` into JSON-ready data, tagging what JSON lacks."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"__float__": repr(value)}
    if isinstance(value, np.ndarray):
        if value.dtype.name not in ALLOWED_DTYPES:
            return _unsupported(value)
        data = np.ascontiguousarray(value).tobytes()
        return {"__ndarray__": {"dtype": value.dtype.name, "shape": list(value.shape),
                                "data": base64.b64encode(data).decode("ascii")}}
    if isinstance(value, np.generic):
        if value.dtype.name not in ALLOWED_DTYPES:
            return _unsupported(value)
        return {"__npscalar__": {"dtype": value.dtype.name, "value": to_wire(value.item())}}
    if isinstance(value, tuple):
        return {"__tuple__": [to_wire(v) for v in value]}
    if isinstance(value, list):
        return [to_wire(v) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: to_wire(v) for k, v in value.items()}
    return _unsupported(value)


def _unsupported(value) -> dict:
    try:
        text = repr(value)[:200]
    except Exception:  # a hostile __repr__ must not break the worker
        text = "<repr failed>"
    return {"__unsupported__": {"type": type(value).__name__, "repr": text}}


def from_wire(data):
    """Rebuild a value from JSON data made by ``to_wire``; raise ``WireError`` on anything else."""
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    if isinstance(data, list):
        return [from_wire(v) for v in data]
    if not isinstance(data, dict):
        raise WireError(f"unexpected JSON value of type {type(data).__name__}")
    if len(data) == 1:
        (tag, body), = data.items()
        if tag == "__tuple__":
            return tuple(from_wire(v) for v in _expect(body, list, tag))
        if tag == "__ndarray__":
            return _array_from_wire(_expect(body, dict, tag))
        if tag == "__npscalar__":
            body = _expect(body, dict, tag)
            dtype = _allowed_dtype(body.get("dtype"))
            return dtype.type(from_wire(body.get("value")))
        if tag == "__float__":
            if body not in ("nan", "inf", "-inf"):
                raise WireError(f"bad non-finite float {body!r}")
            return float(body)
        if tag == "__unsupported__":
            body = _expect(body, dict, tag)
            return Unsupported(str(body.get("type"))[:100], str(body.get("repr"))[:200])
    return {str(k): from_wire(v) for k, v in data.items()}


def _expect(body, kind, tag):
    if not isinstance(body, kind):
        raise WireError(f"{tag} must hold a {kind.__name__}")
    return body


def _allowed_dtype(name) -> np.dtype:
    if name not in ALLOWED_DTYPES:
        raise WireError(f"dtype {name!r} is not allowed on the wire")
    return np.dtype(name)


def _array_from_wire(body: dict) -> np.ndarray:
    dtype = _allowed_dtype(body.get("dtype"))
    shape = body.get("shape")
    if not isinstance(shape, list) or not all(isinstance(n, int) and n >= 0 for n in shape):
        raise WireError(f"bad array shape {shape!r}")
    try:
        raw = base64.b64decode(body.get("data", ""), validate=True)
    except (ValueError, TypeError) as error:
        raise WireError(f"bad array data: {error}") from None
    if len(raw) != math.prod(shape) * dtype.itemsize:
        raise WireError(f"array data holds {len(raw)} bytes, shape {shape} needs "
                        f"{math.prod(shape) * dtype.itemsize}")
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()


def encode_message(message: dict) -> bytes:
    """Frame ``message`` (already wire data) as length-prefixed JSON bytes."""
    payload = json.dumps(message, allow_nan=False).encode("utf-8")
    return _HEADER.pack(len(payload)) + payload


def decode_length(header: bytes) -> int:
    """Read a frame header; refuse frames larger than ``MAX_MESSAGE_BYTES``."""
    (length,) = _HEADER.unpack(header)
    if length > MAX_MESSAGE_BYTES:
        raise WireError(f"message of {length} bytes is over the {MAX_MESSAGE_BYTES} limit")
    return length



def decode_payload(payload: bytes) -> dict:
    """Parse one frame's JSON payload into a dict (not yet ``from_wire``'d)."""
    try:
        message = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise WireError(f"message is not JSON: {error}") from None
    if not isinstance(message, dict):
        raise WireError("message is not a JSON object")
    return message
