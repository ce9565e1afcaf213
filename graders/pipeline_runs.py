"""Dagster runs that a check makes beside the learner's definitions (module 06).

A check of 06-orchestration runs in the trusted checker (docs/security.md), where the
learner's builders are proxies: nothing of theirs can be materialised there. Each function
here is declared ``@learner_side``: called with a learner's builder, it runs in the learner's
kernel, makes the scenario's Dagster runs in an isolated child
(:func:`graders.pipeline.run_isolated`: a fresh temporary folder, a time limit, Dagster's
log kept away from the notebook) and returns the child's :class:`~graders.pipeline.Outcome`
as data: summaries of the runs, the asset graph, what the stores hold. The check judges
that against values it computed itself. In a learner's own kernel the same call runs there.

Everything a scenario varies (the folder it reads, the days, the failures, what a store
holds) is an argument the check passes, so no hidden test's input is written here. Two kinds
of argument describe what the child makes:

* :class:`Fixture`: an asset of the check's, named by its key, that returns a value (data)
  after the assets it depends on;
* :class:`Made`: an object made in the child by calling a learner's class, or a
  ``"module.name"`` of the module's own support code (``"rides.MemoryStore"``), then the
  given methods on it. What it holds after the runs comes back as :class:`MadeState`.

A relative ``Path`` among a builder's arguments is the notebook folder's (resolved before the
child changes folder); a string is used as it is, so a store's ``root="models"`` lands in
the child's own folder.
"""

from __future__ import annotations

import datetime as dt
import importlib
import shutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any

from graders.pipeline import (
    RUN_TIMEOUT,
    Outcome,
    RunSummary,
    StepError,
    flatten,
    lineage,
    materialize,
    run_isolated,
    summarize,
    summarize_runs,
)
from graders.remote import learner_side, remote_data
from graders.remote.codec import is_data
from graders.report import short_repr

MAX_FILE_BYTES = 2**20  # a file the runs left, or a stored item, larger than this: no content
DAGSTER_FOLDERS = ("storage", "history", "schedules")  # the ephemeral instance's own files


@remote_data
@dataclass(frozen=True)
class Fixture:
    """An asset of the check's: returns ``value`` after the assets named in ``deps``."""

    value: Any = None
    deps: tuple[str, ...] = ()


@remote_data
@dataclass(frozen=True)
class Made:
    """An object the child makes: ``maker(**kwargs)``, then ``method(*args)`` for each call."""

    maker: Any  # a learner's class, or "module.name" of the module's support code
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    calls: Sequence[tuple[str, Sequence[Any]]] = ()


@remote_data
@dataclass(frozen=True)
class MadeState:
    """A made object after the runs: its public data attributes and, for a store (one with
    ``names()`` and ``load(name)``), what it holds."""

    attributes: Mapping[str, Any] = field(default_factory=dict)
    stored: Mapping[str, bytes | None] | None = None


@remote_data
@dataclass(frozen=True)
class AssetRuns:
    """What :func:`run_assets` saw."""

    lineage: Mapping[str, list[str]]  # the learner's definitions only
    runs: Sequence[RunSummary]
    made: Mapping[str, MadeState]  # "argument 1", or a resource's key
    files: Mapping[str, bytes | None]  # files the runs left in their folder (not Dagster's)
    retry_policies: Mapping[str, tuple | None]  # asset -> (max_retries, delay, backoff)
    partition_starts: Mapping[str, str]  # partitioned asset -> its first partition


@remote_data
@dataclass(frozen=True)
class Backfill:
    """What :func:`run_backfill` saw."""

    days: Any  # what the learner's backfill returned (a list of partition keys)
    runs: Sequence[RunSummary]  # every run the instance recorded, oldest first
    done: Sequence[str]  # the materialised partitions of the asset named
    partition_starts: Mapping[str, str]


@remote_data
@dataclass(frozen=True)
class Automation:
    """What :func:`run_automation` saw: one schedule tick, then one sensor tick per arrival."""

    cron: str
    timezone: str | None
    job: str
    sensor_job: str
    schedule: Sequence[tuple[str | None, str | None]]  # (partition_key, run_key) requested
    ticks: Sequence[Sequence[tuple[str | None, str | None]]]
    skips: Sequence[str | None]
    run: RunSummary | None = None  # the job run for the last tick's first request


# -- the scenarios -----------------------------------------------------------------------------


@learner_side
def run_assets(
    build: Callable[..., Any],
    args: Sequence[Any] = (),
    *,
    run_configs: Sequence[Mapping[str, Any] | None] = (None,),
    fixtures: Mapping[str, Fixture] | None = None,
    resources: Mapping[str, Any] | None = None,
    timeout: float = RUN_TIMEOUT,
) -> Outcome:
    """``build(*args)``'s definitions with the check's ``fixtures``, materialised once per run
    config (none: the definitions are only built) with ``resources``."""
    args = [_notebook_path(a) for a in args]
    fixtures = dict(fixtures or {})
    resources = dict(resources or {})
    _resolve_makers([*args, *resources.values()])

    def scenario() -> AssetRuns:
        made: dict[str, Any] = {}
        built = [_make(arg, f"argument {i + 1}", made) for i, arg in enumerate(args)]
        definitions = flatten([build(*built)])
        own = [_fixture_asset(name, fixture) for name, fixture in fixtures.items()]
        live = {key: _make(spec, key, made) for key, spec in resources.items()}
        runs = [
            materialize([*own, *definitions], resources=live or None, run_config=config)
            for config in run_configs
        ]
        return AssetRuns(
            lineage=lineage(definitions),
            runs=runs,
            made={key: _state(value) for key, value in made.items()},
            files=_files_left(Path.cwd()),
            retry_policies=_retry_policies(definitions),
            partition_starts=_partition_starts(definitions),
        )

    return _run(scenario, [build], timeout)


@learner_side
def run_backfill(
    build: Callable[..., Any],
    args: Sequence[Any],
    backfill: Callable[..., Any],
    first_day: str,
    last_day: str,
    *,
    asset: str,
    timeout: float = RUN_TIMEOUT,
) -> Outcome:
    """``backfill(build(*args), first_day, last_day, instance)`` on a fresh instance, and the
    runs it recorded."""
    args = [_notebook_path(a) for a in args]

    def scenario() -> Backfill:
        import dagster as dg

        definitions = flatten([build(*args)])
        instance = dg.DagsterInstance.ephemeral(tempdir=str(Path.cwd()))
        days = backfill(definitions, first_day, last_day, instance)
        done = instance.get_materialized_partitions(dg.AssetKey(asset.split("/")))
        return Backfill(
            days=_keys(days),
            runs=summarize_runs(instance),
            done=sorted(str(day) for day in done),
            partition_starts=_partition_starts(definitions),
        )

    return _run(scenario, [build, backfill], timeout)


# Long because ``scenario`` runs in a forked child (graders.remote's learner_side): Dagster
# and the definitions it evaluates must be built there, closing over the check's arguments.
@learner_side
def run_automation(
    build: Callable[..., Any],
    *,
    source: Path,
    start_date: str,
    asset: str,
    schedule: str,
    sensor: str,
    schedule_at: dt.datetime,
    arrivals: Sequence[Sequence[str]],
    run_last: bool = False,
    timeout: float = RUN_TIMEOUT,
) -> Outcome:
    """``build(landing, [asset])``: the Definitions' schedule evaluated at ``schedule_at``,
    then its sensor once after each arrival of day files (copied from ``source`` into the
    empty landing folder), each tick with the cursor the one before left. With
    ``run_last``, the job of the last tick's first request is run for its partition.

    ``asset`` is the check's: daily partitions from ``start_date``, each the number of rows
    of its day's file in the landing folder."""
    source = _notebook_path(source)

    def scenario() -> Automation:
        import dagster as dg
        import pandas as pd

        land = Path("landing").resolve()
        land.mkdir()
        daily = dg.DailyPartitionsDefinition(start_date=start_date)

        # no annotations: this module's are strings, which Dagster resolves in its globals
        @dg.asset(name=asset, partitions_def=daily)
        def landed(context):
            return len(pd.read_csv(land / f"{context.partition_key}.csv"))

        definitions = build(land, [landed])
        repository = definitions.get_repository_def()
        nightly = definitions.get_schedule_def(schedule)
        watcher = definitions.get_sensor_def(sensor)
        scheduled = nightly.evaluate_tick(
            dg.build_schedule_context(
                scheduled_execution_time=schedule_at, repository_def=repository
            )
        )
        cursor, ticks, skips, tick = None, [], [], None
        for days in arrivals:
            for day in days:
                shutil.copy(Path(source) / f"{day}.csv", land)
            tick = watcher.evaluate_tick(
                dg.build_sensor_context(cursor=cursor, repository_def=repository)
            )
            cursor = tick.cursor
            ticks.append(_requests(tick))
            skips.append(tick.skip_message)
        run = None
        if run_last and tick is not None and tick.run_requests:
            request = tick.run_requests[0]
            result = definitions.resolve_job_def(watcher.job_name).execute_in_process(
                partition_key=request.partition_key,
                raise_on_error=False,
                instance=dg.DagsterInstance.ephemeral(tempdir=str(Path.cwd())),
            )
            run = summarize(result)
        return Automation(
            cron=str(nightly.cron_schedule),
            timezone=nightly.execution_timezone,
            job=nightly.job_name,
            sensor_job=watcher.job_name,
            schedule=_requests(scheduled),
            ticks=ticks,
            skips=skips,
            run=run,
        )

    return _run(scenario, [build], timeout)


# -- helpers (in the learner's kernel) ---------------------------------------------------------


def _run(scenario: Callable[[], Any], learner: Iterable[Any], timeout: float) -> Outcome:
    """``scenario`` in an isolated child; refused at once when what should be the learner's
    function is not one (an answer cell that binds data: then nothing of theirs can run)."""
    for value in learner:
        if not callable(value):
            return Outcome(
                error=StepError(
                    "(scenario)", "TypeError", f"{short_repr(value, 60)} is not a function"
                )
            )
    return run_isolated(scenario, timeout=timeout)


def _notebook_path(value: Any) -> Any:
    """A relative path is the notebook folder's, before the child moves to its own."""
    if isinstance(value, PurePath) and not Path(value).is_absolute():
        return Path(value).resolve()
    return value


def _resolve_makers(values: Iterable[Any]) -> None:
    """Import the support code a Made names before the child starts (not learner code)."""
    for value in values:
        if isinstance(value, Made) and isinstance(value.maker, str):
            _named(value.maker)


def _named(name: str) -> Any:
    module, _, attribute = name.rpartition(".")
    if not module:
        raise ValueError(f"{name!r}: name a module's attribute, as 'rides.MemoryStore'")
    return getattr(importlib.import_module(module), attribute)


def _make(value: Any, key: str, made: dict[str, Any]) -> Any:
    if not isinstance(value, Made):
        return value
    maker = _named(value.maker) if isinstance(value.maker, str) else value.maker
    made[key] = obj = maker(**dict(value.kwargs))
    for method, call_args in value.calls:
        getattr(obj, method)(*call_args)
    return obj


def _fixture_asset(name: str, fixture: Fixture) -> Any:
    import dagster as dg

    value = fixture.value

    @dg.asset(name=name, deps=list(fixture.deps) or None)
    def _fixture():  # no annotation: see landed
        return value

    return _fixture


def _state(obj: Any) -> MadeState:
    attributes = {
        str(name): value
        for name, value in (getattr(obj, "__dict__", None) or {}).items()
        if not str(name).startswith("_") and is_data(value)
    }
    stored: dict[str, bytes | None] | None = None
    if callable(getattr(obj, "names", None)) and callable(getattr(obj, "load", None)):
        try:
            stored = {}
            for name in list(obj.names())[:200]:
                payload = obj.load(name)
                stored[str(name)] = (
                    bytes(payload)
                    if isinstance(payload, (bytes, bytearray)) and len(payload) <= MAX_FILE_BYTES
                    else None
                )
        except Exception:
            stored = None
    return MadeState(attributes=attributes, stored=stored)


def _files_left(folder: Path) -> dict[str, bytes | None]:
    """Every regular file under ``folder`` (the child's), Dagster's own folders excepted."""
    files: dict[str, bytes | None] = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if relative.parts[0] in DAGSTER_FOLDERS or path.is_symlink() or not path.is_file():
            continue
        size = path.stat().st_size
        files[relative.as_posix()] = path.read_bytes() if size <= MAX_FILE_BYTES else None
        if len(files) >= 500:
            break
    return files


def _retry_policies(definitions: Iterable[Any]) -> dict[str, tuple | None]:
    policies: dict[str, tuple | None] = {}
    for item in definitions:
        try:
            policy = item.op.retry_policy
            keys = [key.to_user_string() for key in item.keys]
        except Exception:
            continue
        for key in keys:
            policies[key] = (
                None if policy is None else (policy.max_retries, policy.delay, str(policy.backoff))
            )
    return policies


def _partition_starts(definitions: Iterable[Any]) -> dict[str, str]:
    starts: dict[str, str] = {}
    for item in definitions:
        partitions = getattr(item, "partitions_def", None)
        if partitions is None:
            continue
        try:
            first = str(partitions.get_first_partition_key())
            keys = [key.to_user_string() for key in item.keys]
        except Exception:
            continue
        for key in keys:
            starts[key] = first
    return starts


def _keys(days: Any) -> Any:
    """What a learner's backfill returned, as a list of partition keys where it is one."""
    try:
        return [day if isinstance(day, str) else str(day) for day in list(days)]
    except TypeError:
        return short_repr(days, 60)


def _requests(tick: Any) -> list[tuple[str | None, str | None]]:
    return [(r.partition_key, r.run_key) for r in (tick.run_requests or [])]
