"""The grading engine and the hidden suites. Never shipped to students.

Trusted side: ``grade`` (a whole class), ``grade_one`` (one submission), ``plugin`` (the
pytest plugin that scores a hidden suite) and ``harness`` (what the suites import).
Untrusted side: ``worker`` runs a student's module in the sandbox that ``sandbox`` starts;
``wire`` is the data-only format in which arguments and results cross between them.
"""
