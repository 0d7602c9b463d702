"""Shared data and checks of the a06_finetuning hidden suite.

The student's functions run in the sandbox on networks that the driver
(``autograder/drivers/torch_training.py``) builds from ``backbones.py`` with the weights
sent from here (``datasets/*.pt``), on images sent from here (``cnnlab.digits``). Every
report is checked here: parameters and BatchNorm statistics are compared with the weights
sent, accuracies are computed here by the grader's own copy of the network from the weights
the sandbox reports, and a training epoch is replayed here step by step.

The tests of one function use the grader's own versions of the others (its own head, its
own freezing, a plain SGD optimizer) wherever they can, so that one wrong function costs its
own points only. Two checks need a pair: whether a frozen backbone stays unchanged through
an epoch is graded under ``freeze_backbone`` and runs the student's ``train_one_epoch`` (the
two together keep BatchNorm statistics, whichever does it); ``unfreeze`` is checked the
same way.
"""

from __future__ import annotations

import functools

import numpy as np
import torch

from autograder.harness import readable_report
from cnnlab import digits
from cnnlab.backbones import MODELS, NUM_CLASSES
from cnnlab.course import FLOAT64

TOLERANCE = {"rtol": FLOAT64.rtol, "atol": FLOAT64.atol}

#: The two bundled backbones, by file name, with their heads' parameter-name prefixes.
HEADS = {"digits_resnet.pt": "fc.", "digits_vgg.pt": "classifier.4."}
NAMES = {"digits_resnet.pt": "the ResNet", "digits_vgg.pt": "the VGG-style network"}


@functools.cache
def pretrained(name: str) -> dict[str, np.ndarray]:
    """The bundled state dict ``name`` as arrays."""
    state = torch.load(digits.DATASETS_DIR / name, map_location="cpu", weights_only=True)
    return {key: value.numpy() for key, value in state.items()}


@functools.cache
def target(shots: int, seed: int) -> tuple[np.ndarray, ...]:
    """``cnnlab.digits.target_task(shots, seed)``: digits 5-9 as labels 0-4."""
    return digits.target_task(shots, seed)


def data(x: np.ndarray, y: np.ndarray, batch_size: int, shuffle_seed: int | None = None
         ) -> dict:
    """What the driver turns into a loader."""
    return {"x": x, "y": y, "batch_size": batch_size, "shuffle_seed": shuffle_seed}


@functools.cache
def grader_head(name: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The grader's own fresh head for the 5 target classes: ``(weight, bias)``, float32,
    PyTorch's initialisation after ``torch.manual_seed(seed)``."""
    in_features = pretrained(name)[HEADS[name] + "weight"].shape[1]
    torch.manual_seed(seed)
    head = torch.nn.Linear(in_features, NUM_CLASSES)
    return head.weight.detach().numpy().copy(), head.bias.detach().numpy().copy()


def with_grader_head(name: str, seed: int) -> dict[str, np.ndarray]:
    """The bundled state dict ``name`` with the grader's head of ``seed``."""
    weight, bias = grader_head(name, seed)
    return {**pretrained(name), HEADS[name] + "weight": weight, HEADS[name] + "bias": bias}


class Driven:
    """The student's module as one graded function's tests drive it."""

    def __init__(self, student, function: str) -> None:
        self.student, self.function = student, function

    def __call__(self, action: str, *args, **kwargs):
        return self.student.drive(action, *args, graded=self.function, **kwargs)

    def report(self, action: str, *args, schema: dict, **kwargs) -> dict:
        """The driver's report of ``action``, checked (``harness.readable_report``)."""
        return readable_report(self(action, *args, **kwargs), schema,
                               f"{self.function}: the grader's report of {action}")

    def state(self, handle: int) -> dict[str, np.ndarray]:
        """The model's state dict, as numeric arrays by key."""
        state = self.report("state_dict", handle, schema={str: np.ndarray})
        if not all(value.dtype.kind in "biuf" for value in state.values()):
            raise AssertionError(f"{self.function}: the model's state dict holds values "
                                 "that are not numbers")
        return state

    def flags(self, handle: int) -> dict[str, bool]:
        """Each parameter's ``requires_grad``, by name."""
        return self.report("requires_grad", handle, schema={str: bool})

    def backbone(self, name: str, *, head_seed: int | None = None) -> int:
        """A bundled network with its weights; with ``head_seed``, the grader's own fresh
        head for the 5 target classes (``grader_head``)."""
        handle = self("backbone", name, pretrained(name))
        if head_seed is not None:
            self("grader_head", handle, *grader_head(name, head_seed))
        return handle


def changed_keys(before: dict[str, np.ndarray], after: dict[str, np.ndarray],
                 keys: list[str]) -> list[str]:
    """The ``keys`` whose values differ between the two state dicts (a missing key or one
    of another shape counts as changed)."""
    return [key for key in keys
            if key not in after or np.shape(after[key]) != np.shape(before[key])
            or not np.array_equal(after[key], before[key])]


def backbone_keys(name: str, state: dict) -> list[str]:
    """The keys of the backbone (all but the head), without BatchNorm's batch counters."""
    return [key for key in state
            if not key.startswith(HEADS[name]) and not key.endswith("num_batches_tracked")]


def describe_changes(keys: list[str]) -> str:
    """``keys`` in words, running statistics called out."""
    statistics = [k for k in keys if k.endswith(("running_mean", "running_var"))]
    parameters = [k for k in keys if k not in statistics]
    parts = []
    if parameters:
        parts.append(f"{len(parameters)} parameters (e.g. {parameters[0]})")
    if statistics:
        parts.append(f"{len(statistics)} BatchNorm running statistics (e.g. {statistics[0]}): "
                     "a frozen BatchNorm layer must stay in evaluation mode while the rest "
                     "trains")
    return " and ".join(parts)


def replay_epoch(weight: np.ndarray, bias: np.ndarray, x: np.ndarray, y: np.ndarray, *,
                 batch: int, lr: float, zero_grad: bool = True, reduction: str = "mean"
                 ) -> tuple[np.ndarray, np.ndarray, list[float]]:
    """An epoch of plain SGD on ``nn.Linear`` with these weights, here, batch after batch in
    order: zero the gradients (unless ``zero_grad`` is False), cross-entropy (``reduction``),
    backward, step. Returns the weights after it and the batches' losses."""
    layer = torch.nn.Linear(weight.shape[1], weight.shape[0])
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(weight))
        layer.bias.copy_(torch.from_numpy(bias))
    optimizer = torch.optim.SGD(layer.parameters(), lr=lr)
    losses = []
    for start in range(0, len(x), batch):
        if zero_grad:
            optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(
            layer(torch.from_numpy(x[start:start + batch])),
            torch.from_numpy(y[start:start + batch]), reduction=reduction)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return layer.weight.detach().numpy(), layer.bias.detach().numpy(), losses


def windows_through(x: np.ndarray, weight: np.ndarray, bias, kh: int, kw: int) -> np.ndarray:
    """The linear layer on every flattened (C, kh, kw) window of x: (N, out, OH, OW)."""
    n, _, h, w = x.shape
    out = np.empty((n, weight.shape[0], h - kh + 1, w - kw + 1))
    for i in range(h - kh + 1):
        for j in range(w - kw + 1):
            out[:, :, i, j] = x[:, :, i:i + kh, j:j + kw].reshape(n, -1) @ weight.T
    return out if bias is None else out + bias[None, :, None, None]


def trusted_accuracy(name: str, state: dict[str, np.ndarray], x: np.ndarray,
                     y: np.ndarray, what: str) -> float:
    """Accuracy on ``(x, y)`` of the network ``name`` with the weights ``state`` (from the
    sandbox), run here, in evaluation mode: the student's own forward pass is not trusted."""
    model = MODELS[name]()
    try:
        model.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()}, strict=True)
    except (RuntimeError, TypeError, ValueError) as error:
        raise AssertionError(f"{what}: the trained weights no longer fit "
                             f"{NAMES[name]}: {str(error)[:300]}") from None
    model.float().eval()
    with torch.no_grad():
        scores = model(torch.from_numpy(x))
    return float((scores.argmax(dim=1).numpy() == y).mean())
