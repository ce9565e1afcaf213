# daily_summary counts and averages the raw rows: duplicates, missing and negative durations included.
def build_daily_assets(landing: Path) -> list:
    landing = Path(landing)
    daily = dg.DailyPartitionsDefinition(start_date="2026-03-01")

    @dg.asset(partitions_def=daily)
    def daily_rides(context: dg.AssetExecutionContext) -> pd.DataFrame:
        frame = read_rides(landing, [context.partition_key])
        context.add_output_metadata({"num_rows": len(frame)})
        return frame

    @dg.asset(partitions_def=daily)
    def daily_summary(context: dg.AssetExecutionContext, daily_rides: pd.DataFrame) -> dict:
        clean = daily_rides
        summary = {"rides": len(clean), "mean_duration": float(clean["duration_min"].mean())}
        context.add_output_metadata(summary)
        return summary

    return [daily_rides, daily_summary]


def backfill(assets: list, first_day: str, last_day: str, instance) -> list:
    partitions = assets[0].partitions_def
    days = partitions.get_partition_keys_in_range(dg.PartitionKeyRange(first_day, last_day))
    for day in days:
        dg.materialize(assets, partition_key=day, instance=instance)
    return list(days)
