"""The one error type the course driver shows to people.

Every message names what is wrong and, where there is one, the next thing to do. The CLI
prints it without a traceback and exits with status 2.
"""

from __future__ import annotations


class CourseError(Exception):
    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  hint: {self.hint}"
