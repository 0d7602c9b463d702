"""The bundled data: the digits transfer tasks, the pretrained backbones and their checksums
(``cnnlab.digits``, ``datasets/``, ``cnnlab datasets verify``). Nothing is trained here."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch

from cnnlab import digits
from cnnlab.cli import main

WEIGHTS = ("digits_resnet.pt", "digits_vgg.pt")


@pytest.fixture(scope="module")
def source():
    return digits.source_task()


@pytest.fixture(scope="module")
def target():
    return digits.target_task()


def rows(images: np.ndarray) -> set[bytes]:
    return {image.tobytes() for image in images}


def check_arrays(x_train, y_train, x_test, y_test) -> None:
    for x, y in ((x_train, y_train), (x_test, y_test)):
        assert isinstance(x, np.ndarray) and isinstance(y, np.ndarray)
        assert x.dtype == np.float32 and y.dtype == np.int64
        assert x.shape == (len(y), 1, 32, 32) and y.shape == (len(y),)
        assert 0.0 <= x.min() and x.max() <= 1.0 and x.max() > 0.9
        assert set(np.unique(y)) == set(range(5))
    assert not rows(x_train) & rows(x_test), "a training image is also a test image"


def test_source_task(source):
    check_arrays(*source)
    x_train, y_train, x_test, y_test = source
    assert (len(y_train), len(y_test)) == (676, 225)


def test_target_task(target):
    check_arrays(*target)
    x_train, y_train, x_test, y_test = target
    assert np.array_equal(np.bincount(y_train), [5] * 5)
    assert np.array_equal(np.bincount(y_test), [100] * 5)


def test_target_is_digits_5_to_9_remapped(source, target):
    """No target image is a source image (the classes differ)."""
    assert not rows(target[0]) & (rows(source[0]) | rows(source[2]))


@pytest.mark.parametrize("task", [digits.source_task, digits.target_task])
def test_tasks_are_deterministic(task):
    for a, b in zip(task(), task(), strict=True):
        assert np.array_equal(a, b)


def test_target_test_split_is_fixed_and_shots_vary_with_seed(target):
    x_train, y_train, x_test, y_test = digits.target_task(shots_per_class=10, seed=1)
    assert np.array_equal(x_test, target[2]) and np.array_equal(y_test, target[3])
    assert np.array_equal(np.bincount(y_train), [10] * 5)
    assert not rows(x_train) & rows(x_test)
    assert rows(x_train) != rows(digits.target_task(shots_per_class=10, seed=2)[0])


@pytest.mark.parametrize("shots", [0, -1, 75, True])
def test_target_task_rejects_bad_shots(shots):
    with pytest.raises(ValueError, match="shots_per_class"):
        digits.target_task(shots_per_class=shots)


def test_vgg_head_is_classifier_last():
    model = digits.MODELS["digits_vgg.pt"]()
    assert isinstance(model.classifier, torch.nn.Sequential)
    head = model.classifier[-1]
    assert isinstance(head, torch.nn.Linear) and head.out_features == 5


@pytest.mark.parametrize("name", WEIGHTS)
def test_weights_load_strictly_and_beat_chance(name, source):
    model = digits.load_pretrained(name)  # load_state_dict(strict=True)
    fresh = digits.MODELS[name]()
    state = torch.load(digits.DATASETS_DIR / name, map_location="cpu", weights_only=True)
    fresh.load_state_dict(state, strict=True)
    _, _, x_test, y_test = source
    assert digits.accuracy(model, x_test, y_test) > 0.9  # chance is 0.2


def test_verify_passes_on_committed_files(capsys):
    assert main(["datasets", "verify"]) == 0
    listed = (digits.DATASETS_DIR / "SHA256SUMS").read_text().split()
    assert set(WEIGHTS) <= set(listed)


def test_verify_names_a_changed_and_a_missing_file(tmp_path, capsys):
    root = tmp_path / "datasets"
    shutil.copytree(digits.DATASETS_DIR, root)
    assert main(["datasets", "verify", "--root", str(root)]) == 0
    with open(root / "digits_vgg.pt", "ab") as stream:
        stream.write(b"\0")
    capsys.readouterr()
    assert main(["datasets", "verify", "--root", str(root)]) == 1
    err = capsys.readouterr().err
    assert "digits_vgg.pt" in err and "digits_resnet.pt" not in err
    (root / "digits_resnet.pt").unlink()
    assert main(["datasets", "verify", "--root", str(root)]) == 1
    err = capsys.readouterr().err
    assert "digits_vgg.pt: checksum differs" in err and "digits_resnet.pt: missing" in err


def test_verify_without_sums_file_fails(tmp_path, capsys):
    assert main(["datasets", "verify", "--root", str(tmp_path)]) == 1
    assert "SHA256SUMS" in capsys.readouterr().err
