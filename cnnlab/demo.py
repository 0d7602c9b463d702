"""``cnnlab demo``: grade a demo class and write every report, in a few minutes.

The demo class is the course's example class (``examples/submitted``: Alice, Bob, Carol and
Dave) and eight more students described below, whose submissions are made from the
reference solutions by the edits a student's mistake would make (a kernel turned round, a
``round`` for a ``//``, a ReLU before the addition...), from the released stubs (work not
done), or break in other ways (a syntax error). Each edit says which known mistake the
grader must recognise (``autograder.diagnose``); the project's tests check that it does.
Not every student hands in every assignment, as in a real class.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from cnnlab.course import ASSIGNMENTS, EXAMPLES_DIR

#: The example class that the demo class starts from.
EXAMPLE_CLASS = EXAMPLES_DIR / "submitted"
#: A file that marks a folder as the demo's, so a later demo may replace it.
MARKER = ".cnnlab-demo"


@dataclass(frozen=True)
class Work:
    """What a demo student hands in for one assignment.

    Attributes:
        edits: ``{old: new}`` text edits applied, in order, to the reference module (each
            ``old`` must occur in it, or the demo is out of date with the reference).
        stubs: hand in the released module (nothing written) instead of the reference.
        mistake: the key of the known mistake the grader must name, where the edits make one.
    """

    edits: dict[str, str] = field(default_factory=dict)
    stubs: bool = False
    mistake: str = ""


RIGHT = Work()
NOTHING_DONE = Work(stubs=True)

A02_FLIPPED = {"w_rows = w.reshape(geometry.groups,":
               "w_rows = w[:, :, ::-1, ::-1].reshape(geometry.groups,"}

#: The demo students beyond the example class: their work per assignment.
STUDENTS: dict[str, dict[str, Work]] = {
    "erin": {
        "a01_output_size": RIGHT,
        "a02_convolution": Work(A02_FLIPPED, mistake="kernel flipped"),
        "a03_pooling": RIGHT,
        "a04_receptive_field": RIGHT,
    },
    "frank": {
        "a01_output_size": Work({"    return (padded - window) // stride + 1":
                                 "    return round((padded - window) / stride) + 1"},
                                mistake="rounded instead of floored"),
        "a02_convolution": RIGHT,
        "a03_pooling": Work({"    return _windows(x, geometry, fill=-np.inf).max(":
                             "    return _windows(x, geometry, fill=0).max("},
                            mistake="zero padding"),
        "a04_receptive_field": NOTHING_DONE,
    },
    "grace": {
        "a01_output_size": RIGHT,
        "a02_convolution": Work({"    return dx, dw.reshape(w.shape), db":
                                 "    return dx, dw.reshape(w.shape) / len(x), db"},
                                mistake="dw averaged"),
        "a03_pooling": Work({"is_winner = np.arange(kh * kw) == winner[..., np.newaxis]":
                             "is_winner = flat == flat.max(axis=-1, keepdims=True)"},
                            mistake="gradient to every tie"),
        "a05_resnet": Work({"        out = self.relu(self.bn1(self.conv1(x)))\n"
                            "        out = self.bn2(self.conv2(out))\n"
                            "        return self.relu(out + identity)":
                            "        out = self.relu(self.bn1(self.conv1(x)))\n"
                            "        out = self.relu(self.bn2(self.conv2(out)))\n"
                            "        return out + identity"},
                           mistake="relu before the addition"),
        "a06_finetuning": Work({"            if not any(p.requires_grad for p in "
                                "module.parameters()):\n                module.eval()":
                                "            pass"}, mistake="batchnorm statistics not frozen"),
    },
    "heidi": {
        "a01_output_size": Work({"    return (padded - window) // stride + 1":
                                 "    return (padded - window) // stride"},
                                mistake="off by one"),
        "a02_convolution": NOTHING_DONE,
        "a03_pooling": Work({"    stride = kernel if stride is None else":
                             "    stride = (1, 1) if stride is None else"},
                            mistake="stride defaults to 1"),
        "a04_receptive_field": RIGHT,
    },
    "ivan": {
        "a01_output_size": RIGHT,
        "a02_convolution": Work({"def conv2d_forward(": "def conv2d_forward(x w"}),
        "a03_pooling": RIGHT,
    },
    "judy": {  # Erin's a02, the names changed: the class report finds them alike
        "a01_output_size": RIGHT,
        "a02_convolution": Work(A02_FLIPPED | {"x_padded": "padded_input", "geometry": "geo",
                                               "w_rows": "filters_as_rows"},
                                mistake="kernel flipped"),
    },
    "mallory": {
        "a04_receptive_field": Work({"        start += ((window - 1) / 2 - padding) * jump":
                                     "        start += (window - 1) / 2 * jump"},
                                    mistake="padding ignored"),
    },
    "niaj": {
        "a01_output_size": Work({"dilation * (kernel_size - 1) + output_padding + 1":
                                 "dilation * (kernel_size - 1) + 1"},
                                mistake="output_padding ignored"),
        "a06_finetuning": Work({"    model.eval()\n    correct = total = 0":
                                "    correct = total = 0"}, mistake="evaluate without eval()"),
    },
}


class DemoOutOfDate(Exception):
    """An edit of the demo class no longer applies to its reference module."""


def apply_edits(text: str, edits: dict[str, str]) -> str:
    """``text`` with each ``{old: new}`` edit made, in order; ``LookupError(old)`` where an
    ``old`` does not occur (an edit written for another version of the text)."""
    for old, new in edits.items():
        if old not in text:
            raise LookupError(old)
        text = text.replace(old, new)
    return text


def submission_text(student: str, assignment_id: str, work: Work) -> str:
    """The module ``student`` hands in for ``assignment_id``."""
    assignment = ASSIGNMENTS[assignment_id]
    folder = assignment.release_dir if work.stubs else assignment.solution_dir
    try:
        return apply_edits((folder / f"{assignment.module}.py").read_text(), work.edits)
    except LookupError as missing:
        raise DemoOutOfDate(f"the demo's edit for {student}/{assignment_id} no longer "
                            f"applies: {missing.args[0]!r} is not in {assignment.module}.py"
                            ) from None


def build_class(target: Path) -> Path:
    """Write the demo class into ``target`` (nbgrader's ``submitted/`` layout)."""
    shutil.copytree(EXAMPLE_CLASS, target)
    for student, works in STUDENTS.items():
        for assignment_id, work in works.items():
            folder = target / student / assignment_id
            folder.mkdir(parents=True)
            module = f"{ASSIGNMENTS[assignment_id].module}.py"
            (folder / module).write_text(submission_text(student, assignment_id, work))
    return target


def expected_mistakes() -> dict[tuple[str, str], str]:
    """The mistake the grader must name in each demo submission that makes one."""
    return {(student, assignment): work.mistake for student, works in STUDENTS.items()
            for assignment, work in works.items() if work.mistake}


def prepare(out: Path) -> tuple[Path, Path]:
    """Make ``out`` ready for a demo (new, empty, or a previous demo's, which is replaced);
    return its ``submitted`` and ``graded`` folders. Refuses any other folder."""
    if out.exists() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise FileExistsError(f"{out} exists and is not a cnnlab demo folder: give another "
                              "--out")
    submitted, graded = out / "submitted", out / "graded"
    for old in (submitted, graded):
        if old.exists():
            shutil.rmtree(old)
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("made by cnnlab demo; cnnlab demo may replace this folder\n")
    return build_class(submitted), graded
