# No retry policy: one network blip fails the whole nightly run.
def build_api_ingest(feed: FlakyFeed, day: str):
    @dg.asset
    def api_rides(context: dg.AssetExecutionContext) -> pd.DataFrame:
        try:
            frame = feed.fetch(day)
        except ValueError as exc:
            raise dg.Failure(
                description=f"bad data from the rides API: {exc}", allow_retries=False
            ) from exc
        context.add_output_metadata({"num_rows": len(frame), "attempt": context.retry_number + 1})
        return frame

    return api_rides
