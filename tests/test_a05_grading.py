"""The a05_resnet hidden suite, judged by the submissions it grades.

The reference and Alice's submission (functional ReLUs, in-place additions, stages built by
a helper) earn full marks, the released stubs nothing. Each mistake loses its class's points
(and those of the networks built from that class, which the suite builds with the student's
own blocks), with a message that says what is wrong and, where the suite knows the mistake
(``autograder/suites/a05_resnet/mistakes.py``), its name; hostile submissions gain nothing.
"""

from __future__ import annotations

import pytest
from support import (
    Mutant,
    assert_loses_exactly,
    standard_grading_tests,
)

pytestmark = pytest.mark.slow

ASSIGNMENT = "a05_resnet"
BASIC_END = "        out = self.bn2(self.conv2(out))\n        return self.relu(out + identity)"
BASIC_SHORTCUT = ("        self.bn2 = nn.BatchNorm2d(out_channels)\n"
                  "        self.downsample = shortcut(in_channels, out_channels, stride)")
BOTTLENECK_CONVS = ("        self.conv1 = conv1x1(in_channels, width)\n"
                    "        self.bn1 = nn.BatchNorm2d(width)\n"
                    "        self.conv2 = conv3x3(width, width, stride)")

#: Mistakes and hostile tricks, each an edit of the reference, by student id: the classes
#: that lose points, and words the feedback must say.
MUTANTS = {
    "relu_before_the_addition": Mutant(
        {BASIC_END: "        out = self.bn2(self.conv2(out))\n"
                    "        return self.relu(out) + identity"},
        {"BasicBlock", "ResNet"}, says="the ReLU comes after the addition",
        diagnosis="relu before the addition"),
    "shortcut_without_batchnorm": Mutant(
        {BASIC_SHORTCUT: "        self.bn2 = nn.BatchNorm2d(out_channels)\n"
                         "        self.downsample = None if stride == 1 and in_channels == "
                         "out_channels else nn.Sequential(\n"
                         "            conv1x1(in_channels, out_channels, stride))"},
        {"BasicBlock", "ResNet", "resnet18", "resnet34"}, says="needs its BatchNorm2d",
        diagnosis="shortcut without batchnorm"),
    "stride_on_the_first_1x1": Mutant(
        {BOTTLENECK_CONVS: "        self.conv1 = conv1x1(in_channels, width, stride)\n"
                           "        self.bn1 = nn.BatchNorm2d(width)\n"
                           "        self.conv2 = conv3x3(width, width)"},
        {"Bottleneck", "ResNet"}, says="the stride belongs on conv2",
        diagnosis="stride on the wrong conv"),
    "shortcut_always_a_conv": Mutant(
        {BASIC_SHORTCUT: "        self.bn2 = nn.BatchNorm2d(out_channels)\n"
                         "        self.downsample = nn.Sequential(\n"
                         "            conv1x1(in_channels, out_channels, stride), "
                         "nn.BatchNorm2d(out_channels))"},
        {"BasicBlock", "ResNet", "resnet18", "resnet34"}, says="downsample must be None here",
        diagnosis="downsample not needed"),
    "no_relu_after_the_addition": Mutant(
        {BASIC_END: "        out = self.bn2(self.conv2(out))\n        return out + identity"},
        {"BasicBlock", "ResNet"}, says="the ReLU comes after the addition",
        diagnosis="no relu after the addition"),
    "relu_before_and_after_the_addition": Mutant(
        {BASIC_END: "        out = self.relu(self.bn2(self.conv2(out)))\n"
                    "        return self.relu(out + identity)"},
        {"BasicBlock", "ResNet"}, says="values differ",
        diagnosis="extra relu before the addition"),
    "last_batchnorm_skipped": Mutant(
        {"        out = self.bn3(self.conv3(out))\n": "        out = self.conv3(out)\n"},
        {"Bottleneck", "ResNet"}, says="values differ", diagnosis="last batchnorm skipped"),
    "shortcut_not_added": Mutant(
        {BASIC_END: "        out = self.bn2(self.conv2(out))\n        return self.relu(out)"},
        {"BasicBlock", "ResNet"}, says="values differ", diagnosis="shortcut not added"),
    "stride_on_the_second_3x3": Mutant(
        {"        self.conv1 = conv3x3(in_channels, out_channels, stride)\n":
         "        self.conv1 = conv3x3(in_channels, out_channels)\n",
         "        self.conv2 = conv3x3(out_channels, out_channels)\n":
         "        self.conv2 = conv3x3(out_channels, out_channels, stride)\n"},
        {"BasicBlock", "ResNet"}, says="the stride belongs on conv1",
        diagnosis="stride on the wrong conv"),
    "downsample_only_for_a_stride": Mutant(
        {BASIC_SHORTCUT: "        self.bn2 = nn.BatchNorm2d(out_channels)\n"
                         "        self.downsample = (shortcut(in_channels, out_channels, stride)"
                         " if stride != 1 else None)"},
        {"BasicBlock"}, says="needs a downsample", diagnosis="downsample missing"),
    "bottleneck_without_expansion": Mutant(
        {"        out_channels = width * self.expansion\n": "        out_channels = width\n"},
        {"Bottleneck", "ResNet", "resnet50"}, says="shapes differ",
        diagnosis="expansion forgotten"),
    "stages_fed_width_channels": Mutant(
        {"                channels = width * block.expansion\n":
         "                channels = width\n"},
        {"ResNet", "resnet50"}, says="shapes differ", diagnosis="expansion forgotten"),
    "resnet34_with_resnet18s_blocks": Mutant(
        {"    return ResNet(BasicBlock, [3, 4, 6, 3], num_classes)":
         "    return ResNet(BasicBlock, [2, 2, 2, 2], num_classes)"},
        {"resnet34"}, says="its stages hold [2, 2, 2, 2] blocks",
        diagnosis="wrong number of blocks"),
    "maxpool_skipped": Mutant(
        {"        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))":
         "        x = self.relu(self.bn1(self.conv1(x)))"},
        {"ResNet"}, says="values differ", diagnosis="maxpool skipped"),
    # Hostile: outputs that fool a lax comparison.
    "patches_allclose_and_returns_zeros": Mutant(
        {BASIC_END: "        out = self.bn2(self.conv2(out))\n"
                    "        torch.allclose = lambda *args, **kwargs: True\n"
                    "        torch.testing.assert_close = lambda *args, **kwargs: None\n"
                    "        return 0 * self.relu(out + identity)"},
        {"BasicBlock", "ResNet"}, says="values differ"),
    "returns_a_tensor_subclass": Mutant(
        {BASIC_END: "        out = self.bn2(self.conv2(out))\n"
                    "        class Liar(torch.Tensor):\n"
                    "            def __eq__(self, other):\n"
                    "                return True\n"
                    "        return self.relu(out + identity).as_subclass(Liar)"},
        {"BasicBlock", "ResNet"}, says="not a torch.Tensor"),
    # Found by the red team: each once gained points, caused a grader error, or cost a
    # correct class its points.
    "batchnorm_that_never_updates_its_statistics": Mutant(
        {"import torch\n": "from functools import partial\n\nimport torch\n",
         "nn.BatchNorm2d(": "partial(nn.BatchNorm2d, momentum=0.0)("},
        {"BasicBlock", "Bottleneck", "ResNet"}, says="BatchNorm updates its statistics",
        diagnosis="batchnorm statistics not updated"),
    "shortcut_gradient_cut": Mutant(
        {BASIC_END: "        out = self.bn2(self.conv2(out))\n"
                    "        return self.relu(out + identity.detach())"},
        {"BasicBlock", "ResNet"}, says="the gradient of the input"),
    "replaces_the_drivers_report": Mutant(
        {"import torch\n": "import torch\nimport torch_modules\n\n"
                           "torch_modules.ACTIONS['describe'] = lambda context, handle: 5\n"},
        says="passed"),
    "switches_gradients_off_in_bottleneck": Mutant(
        {"        out = self.bn3(self.conv3(out))\n":
         "        torch.set_grad_enabled(False)\n        out = self.bn3(self.conv3(out))\n"},
        {"Bottleneck"}, says="does not require grad"),
}


results, test_reference_earns_full_marks, \
    test_a_submission_in_another_style_earns_full_marks, \
    test_released_stubs_earn_nothing = standard_grading_tests(ASSIGNMENT, MUTANTS)


@pytest.mark.parametrize("student", MUTANTS)
def test_a_mistake_loses_its_classes_points_and_is_named(results, student):
    assert_loses_exactly(results[student], MUTANTS[student])
