"""The wire format: data crosses, code does not."""

from __future__ import annotations

import base64
import pickle

import numpy as np
import pytest

from autograder import wire


@pytest.mark.parametrize("value", [
    None, True, 3, -2.5, "text", float("inf"), (1, (2, 3)), [1, 2], {"a": (1, 2)},
    np.int64(7), np.float32(0.5),
])
def test_values_round_trip(value):
    back = wire.from_wire(wire.to_wire(value))
    assert back == value and type(back) is type(value)


@pytest.mark.parametrize("dtype", ["float64", "float32", "int64", "uint8", "bool"])
def test_arrays_round_trip_with_dtype_and_shape(dtype):
    array = (np.arange(24).reshape(2, 3, 4) % 3).astype(dtype)
    back = wire.from_wire(wire.to_wire(array[:, ::2]))  # a non-contiguous view too
    assert back.dtype == array.dtype and np.array_equal(back, array[:, ::2])
    assert back.flags.writeable


def test_nan_survives():
    assert np.isnan(wire.from_wire(wire.to_wire(float("nan"))))


def test_other_objects_arrive_as_unsupported():
    back = wire.from_wire(wire.to_wire(object()))
    assert isinstance(back, wire.Unsupported) and back.type_name == "object"
    assert isinstance(wire.from_wire(wire.to_wire(np.array([object()]))), wire.Unsupported)


def _array(dtype: str, shape: list, data: bytes) -> dict:
    return {"__ndarray__": {"dtype": dtype, "shape": shape,
                            "data": base64.b64encode(data).decode()}}


@pytest.mark.parametrize("forged, problem", [
    (_array("object", [1], pickle.dumps(print)), "not allowed"),
    (_array("float64", [3], b"\0" * 8), "needs 24"),
    (_array("float64", [-1], b""), "bad array shape"),
    ({"__ndarray__": {"dtype": "float64", "shape": [1], "data": "***"}}, "bad array data"),
    ({"__npscalar__": {"dtype": "V8", "value": 0}}, "not allowed"),
    ({"__float__": "__import__('os')"}, "non-finite"),
    ({"__tuple__": "abc"}, "must hold a list"),
])
def test_forged_data_is_refused(forged, problem):
    with pytest.raises(wire.WireError, match=problem):
        wire.from_wire(forged)


def test_frames_round_trip_and_oversized_frames_are_refused():
    frame = wire.encode_message({"ok": True, "value": wire.to_wire((1, 2))})
    length = wire.decode_length(frame[:wire.HEADER_BYTES])
    assert wire.decode_payload(frame[wire.HEADER_BYTES:][:length])["ok"] is True
    with pytest.raises(wire.WireError, match="over the"):
        wire.decode_length((wire.MAX_MESSAGE_BYTES + 1).to_bytes(4, "big"))
    with pytest.raises(wire.WireError, match="not JSON"):
        wire.decode_payload(pickle.dumps({"ok": True}))
