"""The local-file loaders of ``cnnlab.loaders``, on small files written here in ``tmp_path``
(nothing is downloaded): an image folder, CIFAR-10 batches, Fashion-MNIST IDX files, and
state dicts with torchvision's names."""

from __future__ import annotations

import gzip
import pickle

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from cnnlab import loaders
from cnnlab.course import get_assignment

COLOUR = (200, 100, 50)


def _write_images(root):
    """``root/train/{bees,ants}``: three images each, of different sizes and formats (the
    bees folder is written first, so sorting, not creation order, must give ants label 0)."""
    sizes = [(40, 30), (25, 50), (33, 33)]
    for name in ("bees", "ants"):
        folder = root / "train" / name
        folder.mkdir(parents=True)
        for index, (width, height) in enumerate(sizes):
            image = Image.new("RGB", (width, height), COLOUR)
            suffix = ("png", "jpg", "JPEG")[index]
            image.save(folder / f"{name}{index}.{suffix}")
    # Not an image: ignored.
    (root / "train" / "ants" / "notes.txt").write_text("not an image")
    # A grey-scale PNG: converted to RGB.
    Image.new("L", (20, 60), 128).save(root / "train" / "bees" / "grey.png")


def test_image_folder_shapes_labels_and_normalisation(tmp_path):
    _write_images(tmp_path)
    x, y, classes = loaders.image_folder(tmp_path, "train", size=32)
    assert classes == ["ants", "bees"]
    assert x.dtype == np.float32 and x.shape == (7, 3, 32, 32)
    assert y.dtype == np.int64 and y.tolist() == [0, 0, 0, 1, 1, 1, 1]
    mean = np.array(loaders.IMAGENET_MEAN, np.float32)
    std = np.array(loaders.IMAGENET_STD, np.float32)
    expected = (np.array(COLOUR, np.float32) / 255.0 - mean) / std
    # ants0.png: lossless, constant colour, so every pixel is exact.
    np.testing.assert_allclose(x[0], np.broadcast_to(expected[:, None, None], (3, 32, 32)),
                               atol=1e-5)
    # The JPEGs: close at the centre (lossy compression).
    for index in (1, 2, 4, 5):
        np.testing.assert_allclose(x[index, :, 16, 16], expected, atol=0.1)
    # grey.png (sorted last among bees' files): 128 in each channel.
    np.testing.assert_allclose(x[6, :, 16, 16], (128 / 255.0 - mean) / std, atol=1e-5)


def test_image_folder_default_size(tmp_path):
    _write_images(tmp_path)
    x, _, _ = loaders.image_folder(tmp_path, "train")
    assert x.shape == (7, 3, 224, 224)


def test_image_folder_centre_crop_of_short_side(tmp_path):
    """A 60x30 image, left half black and right half white: resized to 72x36 (short side
    32 * 256 // 224 = 36), the centre 32x32 crop spans columns 20..51 and keeps both."""
    folder = tmp_path / "val" / "only"
    folder.mkdir(parents=True)
    pixels = np.zeros((30, 60, 3), np.uint8)
    pixels[:, 30:] = 255
    Image.fromarray(pixels).save(folder / "half.png")
    x, _, _ = loaders.image_folder(tmp_path, "val", size=32)
    raw = x[0] * np.array(loaders.IMAGENET_STD)[:, None, None] \
        + np.array(loaders.IMAGENET_MEAN)[:, None, None]
    np.testing.assert_allclose(raw[:, :, 0], 0.0, atol=1e-5)
    np.testing.assert_allclose(raw[:, :, -1], 1.0, atol=1e-5)


def test_image_folder_errors_name_the_path(tmp_path):
    with pytest.raises(ValueError, match="train"):
        loaders.image_folder(tmp_path, "train")
    (tmp_path / "train").mkdir()
    with pytest.raises(ValueError, match="no class folders"):
        loaders.image_folder(tmp_path, "train")
    (tmp_path / "train" / "ants").mkdir()
    (tmp_path / "train" / "ants" / "readme.txt").write_text("no images here")
    with pytest.raises(ValueError, match=r"ants.*no \.jpg"):
        loaders.image_folder(tmp_path, "train")


def _cifar_batch(path, rows, labels):
    with open(path, "wb") as stream:
        pickle.dump({b"data": np.asarray(rows, np.uint8), b"labels": list(labels),
                     b"batch_label": b"fake"}, stream)


def test_cifar10_scaling_channel_order_and_batches(tmp_path):
    red = np.zeros(3072, np.uint8)
    red[:1024] = 255
    ramp = np.arange(3072) % 256
    for i in range(1, 6):
        _cifar_batch(tmp_path / f"data_batch_{i}", [red, ramp], [i, 9 - i])
    _cifar_batch(tmp_path / "test_batch", [ramp], [3])
    x, y = loaders.cifar10(tmp_path)
    assert x.dtype == np.float32 and x.shape == (10, 3, 32, 32)
    assert y.dtype == np.int64 and y.tolist() == [1, 8, 2, 7, 3, 6, 4, 5, 5, 4]
    assert np.all(x[0, 0] == 1.0) and np.all(x[0, 1:] == 0.0)
    np.testing.assert_allclose(x[1].reshape(-1), ramp / 255.0, rtol=1e-6)
    assert x[1, 0, 0, 1] == pytest.approx(1 / 255)  # row-major within a channel
    assert x[1, 0, 1, 0] == pytest.approx(32 / 255)
    x_test, y_test = loaders.cifar10(tmp_path, train=False)
    assert x_test.shape == (1, 3, 32, 32) and y_test.tolist() == [3]


def test_cifar10_missing_file_is_named(tmp_path):
    _cifar_batch(tmp_path / "data_batch_1", [np.zeros(3072)], [0])
    with pytest.raises(FileNotFoundError, match="data_batch_2"):
        loaders.cifar10(tmp_path)
    with pytest.raises(FileNotFoundError, match="test_batch"):
        loaders.cifar10(tmp_path, train=False)


def _idx(magic, array):
    header = np.array([magic, *array.shape], dtype=">i4").tobytes()
    return header + np.asarray(array, np.uint8).tobytes()


@pytest.mark.parametrize("compressed", [False, True])
def test_fashion_mnist_plain_and_gzip(tmp_path, compressed):
    images = np.arange(4 * 28 * 28, dtype=np.int64).reshape(4, 28, 28) % 256
    labels = np.array([9, 0, 3, 7])
    for name, data in (("t10k-images-idx3-ubyte", _idx(2051, images)),
                       ("t10k-labels-idx1-ubyte", _idx(2049, labels))):
        if compressed:
            (tmp_path / f"{name}.gz").write_bytes(gzip.compress(data))
        else:
            (tmp_path / name).write_bytes(data)
    x, y = loaders.fashion_mnist(tmp_path, train=False)
    assert x.dtype == np.float32 and x.shape == (4, 1, 28, 28)
    np.testing.assert_allclose(x[:, 0], images / 255.0, rtol=1e-6)
    assert y.dtype == np.int64 and y.tolist() == [9, 0, 3, 7]
    with pytest.raises(FileNotFoundError, match="train-images"):
        loaders.fashion_mnist(tmp_path, train=True)


def test_fashion_mnist_rejects_a_wrong_magic_number(tmp_path):
    images = np.zeros((2, 28, 28))
    (tmp_path / "train-images-idx3-ubyte").write_bytes(_idx(2049, images))
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(_idx(2049, np.zeros(2)))
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.*2051"):
        loaders.fashion_mnist(tmp_path)
    (tmp_path / "train-images-idx3-ubyte").write_bytes(_idx(2051, images))
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(_idx(2049, np.zeros(3)))
    with pytest.raises(ValueError, match="2 train images but 3 labels"):
        loaders.fashion_mnist(tmp_path)


def test_torchvision_resnet18_state_dict_loads_strictly(tmp_path):
    resnet18 = get_assignment("a05_resnet").load_reference().resnet18
    torch.manual_seed(0)
    source = resnet18(num_classes=1000).eval()
    path = tmp_path / "resnet18.pth"
    torch.save(source.state_dict(), path)
    torch.manual_seed(1)
    fresh = resnet18(num_classes=1000)
    assert loaders.load_torchvision_resnet18(path, fresh) is fresh
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(source(x), fresh.eval()(x))

    state = source.state_dict()
    del state["layer2.0.downsample.0.weight"]
    torch.save(state, path)
    with pytest.raises(RuntimeError, match=r"missing keys: \['layer2\.0\.downsample\.0\.weight'\]"):
        loaders.load_torchvision_resnet18(path, resnet18(num_classes=1000))


class _TinyVGG(nn.Module):
    """torchvision's VGG attribute names, tiny widths."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(),
                                      nn.MaxPool2d(2))
        self.avgpool = nn.AdaptiveAvgPool2d(2)
        self.classifier = nn.Sequential(nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


def test_torchvision_vgg16_loader_is_strict(tmp_path):
    torch.manual_seed(0)
    source = _TinyVGG()
    path = tmp_path / "vgg.pth"
    torch.save(source.state_dict(), path)
    fresh = loaders.load_torchvision_vgg16(path, _TinyVGG())
    x = torch.randn(1, 3, 8, 8)
    assert torch.equal(source(x), fresh(x))

    state = source.state_dict()
    state["classifier.6.weight"] = torch.zeros(1)
    torch.save(state, path)
    with pytest.raises(RuntimeError, match=r"unexpected keys: \['classifier\.6\.weight'\]"):
        loaders.load_torchvision_vgg16(path, _TinyVGG())
