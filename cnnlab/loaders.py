"""Loaders for real data sets and pretrained weights, all from local files (nothing is
downloaded): fetch the files once, by hand, and pass their folder or path.

- :func:`image_folder`: a folder of JPEG/PNG images, one subfolder per class (the layout of
  the "hymenoptera" ants/bees set), with the ImageNet evaluation transform;
- :func:`cifar10`: the "CIFAR-10 python version" batches;
- :func:`fashion_mnist`: the Fashion-MNIST IDX files, gzipped or not;
- :func:`load_torchvision_resnet18`, :func:`load_torchvision_vgg16`: torchvision state dicts
  into models whose attributes follow torchvision's.

Images come back as plain numpy arrays, ``float32`` of shape ``(N, C, H, W)``, and labels as
``int64`` of shape ``(N,)``.
"""

from __future__ import annotations

import gzip
import pickle
from pathlib import Path

import numpy as np
import torch
from torch import nn

#: ImageNet per-channel mean and standard deviation (RGB, of values in [0, 1]).
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


def _evaluation_transform(path: Path, size: int) -> np.ndarray:
    """One image as ``float32 (3, size, size)``: RGB, the short side resized (bilinear,
    antialiased) to ``size * 256 // 224`` pixels, the centre ``size x size`` crop, scaled to
    [0, 1] then normalised with the ImageNet mean and std."""
    from PIL import Image

    short = size * 256 // 224
    with Image.open(path) as image:
        image = image.convert("RGB")
        width, height = image.size
        if width <= height:
            new_size = (short, int(short * height / width))
        else:
            new_size = (int(short * width / height), short)
        image = image.resize(new_size, Image.BILINEAR)
    width, height = new_size
    left = int(round((width - size) / 2.0))
    top = int(round((height - size) / 2.0))
    image = image.crop((left, top, left + size, top + size))
    pixels = np.asarray(image, dtype=np.float32) / 255.0
    pixels = (pixels - np.array(IMAGENET_MEAN, np.float32)) / np.array(IMAGENET_STD, np.float32)
    return np.ascontiguousarray(pixels.transpose(2, 0, 1))


def image_folder(root: str | Path, split: str, size: int = 224
                 ) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The images of ``root/<split>/<class>/*.jpg|*.jpeg|*.png`` (suffixes in any case):
    ``(x, y, classes)``.

    ``classes`` are the subfolder names, sorted; ``y`` is ``int64 (N,)``, the index of each
    image's class in ``classes``; images are ordered by class, then by file name. ``x`` is
    ``float32 (N, 3, size, size)``: each image converted to RGB, its short side resized to
    ``size * 256 // 224`` pixels (256 for 224), centre-cropped to ``size x size``, scaled to
    [0, 1] and normalised per channel with ``IMAGENET_MEAN`` and ``IMAGENET_STD`` (the
    usual ImageNet evaluation transform). Raises ``ValueError`` naming the path when the
    split folder is missing, has no class folder, or a class folder has no image.
    """
    split_dir = Path(root) / split
    if not split_dir.is_dir():
        raise ValueError(f"{split_dir}: no such split folder")
    classes = sorted(entry.name for entry in split_dir.iterdir() if entry.is_dir())
    if not classes:
        raise ValueError(f"{split_dir}: no class folders")
    images, labels = [], []
    for label, name in enumerate(classes):
        files = sorted(path for path in (split_dir / name).iterdir()
                       if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise ValueError(f"{split_dir / name}: no .jpg, .jpeg or .png images")
        images += [_evaluation_transform(path, size) for path in files]
        labels += [label] * len(files)
    return np.stack(images), np.array(labels, dtype=np.int64), classes


def cifar10(root: str | Path, train: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """CIFAR-10 from its "python version" files in ``root`` (the folder
    ``cifar-10-batches-py`` of the archive): ``(x, y)``.

    ``train=True`` reads ``data_batch_1`` ... ``data_batch_5`` in that order (50000 images),
    ``train=False`` reads ``test_batch`` (10000). Each file is a pickled dict whose
    ``b"data"`` is ``uint8 (n, 3072)``, a row being the 1024 red, then 1024 green, then 1024
    blue values of a 32x32 image in row-major order, and whose ``b"labels"`` lists n labels
    0..9. Returns ``x`` ``float32 (N, 3, 32, 32)`` in [0, 1] (value / 255) and ``y``
    ``int64 (N,)``. Raises ``FileNotFoundError`` naming the first missing file.
    """
    names = [f"data_batch_{i}" for i in range(1, 6)] if train else ["test_batch"]
    paths = [Path(root) / name for name in names]
    for path in paths:
        if not path.is_file():
            raise FileNotFoundError(f"{path}: CIFAR-10 batch file missing")
    images, labels = [], []
    for path in paths:
        with open(path, "rb") as stream:
            batch = pickle.load(stream, encoding="bytes")
        images.append(np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
        labels.append(np.asarray(batch[b"labels"], dtype=np.int64))
    return np.concatenate(images).astype(np.float32) / 255.0, np.concatenate(labels)


def _read_idx(path: Path, magic: int, dims: int) -> np.ndarray:
    """The ``uint8`` array of an IDX file (``path``, or ``path`` + ``.gz``, gzipped): a
    big-endian int32 magic number (``magic``), ``dims`` big-endian int32 sizes, then the
    bytes. Raises ``FileNotFoundError`` when neither file exists and ``ValueError`` naming
    the file for a wrong magic number or size."""
    gzipped = path.with_name(path.name + ".gz")
    if path.is_file():
        data = path.read_bytes()
    elif gzipped.is_file():
        path, data = gzipped, gzip.decompress(gzipped.read_bytes())
    else:
        raise FileNotFoundError(f"{path}[.gz]: Fashion-MNIST file missing")
    if len(data) < 4 * (1 + dims):
        raise ValueError(f"{path}: {len(data)} bytes, too short for an IDX header")
    header = np.frombuffer(data, dtype=">i4", count=1 + dims)
    if int(header[0]) != magic:
        raise ValueError(f"{path}: not an IDX file with magic number {magic} "
                         f"(found {int(header[0])})")
    shape = tuple(int(n) for n in header[1:])
    body = np.frombuffer(data, dtype=np.uint8, offset=4 * (1 + dims))
    if body.size != int(np.prod(shape)):
        raise ValueError(f"{path}: {body.size} bytes of data, the header says {shape}")
    return body.reshape(shape)


def fashion_mnist(root: str | Path, train: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST (the same IDX format as MNIST) from ``root``: ``(x, y)``.

    Reads ``train-images-idx3-ubyte`` and ``train-labels-idx1-ubyte`` (``train=True``,
    60000 images) or ``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte`` (10000),
    each plain or gzipped (``.gz``; the plain file wins where both exist). Images must have
    magic number 2051 and labels 2049. Returns ``x`` ``float32 (N, 1, 28, 28)`` in [0, 1]
    (value / 255) and ``y`` ``int64 (N,)`` in 0..9. Raises ``FileNotFoundError`` for a
    missing file and ``ValueError`` naming the file for a wrong magic number or size, or
    image and label counts that differ.
    """
    prefix = "train" if train else "t10k"
    root = Path(root)
    images = _read_idx(root / f"{prefix}-images-idx3-ubyte", 2051, 3)
    labels = _read_idx(root / f"{prefix}-labels-idx1-ubyte", 2049, 1)
    if len(images) != len(labels):
        raise ValueError(f"{root}: {len(images)} {prefix} images but {len(labels)} labels")
    x = images.reshape(len(images), 1, *images.shape[1:]).astype(np.float32) / 255.0
    return x, labels.astype(np.int64)


def _load_strict(path: str | Path, model: nn.Module, what: str) -> nn.Module:
    """Load the state dict in ``path`` into ``model`` with ``strict=True``; the
    ``RuntimeError`` for keys that do not match names the file and lists the keys."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    expected = set(model.state_dict())
    missing, unexpected = sorted(expected - set(state)), sorted(set(state) - expected)
    if missing or unexpected:
        raise RuntimeError(f"{path}: not a {what} state dict for this model; "
                           f"missing keys: {missing or 'none'}; "
                           f"unexpected keys: {unexpected or 'none'}")
    model.load_state_dict(state, strict=True)
    return model


def load_torchvision_resnet18(path: str | Path, model: nn.Module) -> nn.Module:
    """Load a torchvision ResNet-18 state dict file (for example ``resnet18-f37072fd.pth``,
    the ImageNet weights: 1000 classes, images of the :func:`image_folder` transform) into
    ``model``, the project's ``resnet18()`` with the same ``num_classes``, whose names are
    torchvision's. ``strict=True``: a ``RuntimeError`` lists the missing and unexpected keys
    (a shape mismatch is ``load_state_dict``'s own error). Returns ``model``."""
    return _load_strict(path, model, "ResNet-18")


def load_torchvision_vgg16(path: str | Path, model: nn.Module) -> nn.Module:
    """Load a torchvision VGG-16 state dict file (for example ``vgg16-397923af.pth``) into
    ``model``, a VGG-16 whose attributes follow torchvision's (``features``, ``avgpool``,
    ``classifier``, with the same layer indices). ``strict=True``: a ``RuntimeError`` lists
    the missing and unexpected keys. Returns ``model``."""
    return _load_strict(path, model, "VGG-16")
