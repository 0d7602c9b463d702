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

import hashlib
import re
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from cnnlab import backbones
from cnnlab.backbones import MODELS, source_task, target_task  # noqa: F401  (re-exported)
from cnnlab.course import REPO_ROOT

DATASETS_DIR = REPO_ROOT / "datasets"
SUMS_FILE = "SHA256SUMS"
#: What ``build`` trains: file name -> settings (also printed in datasets/README.md).
TRAINING = {
    "digits_resnet.pt": dict(epochs=15, batch_size=32, lr=0.05, momentum=0.9,
                             weight_decay=5e-4, seed=0),
    "digits_vgg.pt": dict(epochs=15, batch_size=32, lr=0.05, momentum=0.9,
                          weight_decay=5e-4, seed=0),
}


def load_pretrained(name: str, root: Path = DATASETS_DIR) -> nn.Module:
    """A fresh model of ``name`` (``"digits_resnet.pt"`` or ``"digits_vgg.pt"``) with the
    bundled weights (``strict=True``), in eval mode."""
    return backbones.load_pretrained(name, Path(root) / name)


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
