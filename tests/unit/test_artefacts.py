"""Reading notebook-written files: missing, placeholder, empty and real content."""

from __future__ import annotations

from graders import Report
from graders.artefacts import read_artefact


def test_missing_placeholder_empty_and_real_files(tmp_path):
    report = Report("artefacts")
    assert read_artefact(report, tmp_path / "nope.sh", what="script") is None
    assert "does not exist yet" in report.findings[-1].message

    stub = tmp_path / "stub.yaml"
    stub.write_text("# YOUR CODE HERE\nraise NotImplementedError()\n")
    assert read_artefact(report, stub) is None
    assert report.blocked and "not written yet" in report.findings[-1].message

    empty = tmp_path / "empty.txt"
    empty.write_text("  \n")
    assert read_artefact(report, empty) is None
    assert "is empty" in report.findings[-1].message

    real = tmp_path / "Dockerfile"
    real.write_text("FROM python:3.11-slim\n")
    assert read_artefact(report, real) == "FROM python:3.11-slim\n"
    assert read_artefact(report, tmp_path) is None
    assert len(report.findings) == 4
