"""Check the a05 reference on a GPU and against torchvision, where those exist (not a test).

Run with ``python benchmarks/gpu_check.py`` (``CNNLAB_DEVICE`` picks the device, else
``cuda`` where available). It prints, for resnet18, resnet34 and resnet50:

- whether torchvision's state dict (keys and shapes) is the one recorded in the a05 suite
  (``autograder/suites/a05_resnet/torchvision_state_dicts.json``) and loads into the
  reference with ``strict=True``, and whether both then give the same scores;
- whether the reference gives the same scores on the device as on the CPU;
- the time of a forward+backward pass on each, for a batch of 16 images of 224x224.

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


def load_reference():
    spec = importlib.util.spec_from_file_location("reference_resnet",
                                                  ROOT / "solutions/a05_resnet/resnet.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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


if __name__ == "__main__":
    main()
