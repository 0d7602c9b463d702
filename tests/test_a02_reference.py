"""The a02 reference on batches it splits into several chunks of images.

The hidden suite cross-checks the reference against PyTorch on every case it grades, but its
cases are small: each fits in one chunk of ``CHUNK_COLUMNS`` output pixels. Here the batches
are split into uneven chunks (4 + 4 + 1 images, or one image a chunk), so that a chunk written
to the wrong images, or a gradient kept from the last chunk only, shows; with one thread, and
with three working on chunks at once (``THREADS``).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnlab.course import get_assignment

reference = get_assignment("a02_convolution").load_reference()

#: (x shape, w shape, keyword arguments); each x gives more than one chunk of images.
LAYERS = [
    ((9, 3, 16, 16), (4, 3, 3, 3), {"padding": 1}),                 # 256 pixels: 4 a chunk
    ((3, 2, 40, 33), (3, 2, 3, 3), {"stride": 1}),                  # over 1024: 1 a chunk
    ((7, 4, 21, 19), (6, 2, 3, 2),
     {"stride": (2, 1), "padding": (2, 1), "dilation": (1, 2), "groups": 2}),
    ((6, 4, 16, 16), (4, 1, 3, 3), {"padding": 1, "groups": 4}),   # depthwise
]


@pytest.fixture(params=[1, 3], ids=["one thread", "three threads"], autouse=True)
def threads(request, monkeypatch) -> int:
    monkeypatch.setattr(reference, "THREADS", request.param)
    return request.param


def tensors(*arrays: np.ndarray) -> list[torch.Tensor]:
    return [torch.tensor(a, requires_grad=True) for a in arrays]


@pytest.mark.parametrize(("x_shape", "w_shape", "kwargs"), LAYERS)
def test_several_chunks_match_torch(x_shape, w_shape, kwargs):
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    b = rng.standard_normal(w_shape[0])
    geometry = reference._conv2d_geometry(x_shape, w_shape, kwargs.get("stride", 1),
                                          kwargs.get("padding", 0), kwargs.get("dilation", 1),
                                          kwargs.get("groups", 1))
    assert len(reference._image_chunks(x_shape[0], geometry)) > 1, "must span several chunks"
    out = reference.conv2d_forward(x, w, b, **kwargs)
    dout = rng.standard_normal(out.shape)
    tx, tw, tb = tensors(x, w, b)
    expected = F.conv2d(tx, tw, tb, **kwargs)
    np.testing.assert_allclose(out, expected.detach().numpy(), rtol=1e-10, atol=1e-10)
    grads = torch.autograd.grad(expected, (tx, tw, tb), torch.from_numpy(dout))
    for name, mine, theirs in zip(("dx", "dw", "db"),
                                  reference.conv2d_backward(dout, x, w, **kwargs), grads,
                                  strict=True):
        np.testing.assert_allclose(mine, theirs.numpy(), rtol=1e-10, atol=1e-10,
                                   err_msg=name)


def test_transposed_convolution_over_several_chunks_matches_torch():
    rng = np.random.default_rng(1)
    x, w, b = (rng.standard_normal(s) for s in ((5, 3, 16, 12), (3, 2, 3, 3), (2,)))
    out = reference.conv_transpose2d_forward(x, w, b, stride=2, padding=1, output_padding=1)
    expected = F.conv_transpose2d(*tensors(x, w, b), stride=2, padding=1, output_padding=1)
    np.testing.assert_allclose(out, expected.detach().numpy(), rtol=1e-10, atol=1e-10)


def test_float32_stays_float32_over_several_chunks():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((9, 3, 16, 16), dtype=np.float32)
    w = rng.standard_normal((4, 3, 3, 3), dtype=np.float32)
    dout = rng.standard_normal((9, 4, 16, 16), dtype=np.float32)
    assert reference.conv2d_forward(x, w, padding=1).dtype == np.float32
    assert all(g.dtype == np.float32
               for g in reference.conv2d_backward(dout, x, w, padding=1))
