"""PyTorch objects across the boundary: a toy assignment graded through a driver.

The student writes an ``nn.Module`` class; the driver (``autograder/drivers/torch_modules``)
builds and runs it in the sandbox and reports plain data; the decision is made here, in the
trusted process, against a reference computed here on inputs made here.
"""

from __future__ import annotations

import textwrap
from dataclasses import replace

import numpy as np
import pytest
import torch

from autograder.student import StudentError, StudentModule
from cnnlab.course import Assignment, Graded

TOY = Assignment("toy_modules", "toy", (Graded("ScaledLinear", 1),), "one class, one point",
                 libraries=("numpy", "torch"), driver="torch_modules")

CORRECT = '''
import torch
from torch import nn

class ScaledLinear(nn.Module):
    """y = scale * relu(linear(x))"""

    def __init__(self, in_features, out_features, scale=2.0):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)
        self.scale = scale

    def forward(self, x):
        return self.scale * torch.relu(self.linear(x))
'''

#: Realistic bugs and hostile tricks, each an edit of the correct module.
WRONG = {
    "relu_forgotten": CORRECT.replace("torch.relu(self.linear(x))", "self.linear(x)"),
    "child_misnamed": CORRECT.replace("self.linear", "self.fc"),
    "tensor_subclass": CORRECT + '''
class Liar(torch.Tensor):
    def __eq__(self, other):
        return True

_forward = ScaledLinear.forward
ScaledLinear.forward = lambda self, x: _forward(self, x).as_subclass(Liar) * 0
''',
    "patched_allclose": CORRECT.replace("return self.scale", "return 0 * self.scale") + '''
import numpy
torch.allclose = lambda *args, **kwargs: True
torch.equal = lambda *args, **kwargs: True
numpy.allclose = lambda *args, **kwargs: True
numpy.array_equal = lambda *args, **kwargs: True
''',
}


def _reference_class() -> type:
    """The correct module's class, built here in the trusted process: the reference."""
    namespace: dict = {}
    exec(CORRECT, namespace)
    return namespace["ScaledLinear"]


Reference = _reference_class()


def grade_toy(student: StudentModule, rng: np.random.Generator) -> dict[str, str]:
    """Each check's outcome: ``"passed"`` or the feedback that says what differs."""
    outcomes = {}
    reference = Reference(5, 3, scale=1.5).double()
    weights = {key: rng.standard_normal(value.shape)
               for key, value in reference.state_dict().items()}
    reference.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()})
    x = rng.standard_normal((4, 5))
    grad = rng.standard_normal((4, 3))

    def check(name, test):
        try:
            test()
            outcomes[name] = "passed"
        except (StudentError, AssertionError) as failure:
            outcomes[name] = str(failure)

    def structure():
        report = student.drive("describe", handle, graded="ScaledLinear")
        assert report["children"] == [["linear", "Linear"]], report["children"]
        assert report["modules"]["linear"]["in_features"] == 5
        assert report["num_parameters"] == 5 * 3 + 3

    def forward():
        student.drive("load_state_dict", handle, weights, graded="ScaledLinear")
        output = student.drive("forward", handle, [x], graded="ScaledLinear")
        expected = reference(torch.from_numpy(x)).detach().numpy()
        assert isinstance(output, np.ndarray) and output.shape == expected.shape
        np.testing.assert_allclose(output, expected, rtol=1e-10, atol=1e-12)

    def backward():
        report = student.drive("backward", handle, [x], grad, graded="ScaledLinear")
        tensor = torch.from_numpy(x).requires_grad_()
        reference.zero_grad()
        reference(tensor).backward(torch.from_numpy(grad))
        np.testing.assert_allclose(report["input_grads"][0], tensor.grad.numpy(), atol=1e-10)
        for name, parameter in reference.named_parameters():
            np.testing.assert_allclose(report["param_grads"][name], parameter.grad.numpy(),
                                       atol=1e-10)

    try:
        handle = student.drive("construct", "ScaledLinear", (5, 3), {"scale": 1.5},
                               graded="ScaledLinear")
        student.drive("set_dtype", handle, "float64", graded="ScaledLinear")
    except StudentError as failure:
        return dict.fromkeys(("structure", "forward", "backward"), failure.feedback)
    check("structure", structure)
    check("forward", forward)
    check("backward", backward)
    return outcomes


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> dict[str, dict[str, str]]:
    """Every submission graded once: {submission: {check: outcome}}."""
    results = {}
    for name, source in {"correct": CORRECT, **WRONG}.items():
        folder = tmp_path_factory.mktemp(name)
        (folder / "toy.py").write_text(textwrap.dedent(source))
        student = StudentModule(TOY, folder)
        try:
            results[name] = grade_toy(student, np.random.default_rng(7))
        finally:
            student.close()
    return results


def test_correct_work_passes_every_check(graded):
    assert graded["correct"] == dict.fromkeys(("structure", "forward", "backward"), "passed")


def test_a_forgotten_relu_fails_forward_and_backward_only(graded):
    outcomes = graded["relu_forgotten"]
    assert outcomes["structure"] == "passed"
    assert outcomes["forward"] != "passed" and outcomes["backward"] != "passed"


def test_a_misnamed_child_fails_the_structure_and_the_strict_load(graded):
    outcomes = graded["child_misnamed"]
    assert "linear" in outcomes["structure"]
    assert "Missing key" in outcomes["forward"] or "Unexpected key" in outcomes["forward"]


def test_a_tensor_subclass_is_refused(graded):
    assert "Liar, not a torch.Tensor" in graded["tensor_subclass"]["forward"]


def test_an_action_may_have_a_time_limit_of_its_own(tmp_path):
    slow = CORRECT + """
import time
_forward = ScaledLinear.forward

def _slow_forward(self, x):
    end = time.process_time() + 1.5
    while time.process_time() < end:
        pass
    return _forward(self, x)

ScaledLinear.forward = _slow_forward
"""
    (tmp_path / "toy.py").write_text(slow)
    assignment = replace(TOY, limits=replace(TOY.limits, call_seconds=1))
    student = StudentModule(assignment, tmp_path)
    x = [np.ones((1, 5), np.float32)]
    try:
        handle = student.drive("construct", "ScaledLinear", (5, 3), graded="ScaledLinear")
        with pytest.raises(StudentError, match="did not return within 1 s"):
            student.drive("forward", handle, x, graded="ScaledLinear")
        handle = student.drive("construct", "ScaledLinear", (5, 3), graded="ScaledLinear")
        output = student.drive("forward", handle, x, graded="ScaledLinear", seconds=6)
        assert output.shape == (1, 3)
    finally:
        student.close()


def test_patching_the_comparisons_in_the_sandbox_changes_nothing(graded):
    assert graded["patched_allclose"]["forward"] != "passed"
    assert graded["patched_allclose"]["structure"] == "passed"
