"""Reading the files a notebook writes (scripts, Dockerfiles, manifests, workflows).

Answer cells that produce a file use ``%%writefile <topic>_work/<name>``. In the released
notebook nbgrader replaces the answer with its Python placeholder, so an unanswered cell
writes ``raise NotImplementedError()`` *into the file*. Every artefact grader starts with
:func:`read_artefact`, which turns "missing", "empty" and "still the placeholder" into one
clear finding instead of a confusing parse error from the real tool.
"""

from __future__ import annotations

from pathlib import Path

from graders.report import Report

PLACEHOLDER_MARKERS = ("raise NotImplementedError()", "YOUR CODE HERE")


def is_placeholder(text: str) -> bool:
    return any(marker in text for marker in PLACEHOLDER_MARKERS)


def read_artefact(report: Report, path: Path, *, what: str = "file") -> str | None:
    """The text of ``path``, or ``None`` after recording why it cannot be graded yet."""
    location = str(path)
    if not path.exists():
        report.fail(
            location,
            f"the {what} does not exist yet",
            hint="Run the answer cell above: its %%writefile line creates the file.",
        )
        return None
    if path.is_dir():
        report.fail(location, f"should be a {what}, but it is a folder")
        return None
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        report.fail(location, f"cannot be read: {exc}")
        return None
    if is_placeholder(text):
        report.not_written(location)
        return None
    if not text.strip():
        report.fail(location, f"the {what} is empty", hint="Write your answer in the cell above.")
        return None
    return text
