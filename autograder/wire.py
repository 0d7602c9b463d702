"""The data-only format in which values cross between the grader and a student's worker.

The worker runs student code, so nothing it sends may run code in the grader: no pickle. A value
crosses as one *frame* of JSON followed by the raw bytes of its arrays::

    | header: 8 bytes          | JSON part: json_bytes bytes  | buffers: buffer_bytes bytes      |
    | ">II" json_bytes,        | the message as UTF-8 JSON,   | the arrays' data, little-endian, |
    |       buffer_bytes       | with tags for what JSON lacks| each padded with zero bytes to a |
    |                          |                              | multiple of ALIGNMENT (8) bytes  |

The receiver reads the header, checks the two sizes against its ``WireLimits`` with
``read_header``, reads the JSON part and the buffers (the buffers into a ``bytearray`` of their
own, so that arrays are decoded in place), and hands both to ``decode``.

The JSON part is one JSON object: the message, such as ``{"ok": true, "value": ...}``. What JSON
cannot say travels as a *tag*, an object whose only key is a tag name::

    {"__tuple__": [item, ...]}                                      a tuple
    {"__float__": "nan" | "inf" | "-inf"}                           a non-finite float
    {"__ndarray__": {"dtype": "float32", "shape": [2, 3], "buffer": 0}}  a numpy array
    {"__npscalar__": {"dtype": "int64", "value": 7}}                a numpy scalar
    {"__unsupported__": {"type": "set", "repr": "{1, 2}"}}          what the wire cannot carry
    {"__dict__": {"__tuple__": 1}}                                  a dict that would read as a tag

Every other object is a plain dict: one with a tag name among other keys, or with an unknown key
such as ``"__set__"``, is just a dict. A dict whose only key is a tag name is sent inside
``__dict__``. Array number ``i`` (counting from 0 in the order the arrays appear in the JSON
text) names ``"buffer": i`` and owns the ``i``-th buffer, ``prod(shape) * itemsize`` bytes.

``encode`` never raises: a value it cannot carry (a set, a custom object, an array of objects, a
dict with non-string keys, an int of more than ``MAX_INT_DIGITS`` digits, a cycle, or nesting
deeper than ``WireLimits.max_depth``) becomes an ``Unsupported`` tag, which the grader compares as
a wrong answer. Subclasses of builtins go as their plain builtin values, read without calling any
method the subclass overrides. Sizes are the receiver's business: encode applies none of the other
limits, and a frame over them is refused by ``read_header`` or ``decode``.

``decode`` is the grader's defence and raises only ``WireError``. It refuses sizes over the
``WireLimits``, JSON that repeats a key or writes ``NaN``/``Infinity``/``1e999``, a top level that
is not a dict, tag bodies with missing or extra keys, dtypes outside ``ALLOWED_DTYPES``, numbers
out of range for their dtype, bool arrays holding bytes other than 0 and 1, and buffers that are
not used exactly once each, in order, with zero padding. It only ever builds builtin values,
numpy arrays and scalars of the allowed dtypes, and ``Unsupported``. This module is copied into
the sandbox, so it imports nothing but the standard library and numpy.
"""

from __future__ import annotations

import json
import math
import reprlib
import struct
from dataclasses import dataclass

import numpy as np

HEADER = struct.Struct(">II")  # (json_bytes, buffer_bytes) of one frame
HEADER_BYTES = HEADER.size
ALLOWED_DTYPES = frozenset(
    {"bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
     "float16", "float32", "float64"}
)
ALIGNMENT = 8  # bytes; every buffer starts at a multiple of this from the start of the buffers
MAX_DIMS = 32  # dimensions of an array (numpy 1.x's own limit)
MAX_INT_DIGITS = 4300  # decimal digits of an int (Python's default int-to-str limit)
_INT_BOUND = 10**MAX_INT_DIGITS  # every int sent is strictly between -_INT_BOUND and this
REPR_CHARS = 200  # characters of an Unsupported value's repr
NAME_CHARS = 100  # characters of an Unsupported value's type name
_MAX_PART_BYTES = 2**32 - 1  # the most bytes a header can announce for one part

_TUPLE, _FLOAT, _NDARRAY, _NPSCALAR, _UNSUPPORTED, _DICT = (
    "__tuple__", "__float__", "__ndarray__", "__npscalar__", "__unsupported__", "__dict__")
_TAGS = frozenset({_TUPLE, _FLOAT, _NDARRAY, _NPSCALAR, _UNSUPPORTED, _DICT})
_NON_FINITE = ("nan", "inf", "-inf")
_SCALAR_TYPES = frozenset(np.dtype(name).type for name in ALLOWED_DTYPES)


class WireError(ValueError):
    """A frame that breaks the wire format or the receiver's limits."""


class Unsupported:
    """Stands for a value the student returned that the wire cannot carry (a list of
    torch tensors, a custom object, ...). Tests compare it as a wrong answer."""

    def __init__(self, type_name: str, text: str) -> None:
        self.type_name = type_name
        self.text = text

    def __repr__(self) -> str:
        return f"<{self.type_name} object: {self.text}>"


@dataclass(frozen=True)
class WireLimits:
    """What the receiving side accepts in one frame."""

    max_json_bytes: int = 1 * 1024**2  # bytes of the JSON part
    max_buffer_bytes: int = 8 * 1024**2  # bytes of the buffers (raw array data, padding included)
    max_nodes: int = 100_000  # values (JSON values and arrays), counted while decoding
    max_depth: int = 32  # nesting of lists, dicts and tuples; the message itself is level 1
    max_string: int = 100_000  # characters of any one string, dict keys included


_DEFAULT_LIMITS = WireLimits()


# --- encoding -------------------------------------------------------------------------------


def encode(value) -> bytes:
    """Return the whole frame (header, JSON part, buffers) for ``value``; never raise.

    ``value`` is the message, a dict: ``decode`` refuses any other top level. Arrays are
    copied once, into the frame (twice if they must first be made contiguous little-endian).
    """
    encoder = _Encoder()
    tree = encoder.tag(value)
    # The tree holds only plain str, int, finite float, bool, None, list and dict: dumps succeeds.
    json_part = json.dumps(tree, allow_nan=False, separators=(",", ":")).encode("ascii")
    pieces = [HEADER.pack(len(json_part), encoder.buffer_bytes), json_part]
    for data in encoder.buffers:
        pieces += [data, bytes(_padded(data.nbytes) - data.nbytes)]
    return b"".join(pieces)


class _Encoder:
    """Turns one value into JSON-ready data, collecting the arrays' bytes on the side."""

    def __init__(self) -> None:
        self.buffers: list[np.ndarray] = []  # each array's little-endian bytes, as uint8
        self.buffer_bytes = 0  # their total size in the frame, padding included
        self._open: set[int] = set()  # ids of the containers being encoded, to spot cycles

    def tag(self, value, depth: int = 0):
        """JSON-ready data for ``value``, which sits inside ``depth`` containers."""
        buffers, buffer_bytes = len(self.buffers), self.buffer_bytes
        try:
            return self._tag(value, depth)
        except Exception:  # student code (an __index__, a __class__, ...) must not break encode
            del self.buffers[buffers:]  # drop the buffers of arrays whose tags are dropped
            self.buffer_bytes = buffer_bytes
            return _unsupported(value)

    def _tag(self, value, depth: int):
        kind = type(value)  # not isinstance, which may consult a student's __class__
        if value is None or kind is bool:
            return value
        if kind in _SCALAR_TYPES:
            return _scalar(value)  # before float: np.float64 is a float subclass
        if issubclass(kind, int):
            return _int(int.__int__(value))
        if issubclass(kind, float):
            return _float(float.__float__(value))
        if issubclass(kind, str):
            return str.__str__(value)
        if issubclass(kind, np.ndarray):
            return self._array(np.asarray(value))
        if issubclass(kind, (list, tuple, dict)):
            return self._container(value, depth)
        return _unsupported(value)

    def _container(self, value, depth: int):
        if depth + 1 > _DEFAULT_LIMITS.max_depth:
            return _unsupported(value, f"<nested more than {_DEFAULT_LIMITS.max_depth} deep>")
        if id(value) in self._open:
            return _unsupported(value, "<a container that holds itself>")
        self._open.add(id(value))
        try:
            if issubclass(type(value), dict):
                return self._dict(value, depth + 1)
            if issubclass(type(value), tuple):
                return {_TUPLE: [self.tag(item, depth + 1) for item in tuple.__iter__(value)]}
            return [self.tag(item, depth + 1) for item in list.__iter__(value)]
        finally:
            self._open.discard(id(value))

    def _dict(self, value: dict, depth: int):
        pairs = list(dict.items(value))  # dict's own items: a subclass's override is not called
        if not all(issubclass(type(key), str) for key, _ in pairs):
            return _unsupported(value)
        plain = [(str.__str__(key), item) for key, item in pairs]
        if len({key for key, _ in plain}) != len(plain):  # str subclasses with their own __eq__
            return _unsupported(value)
        data = {key: self.tag(item, depth) for key, item in plain}
        return {_DICT: data} if len(data) == 1 and plain[0][0] in _TAGS else data

    def _array(self, array: np.ndarray):
        name = array.dtype.name  # the same for either byte order
        if name not in ALLOWED_DTYPES or array.ndim > MAX_DIMS:
            return _unsupported(array)
        little = np.asarray(array, dtype=np.dtype(name).newbyteorder("<"), order="C")
        data = little.reshape(-1).view(np.uint8)  # no copy: little is C-contiguous
        if self.buffer_bytes + _padded(data.nbytes) > _MAX_PART_BYTES:
            return _unsupported(array, f"<{data.nbytes} bytes, too large for one frame>")
        self.buffers.append(data)
        self.buffer_bytes += _padded(data.nbytes)
        body = {"dtype": name, "shape": list(array.shape), "buffer": len(self.buffers) - 1}
        return {_NDARRAY: body}


def _scalar(value: np.generic) -> dict:
    item = value.item()  # a Python bool, int or float, exactly the scalar's value
    number = _float(item) if isinstance(item, float) else item
    return {_NPSCALAR: {"dtype": value.dtype.name, "value": number}}


def _int(number: int):
    if -_INT_BOUND < number < _INT_BOUND:
        return number
    return _unsupported(number, f"<an int of {number.bit_length()} bits, over "
                                f"{MAX_INT_DIGITS} digits>")


def _float(number: float):
    if math.isfinite(number):
        return number
    return {_FLOAT: "nan" if math.isnan(number) else "inf" if number > 0 else "-inf"}


_REPR = reprlib.Repr()  # bounded, even for huge or self-referencing containers
_REPR.maxlevel = 3
_REPR.maxstring = _REPR.maxother = _REPR.maxlong = REPR_CHARS


def _unsupported(value, text: str | None = None) -> dict:
    """The tag for a value the wire cannot carry, with its type name and a short repr."""
    if text is None:
        try:
            text = str.__str__(_REPR.repr(value))[:REPR_CHARS]
        except Exception:  # a hostile __repr__ must not break encode
            text = "<repr failed>"
    return {_UNSUPPORTED: {"type": _type_name(value), "repr": text}}


def _type_name(value) -> str:
    try:
        return str.__str__(type(value).__name__)[:NAME_CHARS]
    except Exception:  # a metaclass can make even __name__ misbehave
        return "?"


def _padded(size: int) -> int:
    """``size`` in bytes, rounded up to a multiple of ``ALIGNMENT``."""
    return -(-size // ALIGNMENT) * ALIGNMENT


# --- decoding -------------------------------------------------------------------------------


def read_header(header: bytes, limits: WireLimits) -> tuple[int, int]:
    """Return ``(json_bytes, buffer_bytes)`` from a frame's header, both within ``limits``."""
    if len(header) != HEADER_BYTES:
        raise WireError(f"a frame header is {HEADER_BYTES} bytes, not {len(header)}")
    json_bytes, buffer_bytes = HEADER.unpack(header)
    _check_sizes(json_bytes, buffer_bytes, limits)
    return json_bytes, buffer_bytes


def decode(json_part: bytes, buffers: bytes | bytearray | memoryview,
           limits: WireLimits) -> dict:
    """Rebuild the message from a frame's JSON part and buffers; raise only ``WireError``.

    Arrays are views into ``buffers`` when it is writable (a ``bytearray``) and its start is
    aligned to ``ALIGNMENT`` bytes, and copies otherwise: either way they are writable,
    C-contiguous, aligned and in native byte order.
    """
    view = memoryview(buffers).cast("B")
    _check_sizes(len(json_part), len(view), limits)
    try:
        tree = _parse_json(json_part)
        return _Decoder(view, limits).message(tree)
    except RecursionError:  # json.loads has its own limit; max_depth may be set above it
        raise WireError("the message is nested too deeply to decode") from None


def _check_sizes(json_bytes: int, buffer_bytes: int, limits: WireLimits) -> None:
    if json_bytes > limits.max_json_bytes:
        raise WireError(f"a JSON part of {json_bytes} bytes is over the limit of "
                        f"{limits.max_json_bytes} bytes")
    if buffer_bytes > limits.max_buffer_bytes:
        raise WireError(f"buffers of {buffer_bytes} bytes are over the limit of "
                        f"{limits.max_buffer_bytes} bytes")


def _parse_json(json_part: bytes):
    """Parse strict UTF-8 JSON: no repeated keys, no non-finite or over-long numbers."""
    try:
        text = str(json_part, "utf-8")
    except UnicodeDecodeError as error:
        raise WireError(f"the JSON part is not UTF-8: {error}") from None
    try:
        return json.loads(text, object_pairs_hook=_json_object, parse_int=_json_int,
                          parse_float=_json_float, parse_constant=_json_constant)
    except json.JSONDecodeError as error:
        raise WireError(f"the JSON part is not JSON: {error}") from None


def _json_object(pairs: list) -> dict:
    data = dict(pairs)
    if len(data) != len(pairs):
        raise WireError("a JSON object repeats a key")
    return data


def _json_int(text: str) -> int:
    digits = len(text) - text.startswith("-")
    if digits > MAX_INT_DIGITS:
        raise WireError(f"an int of {digits} digits is over the limit of {MAX_INT_DIGITS}")
    return int(text)


def _json_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise WireError(f"the number {_preview(text)} is out of range for a float")
    return number


def _json_constant(name: str):
    raise WireError(f"{name} is not JSON; non-finite floats travel as {_FLOAT} tags")


class _Decoder:
    """Rebuilds one message from parsed JSON, taking array data from ``view`` in order."""

    def __init__(self, view: memoryview, limits: WireLimits) -> None:
        self.view = view
        self.limits = limits
        self.nodes = 0  # values decoded so far
        self.arrays = 0  # arrays decoded so far: the index of the next buffer
        self.offset = 0  # where in view the next buffer starts

    def message(self, tree) -> dict:
        if type(tree) is not dict:
            raise WireError(f"a message must be a JSON object, not {_preview(tree)}")
        message = self.value(tree, 0)
        if type(message) is not dict:
            raise WireError(f"a message must be a dict, not a {type(message).__name__}")
        if self.offset != len(self.view):
            raise WireError(f"{len(self.view) - self.offset} bytes of buffers belong to no array")
        return message

    def value(self, data, depth: int):
        """The value for parsed JSON ``data``, which sits inside ``depth`` containers."""
        self.nodes += 1
        if self.nodes > self.limits.max_nodes:
            raise WireError(f"the message holds more than {self.limits.max_nodes} values")
        if type(data) is str:
            return self._string(data)
        if type(data) is list:
            return self._list(data, depth)
        if type(data) is dict:
            if len(data) == 1 and next(iter(data)) in _TAGS:
                ((tag, body),) = data.items()
                return self._TAG_DECODERS[tag](self, body, depth)
            return self._dict(data, depth)
        return data  # None, bool, int or float, already checked by _parse_json

    def _string(self, text: str) -> str:
        if len(text) > self.limits.max_string:
            raise WireError(f"a string of {len(text)} characters is over the limit of "
                            f"{self.limits.max_string}")
        return text

    def _nest(self, depth: int) -> int:
        """The depth of the items of a container inside ``depth`` containers."""
        if depth + 1 > self.limits.max_depth:
            raise WireError(f"values are nested more than {self.limits.max_depth} deep")
        return depth + 1

    def _list(self, data: list, depth: int) -> list:
        inner = self._nest(depth)
        return [self.value(item, inner) for item in data]

    def _dict(self, data: dict, depth: int) -> dict:
        inner = self._nest(depth)
        return {self._string(key): self.value(item, inner) for key, item in data.items()}

    def _tuple_tag(self, body, depth: int) -> tuple:
        return tuple(self._list(_expect(body, list, _TUPLE), depth))

    def _dict_tag(self, body, depth: int) -> dict:
        return self._dict(_expect(body, dict, _DICT), depth)

    def _float_tag(self, body, depth: int) -> float:
        return _non_finite(body)

    def _unsupported_tag(self, body, depth: int) -> Unsupported:
        fields = _fields(body, _UNSUPPORTED, "type", "repr")
        if type(fields["type"]) is not str or type(fields["repr"]) is not str:
            raise WireError(f"{_UNSUPPORTED} must hold strings")
        return Unsupported(self._string(fields["type"]), self._string(fields["repr"]))

    def _scalar_tag(self, body, depth: int) -> np.generic:
        fields = _fields(body, _NPSCALAR, "dtype", "value")
        return _scalar_from(_dtype(fields["dtype"]), fields["value"])

    def _array_tag(self, body, depth: int) -> np.ndarray:
        fields = _fields(body, _NDARRAY, "dtype", "shape", "buffer")
        dtype, shape = _dtype(fields["dtype"]), _shape(fields["shape"])
        if type(fields["buffer"]) is not int or fields["buffer"] != self.arrays:
            raise WireError(f"array {self.arrays} names buffer {_preview(fields['buffer'])}: "
                            f"each buffer belongs to one array, in order")
        raw = self._take(math.prod(shape) * dtype.itemsize)
        if dtype.kind == "b" and np.frombuffer(raw, np.uint8).max(initial=0) > 1:
            raise WireError("a bool array holds bytes other than 0 and 1")
        array = np.frombuffer(raw, dtype=dtype.newbyteorder("<"))
        try:
            array = array.reshape(shape)
        except (ValueError, OverflowError) as error:  # numpy refuses shapes too big to index
            raise WireError(f"bad array shape {_preview(shape)}: {error}") from None
        return np.require(array, dtype=dtype, requirements=["C", "A", "W"])

    def _take(self, size: int) -> memoryview:
        """The next buffer, ``size`` bytes, after checking that its padding is zeros."""
        start, end, padded_end = self.offset, self.offset + size, self.offset + _padded(size)
        if padded_end > len(self.view):
            raise WireError(f"array {self.arrays} needs {size} bytes and padding from byte "
                            f"{start}, past the {len(self.view)} bytes of buffers")
        if any(self.view[end:padded_end]):
            raise WireError(f"the padding after array {self.arrays} is not zeros")
        self.arrays += 1
        self.offset = padded_end
        return self.view[start:end]

    _TAG_DECODERS = {_TUPLE: _tuple_tag, _DICT: _dict_tag, _FLOAT: _float_tag,
                     _UNSUPPORTED: _unsupported_tag, _NPSCALAR: _scalar_tag, _NDARRAY: _array_tag}


def _expect(body, kind: type, tag: str):
    if type(body) is not kind:
        raise WireError(f"{tag} must hold a {kind.__name__}")
    return body


def _fields(body, tag: str, *keys: str) -> dict:
    """``body``, checked to be an object with exactly ``keys``."""
    if type(body) is not dict or body.keys() != set(keys):
        raise WireError(f"{tag} must hold an object with exactly the keys {', '.join(keys)}")
    return body


def _dtype(name) -> np.dtype:
    if type(name) is not str or name not in ALLOWED_DTYPES:
        raise WireError(f"dtype {_preview(name)} is not allowed on the wire")
    return np.dtype(name)


def _shape(shape) -> list:
    if (type(shape) is not list or len(shape) > MAX_DIMS
            or not all(type(size) is int and size >= 0 for size in shape)):
        raise WireError(f"bad array shape {_preview(shape)}")
    return shape


def _non_finite(body) -> float:
    if type(body) is not str or body not in _NON_FINITE:
        raise WireError(f"bad non-finite float {_preview(body)}")
    return float(body)


def _scalar_from(dtype: np.dtype, value) -> np.generic:
    """The numpy scalar of ``dtype`` for ``value``, which must be in range."""
    if dtype.kind == "f" and type(value) is dict and value.keys() == {_FLOAT}:
        return dtype.type(_non_finite(value[_FLOAT]))
    if dtype.kind == "b":
        fits = type(value) is bool
    elif dtype.kind in "iu":
        info = np.iinfo(dtype)
        fits = type(value) is int and info.min <= value <= info.max
    else:
        fits = type(value) is float and abs(value) <= float(np.finfo(dtype).max)
    if not fits:
        raise WireError(f"{_preview(value)} is not a {dtype.name} value")
    return dtype.type(value)


def _preview(value) -> str:
    """A short repr of a received value, for an error message; bounded however big it is."""
    text = _REPR.repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
