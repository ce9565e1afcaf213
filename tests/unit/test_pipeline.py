"""The pipeline grader, from example Dagster pipelines that are really run.

Dropping a file into ``examples/pipeline/negative/`` adds a case: it defines ``build()``
(returning assets and asset checks) and ``LINEAGE`` (the graph a correct pipeline has), and
its first line is ``# finding: <text>``, where ``<text>`` must appear in the findings of
grading it. Every file in ``positive/`` must pass, and may also declare ``METADATA``,
``CHECKS`` and ``RETRIES`` that its run must show.
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
from pathlib import Path
from types import ModuleType

import pytest

from graders import Report
from graders import pipeline as pl

EXAMPLES = Path(__file__).parent / "examples" / "pipeline"
POSITIVE = sorted((EXAMPLES / "positive").glob("*.py"))
NEGATIVE = sorted((EXAMPLES / "negative").glob("*.py"))
TIMEOUT = 60.0  # generous: the machine is shared; only hangs.py is meant to time out


def load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"pipeline_example_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def grade(path: Path) -> tuple[Report, pl.RunSummary | None]:
    """Grade an example the way a notebook check cell does."""
    example = load(path)
    report = Report(path.stem)
    run = None

    def scenario():
        definitions = example.build()
        return pl.lineage(definitions), pl.materialize(definitions)

    with report.attempt(path.stem):
        graph, run = pl.run_scenario(
            report, scenario, "the pipeline", timeout=getattr(example, "TIMEOUT", TIMEOUT)
        )
        pl.check_lineage(report, graph, example.LINEAGE, "lineage")
        if pl.check_run(report, run, "the run"):
            assets = [a for a in example.LINEAGE if ":" not in a]
            pl.check_materialized(report, run, assets, "the run")
            pl.check_order(report, run, example.LINEAGE, "the run")
            for asset, entries in getattr(example, "METADATA", {}).items():
                for key, value in entries.items():
                    pl.check_metadata(report, run, asset, key, value, "the run")
            for name, passed in getattr(example, "CHECKS", {}).items():
                pl.check_check(report, run, name, "the run", passed=passed)
            for step, count in getattr(example, "RETRIES", {}).items():
                report.check_equal(run.retries.get(step), count, f"step {step}", "retries")
    return report, run


def expected_finding(path: Path) -> str:
    first = path.read_text().splitlines()[0]
    assert first.startswith("# finding: "), f"{path.name}: first line must be '# finding: …'"
    return first.removeprefix("# finding: ").strip()


@pytest.mark.parametrize("path", POSITIVE, ids=lambda p: p.stem)
def test_positive_example_passes_and_prints_nothing(path, capfd):
    report, run = grade(path)
    assert report.ok, report.to_text()
    assert run is not None and run.success
    out, err = capfd.readouterr()  # file descriptors 1 and 2: Dagster's log must not leak
    assert err == "", err
    assert out == "", out


@pytest.mark.parametrize("path", NEGATIVE, ids=lambda p: p.stem)
def test_negative_example_fails_with_its_finding(path, capfd):
    report, _ = grade(path)
    text = report.to_text()
    assert not report.ok, f"{path.name} passed:\n{text}"
    assert expected_finding(path) in text, text
    assert capfd.readouterr().err == ""


def test_a_failed_step_names_the_students_line():
    report, run = grade(EXAMPLES / "negative" / "step_raises.py")
    finding = next(f for f in report.findings if "step clean" in f.location)
    assert finding.message == "raised ValueError: a negative distance in row 3"
    assert "in `clean`" in finding.hint and "raise ValueError" in finding.hint
    assert run.materialized == ["raw"]  # the step before it did run


def test_exhausted_retries_report_the_error_that_kept_recurring():
    _, run = grade(EXAMPLES / "negative" / "retries_exhausted.py")
    assert run.retries == {"api": 1}
    assert [f.describe() for f in run.failures] == ["ConnectionError: the API is down"]


def test_a_failed_blocking_check_stops_what_depends_on_it():
    _, run = grade(EXAMPLES / "negative" / "gate_blocks.py")
    assert not run.success
    assert run.check("positive", "batch").passed is False
    assert "training" not in run.materialized
    report = Report("gate")
    assert pl.check_not_materialized(report, run, ["training"], "gate")
    assert report.ok


def test_a_run_leaves_nothing_behind(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    home = os.environ.get("DAGSTER_HOME")

    def scenario():
        Path("artefact.txt").write_text("x")
        pl.materialize(load(EXAMPLES / "positive" / "training_chain.py").build())
        return str(Path.cwd()), os.environ["DAGSTER_HOME"], tempfile.gettempdir()

    outcome = pl.run_isolated(scenario, timeout=TIMEOUT)
    assert outcome.ok, outcome
    cwd, dagster_home, tmp = (Path(p) for p in outcome.value)
    assert dagster_home.parent == cwd.parent == Path(tmp)  # all in one temporary folder
    assert not Path(tmp).exists()  # removed afterwards
    assert list(tmp_path.iterdir()) == []  # nothing written where the notebook runs
    assert os.environ.get("DAGSTER_HOME") == home
    assert Path.cwd() == tmp_path


def test_without_fork_the_run_is_still_isolated(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delattr(os, "fork")
    outcome = pl.run_isolated(
        lambda: (
            str(Path.cwd()),
            pl.materialize(load(EXAMPLES / "positive" / "training_chain.py").build()),
        )
    )
    assert outcome.ok, outcome
    cwd, run = outcome.value
    assert run.success and run.materialized == ["raw", "clean", "model"]
    assert not Path(cwd).exists() and list(tmp_path.iterdir()) == []
    assert Path.cwd() == tmp_path


def test_a_scenario_that_raises_is_described():
    def scenario():
        raise KeyError("no_such_asset")

    report = Report("x")
    assert pl.expect_outcome(report, pl.run_isolated(scenario), "scenario") is None
    assert report.findings[0].message == "raised KeyError: 'no_such_asset'"
    assert "scenario" in report.findings[0].hint


def test_partitioned_runs_are_summarised_in_order():
    def scenario():
        import dagster as dg

        daily = dg.DailyPartitionsDefinition(start_date="2026-03-01")

        @dg.asset(partitions_def=daily)
        def day(context) -> str:  # no annotation: `dg` is local, annotations are strings here
            context.add_output_metadata({"key": context.partition_key})
            return context.partition_key

        instance = dg.DagsterInstance.ephemeral(tempdir=str(Path.cwd()))
        for key in ["2026-03-02", "2026-03-01"]:
            dg.materialize([day], partition_key=key, instance=instance)
        return pl.summarize_runs(instance)

    outcome = pl.run_isolated(scenario, timeout=TIMEOUT)
    assert outcome.ok, outcome
    runs = outcome.value
    assert [r.partition for r in runs] == ["2026-03-02", "2026-03-01"]
    assert runs[1].metadata("day", "2026-03-01")["key"] == "2026-03-01"


def test_check_run_refuses_what_is_not_a_summary():
    report = Report("x")
    assert not pl.check_run(report, ("not", "a", "run"), "scenario")
    assert "did not return a run summary" in report.to_text()


def test_metadata_values_become_plain_python():
    import dagster as dg

    plain = pl.plain_metadata(
        {
            "rows": dg.MetadataValue.int(3),
            "mae": dg.MetadataValue.float(1.5),
            "note": dg.MetadataValue.text("ok"),
            "flag": dg.MetadataValue.bool(True),
            "raw": 7,
        }
    )
    assert plain == {"rows": 3, "mae": 1.5, "note": "ok", "flag": True, "raw": 7}


def test_a_bool_is_not_equal_to_one():
    report = Report("x")
    run = pl.RunSummary(True, materializations=(pl.Materialization("a", None, {"ok": 1}),))
    assert not pl.check_metadata(report, run, "a", "ok", True, "run")
    assert pl.check_metadata(Report("y"), run, "a", "ok", 1, "run")


def test_lineage_is_drawn_with_checks_beside_their_asset():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ax = pl.draw_lineage(load(EXAMPLES / "positive" / "gate_passes.py").build())
    labels = sorted(text.get_text() for text in ax.texts if text.get_text())  # not arrows
    assert labels == ["batch", "positive", "training"]
    plt.close("all")
