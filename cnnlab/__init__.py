"""cnnlab: a course on convolutional neural networks, with sandboxed autograding.

The package ties the course together: ``cnnlab.course`` lists the assignments and the
grading limits, ``cnnlab.release`` builds the student release from ``solutions/``,
and ``cnnlab.cli`` is the ``cnnlab`` command. The grading engine and the hidden
suites live in ``autograder/``.
"""

__version__ = "0.1.0"
