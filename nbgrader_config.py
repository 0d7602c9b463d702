"""nbgrader's view of the course: solutions/ is its source, assignments/ its release.

The folders come from the course's manifest (``cnnlab/course.py``). ``install`` wires
nbgrader's own commands to cnnlab (``cnnlab/nbgrader_hooks.py``): ``generate_assignment``
here writes what `cnnlab release` writes (the modules stubbed, never copied with their
solutions), and ``autograde`` scores each function with the hidden suites in the sandbox.
`cnnlab course FOLDER` sets up a separate nbgrader course folder.
"""

try:
    from cnnlab.course import ASSIGNMENTS_DIR, REPO_ROOT, SOLUTIONS_DIR
    from cnnlab.nbgrader_hooks import install
except ImportError as error:  # nbgrader would go on without cnnlab's hooks: stop it instead
    raise SystemExit(f"{__file__}: cannot import cnnlab ({error}); install it (pip install "
                     "-e <the cnnlab repository>) in the environment that runs nbgrader") from None

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)
c.CourseDirectory.course_id = "cnnlab"
c.CourseDirectory.root = str(REPO_ROOT)
c.CourseDirectory.source_directory = SOLUTIONS_DIR.name
c.CourseDirectory.release_directory = ASSIGNMENTS_DIR.name
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
install(c)
