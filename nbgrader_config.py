"""nbgrader's view of the course: solutions/ is its source, assignments/ its release.

The release is built by `cnnlab release` (which runs nbgrader's own notebook steps and also
stubs the .py modules), and grading by `cnnlab grade`; this file lets nbgrader's other
commands (collect, feedback) find the same folders.
"""

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)
c.CourseDirectory.course_id = "cnnlab"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "assignments"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
