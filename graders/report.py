"""The report every grader returns: findings collected first, rendered and raised once.

A test cell in a notebook builds one :class:`Report`, runs every check it has (visible and
hidden), and ends with :meth:`Report.finish`. ``finish`` shows the result and, when anything
failed, raises a :class:`GradingError` listing *every* finding, so a student sees the whole
picture from one run and nbgrader records the cell as failed.

Student code is only ever called inside :meth:`Report.attempt`, which turns an exception,
a placeholder (``NotImplementedError``) or stray output on stderr into a finding instead of
a crash, so one broken exercise never takes the rest of the notebook down with it.
"""

from __future__ import annotations

import contextlib
import html
import io
import traceback
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

PLACEHOLDER_HINT = (
    "Replace the `raise NotImplementedError()` placeholder in the answer cell with your "
    "solution, run that cell, then run this check again."
)


# The outcome of every check run in this Python session, by report title, in run order:
# what graders.progress shows a student as their self-check table.
OUTCOMES: dict[str, bool] = {}


@dataclass(frozen=True)
class Finding:
    """One thing a check found wrong, located precisely enough to act on."""

    location: str
    message: str
    expected: str | None = None
    found: str | None = None
    hint: str | None = None

    def to_text(self) -> str:
        lines = [f"✗ {self.location}: {self.message}"]
        if self.expected is not None:
            lines.append(f"    expected: {self.expected}")
        if self.found is not None:
            lines.append(f"    found:    {self.found}")
        if self.hint:
            lines.append(f"    hint:     {self.hint}")
        return "\n".join(lines)

    def to_html(self) -> str:
        rows = [f"<b>{html.escape(self.location)}</b>: {html.escape(self.message)}"]
        for label, value in (
            ("expected", self.expected),
            ("found", self.found),
            ("hint", self.hint),
        ):
            if value is not None and value != "":
                rows.append(
                    f"<br><span style='color:#555'>{label}:</span> "
                    f"<code style='white-space:pre-wrap'>{html.escape(value)}</code>"
                )
        return f"<li style='margin-bottom:0.4em'>{''.join(rows)}</li>"


class GradingError(AssertionError):
    """Raised by :meth:`Report.finish` when a check failed; carries the whole report.

    It subclasses ``AssertionError`` so test runners treat it as a failed check, and it
    renders itself in IPython without a traceback: a student should read the findings,
    not the grader's source (and never the hidden tests that produced them).
    """

    def __init__(self, report: Report) -> None:
        super().__init__(report.to_text())
        self.report = report

    def _render_traceback_(self) -> list[str]:
        return [
            f"GradingError: {line}" if i == 0 else line
            for i, line in enumerate(self.report.to_text().splitlines())
        ]


def type_name(value: Any) -> str:
    """The name of a value's type as the learner knows it, for a finding's ``found``. A
    learner's object reaches the trusted checker as a proxy (graders.remote) whose own type,
    ``Remote``, says nothing: the name its kernel gave is shown instead. A message only:
    never decide anything on it."""
    from graders.remote.peer import Remote

    if isinstance(value, Remote):
        return object.__getattribute__(value, "_type") or "an object of your code"
    return type(value).__name__


def short_repr(value: Any, limit: int = 300) -> str:
    """A one-glance representation of a value for an expected/found line."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 15] + " … (truncated)"


@contextlib.contextmanager
def quietly() -> Iterator[io.StringIO]:
    """Everything printed (stdout and stderr) and warned inside the block, captured into the
    yielded ``StringIO`` instead of shown: a check cell's output is only its report."""
    captured = io.StringIO()
    with (
        contextlib.redirect_stdout(captured),
        contextlib.redirect_stderr(captured),
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore")
        yield captured


@dataclass(repr=False)
class Report:
    """Findings of one check cell, in the order they were found."""

    title: str
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    checks_run: int = 0
    blocked: bool = False

    # -- collecting ------------------------------------------------------------------------

    def fail(
        self,
        location: str,
        message: str,
        *,
        expected: Any = None,
        found: Any = None,
        hint: str | None = None,
    ) -> None:
        """Record a finding. ``expected``/``found`` that are not strings are ``repr``'d."""
        self.findings.append(
            Finding(
                location=location,
                message=message,
                expected=_as_text(expected),
                found=_as_text(found),
                hint=hint,
            )
        )

    def check(
        self,
        condition: bool,
        location: str,
        message: str,
        *,
        expected: Any = None,
        found: Any = None,
        hint: str | None = None,
    ) -> bool:
        """Record a finding unless ``condition`` holds; return the condition."""
        self.checks_run += 1
        if not condition:
            self.fail(location, message, expected=expected, found=found, hint=hint)
        return bool(condition)

    def check_equal(
        self, found: Any, expected: Any, location: str, message: str, *, hint: str | None = None
    ) -> bool:
        """Compare with ``==`` and record both sides when they differ."""
        try:
            same = bool(found == expected)
        except Exception as exc:  # e.g. comparing a DataFrame with a list
            same = False
            hint = hint or f"comparing the values raised {type(exc).__name__}: {exc}"
        return self.check(
            same,
            location,
            message,
            expected=short_repr(expected),
            found=short_repr(found),
            hint=hint,
        )

    def require(
        self,
        condition: bool,
        location: str,
        message: str,
        *,
        expected: Any = None,
        found: Any = None,
        hint: str | None = None,
    ) -> None:
        """Like :meth:`check`, but a failure abandons the enclosing :meth:`attempt` block:
        use it for preconditions (right type, right columns) the later checks rely on."""
        if not self.check(condition, location, message, expected=expected, found=found, hint=hint):
            self.abandon()

    def note(self, text: str) -> None:
        """Something worth telling the student that is not a failure (e.g. a skipped live check);
        said once however often a check reaches it."""
        if text not in self.notes:
            self.notes.append(text)

    @contextlib.contextmanager
    def attempt(self, location: str, *, hint: str | None = None) -> Iterator[io.StringIO]:
        """Run student code; an exception becomes a finding and the block is abandoned.

        Output the code prints is captured (yielded as a ``StringIO``) so that stray stderr
        never reaches the notebook, where nbgrader would zero the cell for it. Warnings are
        captured likewise. ``NotImplementedError`` means the placeholder is still there and
        marks the report as blocked, so the remaining checks are not piled on top.
        """
        self.checks_run += 1
        try:
            with quietly() as captured:
                yield captured
        except NotImplementedError:
            self.not_written(location)
        except _Abandon:
            pass
        except NameError as exc:
            self.fail(
                location,
                f"raised NameError: {exc}",
                hint="Define it in the answer cell above and run that cell before this check.",
            )
        except Exception as exc:
            kind = getattr(exc, "remote_type", None) or type(exc).__name__
            self.fail(
                location,
                f"raised {kind}: {exc}",
                hint=hint or _where_it_raised(exc),
            )

    def not_written(self, location: str) -> None:
        """The answer still holds its placeholder: one finding says so, and the report is
        blocked, so the checks after it do not pile the same news on top."""
        if not self.blocked:
            self.fail(
                location, "not written yet: the placeholder is still there", hint=PLACEHOLDER_HINT
            )
        self.blocked = True

    def abandon(self) -> None:
        """Leave the current :meth:`attempt` block quietly (its findings are already recorded)."""
        raise _Abandon

    # -- reporting -------------------------------------------------------------------------

    @property
    def ok(self) -> bool:
        return not self.findings

    def summary(self) -> str:
        if self.ok:
            return f"✓ {self.title}: all {self.checks_run} checks passed"
        n = len(self.findings)
        return f"{self.title}: {n} problem{'s' if n != 1 else ''} found"

    def to_text(self) -> str:
        parts = [self.summary()]
        parts += [finding.to_text() for finding in self.findings]
        parts += [f"note: {text}" for text in self.notes]
        return "\n".join(parts)

    def _repr_html_(self) -> str:
        colour = "#1a7f37" if self.ok else "#cf222e"
        body = "".join(finding.to_html() for finding in self.findings)
        notes = "".join(f"<li>{html.escape(text)}</li>" for text in self.notes)
        return (
            f"<div style='border-left:4px solid {colour};padding:0.3em 0.8em;margin:0.3em 0'>"
            f"<b style='color:{colour}'>{html.escape(self.summary())}</b>"
            + (f"<ul>{body}</ul>" if body else "")
            + (f"<ul style='color:#555'>{notes}</ul>" if notes else "")
            + "</div>"
        )

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:  # what a plain-text front end shows for a passing report
        return self.summary()

    def finish(self) -> Report:
        """Show the report and fail the cell with every finding if anything failed."""
        OUTCOMES[self.title] = self.ok
        _display(self)
        if not self.ok:
            raise GradingError(self)
        return self


class _Abandon(Exception):
    """Internal: leaves an :meth:`Report.attempt` block without another finding."""


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else short_repr(value)


def _where_it_raised(exc: BaseException) -> str:
    """Point at the student's own line: the last frame that is neither in the graders nor
    in the check cell itself. The outermost frame outside the graders is the check cell
    running the ``attempt`` block; any other frame from that cell (a helper the check
    defines) is the check's code too, and showing its line could show a hidden test."""
    remote = getattr(exc, "remote_where", None)  # raised in the learner's kernel (issue 17)
    if isinstance(remote, str) and remote:
        return remote
    frames = [
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if "/graders/" not in f.filename and "contextlib" not in f.filename
    ]
    check_cell = frames[0].filename if frames else None
    own = [f for f in frames if f.filename != check_cell]
    if not own:
        return "Run the answer cell again and read its error message."
    frame = own[-1]
    where = (
        f"line {frame.lineno}"
        if frame.filename.startswith("<")
        else (f"{frame.filename}:{frame.lineno}")
    )
    code = f" (`{frame.line.strip()}`)" if frame.line else ""
    return f"It was raised at {where}{code} in `{frame.name}`."


def _display(report: Report) -> None:
    """Show the report as HTML in a notebook, as text anywhere else."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # plain Python: printing is all we have
        print(report.to_text())
        return
    if get_ipython() is None:
        print(report.to_text())
    elif report.ok:
        display(report)
    # A failing report is shown by the GradingError it raises; showing it twice is noise.
