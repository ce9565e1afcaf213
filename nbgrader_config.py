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
# Scratch files a learner's run leaves in a module folder are never part of a release
# (course/nbconfig.py's NEVER_RELEASED, which a test keeps equal to this list).
c.CourseDirectory.ignore = [
    ".ipynb_checkpoints",
    "feedback",
    "*_work",
    "__pycache__",
    "*.pyc",
    ".pytest_cache",
    ".ruff_cache",
    ".mypy_cache",
]

# A student cell that loops forever loses that cell's points after this many seconds;
# grading then continues with the next cell.
c.Execute.timeout = 60

# `mlops-course submit` names uploads <student>__<module>__<UTC time>__<notebook>; an
# instructor imports a learning platform's download of them with `nbgrader zip_collect`
# (or `mlops-course collect MODULE --zip FILES`).
c.FileNameCollectorPlugin.named_regexp = (
    r".*/(?P<student_id>[A-Za-z0-9][A-Za-z0-9._-]*?)__\d\d-[a-z]+__"
    r"(?P<timestamp>\d{8}T\d{6}Z)__(?P<file_id>[^/]+\.ipynb)$"
)
c.FileNameCollectorPlugin.valid_ext = [".ipynb"]
c.ZipCollectApp.strict = True

# Released notebooks say what they are: a banner cell generated from this template.
c.IncludeHeaderFooter.header = "course/templates/exercise_header.ipynb"

# Hardening for hostile or broken submissions (course/hardening.py): every kernel in a
# sandbox, check cells run by the trusted checker, dead kernels revived, stderr warnings
# never costing points, deleted check cells restored, feedback without hidden tests.
# Skipped (plain nbgrader behaviour) only where the course package is not installed: when it
# is but cannot be imported, nbgrader stops here with the import's error, since grading on
# would silently switch every one of those protections off.
import importlib.util  # noqa: E402

if importlib.util.find_spec("course") is not None:
    from course.hardening import configure_nbgrader

    configure_nbgrader(c)
