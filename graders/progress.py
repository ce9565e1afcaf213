"""A student's self-check table: which exercises pass their visible checks so far.

Every :meth:`graders.report.Report.finish` records its outcome; ``show_progress`` lists them
in the order they ran, plus how many exercises have not been checked yet.
"""

from __future__ import annotations

import html

from graders.report import OUTCOMES


def progress_rows(expected: list[str] | None = None) -> list[tuple[str, str]]:
    """(exercise title, "pass" | "fail" | "not run yet") for every exercise."""
    rows = [(title, "pass" if ok else "fail") for title, ok in OUTCOMES.items()]
    for title in expected or []:
        if title not in OUTCOMES:
            rows.append((title, "not run yet"))
    return rows


class Progress:
    def __init__(self, expected: list[str] | None = None) -> None:
        self.rows = progress_rows(expected)

    def summary(self) -> str:
        passed = sum(status == "pass" for _, status in self.rows)
        return f"{passed} of {len(self.rows)} exercises pass their visible checks"

    def __repr__(self) -> str:
        marks = {"pass": "✓", "fail": "✗", "not run yet": "·"}
        lines = [f"{marks[status]} {title}: {status}" for title, status in self.rows]
        return "\n".join([*lines, self.summary()])

    def _repr_html_(self) -> str:
        colours = {"pass": "#1a7f37", "fail": "#cf222e", "not run yet": "#6e7781"}
        marks = {"pass": "✓", "fail": "✗", "not run yet": "·"}
        body = "".join(
            f"<tr><td>{html.escape(title)}</td><td style='color:{colours[status]}'>"
            f"{marks[status]} {status}</td></tr>"
            for title, status in self.rows
        )
        return (
            f"<table><tr><th>exercise</th><th>visible checks</th></tr>{body}</table>"
            f"<p><b>{html.escape(self.summary())}</b> (hidden checks run when you are "
            "graded)</p>"
        )


def show_progress(expected: list[str] | None = None) -> Progress:
    """The self-check table; as the last expression of a cell it renders as HTML."""
    return Progress(expected)
