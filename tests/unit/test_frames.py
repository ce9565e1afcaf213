"""DataFrame comparison findings show both tables."""

from __future__ import annotations

import pandas as pd

from graders import Report
from graders.frames import check_frame_equal


def test_equal_frames_pass_whatever_their_index():
    expected = pd.DataFrame({"a": [1, 2]})
    found = pd.DataFrame({"a": [1, 2]}, index=[5, 6])
    report = Report("frames")
    assert check_frame_equal(report, found, expected, "f()")
    assert report.ok


def test_wrong_columns_and_values_and_types_are_reported():
    expected = pd.DataFrame({"a": [1, 2]})
    report = Report("frames")
    check_frame_equal(report, pd.DataFrame({"b": [1, 2]}), expected, "cols")
    check_frame_equal(report, pd.DataFrame({"a": [1, 3]}), expected, "values")
    check_frame_equal(report, [1, 2], expected, "type")
    messages = {f.location: f.message for f in report.findings}
    assert messages["cols"] == "has the wrong columns"
    assert messages["values"].startswith("has the wrong rows or values")
    assert messages["type"] == "should be a pandas DataFrame"
