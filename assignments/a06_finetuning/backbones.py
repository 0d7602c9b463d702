"""The data and the two small pretrained backbones of a06: 32x32 one-channel digits.

Plain PyTorch and nothing else: the a06 release gives students a copy of this file
(``backbones.py`` beside their ``finetuning.py``), and the grader's sandbox gets one too, so
it may not import the rest of ``cnnlab`` nor a05's reference. Its ``BasicBlock`` is a05's
block as the contract fixes it (same children, same names; ``tests/test_backbones.py`` checks
that it computes what a05's reference computes), so the weights in ``datasets/`` load into
either.

- :func:`source_task` (digits 0-4, what the backbones were trained on) and
  :func:`target_task` (digits 5-9, a few images per class): scikit-learn's handwritten
  digits upsampled to 32x32 (see ``datasets/README.md``);
- :class:`DigitsResNet`: a ResNet of three ``BasicBlock`` stages, torchvision's names, head ``fc``;
- :class:`DigitsVGG`: VGG-style ``features`` and ``classifier``, head ``classifier[-1]``;
- :func:`load_pretrained`: either network with its bundled weights.

Both map ``(N, 1, 32, 32)`` images to ``(N, num_classes)`` scores; the bundled weights
(``datasets/digits_resnet.pt``, ``datasets/digits_vgg.pt``) were trained on digits 0-4.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from torch import nn

IMAGE_SIZE = 32
NUM_CLASSES = 5
#: Fraction of the source digits (0-4) held out as its test split.
SOURCE_TEST_FRACTION = 0.25
#: Target test images per class (digits 5-9 have 174 to 182 images each); the rest of
#: each class is the pool that ``target_task`` draws its shots from.
TARGET_TEST_PER_CLASS = 100
def _images() -> tuple[np.ndarray, np.ndarray]:
    """All 1797 digits as ``float32 (1797, 1, 32, 32)`` in [0, 1] and ``int64 (1797,)``
    digits 0-9, in scikit-learn's order."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    small = torch.from_numpy(digits.images.astype(np.float32) / 16.0).unsqueeze(1)
    big = nn.functional.interpolate(small, size=(IMAGE_SIZE, IMAGE_SIZE), mode="bilinear",
                                    align_corners=False).clamp_(0.0, 1.0)
    return big.numpy(), digits.target.astype(np.int64)


def source_task() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Digits 0-4 for pretraining: ``(x_train, y_train, x_test, y_test)``.

    Images are ``float32 (N, 1, 32, 32)`` in [0, 1], labels ``int64 (N,)`` in 0..4 (the digit
    itself). Of the 901 images, a fixed permutation (``numpy.random.default_rng(0)``) puts
    the first quarter (225) in the test split and the other 676 in the training split.
    The same arrays are returned on every call.
    """
    x, y = _images()
    keep = np.flatnonzero(y < NUM_CLASSES)
    order = keep[np.random.default_rng(0).permutation(len(keep))]
    n_test = int(round(SOURCE_TEST_FRACTION * len(order)))
    test, train = np.sort(order[:n_test]), np.sort(order[n_test:])
    return x[train], y[train], x[test], y[test]


def target_task(shots_per_class: int = 5, seed: int = 0
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Digits 5-9, few-shot: ``(x_train, y_train, x_test, y_test)``.

    Labels are remapped to 0..4 (digit ``d`` has label ``d - 5``), ``int64 (N,)``; images are
    ``float32 (N, 1, 32, 32)`` in [0, 1]. Each class is shuffled once by a fixed permutation
    (``numpy.random.default_rng(0)``): its first ``TARGET_TEST_PER_CLASS`` (100) images are
    the test split, the same whatever ``shots_per_class`` and ``seed`` (500 images); the
    training split is ``shots_per_class`` images per class drawn from the rest with
    ``default_rng(seed)``, so it never overlaps the test split. Both splits are ordered by
    label. Raises ``ValueError`` when ``shots_per_class`` is not between 1 and the smallest
    pool (74).
    """
    x, y = _images()
    fixed, draw = np.random.default_rng(0), np.random.default_rng(seed)
    pools, test = [], []
    for label in range(NUM_CLASSES):
        members = np.flatnonzero(y == label + NUM_CLASSES)
        members = members[fixed.permutation(len(members))]
        test.append(members[:TARGET_TEST_PER_CLASS])
        pools.append(members[TARGET_TEST_PER_CLASS:])
    smallest_pool = min(len(pool) for pool in pools)
    if isinstance(shots_per_class, bool) or not 1 <= int(shots_per_class) <= smallest_pool:
        raise ValueError(f"shots_per_class must be between 1 and {smallest_pool}, "
                         f"got {shots_per_class!r}")
    train = [pool[draw.permutation(len(pool))[:int(shots_per_class)]] for pool in pools]
    train_index, test_index = np.concatenate(train), np.concatenate(test)
    return (x[train_index], y[train_index] - NUM_CLASSES,
            x[test_index], y[test_index] - NUM_CLASSES)


class BasicBlock(nn.Module):
    """Two 3x3 convolutions and a shortcut: ``relu(bn2(conv2(relu(bn1(conv1(x))))) + s(x))``,
    with ``s`` the identity, or ``downsample`` (1x1 conv with the stride, then BatchNorm)
    where the stride or the channels change. ``(N, C_in, H, W) -> (N, C_out, H/s, W/s)``."""

    expansion = 1

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.downsample = None
        if stride != 1 or in_channels != out_channels:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride, bias=False),
                nn.BatchNorm2d(out_channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + shortcut)


class DigitsResNet(nn.Module):
    """A small ResNet named as torchvision's are (``conv1``, ``bn1``, ``layer1``..., ``fc``),
    so that what works on a ResNet's head (``fc``) works here. (The project's ``ResNet`` has
    ImageNet widths, 4.9 million parameters even with one block per stage: too many for a
    few-MB file and 32x32 images.)

    - stem: ``conv1`` (3x3, 16 channels, no bias), ``bn1``, ``relu``;
    - ``layer1`` ... ``layer3``: one ``BasicBlock`` each, widths 16, 32, 64, the last two
      with stride 2 (32x32 -> 16x16 -> 8x8);
    - ``avgpool`` (global), ``fc`` (64 -> ``num_classes``).
    """

    def __init__(self, num_classes: int = NUM_CLASSES, in_channels: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = nn.Sequential(BasicBlock(16, 16))
        self.layer2 = nn.Sequential(BasicBlock(16, 32, 2))
        self.layer3 = nn.Sequential(BasicBlock(32, 64, 2))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class DigitsVGG(nn.Module):
    """A small VGG-style network.

    ``features``: three blocks of 3x3 conv (padding 1) - BatchNorm - ReLU then a 2x2 max
    pool, with 16, 32 and 64 channels (32 -> 16 -> 8 -> 4 pixels); ``classifier``: flatten,
    ``Linear(64 * 4 * 4, 128)``, ReLU, Dropout(0.5), ``Linear(128, num_classes)``; the last
    layer is ``classifier[-1]``.
    """

    def __init__(self, num_classes: int = NUM_CLASSES, in_channels: int = 1,
                 widths: tuple[int, ...] = (16, 32, 64)) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = in_channels
        for width in widths:
            layers += [nn.Conv2d(channels, width, 3, padding=1, bias=False),
                       nn.BatchNorm2d(width), nn.ReLU(inplace=True), nn.MaxPool2d(2)]
            channels = width
        self.features = nn.Sequential(*layers)
        side = IMAGE_SIZE // 2 ** len(widths)
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(channels * side * side, 128), nn.ReLU(inplace=True),
            nn.Dropout(0.5), nn.Linear(128, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


#: The bundled weight files and the networks they fit.
MODELS = {"digits_resnet.pt": DigitsResNet, "digits_vgg.pt": DigitsVGG}


def weights_path(name: str) -> Path:
    """Where the bundled weight file ``name`` is: in ``$CNNLAB_DATASETS`` where set, else
    in the repository's ``datasets/`` (this file lies in ``cnnlab/`` or two folders down, in
    ``assignments/a06_finetuning/``)."""
    folders = [Path(os.environ["CNNLAB_DATASETS"])] if os.environ.get("CNNLAB_DATASETS") \
        else [Path(__file__).parent.parent / "datasets",
              Path(__file__).parent.parent.parent / "datasets"]
    for folder in folders:
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(f"{name} is in none of {[str(f) for f in folders]}: set "
                            "CNNLAB_DATASETS to the course's datasets/ folder")


def load_pretrained(name: str, path: str | Path | None = None) -> nn.Module:
    """A fresh network of ``MODELS[name]`` with the weights of ``path`` (default: the bundled
    file, see ``weights_path``), loaded with ``strict=True``, in eval mode."""
    model = MODELS[name]()
    state = torch.load(path or weights_path(name), map_location="cpu", weights_only=True)
    model.load_state_dict(state, strict=True)
    return model.eval()
