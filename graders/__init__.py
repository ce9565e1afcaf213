"""Reusable checkers called from the course's notebook test cells.

Every checker collects *all* of its findings, each with a location, what was expected, what
was found and a hint, into a :class:`~graders.report.Report`, and only then reports: as text
in a terminal, as HTML in a notebook, and as one failing exception that lists everything.
"""

from graders.report import Finding, GradingError, Report, type_name

__all__ = ["Finding", "GradingError", "Report", "type_name"]
