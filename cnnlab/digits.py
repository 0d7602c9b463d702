"""Few-shot transfer tasks on scikit-learn's handwritten digits, and the bundled backbones.

The images are scikit-learn's ``load_digits`` (1797 images of 8x8 pixels, values 0..16: the
test set of the UCI "Optical Recognition of Handwritten Digits" data as scikit-learn ships
it), upsampled to 32x32 (bilinear, ``torch.nn.functional.interpolate``, ``align_corners=False``)
and scaled to [0, 1], one channel.

- :func:`source_task`: digits 0-4, a fixed train/test split, for pretraining a backbone;
- :func:`target_task`: digits 5-9 (labels remapped to 0-4: digit ``d`` has label ``d - 5``),
  a few labelled training images per class and a fixed held-out test split.

Both return plain numpy arrays: images ``float32`` of shape ``(N, 1, 32, 32)``, labels
``int64`` of shape ``(N,)``.

:func:`build` trains the two backbones bundled in ``datasets/`` on the source task
(deterministically, on the CPU, one thread) and writes their state dicts and
``datasets/SHA256SUMS``; :func:`verify` checks the files listed there. Both back the
``cnnlab datasets build|verify`` command.
"""

from __future__ import annotations

import functools
import hashlib
import re
import time
from pathlib import Path
from types import ModuleType

import numpy as np
import torch
from torch import nn

from cnnlab.course import REPO_ROOT, get_assignment

DATASETS_DIR = REPO_ROOT / "datasets"
SUMS_FILE = "SHA256SUMS"
IMAGE_SIZE = 32
NUM_CLASSES = 5
#: Fraction of the source digits (0-4) held out as its test split.
SOURCE_TEST_FRACTION = 0.25
#: Target test images per class (digits 5-9 have 174 to 182 images each); the rest of
#: each class is the pool that ``target_task`` draws its shots from.
TARGET_TEST_PER_CLASS = 100
#: What ``build`` trains: file name -> settings (also printed in datasets/README.md).
TRAINING = {
    "digits_resnet.pt": dict(epochs=15, batch_size=32, lr=0.05, momentum=0.9,
                             weight_decay=5e-4, seed=0),
    "digits_vgg.pt": dict(epochs=15, batch_size=32, lr=0.05, momentum=0.9,
                          weight_decay=5e-4, seed=0),
}


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


class DigitsVGG(nn.Module):
    """A small VGG-style network for ``(N, 1, 32, 32)`` digits, ``(N, num_classes)`` scores.

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


@functools.cache
def resnet_module() -> ModuleType:
    """The a05 reference, ``solutions/a05_resnet/resnet.py`` (imported once)."""
    return get_assignment("a05_resnet").load_reference()


class DigitsResNet(nn.Module):
    """A small ResNet for 32x32 one-channel digits, built from the project's ``BasicBlock``
    and named as torchvision's ResNets are (``conv1``, ``bn1``, ``layer1``..., ``fc``), so
    that what works on a ResNet's head (``fc``) works here. The project's ``ResNet`` itself
    has ImageNet widths (64 to 512, 4.9 million parameters even with one block per stage),
    too many for a few-MB file and 32x32 images.

    - stem: ``conv1`` (3x3, 16 channels, no bias), ``bn1``, ``relu``;
    - ``layer1`` ... ``layer3``: one ``BasicBlock`` each, widths 16, 32, 64, the last two
      with stride 2 (32x32 -> 16x16 -> 8x8);
    - ``avgpool`` (global), ``fc`` (64 -> ``num_classes``).
    """

    def __init__(self, num_classes: int = NUM_CLASSES, in_channels: int = 1) -> None:
        super().__init__()
        block = resnet_module().BasicBlock
        self.conv1 = nn.Conv2d(in_channels, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = nn.Sequential(block(16, 16))
        self.layer2 = nn.Sequential(block(16, 32, 2))
        self.layer3 = nn.Sequential(block(32, 64, 2))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def digits_resnet() -> nn.Module:
    """The backbone of ``datasets/digits_resnet.pt``: :class:`DigitsResNet` with 5 classes."""
    return DigitsResNet()


def digits_vgg() -> nn.Module:
    """The backbone of ``datasets/digits_vgg.pt``: :class:`DigitsVGG` with 5 classes."""
    return DigitsVGG()


MODELS = {"digits_resnet.pt": digits_resnet, "digits_vgg.pt": digits_vgg}


def load_pretrained(name: str, root: Path = DATASETS_DIR) -> nn.Module:
    """A fresh model of ``name`` (``"digits_resnet.pt"`` or ``"digits_vgg.pt"``) with the
    bundled weights (``strict=True``), in eval mode."""
    model = MODELS[name]()
    state = torch.load(Path(root) / name, map_location="cpu", weights_only=True)
    model.load_state_dict(state, strict=True)
    return model.eval()


@torch.no_grad()
def accuracy(model: nn.Module, x: np.ndarray, y: np.ndarray, batch_size: int = 256) -> float:
    """Accuracy in [0, 1] of ``model`` (put in eval mode) on images ``x`` and labels ``y``."""
    model.eval()
    correct = 0
    for start in range(0, len(x), batch_size):
        scores = model(torch.from_numpy(x[start:start + batch_size]))
        correct += int((scores.argmax(1).numpy() == y[start:start + batch_size]).sum())
    return correct / len(x)


def train(model: nn.Module, x: np.ndarray, y: np.ndarray, *, epochs: int, batch_size: int,
          lr: float, momentum: float, weight_decay: float, seed: int) -> nn.Module:
    """SGD with momentum, cosine learning rate over all steps, cross-entropy; deterministic
    (seeded shuffling and initialisation are the caller's, see :func:`build`)."""
    x_all, y_all = torch.from_numpy(x), torch.from_numpy(y)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum,
                                weight_decay=weight_decay)
    steps = epochs * ((len(x) + batch_size - 1) // batch_size)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    generator = torch.Generator().manual_seed(seed)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=generator)
        for start in range(0, len(x), batch_size):
            batch = order[start:start + batch_size]
            optimizer.zero_grad()
            loss_fn(model(x_all[batch]), y_all[batch]).backward()
            optimizer.step()
            schedule.step()
    return model.eval()


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def build(root: Path = DATASETS_DIR) -> dict[str, float]:
    """Train both backbones on the source task and write ``root/<name>.pt``, ``root/SHA256SUMS``
    and the accuracy lines of ``root/README.md`` (where it exists). Returns the source-test
    accuracy of each file. Deterministic on one machine: one thread, seeded,
    ``torch.use_deterministic_algorithms(True)``, CPU."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    x_train, y_train, x_test, y_test = source_task()
    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    results: dict[str, float] = {}
    try:
        for name, make in MODELS.items():
            settings = TRAINING[name]
            started = time.perf_counter()
            torch.manual_seed(settings["seed"])
            model = train(make(), x_train, y_train, **settings)
            results[name] = accuracy(model, x_test, y_test)
            torch.save(model.state_dict(), root / name)
            print(f"{name}: source-test accuracy {results[name]:.4f} "
                  f"({len(y_test)} images), trained in {time.perf_counter() - started:.1f} s")
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(deterministic)
    (root / SUMS_FILE).write_text("".join(f"{sha256(root / name)}  {name}\n"
                                          for name in MODELS))
    readme = root / "README.md"
    if readme.exists():
        text = readme.read_text()
        for name, value in results.items():
            text = re.sub(rf"(?m)^(- `{re.escape(name)}`: source-test accuracy ).*$",
                          lambda match, v=value: f"{match.group(1)}{v:.4f}", text)
        readme.write_text(text)
    print(f"wrote {root / SUMS_FILE}")
    return results


def verify(root: Path = DATASETS_DIR) -> list[str]:
    """The problems with the files listed in ``root/SHA256SUMS`` (``sha256sum`` format), one
    line each naming the file: missing, or a different checksum. Empty when all match."""
    root = Path(root)
    sums = root / SUMS_FILE
    if not sums.is_file():
        return [f"{sums}: missing"]
    problems = []
    for number, line in enumerate(sums.read_text().splitlines(), 1):
        if not line.strip():
            continue
        match = re.fullmatch(r"([0-9a-fA-F]{64}) [ *](.+)", line)
        if match is None:
            problems.append(f"{sums}:{number}: not a sha256sum line: {line!r}")
            continue
        expected, name = match.group(1).lower(), match.group(2)
        path = root / name
        if not path.is_file():
            problems.append(f"{name}: missing")
        elif sha256(path) != expected:
            problems.append(f"{name}: checksum differs")
    return problems
