"""nbgrader's view of the course: solutions/ is its source, assignments/ its release.

The folders come from the course's manifest (``cnnlab/course.py``). The release is built by
`cnnlab release` (which runs nbgrader's own notebook steps and also stubs the .py modules),
and grading by `cnnlab grade`; this file lets nbgrader's other commands (collect, feedback)
find the same folders.
"""

from cnnlab.course import ASSIGNMENTS_DIR, REPO_ROOT, SOLUTIONS_DIR

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)
c.CourseDirectory.course_id = "cnnlab"
c.CourseDirectory.root = str(REPO_ROOT)
c.CourseDirectory.source_directory = SOLUTIONS_DIR.name
c.CourseDirectory.release_directory = ASSIGNMENTS_DIR.name
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
