"""The wire format: data crosses, code does not, and a hostile frame raises only WireError."""

from __future__ import annotations

import json
import pickle
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder import wire

LIMITS = wire.WireLimits()
ROOMY = wire.WireLimits(max_buffer_bytes=256 * 1024**2)


# --- helpers --------------------------------------------------------------------------------


def frame(message: dict | bytes, buffers: bytes = b"") -> bytes:
    """A raw frame for ``message`` (a JSON-ready dict, or JSON text) and ``buffers``."""
    json_part = message if isinstance(message, bytes) else json.dumps(message).encode()
    return wire.HEADER.pack(len(json_part), len(buffers)) + json_part + buffers


def receive(frame_bytes: bytes, limits: wire.WireLimits = LIMITS) -> dict:
    """Decode a frame as the grader does: the header, the JSON part, the buffers in a bytearray."""
    json_bytes, buffer_bytes = wire.read_header(frame_bytes[:wire.HEADER_BYTES], limits)
    body = memoryview(frame_bytes)[wire.HEADER_BYTES:]
    assert len(body) == json_bytes + buffer_bytes, "the frame is truncated"
    return wire.decode(body[:json_bytes], bytearray(body[json_bytes:]), limits)


def round_trip(value, limits: wire.WireLimits = LIMITS):
    return receive(wire.encode({"value": value}), limits)["value"]


def forged(value, buffers: bytes = b"", limits: wire.WireLimits = LIMITS):
    """Decode a frame whose message is ``{"value": value}``, ``value`` being raw JSON data."""
    return receive(frame({"value": value}, buffers), limits)["value"]


def array_tag(dtype="float64", shape=(1,), buffer=0) -> dict:
    return {"__ndarray__": {"dtype": dtype, "shape": list(shape), "buffer": buffer}}


def nested_lists(levels: int) -> list:
    value: list = []
    for _ in range(levels - 1):
        value = [value]
    return value


# --- round trips ----------------------------------------------------------------------------


@pytest.mark.parametrize("value", [
    None, True, False, 0, -3, 2**63, pytest.param(10**4299, id="4300 digits"),
    -2.5, 0.1, -0.0, 1e308, "", "text", "ünï\ud800",
    (), (1, (2, 3)), [1, [2]], {}, {"a": (1, 2)}, {"__set__": 1}, {"__tuple__": 1, "b": 2},
    np.bool_(True), np.int8(-128), np.int64(7), np.uint64(2**64 - 1), np.float16(0.5),
    np.float32(0.5), np.float64(-1e300),
])
def test_values_round_trip_with_their_types(value):
    back = round_trip(value)
    assert back == value and type(back) is type(value)


def test_tuples_stay_tuples_inside_lists_and_dicts():
    back = round_trip({"x": [(1, (2,)), {"y": ()}]})
    assert type(back["x"][0]) is tuple and type(back["x"][0][1]) is tuple
    assert type(back["x"][1]["y"]) is tuple


@pytest.mark.parametrize("value", [
    float("nan"), float("inf"), float("-inf"),
    np.float64("nan"), np.float32("inf"), np.float16("-inf"),
])
def test_non_finite_floats_round_trip(value):
    back = round_trip(value)
    assert type(back) is type(value)
    assert (np.isnan(back) and np.isnan(value)) or back == value


def test_a_dict_that_looks_like_a_tag_stays_a_dict():
    value = {"__tuple__": [1, 2]}
    assert round_trip(value) == value
    assert receive(wire.encode(value)) == value  # as the message itself, too


@pytest.mark.parametrize("dtype", sorted(wire.ALLOWED_DTYPES))
def test_arrays_round_trip_in_every_allowed_dtype(dtype):
    array = (np.arange(24).reshape(2, 3, 4) % 3).astype(dtype)
    back = round_trip(array)
    assert back.dtype == array.dtype and np.array_equal(back, array)


@pytest.mark.parametrize("shape", [(), (0,), (1,), (2, 0, 3), (2, 3, 4), (1,) * 32])
def test_arrays_keep_their_shape(shape):
    array = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    back = round_trip(array)
    assert back.shape == shape and np.array_equal(back, array)


@pytest.mark.parametrize("view", [
    lambda a: a[:, ::2], lambda a: a.T, lambda a: a[::-1], lambda a: a[1],
])
def test_non_contiguous_views_round_trip(view):
    array = view(np.arange(24.0).reshape(4, 6))
    assert np.array_equal(round_trip(array), array)


@pytest.mark.parametrize("dtype", [">f8", ">i4", ">u2", ">f2"])
def test_big_endian_arrays_arrive_with_their_values_in_native_order(dtype):
    array = np.arange(3, dtype=dtype)
    back = round_trip(array)
    assert back.dtype == np.dtype(dtype).newbyteorder("=") and back.tolist() == [0, 1, 2]


def test_decoded_arrays_are_writable_contiguous_aligned_and_native():
    back = round_trip((np.arange(3, dtype=np.uint8), np.arange(2.0).T, np.zeros((), ">f4")))
    for array in back:
        assert array.flags.writeable and array.flags.c_contiguous and array.flags.aligned
        assert array.dtype.isnative


def test_ndarray_subclasses_arrive_as_plain_arrays():
    back = round_trip(np.eye(2).view(type("Sub", (np.ndarray,), {})))
    assert type(back) is np.ndarray and np.array_equal(back, np.eye(2))


def test_decode_reads_arrays_in_place_from_a_bytearray():
    frame_bytes = wire.encode({"value": np.arange(4.0)})
    json_bytes, _ = wire.read_header(frame_bytes[:wire.HEADER_BYTES], LIMITS)
    buffers = bytearray(frame_bytes[wire.HEADER_BYTES + json_bytes:])
    back = wire.decode(frame_bytes[wire.HEADER_BYTES:][:json_bytes], buffers, LIMITS)["value"]
    assert np.shares_memory(back, np.frombuffer(buffers, np.uint8))


def test_decode_copies_arrays_out_of_read_only_bytes():
    frame_bytes = wire.encode({"value": np.arange(4.0)})
    json_bytes, _ = wire.read_header(frame_bytes[:wire.HEADER_BYTES], LIMITS)
    json_part = frame_bytes[wire.HEADER_BYTES:][:json_bytes]
    back = wire.decode(json_part, frame_bytes[wire.HEADER_BYTES + json_bytes:], LIMITS)["value"]
    assert back.flags.writeable and back.tolist() == [0.0, 1.0, 2.0, 3.0]


def test_a_50_mb_array_crosses():
    array = np.random.default_rng(0).random(50 * 1024**2 // 4, dtype=np.float32)
    assert np.array_equal(round_trip(array, ROOMY), array)


def test_a_frame_is_header_json_and_padded_little_endian_buffers():
    frame_bytes = wire.encode({"a": np.arange(3, dtype=">u2"), "b": np.ones(1, np.uint8)})
    json_bytes, buffer_bytes = wire.HEADER.unpack(frame_bytes[:wire.HEADER_BYTES])
    json_part = frame_bytes[wire.HEADER_BYTES:][:json_bytes]
    assert json.loads(json_part) == {
        "a": array_tag("uint16", (3,), 0), "b": array_tag("uint8", (1,), 1)}
    assert frame_bytes[wire.HEADER_BYTES + json_bytes:] == (
        b"\0\0\1\0\2\0" + bytes(2) + b"\1" + bytes(7))
    assert buffer_bytes == 16


# --- what encode cannot carry, and never raising ---------------------------------------------


class RaisingRepr:
    def __repr__(self):
        raise RuntimeError("no repr for you")


class RaisingClass:
    @property
    def __class__(self):
        raise RuntimeError("isinstance would call this")


class HostileInt(int):
    def __index__(self):
        raise RuntimeError

    def __int__(self):
        raise RuntimeError


class EndlessList(list):
    def __iter__(self):
        while True:
            yield 0


class HostileDict(dict):
    def items(self):
        raise RuntimeError

    def __iter__(self):
        raise RuntimeError


class SameStr(str):
    def __eq__(self, other):
        return True

    def __hash__(self):
        return id(self)


@pytest.mark.parametrize("value, plain", [
    (HostileInt(3), 3), (True, True), (type("F", (float,), {})(1.5), 1.5),
    (type("S", (str,), {})("s"), "s"), (np.str_("s"), "s"), (EndlessList([1, 2]), [1, 2]),
    (type("T", (tuple,), {"__iter__": lambda self: iter(())})((1,)), (1,)),
    (HostileDict(a=1), {"a": 1}),
])
def test_subclasses_of_builtins_arrive_as_plain_builtins(value, plain):
    back = round_trip(value)
    assert back == plain and type(back) is type(plain)


@pytest.mark.parametrize("value, type_name", [
    (object(), "object"), ({1, 2}, "set"), (b"bytes", "bytes"), (1j, "complex"),
    (print, "builtin_function_or_method"), ((x for x in ()), "generator"),
    (np.complex128(1), "complex128"), (np.datetime64("2024-01-01"), "datetime64"),
    (np.array([object()]), "ndarray"), (np.array(["a"]), "ndarray"),
    (np.zeros(2, dtype="V8"), "ndarray"), (np.zeros(2, dtype=[("x", "f8")]), "ndarray"),
    ({1: 2}, "dict"), ({SameStr("a"): 1, SameStr("a"): 2}, "dict"),
    pytest.param(10**4300, "int", id="4301 digits"),
    (RaisingRepr(), "RaisingRepr"),
])
def test_other_values_arrive_as_unsupported(value, type_name):
    back = round_trip(value)
    assert isinstance(back, wire.Unsupported) and back.type_name == type_name


def test_a_raising_repr_is_reported_not_raised():
    assert round_trip(RaisingRepr()).text.startswith("<RaisingRepr instance at")


def test_an_object_whose_class_attribute_raises_arrives_as_unsupported():
    assert isinstance(round_trip(RaisingClass()), wire.Unsupported)


def test_the_repr_of_an_unsupported_value_is_capped():
    back = round_trip({1: "x" * 10_000, 2: list(range(10_000))})
    assert len(back.text) <= wire.REPR_CHARS


def test_a_list_that_holds_itself_is_cut_at_the_cycle():
    value: list = [1]
    value.append(value)
    back = round_trip(value)
    assert back[0] == 1 and isinstance(back[1], wire.Unsupported)


def test_values_nested_deeper_than_max_depth_become_unsupported():
    deepest = LIMITS.max_depth - 1  # the message itself is one level
    assert round_trip(nested_lists(deepest)) == nested_lists(deepest)
    back = round_trip(nested_lists(deepest + 1))
    while isinstance(back, list):
        back = back[0]
    assert isinstance(back, wire.Unsupported)


def test_a_container_that_fails_halfway_leaves_no_stray_buffers(monkeypatch):
    dict_items = wire._Encoder._dict

    def fail_after_items(self, value, depth):
        dict_items(self, value, depth)  # encodes the array, then fails
        raise MemoryError

    monkeypatch.setattr(wire._Encoder, "_dict", fail_after_items)
    frame_bytes = wire.encode({"value": np.arange(3)})
    assert wire.HEADER.unpack(frame_bytes[:wire.HEADER_BYTES])[1] == 0


@pytest.mark.parametrize("value", [
    HostileInt(1), EndlessList(), HostileDict(), {(1, 2): 3},
    [np.arange(3), object(), np.ones(2)], {"a": {1: np.arange(3)}},
    pytest.param(10**100_000, id="100001 digits"),
    [[[[[[[]]]]]]] * 1000, np.array(3, dtype=object), range(10**18),
])
def test_encode_never_raises_and_its_frames_decode(value):
    receive(wire.encode({"value": value}))


def test_only_a_dict_makes_a_message():
    for value in (3, [1], (1,), None):
        with pytest.raises(wire.WireError, match="message must be"):
            receive(wire.encode(value))


# --- frame sizes ----------------------------------------------------------------------------


def test_read_header_refuses_a_json_part_over_the_limit_and_names_both_sizes():
    with pytest.raises(wire.WireError, match="2000000 bytes .* limit of 1048576"):
        wire.read_header(wire.HEADER.pack(2_000_000, 0), LIMITS)


def test_read_header_refuses_buffers_over_the_limit_and_names_both_sizes():
    with pytest.raises(wire.WireError, match="8388616 bytes .* limit of 8388608"):
        wire.read_header(wire.HEADER.pack(10, 8 * 1024**2 + 8), LIMITS)


def test_read_header_refuses_a_short_header():
    with pytest.raises(wire.WireError, match="8 bytes"):
        wire.read_header(b"\0\0\0", LIMITS)


def test_ten_million_empty_dicts_are_refused_by_the_header():
    json_part = b'{"value":[' + b"{}," * (10**7 - 1) + b"{}]}"
    with pytest.raises(wire.WireError, match="over the limit"):
        receive(wire.HEADER.pack(len(json_part), 0) + json_part)


def test_decode_checks_the_sizes_too():
    with pytest.raises(wire.WireError, match="over the limit"):
        wire.decode(b"{}", bytearray(16), wire.WireLimits(max_buffer_bytes=8))


# --- hostile JSON ---------------------------------------------------------------------------


@pytest.mark.parametrize("json_part, problem", [
    (b"\xff\xfe{}", "not UTF-8"),
    (pickle.dumps({"ok": True}), "not UTF-8|not JSON"),
    (b"", "not JSON"),
    (b'{"a": 1', "not JSON"),
    (b"[1, 2]", "must be a JSON object"),
    (b"null", "must be a JSON object"),
    (b'"text"', "must be a JSON object"),
    (b'{"__tuple__": []}', "must be a dict"),
    (b'{"a": 1, "a": 2}', "repeats a key"),
    (b'{"a": NaN}', "not JSON; non-finite"),
    (b'{"a": -Infinity}', "not JSON; non-finite"),
    (b'{"a": 1e999}', "out of range"),
    (b'{"a": ' + b"9" * 4301 + b"}", "4301 digits"),
])
def test_bad_json_is_refused(json_part, problem):
    with pytest.raises(wire.WireError, match=problem):
        receive(frame(json_part))


def test_an_int_of_4300_digits_is_accepted():
    assert receive(frame(b'{"a": -' + b"9" * 4300 + b"}"))["a"] == -(10**4300 - 1)


def test_json_nested_100_000_deep_is_refused():
    json_part = b'{"a":' * 100_000 + b"0" + b"}" * 100_000
    with pytest.raises(wire.WireError, match="nested"):
        receive(frame(json_part))


def test_nesting_deeper_than_max_depth_is_refused():
    assert forged(nested_lists(LIMITS.max_depth - 1)) == nested_lists(LIMITS.max_depth - 1)
    with pytest.raises(wire.WireError, match="nested more than 32 deep"):
        forged(nested_lists(LIMITS.max_depth))


def test_tuples_count_towards_the_depth():
    value: object = 0
    for _ in range(LIMITS.max_depth):
        value = {"__tuple__": [value]}
    with pytest.raises(wire.WireError, match="nested more than"):
        forged(value)


def test_more_values_than_max_nodes_are_refused():
    json_part = b'{"value":[' + b"0," * 199_999 + b"0]}"
    assert len(json_part) < LIMITS.max_json_bytes
    with pytest.raises(wire.WireError, match="more than 100000 values"):
        receive(frame(json_part))


def test_a_string_over_max_string_is_refused():
    limits = wire.WireLimits(max_string=10)
    assert forged("x" * 10, limits=limits) == "x" * 10
    with pytest.raises(wire.WireError, match="11 characters"):
        forged("x" * 11, limits=limits)


def test_a_dict_key_over_max_string_is_refused():
    with pytest.raises(wire.WireError, match="11 characters"):
        forged({"k" * 11: 1}, limits=wire.WireLimits(max_string=10))


# --- hostile tags ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", [
    {"__npscalar__": {"dtype": "int64", "value": 10**30}},
    {"__npscalar__": {"dtype": "uint8", "value": -1}},
    {"__npscalar__": {"dtype": "int8", "value": 128}},
    {"__npscalar__": {"dtype": "uint64", "value": 2**64}},
    {"__npscalar__": {"dtype": "int64", "value": 1.5}},
    {"__npscalar__": {"dtype": "int64", "value": True}},
    {"__npscalar__": {"dtype": "bool", "value": 1}},
    {"__npscalar__": {"dtype": "float16", "value": 1e10}},
    {"__npscalar__": {"dtype": "float32", "value": 1e300}},
    {"__npscalar__": {"dtype": "float32", "value": 1}},
    {"__npscalar__": {"dtype": "float32", "value": "nan"}},
    {"__npscalar__": {"dtype": "float32", "value": [0.5]}},
])
def test_numpy_scalars_out_of_range_for_their_dtype_are_refused(value):
    with pytest.raises(wire.WireError, match="is not a"):
        forged(value)


@pytest.mark.parametrize("value, problem", [
    ({"__npscalar__": {"dtype": "V8", "value": 0}}, "not allowed"),
    ({"__npscalar__": {"dtype": "complex128", "value": 0}}, "not allowed"),
    ({"__npscalar__": {"dtype": ["int8"], "value": 0}}, "not allowed"),
    ({"__npscalar__": {"dtype": "int8"}}, "exactly the keys dtype, value"),
    ({"__npscalar__": {"dtype": "int8", "value": 0, "x": 1}}, "exactly the keys"),
    ({"__npscalar__": {"dtype": "float64", "value": {"__float__": "NaN"}}}, "non-finite"),
    ({"__float__": "__import__('os')"}, "non-finite"),
    ({"__float__": "NaN"}, "non-finite"),
    ({"__float__": ["nan"]}, "non-finite"),
    ({"__tuple__": "abc"}, "must hold a list"),
    ({"__dict__": [1]}, "must hold a dict"),
    ({"__unsupported__": {"type": 1, "repr": "x"}}, "must hold strings"),
    ({"__unsupported__": {"type": "x"}}, "exactly the keys type, repr"),
    ({"__ndarray__": [1]}, "exactly the keys dtype, shape, buffer"),
])
def test_forged_tags_are_refused(value, problem):
    with pytest.raises(wire.WireError, match=problem):
        forged(value)


def test_a_tag_name_among_other_keys_is_a_plain_dict():
    assert forged({"__tuple__": [1], "x": 2}) == {"__tuple__": [1], "x": 2}


def test_an_unknown_tag_like_key_is_a_plain_dict():
    assert forged({"__set__": [1]}) == {"__set__": [1]}


def test_an_array_body_outside_its_tag_is_plain_data_and_leaves_its_buffer_unused():
    with pytest.raises(wire.WireError, match="belong to no array"):
        forged({**array_tag(), "x": 1}, bytes(8))


def test_unsupported_tags_arrive_as_unsupported():
    back = forged({"__unsupported__": {"type": "set", "repr": "{1}"}})
    assert isinstance(back, wire.Unsupported) and (back.type_name, back.text) == ("set", "{1}")


# --- hostile arrays -------------------------------------------------------------------------


@pytest.mark.parametrize("value, buffers, problem", [
    (array_tag("object"), pickle.dumps(print).ljust(64, b"\0")[:64], "not allowed"),
    (array_tag("O"), bytes(8), "not allowed"),
    (array_tag("V8"), bytes(8), "not allowed"),
    (array_tag(">f8"), bytes(8), "not allowed"),
    (array_tag(None), bytes(8), "not allowed"),
    (array_tag(shape=[-1]), b"", "bad array shape"),
    (array_tag(shape=[1.0]), bytes(8), "bad array shape"),
    (array_tag(shape=[True]), bytes(8), "bad array shape"),
    (array_tag(shape="1"), bytes(8), "bad array shape"),
    (array_tag(shape=[1] * 33), bytes(8), "bad array shape"),
    (array_tag(shape=[0, 2**62]), b"", "bad array shape"),
    (array_tag(shape=[0, 10**30]), b"", "bad array shape"),
    (array_tag(shape=[3]), bytes(8), "needs 24 bytes"),
    (array_tag(shape=[10**30]), bytes(8), "past the 8 bytes"),
    (array_tag(shape=[1]), bytes(16), "8 bytes of buffers belong to no array"),
    (array_tag(shape=[0]), bytes(8), "belong to no array"),
    (array_tag(buffer=1), bytes(8), "names buffer 1"),
    (array_tag(buffer=-1), bytes(8), "names buffer -1"),
    (array_tag(buffer="0"), bytes(8), "names buffer '0'"),
    ([array_tag(), array_tag()], bytes(16), "array 1 names buffer 0"),
    ([array_tag(buffer=1), array_tag(buffer=0)], bytes(16), "array 0 names buffer 1"),
    (array_tag("uint8"), b"\1", "past the 1 bytes"),
    (array_tag("uint8"), b"\1" * 8, "padding after array 0 is not zeros"),
    (array_tag("bool"), b"\2" + bytes(7), "bool array holds bytes other than 0 and 1"),
    ({"__ndarray__": {"dtype": "float64", "shape": [1]}}, bytes(8), "exactly the keys"),
    ({"__ndarray__": {**array_tag()["__ndarray__"], "data": ""}}, bytes(8), "exactly the keys"),
])
def test_forged_arrays_are_refused(value, buffers, problem):
    with pytest.raises(wire.WireError, match=problem):
        forged(value, buffers)


def test_a_forged_array_that_follows_the_rules_is_accepted():
    back = forged([array_tag("uint8", [3]), array_tag("float64", [1], 1)],
                  b"\1\2\3" + bytes(5) + np.array(2.5, "<f8").tobytes())
    assert back[0].tolist() == [1, 2, 3] and back[1].tolist() == [2.5]


# --- fuzzing --------------------------------------------------------------------------------


def decodes_or_refuses(json_part: bytes, buffers: bytes) -> None:
    try:
        wire.decode(json_part, bytearray(buffers), LIMITS)
    except wire.WireError:
        pass


def test_mutated_frames_raise_only_wire_error():
    frame_bytes = wire.encode({"ok": True, "value": (np.arange(5.0), {"k": [np.int8(3), 0.5]},
                                                      np.ones((2, 2), bool), float("nan"))})
    json_bytes, _ = wire.HEADER.unpack(frame_bytes[:wire.HEADER_BYTES])
    json_part = frame_bytes[wire.HEADER_BYTES:][:json_bytes]
    buffers = frame_bytes[wire.HEADER_BYTES + json_bytes:]
    rng = random.Random(0)
    for _ in range(3000):
        mutated = bytearray(json_part + buffers)
        for _ in range(rng.randint(1, 3)):
            mutated[rng.randrange(len(mutated))] = rng.choice(b'{}[]",:0123456789-.etaunlx\\')
        cut = len(json_part) + rng.randint(-2, 2)
        decodes_or_refuses(bytes(mutated[:cut]), bytes(mutated[cut:]))


_KEYS = ["__tuple__", "__float__", "__ndarray__", "__npscalar__", "__unsupported__", "__dict__",
         "dtype", "shape", "buffer", "value", "type", "repr", "x"]
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False,
                                                                          allow_infinity=False)
    | st.sampled_from(["nan", "-inf", "float64", "bool", "uint8", "int64", "object", "x"]),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.sampled_from(_KEYS), children, max_size=3),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(value=_JSON, buffers=st.binary(max_size=24))
def test_arbitrary_tag_shaped_json_raises_only_wire_error(value, buffers):
    decodes_or_refuses(json.dumps({"value": value}).encode(), buffers)
