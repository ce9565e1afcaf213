# The nightly schedule requests today's partition, whose data is still arriving.
def build_automation(landing: Path, assets: list) -> dg.Definitions:
    landing = Path(landing)
    retrain_job = dg.define_asset_job("retrain_job", selection=dg.AssetSelection.assets(*assets))

    @dg.schedule(job=retrain_job, cron_schedule="0 2 * * *", execution_timezone="UTC")
    def nightly_retrain(context: dg.ScheduleEvaluationContext):
        day = context.scheduled_execution_time.strftime("%Y-%m-%d")
        return dg.RunRequest(run_key=day, partition_key=day)

    @dg.sensor(job=retrain_job, minimum_interval_seconds=60)
    def new_batch_sensor(context: dg.SensorEvaluationContext):
        seen = set(json.loads(context.cursor)) if context.cursor else set()
        new = sorted(p.name for p in landing.glob("*.csv") if p.name not in seen)
        if not new:
            return dg.SkipReason("no new files in the landing zone")
        context.update_cursor(json.dumps(sorted(seen | set(new))))
        return [dg.RunRequest(run_key=name, partition_key=name.removesuffix(".csv")) for name in new]

    return dg.Definitions(
        assets=assets, jobs=[retrain_job], schedules=[nightly_retrain], sensors=[new_batch_sensor]
    )
