"""Checks for pandas DataFrames: shape, columns and values, with readable differences."""

from __future__ import annotations

from typing import Any

from graders.report import Report, type_name


def check_frame_equal(
    report: Report,
    found: Any,
    expected: Any,
    location: str,
    *,
    hint: str | None = None,
    max_rows: int = 12,
) -> bool:
    """Compare two DataFrames cell by cell; record one finding that shows both tables."""
    import pandas as pd

    if not isinstance(found, pd.DataFrame):
        report.fail(
            location,
            "should be a pandas DataFrame",
            expected="DataFrame",
            found=type_name(found),
            hint=hint,
        )
        return False
    if list(found.columns) != list(expected.columns):
        report.fail(
            location,
            "has the wrong columns",
            expected=list(expected.columns),
            found=list(found.columns),
            hint=hint,
        )
        return False
    try:
        pd.testing.assert_frame_equal(
            found.reset_index(drop=True),
            expected.reset_index(drop=True),
            check_dtype=False,
            check_index_type=False,
        )
    except AssertionError as exc:
        detail = str(exc).strip().splitlines()[0]
        report.fail(
            location,
            f"has the wrong rows or values ({detail})",
            expected="\n" + expected.head(max_rows).to_string(),
            found="\n" + found.head(max_rows).to_string(),
            hint=hint,
        )
        return False
    report.checks_run += 1
    return True
