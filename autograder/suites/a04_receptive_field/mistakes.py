"""The mistakes the a04_receptive_field suite recognises (see ``autograder.diagnose``).

``receptive_field``'s wrong answers come from the recurrences with one thing wrong (the
padding left out of the start, the jump updated too early or never multiplied, ...);
``empirical_receptive_field``'s from the input positions the measured unit depends on,
counted in a wrong way; ``layers_from_model``'s from the model's description, walked in a
wrong way (its cases hold the description as ``spec``: see ``test_layers_from_model``).

Where two mistakes of a function give the same answer to a case, neither is named
(``unambiguous``).
"""

from __future__ import annotations

from dataclasses import replace

from autograder.diagnose import NO_ANSWER, Mistake
from autograder.harness import Case
from autograder.suites.a04_receptive_field.cases import (
    output_sizes,
    reachable_columns,
    reachable_field,
    settings,
    span,
)

# -- receptive_field --------------------------------------------------------------------


def fields(*, size_window: str = "dilated", start_window: str = "dilated",
           size_jump: str = "before", start_jump: str = "before", jump: str = "product",
           scaled: str = "all", padding: bool = True, half: str = "exact"):
    """The answer of ``receptive_field`` by the recurrences with one part changed.

    Args:
        size_window, start_window: the window the size (start) grows by: ``"dilated"``
            (``dilation * (kernel_size - 1) + 1``) or ``"kernel"`` (``kernel_size``).
        size_jump, start_jump: the jump the size (start) grows with: the layer's input's
            (``"before"``) or its output's (``"after"``, the jump updated too early).
        jump: ``"product"`` of the strides, this layer's ``"stride"`` only, their ``"sum"``,
            or ``"none"`` (always 1).
        scaled: what of the start's step is multiplied by the jump: ``"all"``, ``"none"``,
            ``"half"`` (the half window only) or ``"padding"`` (the padding only).
        padding: whether the padding moves the start.
        half: ``"exact"`` half window, or ``"floor"`` (integer division).
    """
    def answer(case: Case) -> list[tuple[int, int, float]]:
        size, step, start, answers = 1, 1, 0.0, []
        for layer in case.inputs["layers"]:
            kernel_size, stride, pad, dilation = settings(layer)
            windows = {"dilated": dilation * (kernel_size - 1) + 1, "kernel": kernel_size}
            after = {"product": step * stride, "stride": stride, "sum": step + stride,
                     "none": 1}[jump]
            jumps = {"before": step, "after": after}
            size += (windows[size_window] - 1) * jumps[size_jump]
            span = windows[start_window] - 1
            halfway = span / 2 if half == "exact" else span // 2
            pad = pad if padding else 0
            factor = jumps[start_jump]
            start += (halfway * (factor if scaled in ("all", "half") else 1)
                      - pad * (factor if scaled in ("all", "padding") else 1))
            step = after
            answers.append((int(size), int(step), float(start)))
        return answers
    return answer


RECEPTIVE_FIELD = (
    Mistake("padding ignored", "the padding does not move the start",
            "padding adds pixels before a layer's input, and its first window starts among "
            "them", fields(padding=False)),
    *(Mistake("dilation ignored", "the window is taken as kernel_size pixels, whatever the "
              "dilation", "a dilated kernel's taps are dilation pixels apart: count the "
              "pixels from its first tap to its last",
              answer)
      for answer in (fields(size_window="kernel"), fields(size_window="kernel",
                                                          start_window="kernel"))),
    *(Mistake("jump updated too early", "a layer's size or start grows with the jump after "
              "the layer (times its stride) instead of the jump before it",
              "a layer's kernel steps over its input, whose units are the jump of the "
              "layers before it apart", answer)
      for answer in (fields(size_jump="after", start_jump="after"),
                     fields(size_jump="after"), fields(start_jump="after"))),
    *(Mistake("jump not multiplied", "the jump is this layer's stride (or the strides "
              "added up), not the product of the strides so far",
              "after two layers of stride 2, neighbouring units are 4 input pixels apart",
              answer)
      for answer in (fields(jump="stride"), fields(jump="sum"))),
    Mistake("jump never updated", "the jump stays 1 whatever the strides",
            "a stride spreads neighbouring units apart",
            fields(jump="none")),
    *(Mistake("start not scaled by the jump", "the start moves by the half window or the "
              "padding in the layer's input pixels, not in the network's input pixels",
              "a step of one pixel of a layer's input is jump pixels of the network's input",
              fields(scaled=scaled)) for scaled in ("none", "half", "padding")),
    Mistake("start rounded down", "the half window is rounded down (//), so an even kernel's "
            "centre lands on a pixel", "an even window's centre lies between two pixels: the "
            "start can end in .5", fields(half="floor")),
)


# -- empirical_receptive_field ----------------------------------------------------------


def measured(count):
    """An answer of ``empirical_receptive_field``: ``count`` of the case's stack and input
    size; ``ValueError`` where the stack leaves no output."""
    def answer(case: Case) -> int:
        layers, input_size = case.inputs["layers"], int(case.inputs["input_size"])
        if min(output_sizes(layers, input_size)) < 1:
            raise ValueError("no output")
        return count(layers, input_size)
    return answer


EMPIRICAL_RECEPTIVE_FIELD = (
    Mistake("measured from unit 0", "the gradient is taken from the output's first unit, "
            "not its centre, so the border cuts the field", "backpropagate from the unit in "
            "the middle of the output, on both axes",
            measured(lambda layers, size: len(reachable_columns(layers, size, 0)))),
    *(Mistake("holes counted", "the count spans the field from its first to its last "
              "column, holes included, as the formula's size does",
              "with strides or dilation some columns inside the field are never reached, "
              "and the image's border cuts the field: count only the columns whose gradient "
              "is not 0", measured(count))
      for count in (lambda layers, size: span(reachable_columns(layers, size)),
                    lambda layers, size: reachable_field(Case({"layers": layers}))[-1][0])),
    Mistake("pixels counted in 2-D", "the count is of the image's pixels with a gradient, "
            "on both axes (the field's size squared)", "the field is measured on one axis: "
            "count the columns (or rows) that hold a non-zero gradient",
            measured(lambda layers, size: len(reachable_columns(layers, size)) ** 2)),
)


# -- layers_from_model ------------------------------------------------------------------


def listed(*, nested: bool = True, pools: bool = True, same=lambda k, d: d * (k - 1) // 2):
    """The answer of ``layers_from_model`` for a case whose ``spec`` describes the model,
    walked with one part changed: ``nested`` Sequentials skipped, ``pools`` skipped, or
    ``same`` padding from ``(kernel_size, dilation)`` computed otherwise."""
    def walk(spec: list) -> list[tuple[int, int, int, int]]:
        layers = []
        for kind, options in spec:
            if kind == "Sequential":
                layers += walk(options) if nested else []
            elif kind == "Conv2d" or (pools and kind in ("MaxPool2d", "AvgPool2d")):
                kernel_size, dilation = options["kernel_size"], options.get("dilation", 1)
                stride = options.get("stride", 1 if kind == "Conv2d" else kernel_size)
                padding = options.get("padding", 0)
                if padding == "same":
                    padding = same(kernel_size, dilation)
                elif padding == "valid":
                    padding = 0
                layers.append((kernel_size, stride, padding, dilation))
        return layers
    return lambda case: walk(case.inputs["spec"])


LAYERS_FROM_MODEL = (
    Mistake("nested Sequentials skipped", "the layers inside a nested Sequential are "
            "missing", "a block can hold a Sequential of its own: walk into it (or use a "
            "walk that does)", listed(nested=False)),
    Mistake("pools skipped", "the pooling layers are missing", "MaxPool2d and AvgPool2d "
            "change the receptive field too", listed(pools=False)),
    Mistake("'same' padding ignores dilation", "padding='same' is taken as "
            "(kernel_size - 1) // 2, whatever the dilation", "'same' pads for the pixels "
            "that the dilated kernel spans, not for kernel_size",
            listed(same=lambda k, d: (k - 1) // 2)),
)

def unambiguous(mistakes: tuple[Mistake, ...]) -> tuple[Mistake, ...]:
    """``mistakes``, each refusing (``ValueError``) a case where another of them, of
    another key, gives the same answer."""
    def alone(mistake: Mistake):
        def answer(case: Case):
            mine = mistake.answer(case)
            for other in mistakes:
                if other.key == mistake.key:
                    continue
                try:
                    theirs = other.answer(case)
                except NO_ANSWER:
                    continue
                if theirs == mine:
                    raise ValueError(f"{other.key!r} gives the same answer as {mistake.key!r}")
            return mine
        return answer
    return tuple(replace(mistake, answer=alone(mistake)) for mistake in mistakes)


MISTAKES = {
    "receptive_field": unambiguous(RECEPTIVE_FIELD),
    "empirical_receptive_field": unambiguous(EMPIRICAL_RECEPTIVE_FIELD),
    "layers_from_model": unambiguous(LAYERS_FROM_MODEL),
}
