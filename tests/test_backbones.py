"""``cnnlab/backbones.py``, the copy of a05's block that a06 gives students and the sandbox.

Its ``BasicBlock`` must be the contract's (a05's reference) in names and in what it computes,
so that the bundled weights mean the same in either; and the file must stand alone (plain
PyTorch), since the sandbox and the a06 release have nothing else of the project.
"""

from __future__ import annotations

import ast

import pytest
import torch

from cnnlab import backbones
from cnnlab.course import get_assignment


@pytest.mark.parametrize(("in_channels", "out_channels", "stride"),
                         [(8, 8, 1), (8, 16, 1), (8, 16, 2)])
def test_basic_block_is_a05s(in_channels, out_channels, stride):
    a05 = get_assignment("a05_resnet").load_reference()
    ours, theirs = backbones.BasicBlock(in_channels, out_channels, stride), \
        a05.BasicBlock(in_channels, out_channels, stride)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for value in theirs.state_dict().values():  # statistics other than 0 and 1
        if value.is_floating_point():
            value.copy_(torch.rand_like(value) + 0.5)
    ours.load_state_dict(theirs.state_dict(), strict=True)
    x = torch.randn(2, in_channels, 8, 8)
    for train in (False, True):
        ours.train(train)
        theirs.train(train)
        torch.testing.assert_close(ours(x), theirs(x))


def test_stands_alone():
    tree = ast.parse(open(backbones.__file__).read())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.level == 0}
    assert imported <= {"__future__", "os", "pathlib", "numpy", "torch", "sklearn"}, imported


def test_bundled_weights_found_from_the_release_folder(monkeypatch):
    monkeypatch.delenv("CNNLAB_DATASETS", raising=False)
    release = get_assignment("a06_finetuning").release_dir / "backbones.py"
    assert (release.parent.parent.parent / "datasets" / "digits_vgg.pt").is_file()
    assert backbones.weights_path("digits_vgg.pt").is_file()
    monkeypatch.setenv("CNNLAB_DATASETS", "/nonexistent")
    with pytest.raises(FileNotFoundError, match="CNNLAB_DATASETS"):
        backbones.weights_path("digits_vgg.pt")
