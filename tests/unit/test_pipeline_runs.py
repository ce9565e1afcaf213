"""Dagster runs a check makes beside the learner's definitions (graders/pipeline_runs.py).

Each scenario runs both ways: as a check runs it in the learner's own kernel (the functions
are the learner's), and as the trusted checker does, where the learner's functions are
proxies, the run happens on the learner's side and only data comes back.
"""

from __future__ import annotations

import datetime as dt
import json
import pickle
from pathlib import Path

import pytest

from graders import Report
from graders.pipeline import Outcome, RunSummary, outcome_value
from graders.pipeline_runs import (
    AssetRuns,
    Fixture,
    Made,
    run_assets,
    run_automation,
    run_backfill,
)

_SHELVES: dict[str, dict[str, bytes]] = {}


class Shelf:
    """A store of the check's own (``Made("tests.unit.test_pipeline_runs.Shelf")``)."""

    def __init__(self, shelf: str = "default") -> None:
        self.shelf = shelf

    def save(self, name: str, payload: bytes) -> str:
        _SHELVES.setdefault(self.shelf, {})[name] = bytes(payload)
        return f"memory://{self.shelf}/{name}"

    def load(self, name: str) -> bytes:
        return _SHELVES[self.shelf][name]

    def names(self) -> list[str]:
        return sorted(_SHELVES.get(self.shelf, {}))


SHELF = f"{__name__}.Shelf"


@pytest.fixture(params=["kernel", "checker"])
def learner(request, link, tmp_path, monkeypatch):
    """The learner's names as a check sees them: themselves in the learner's kernel, proxies
    in the checker. Both run in a notebook folder holding ``data/rides/<day>.csv``."""
    monkeypatch.chdir(tmp_path)
    rides = tmp_path / "data" / "rides"
    rides.mkdir(parents=True)
    for day, rows in (("2026-03-01", 3), ("2026-03-02", 5), ("2026-03-03", 2)):
        lines = ["ride_id,duration_min"] + [f"{day}-{i},{10 + i}" for i in range(rows)]
        (rides / f"{day}.csv").write_text("\n".join(lines) + "\n")

    def names(**namespace):
        if request.param == "kernel":
            return namespace
        return link(namespace).names(*namespace)

    return names


def rides_assets(landing):
    import dagster as dg
    import pandas as pd

    @dg.asset
    def raw(context):
        frame = pd.concat(pd.read_csv(p) for p in sorted(Path(landing).glob("*.csv")))
        context.add_output_metadata({"num_rows": len(frame)})
        return frame

    @dg.asset(retry_policy=dg.RetryPolicy(max_retries=2, delay=0.1))
    def longest(raw):
        return float(raw["duration_min"].max())

    return [raw, longest]


def value(outcome, location="the scenario"):
    report = Report("scenario")
    result = None
    with report.attempt(location):
        result = outcome_value(report, outcome, location)
    return result, report


def test_a_builders_assets_run_on_the_notebooks_folder(learner):
    names = learner(build=rides_assets)
    outcome = run_assets(names["build"], [Path("data/rides")], run_configs=[None, None])
    result, report = value(outcome)
    assert report.ok, report.to_text()
    assert isinstance(result, AssetRuns)
    assert result.lineage == {"raw": [], "longest": ["raw"]}
    assert [type(run) for run in result.runs] == [RunSummary, RunSummary]
    assert result.runs[0].metadata("raw")["num_rows"] == 10
    assert result.retry_policies["longest"] == (2, 0.1, "None")  # no backoff declared
    assert result.retry_policies["raw"] is None
    assert result.files == {}  # only Dagster's own storage was written


def test_fixtures_and_made_stores_are_the_checks_and_come_back_as_data(learner):
    def build_publish():
        import dagster as dg

        @dg.asset(required_resource_keys={"store"})
        def published(context, model):
            context.resources.store.save("model.pkl", pickle.dumps(model))
            Path("left-behind.txt").write_text("a file the asset wrote")

        return published

    class FolderStore:
        def __init__(self, root):
            self.root = Path(root)
            self.saved = 0

        def save(self, name, payload):
            (self.root / name).parent.mkdir(parents=True, exist_ok=True)
            (self.root / name).write_bytes(payload)
            self.saved += 1

        def load(self, name):
            return (self.root / name).read_bytes()

        def names(self):
            return sorted(p.name for p in self.root.glob("*"))

    names = learner(build=build_publish, FolderStore=FolderStore)
    model = {"coef": [1.0, 2.0]}
    for store in (
        Made(SHELF, {"shelf": "unit"}, [("save", ("seed.bin", b"s"))]),
        Made(names["FolderStore"], {"root": "models"}),
    ):
        result, report = value(
            run_assets(
                names["build"],
                fixtures={"model": Fixture(model)},
                resources={"store": store},
            )
        )
        assert report.ok, report.to_text()
        assert result.runs[0].success
        assert result.lineage == {"published": ["model"]}  # the fixture is not the learner's
        stored = result.made["store"].stored
        assert stored["model.pkl"] == pickle.dumps(model)
        assert result.files["left-behind.txt"] == b"a file the asset wrote"
    assert stored == {"model.pkl": pickle.dumps(model)}
    assert result.made["store"].attributes == {"root": Path("models"), "saved": 1}
    assert result.files["models/model.pkl"] == pickle.dumps(model)
    assert not Path("models").exists()  # the run had a folder of its own
    assert "seed.bin" not in _SHELVES.get("unit", {})  # and a process of its own


def test_a_refused_run_config_is_the_scenarios_error(learner):
    def build():
        import dagster as dg

        @dg.asset(config_schema={"days": int})
        def window(context):
            return context.op_config["days"]

        return [window]

    names = learner(build=build)
    outcome = run_assets(names["build"], run_configs=[{"ops": {"window": {"config": {}}}}])
    assert isinstance(outcome, Outcome)
    assert outcome.error is not None and outcome.error.error_type == "DagsterInvalidConfigError"
    result, report = value(outcome, "the window")
    assert result is None and "raised DagsterInvalidConfigError" in report.to_text()


def test_data_where_a_function_should_be_is_refused_without_a_run(learner):
    names = learner(build=["not", "a", "function"])
    outcome = run_assets(names["build"])
    assert outcome.error.error_type == "TypeError"
    assert outcome.seconds == 0.0  # refused before any child started


def test_a_backfill_is_run_by_the_learners_function_on_a_fresh_instance(learner):
    def build_daily(landing):
        import dagster as dg
        import pandas as pd

        @dg.asset(partitions_def=dg.DailyPartitionsDefinition(start_date="2026-03-01"))
        def daily(context):
            rows = len(pd.read_csv(Path(landing) / f"{context.partition_key}.csv"))
            context.add_output_metadata({"num_rows": rows})

        return [daily]

    def backfill(assets, first_day, last_day, instance):
        import dagster as dg

        days = assets[0].partitions_def.get_partition_keys_in_range(
            dg.PartitionKeyRange(first_day, last_day)
        )
        for day in days:
            dg.materialize(assets, partition_key=day, instance=instance)
        return days

    names = learner(build=build_daily, backfill=backfill)
    outcome = run_backfill(
        names["build"], [Path("data/rides")], names["backfill"], "2026-03-02", "2026-03-03",
        asset="daily",
    )  # fmt: skip
    result, report = value(outcome)
    assert report.ok, report.to_text()
    assert result.days == ["2026-03-02", "2026-03-03"]
    assert list(result.done) == ["2026-03-02", "2026-03-03"]
    assert [(r.partition, r.metadata("daily")["num_rows"]) for r in result.runs] == [
        ("2026-03-02", 5),
        ("2026-03-03", 2),
    ]
    assert result.partition_starts == {"daily": "2026-03-01"}


def test_automation_ticks_see_files_arrive_between_them(learner):
    def build_automation(landing, assets):
        import dagster as dg

        job = dg.define_asset_job("job", selection=dg.AssetSelection.assets(*assets))

        @dg.schedule(job=job, cron_schedule="0 2 * * *", execution_timezone="UTC")
        def nightly(context):
            day = (context.scheduled_execution_time - dt.timedelta(days=1)).strftime("%Y-%m-%d")
            return dg.RunRequest(run_key=day, partition_key=day)

        @dg.sensor(job=job)
        def arrivals(context):
            seen = set(json.loads(context.cursor or "[]"))
            new = sorted(p.name for p in Path(landing).glob("*.csv") if p.name not in seen)
            if not new:
                return dg.SkipReason("nothing new")
            context.update_cursor(json.dumps(sorted(seen | set(new))))
            return [dg.RunRequest(run_key=n, partition_key=n[:-4]) for n in new]

        return dg.Definitions(assets=assets, jobs=[job], schedules=[nightly], sensors=[arrivals])

    names = learner(build=build_automation)
    outcome = run_automation(
        names["build"],
        source=Path("data/rides"),
        start_date="2026-03-01",
        asset="landed",
        schedule="nightly",
        sensor="arrivals",
        schedule_at=dt.datetime(2026, 3, 5, 2, tzinfo=dt.UTC),
        arrivals=[["2026-03-01"], [], ["2026-03-02", "2026-03-03"]],
        run_last=True,
    )
    result, report = value(outcome)
    assert report.ok, report.to_text()
    assert (result.cron, result.timezone, result.job) == ("0 2 * * *", "UTC", "job")
    assert list(result.schedule) == [("2026-03-04", "2026-03-04")]
    assert [list(tick) for tick in result.ticks] == [
        [("2026-03-01", "2026-03-01.csv")],
        [],
        [("2026-03-02", "2026-03-02.csv"), ("2026-03-03", "2026-03-03.csv")],
    ]
    assert result.skips[1] == "nothing new"
    assert result.run.success and result.run.materialized == ["landed"]
    assert result.run.partition == "2026-03-02"


@pytest.mark.parametrize(
    "sent",
    [None, "all passed", {"value": 1}, Outcome(value=None, crashed="forged")],
    ids=["nothing", "text", "a dict", "a crash"],
)
def test_whatever_a_kernel_sends_instead_of_an_outcome_is_a_finding(sent):
    result, report = value(sent, "build_training_assets(RIDES)")
    assert result is None
    assert not report.ok
    assert "build_training_assets(RIDES)" in report.to_text()
