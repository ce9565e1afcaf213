"""nbgrader configuration for the MLOps Roadmap course.

This file is the single declaration of how nbgrader sees the repository. Plain `nbgrader`
commands run from the repository root read it, and the `mlops-course` driver loads the same
file (overriding only `CourseDirectory.root` when it works in a scratch folder), so the two
never disagree. Decisions behind each value are in docs/decisions.md.
"""

c = get_config()  # noqa: F821  (injected by traitlets when nbgrader loads this file)

c.CourseDirectory.course_id = "mlops-roadmap"
# Instructor notebooks (with solutions and hidden tests) and the generated student release.
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
# Scratch files a learner's run leaves in a module folder are never part of a release.
c.CourseDirectory.ignore = [
    ".ipynb_checkpoints",
    "*.pyc",
    "__pycache__",
    "feedback",
    "*_work",
    ".pytest_cache",
]

# A student cell that loops forever loses that cell's points after this many seconds;
# grading then continues with the next cell.
c.Execute.timeout = 60

# Released notebooks say what they are: a banner cell generated from this template.
c.IncludeHeaderFooter.header = "course/templates/exercise_header.ipynb"
