"""Visible checks of finetuning.py: new heads, freezing (BatchNorm statistics included), the
optimizer's groups, one epoch of training, the accuracy, and fc_to_conv.

Run ``pytest`` in this folder. Each case is a test of its own, named by its call, and a
failure says what was expected and what came back. The networks are the two small pretrained
backbones of ``backbones.py``, on a few of the target digits, so the whole file takes seconds.
The grader's hidden tests check more cases, and ``fine_tune`` by the accuracy it reaches.
"""

import functools

import numpy as np
import pytest
import torch
from backbones import load_pretrained, target_task
from finetuning import (
    evaluate,
    fc_to_conv,
    freeze_backbone,
    head_of,
    make_optimizer,
    replace_head,
    train_one_epoch,
    unfreeze,
)
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

#: The bundled networks: (file, name in the test ids, the head's name, its in_features).
NETWORKS = [
    ("digits_resnet.pt", "resnet", "fc", 64),
    ("digits_vgg.pt", "vgg", "classifier[-1]", 128),
]

#: replace_head cases: (network, classes); 5 is also the number of classes the pretrained
#: head has, and its weights must still be replaced.
HEADS = [(network, classes) for network in NETWORKS for classes in (5, 3)]

#: make_optimizer cases: (call, backbone frozen first, backbone_lr).
OPTIMIZERS = [
    ("make_optimizer(resnet, lr=0.05)", False, None),
    ("make_optimizer(resnet, lr=0.05) after freeze_backbone(resnet)", True, None),
    ("make_optimizer(resnet, lr=0.05, backbone_lr=0.005)", False, 0.005),
]

#: fc_to_conv cases: (in_channels, kernel_size as passed, out_features, bias, input (H, W)).
LAYERS = [
    (3, 4, 5, True, (4, 4)),
    (3, 4, 5, True, (9, 11)),
    (2, (3, 5), 4, False, (7, 8)),
    (4, 1, 3, True, (3, 5)),
]

LR, BACKBONE_LR = 0.05, 0.005


def ids(cases, name):
    return [name(case) for case in cases]


def fc_to_conv_call(case) -> str:
    channels, kernel_size, out_features, bias, size = case
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    return (f"fc_to_conv(nn.Linear({channels * kh * kw}, {out_features}, bias={bias}), "
            f"{channels}, {kernel_size!r}) on x of shape (2, {channels}, {size[0]}, {size[1]})")


@functools.cache
def few_shots() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """10 target digits per class (50 images) and every 5th test digit (100 images)."""
    x, y, x_test, y_test = target_task(10, 0)
    return (torch.from_numpy(x), torch.from_numpy(y), torch.from_numpy(x_test[::5]),
            torch.from_numpy(y_test[::5]))


def train_loader() -> DataLoader:
    x, y, _, _ = few_shots()
    return DataLoader(TensorDataset(x, y), batch_size=10, shuffle=True,
                      generator=torch.Generator().manual_seed(0))


def network(file: str) -> nn.Module:
    """A pretrained network, its head as it came (5 outputs, like the new task's): the tests
    of freezing and training need no new head, and so do not depend on replace_head."""
    torch.manual_seed(0)
    return load_pretrained(file)


def named_parameters_of(model: nn.Module) -> dict[int, str]:
    return {id(parameter): name for name, parameter in model.named_parameters()}


def backbone_state(model: nn.Module) -> dict[str, torch.Tensor]:
    """Copies of everything but the head: parameters and BatchNorm running statistics."""
    head = {id(tensor) for tensor in head_of(model).parameters()}
    state = {name: tensor.detach().clone() for name, tensor in model.named_parameters()
             if id(tensor) not in head}
    state.update({name: buffer.clone() for name, buffer in model.named_buffers()
                  if name.endswith(("running_mean", "running_var"))})
    return state


def changed(before: dict[str, torch.Tensor], model: nn.Module) -> list[str]:
    after = dict(model.named_parameters()) | dict(model.named_buffers())
    return [name for name, value in before.items() if not torch.equal(after[name], value)]


@pytest.mark.parametrize("network_case, classes", HEADS,
                         ids=ids(HEADS, lambda c: f"replace_head({c[0][1]}, {c[1]})"))
def test_replace_head(network_case, classes):
    file, name, head_name, in_features = network_case
    call = f"replace_head({name}, {classes})"
    model = network(file)
    old = head_of(model)
    old_weight = old.weight.detach().clone()
    before = backbone_state(model)
    returned = replace_head(model, classes)
    assert returned is model, f"{call}: expected the same model, changed in place, got " \
        f"{type(returned).__name__}"
    new = head_of(model)
    replaced = new is not old
    assert replaced, f"{call}: expected a new nn.Linear as {head_name}, got the old one"
    shape = tuple(new.weight.shape)
    assert shape == (classes, in_features), \
        f"{call}: expected {head_name}.weight of shape ({classes}, {in_features}), got {shape}"
    assert new.bias is not None, f"{call}: expected a head with a bias, got bias=None"
    if shape == tuple(old_weight.shape):
        fresh = not torch.equal(new.weight, old_weight)
        assert fresh, \
            f"{call}: expected fresh weights, got the old head's (they belong to digits 0-4)"
    moved = changed(before, model)
    untouched = not moved
    assert untouched, f"{call}: expected the backbone unchanged, got {moved[0]} changed"
    with torch.no_grad():
        scores = tuple(model.eval()(torch.rand(2, 1, 32, 32)).shape)
    assert scores == (2, classes), f"{call}(x).shape, x of shape (2, 1, 32, 32): expected " \
        f"(2, {classes}), got {scores}"


@pytest.mark.parametrize("network_case", NETWORKS,
                         ids=ids(NETWORKS, lambda c: f"freeze_backbone({c[1]})"))
def test_freeze_backbone_leaves_only_the_head_trainable(network_case):
    file, name, head_name, _ = network_case
    model = network(file)
    freeze_backbone(model)
    head = {id(parameter) for parameter in head_of(model).parameters()}
    wrong = [(parameter_name, parameter.requires_grad)
             for parameter_name, parameter in model.named_parameters()
             if parameter.requires_grad != (id(parameter) in head)]
    right = not wrong
    assert right, (f"freeze_backbone({name}): expected requires_grad True for {head_name} "
                   f"only, got {len(wrong)} wrong, e.g. {wrong[0][0]}.requires_grad = "
                   f"{wrong[0][1]}")


@pytest.mark.parametrize(
    "network_case", NETWORKS,
    ids=ids(NETWORKS, lambda c: f"freeze_backbone({c[1]}), train_one_epoch"))
def test_an_epoch_with_the_backbone_frozen_changes_the_head_only(network_case):
    file, name, _, _ = network_case
    call = f"freeze_backbone({name}), then train_one_epoch (SGD on the head, lr 0.1)"
    model = network(file)
    freeze_backbone(model)
    before = backbone_state(model)
    head_before = head_of(model).weight.detach().clone()
    optimizer = torch.optim.SGD(head_of(model).parameters(), lr=0.1)
    train_one_epoch(model, train_loader(), optimizer, "cpu")
    moved = changed(before, model)
    statistics = [key for key in moved if key.endswith(("running_mean", "running_var"))]
    kept = not statistics
    assert kept, (f"{call}: expected the BatchNorm running statistics unchanged, got "
                  f"{len(statistics)} changed, e.g. {statistics[0]}: a frozen BatchNorm layer "
                  "must stay in evaluation mode")
    untouched = not moved
    assert untouched, f"{call}: expected the backbone unchanged, got {moved[0]} changed"
    trained = not torch.equal(head_of(model).weight, head_before)
    assert trained, f"{call}: expected the head to train, got its weights unchanged"


def test_unfreeze_makes_every_parameter_trainable():
    call = "unfreeze(resnet) after freeze_backbone(resnet)"
    model = network("digits_resnet.pt")
    freeze_backbone(model)
    unfreeze(model)
    frozen = [name for name, parameter in model.named_parameters()
              if not parameter.requires_grad]
    all_trainable = not frozen
    assert all_trainable, f"{call}: expected every parameter trainable, got {len(frozen)} " \
        f"still frozen, e.g. {frozen[0]}"


def test_after_unfreeze_an_epoch_trains_the_batchnorm_statistics_again():
    call = "freeze_backbone(resnet), unfreeze(resnet), then train_one_epoch"
    model = network("digits_resnet.pt")
    freeze_backbone(model)
    unfreeze(model)
    before = backbone_state(model)
    train_one_epoch(model, train_loader(), torch.optim.SGD(model.parameters(), lr=0.01), "cpu")
    still = sorted(set(before) - set(changed(before, model)))
    all_changed = not still
    assert all_changed, f"{call}: expected the whole backbone to change, BatchNorm statistics " \
        f"included, got {len(still)} values unchanged, e.g. {still[0]}"


@pytest.mark.parametrize("call, frozen, backbone_lr", OPTIMIZERS, ids=ids(OPTIMIZERS,
                                                                           lambda c: c[0]))
def test_make_optimizer(call, frozen, backbone_lr):
    model = network("digits_resnet.pt")
    if frozen:
        freeze_backbone(model)
    optimizer = make_optimizer(model, LR, backbone_lr)
    assert isinstance(optimizer, torch.optim.SGD), \
        f"{call}: expected a torch.optim.SGD, got {type(optimizer).__name__}"
    names = named_parameters_of(model)
    head = {name for name, parameter in model.named_parameters()
            if any(parameter is p for p in head_of(model).parameters())}
    found = [(names.get(id(p), "a parameter not in the model"), group["lr"])
             for group in optimizer.param_groups for p in group["params"]]
    trainable = sorted(name for name, p in model.named_parameters() if p.requires_grad)
    got = sorted(name for name, _ in found)
    missing = sorted(set(trainable) - set(got))
    extra = sorted({name for name in got if got.count(name) > 1 or name not in trainable})
    once_each = got == trainable
    assert once_each, (f"{call}: expected the {len(trainable)} trainable parameters once "
                       f"each, got {len(got)}: missing {missing[:2]}, extra or twice "
                       f"{extra[:2]}")
    for name, lr in found:
        expected = LR if backbone_lr is None or name in head else backbone_lr
        assert lr == expected, f"{call}: expected lr {expected} for {name}, got {lr}"
    momenta = sorted({group["momentum"] for group in optimizer.param_groups})
    assert momenta == [0.9], f"{call}: expected momentum 0.9, got {momenta}"


def test_train_one_epoch_returns_the_mean_loss():
    call = "train_one_epoch(nn.Linear(16, 3), 12 samples in batches of 4, SGD lr 0.5)"
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(12, 16, generator=generator, dtype=torch.float64)
    y = torch.randint(0, 3, (12,), generator=generator)
    torch.manual_seed(0)
    layer, replay = nn.Linear(16, 3, dtype=torch.float64), nn.Linear(16, 3, dtype=torch.float64)
    replay.load_state_dict(layer.state_dict())
    optimizer = torch.optim.SGD(replay.parameters(), lr=0.5)
    losses = []
    for start in range(0, 12, 4):
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(replay(x[start:start + 4]), y[start:start + 4])
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    got = train_one_epoch(layer, DataLoader(TensorDataset(x, y), batch_size=4),
                          torch.optim.SGD(layer.parameters(), lr=0.5), "cpu")
    is_float = isinstance(got, float)
    assert is_float, f"{call}: expected a float, got {type(got).__name__}"
    expected = float(np.mean(losses))
    close = bool(np.isclose(got, expected, rtol=1e-9))
    assert close, (f"{call}: expected the mean of the 3 batches' losses, {expected:.10g}, "
                   f"got {got:.10g}")
    difference = (layer.weight - replay.weight).abs().max().item()
    assert difference < 1e-9, (f"{call}: expected the weights of one SGD step per batch, "
                               f"got weights off by up to {difference:.3g}")


def test_train_one_epoch_puts_the_model_in_training_mode():
    call = "train_one_epoch(vgg) on a model in evaluation mode"
    model = network("digits_vgg.pt").eval()
    train_one_epoch(model, train_loader(), torch.optim.SGD(model.parameters(), lr=0.01), "cpu")
    off = [name or "the model" for name, module in model.named_modules() if not module.training]
    all_training = not off
    assert all_training, f"{call}: expected every module in training mode after it, got " \
        f"{len(off)} in evaluation mode, e.g. {off[0]}"


def test_evaluate_is_the_accuracy_in_evaluation_mode():
    call = "evaluate(vgg, 100 target digits in batches of 32), model in training mode"
    _, _, x, y = few_shots()
    model = network("digits_vgg.pt")
    model.eval()
    with torch.no_grad():
        expected = (model(x).argmax(dim=1) == y).double().mean().item()
    model.train()
    got = evaluate(model, DataLoader(TensorDataset(x, y), batch_size=32), "cpu")
    is_float = isinstance(got, float)
    assert is_float, f"{call}: expected a float, got {type(got).__name__}"
    assert 0 <= got <= 1, f"{call}: expected an accuracy in [0, 1], got {got}"
    close = bool(np.isclose(got, expected, rtol=0, atol=1e-9))
    assert close, \
        f"{call}: expected {expected:.4g} (computed in evaluation mode), got {got:.4g}"
    assert not model.training, f"{call}: expected the model in evaluation mode after it, " \
        "got it in training mode"


@pytest.mark.parametrize("case", LAYERS, ids=ids(LAYERS, fc_to_conv_call))
def test_fc_to_conv_on_every_window(case):
    channels, kernel_size, out_features, bias, (h, w) = case
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    call = fc_to_conv_call(case)
    torch.manual_seed(0)
    linear = nn.Linear(channels * kh * kw, out_features, bias=bias, dtype=torch.float64)
    x = torch.randn(2, channels, h, w, dtype=torch.float64)
    conv = fc_to_conv(linear, channels, kernel_size)
    assert isinstance(conv, nn.Conv2d), f"{call}: expected an nn.Conv2d, got {conv!r}"
    with torch.no_grad():
        got = conv(x)
        expected = torch.empty(2, out_features, h - kh + 1, w - kw + 1, dtype=torch.float64)
        for i in range(h - kh + 1):
            for j in range(w - kw + 1):
                expected[:, :, i, j] = linear(x[:, :, i:i + kh, j:j + kw].reshape(2, -1))
    assert got.shape == expected.shape, \
        f"{call}: expected output shape {tuple(expected.shape)}, got {tuple(got.shape)}"
    difference = (got - expected).abs().max().item()
    assert difference < 1e-9, (f"{call}: expected the linear layer on each flattened window, "
                               f"got values off by up to {difference:.3g}")


def test_fc_to_conv_copies_the_weights():
    call = "fc_to_conv(nn.Linear(12, 2), 3, 2)"
    linear = nn.Linear(12, 2)
    before = linear.weight.detach().clone()
    conv = fc_to_conv(linear, 3, 2)
    with torch.no_grad():
        conv.weight.add_(1.0)
    unchanged = torch.equal(linear.weight, before)
    assert unchanged, (f"{call}: expected a copy of the weights, got the linear layer's own "
                       "(changing the convolution changed it)")


def test_fc_to_conv_on_the_vgg_classifier():
    call = "fc_to_conv(vgg.classifier[1], 64, 4) on vgg.features(x), x of shape (2, 1, 32, 32)"
    model = load_pretrained("digits_vgg.pt")
    x, _, _, _ = few_shots()
    conv = fc_to_conv(model.classifier[1], 64, 4)
    with torch.no_grad():
        features = model.features(x[:2])
        got = conv(features)
        expected = model.classifier[1](features.flatten(1))
    assert tuple(got.shape) == (2, 128, 1, 1), \
        f"{call}: expected shape (2, 128, 1, 1), got {tuple(got.shape)}"
    difference = (got.flatten(1) - expected).abs().max().item()
    assert difference < 1e-4, f"{call}: expected classifier[1]'s output, got values off by " \
        f"up to {difference:.3g}"


def test_fc_to_conv_refuses_a_size_that_does_not_match():
    call = "fc_to_conv(nn.Linear(12, 2), 3, 3): 3 * 3 * 3 = 27, not 12"
    try:
        conv = fc_to_conv(nn.Linear(12, 2), 3, 3)
    except (ValueError, NotImplementedError) as error:
        if isinstance(error, ValueError):
            return
        raise
    except Exception as error:  # any other error is the failure to report
        pytest.fail(f"{call}: expected a ValueError, got {type(error).__name__}: {error}")
    pytest.fail(f"{call}: expected a ValueError, got {conv!r}")
