"""Check the a05 and a06 references on a GPU, and a05's against torchvision, where those exist
(not a test).

Run with ``python benchmarks/gpu_check.py`` (``CNNLAB_DEVICE`` picks the device, else
``cuda`` where available). It prints, for resnet18, resnet34 and resnet50:

- whether torchvision's state dict (keys and shapes) is the one recorded in the a05 suite
  (``autograder/suites/a05_resnet/torchvision_state_dicts.json``) and loads into the
  reference with ``strict=True``, and whether both then give the same scores;
- whether the reference gives the same scores on the device as on the CPU;
- the time of a forward+backward pass on each, for a batch of 16 images of 224x224.

and for a06 (the bundled ResNet, in float64, on the few-shot target digits): the largest
difference between the weights after a frozen epoch and after an unfrozen one on the device
and on the CPU, the accuracies that ``evaluate`` gives on each, ``fc_to_conv``'s output on
each, and the time of ``fine_tune`` (3 + 3 epochs, float32) on each.

Only the standard library, numpy and torch are needed; torchvision is used where installed.
"""

from __future__ import annotations

import importlib.util
import json
import os
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
RECORDED = json.loads(
    (ROOT / "autograder/suites/a05_resnet/torchvision_state_dicts.json").read_text())


def load_reference(path: str = "solutions/a05_resnet/resnet.py"):
    spec = importlib.util.spec_from_file_location(f"reference_{Path(path).stem}", ROOT / path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def check_finetuning(device: torch.device) -> None:
    """The a06 reference on ``device`` against the CPU (see the module's docstring)."""
    import copy
    import sys

    from torch.utils.data import DataLoader, TensorDataset

    sys.path.insert(0, str(ROOT))
    from cnnlab import backbones

    finetuning = load_reference("solutions/a06_finetuning/finetuning.py")
    x, y, x_test, y_test = backbones.target_task(10, 0)

    def loader(images, labels, dtype, batch_size):
        return DataLoader(TensorDataset(torch.from_numpy(images).to(dtype),
                                        torch.from_numpy(labels)), batch_size=batch_size)

    torch.manual_seed(0)
    model = finetuning.replace_head(backbones.load_pretrained("digits_resnet.pt"), 5).double()
    models = {"cpu": model, "device": copy.deepcopy(model).to(device)}
    devices = {"cpu": torch.device("cpu"), "device": device}
    train = loader(x, y, torch.float64, 10)
    for phase in ("frozen", "unfrozen"):
        for where, net in models.items():
            (finetuning.freeze_backbone if phase == "frozen" else finetuning.unfreeze)(net)
            optimizer = finetuning.make_optimizer(net, 0.05, None if phase == "frozen"
                                                  else 0.005)
            finetuning.train_one_epoch(net, train, optimizer, devices[where])
        difference = max((a - b.cpu()).abs().max().item() for a, b in zip(
            models["cpu"].state_dict().values(), models["device"].state_dict().values(),
            strict=True) if a.is_floating_point())
        print(f"a06 train_one_epoch, {phase}: largest difference of the weights, {device} vs "
              f"cpu: {difference:.2e}")
    test = loader(x_test, y_test, torch.float64, 250)
    accuracy = {where: finetuning.evaluate(net, test, devices[where])
                for where, net in models.items()}
    print(f"a06 evaluate: {accuracy['device']:.4f} on {device}, {accuracy['cpu']:.4f} on cpu")
    linear = torch.nn.Linear(64 * 4 * 4, 10).double()
    image = torch.randn(2, 64, 9, 13, dtype=torch.float64)
    outputs = [finetuning.fc_to_conv(copy.deepcopy(linear).to(d), 64, 4)(image.to(d)).cpu()
               for d in devices.values()]
    print(f"a06 fc_to_conv: largest difference {device} vs cpu "
          f"{(outputs[0] - outputs[1]).abs().max().item():.2e}")
    for where_device in devices.values():
        torch.manual_seed(0)
        net = finetuning.replace_head(backbones.load_pretrained("digits_resnet.pt"), 5)
        net = net.to(where_device)
        started = time.perf_counter()
        history = finetuning.fine_tune(net, loader(x, y, torch.float32, 10),
                                       loader(x_test[::5], y_test[::5], torch.float32, 100),
                                       where_device, 3, 3)
        print(f"a06 fine_tune 3 + 3 epochs on {where_device}: "
              f"{time.perf_counter() - started:.2f} s, last validation accuracy "
              f"{history['val_accuracy'][-1]:.3f}")


def seconds(step, device: torch.device, repeats: int = 5) -> float:
    """Median seconds of ``step()`` after two warm-up runs."""
    times = []
    for index in range(repeats + 2):
        if device.type == "cuda":
            torch.cuda.synchronize()
        started = time.perf_counter()
        step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        if index >= 2:
            times.append(time.perf_counter() - started)
    return sorted(times)[len(times) // 2]


def compare_with_torchvision(name: str, reference) -> None:
    try:
        import torchvision
    except ImportError:
        print(f"{name}: torchvision is not installed: its state dict is not checked here")
        return
    theirs = getattr(torchvision.models, name)(weights=None).eval()
    shapes = {key: list(value.shape) for key, value in theirs.state_dict().items()}
    print(f"{name}: torchvision {torchvision.__version__}'s keys and shapes are the recorded "
          f"ones: {shapes == RECORDED[name]['state_dict']}")
    ours = getattr(reference, name)().eval()
    ours.load_state_dict(theirs.state_dict(), strict=True)
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        gap = (ours(x) - theirs(x)).abs().max().item()
    print(f"{name}: torchvision's weights load with strict=True; largest score difference "
          f"{gap:.2e}")


def compare_devices(name: str, reference, device: torch.device) -> None:
    torch.manual_seed(0)
    cpu_model = getattr(reference, name)().eval()
    device_model = getattr(reference, name)().eval()
    device_model.load_state_dict(cpu_model.state_dict())
    device_model.to(device)
    x = torch.randn(4, 3, 224, 224)
    with torch.no_grad():
        on_cpu = cpu_model(x)
        on_device = device_model(x.to(device)).cpu()
    gap = ((on_cpu - on_device).abs().max() / on_cpu.abs().max()).item()
    print(f"{name}: {device} against cpu, largest relative score difference {gap:.2e}")
    for where, model in (("cpu", cpu_model), (str(device), device_model)):
        place = torch.device(where)
        batch = torch.randn(16, 3, 224, 224, device=place)
        model.train()

        def step(model=model, batch=batch):
            model.zero_grad(set_to_none=True)
            model(batch).sum().backward()

        print(f"{name}: forward+backward, batch 16 of 224x224, float32, {where}: "
              f"{1000 * seconds(step, place, repeats=3 if where == 'cpu' else 10):.1f} ms")


def main() -> None:
    reference = load_reference()
    device = reference.DEVICE
    print(f"torch {torch.__version__}; the reference's DEVICE is {device} "
          f"(CNNLAB_DEVICE={os.environ.get('CNNLAB_DEVICE')!r}); "
          f"{torch.cuda.get_device_name() if device.type == 'cuda' else 'no GPU used'}")
    for name in ("resnet18", "resnet34", "resnet50"):
        compare_with_torchvision(name, reference)
        if device.type != "cpu":
            compare_devices(name, reference, device)
    if device.type != "cpu":
        check_finetuning(device)


if __name__ == "__main__":
    main()
