# Retries every error, bad data included: the same unparseable file is fetched four times before failing.
def build_api_ingest(feed: FlakyFeed, day: str):
    @dg.asset(retry_policy=dg.RetryPolicy(max_retries=3, delay=0.2, backoff=dg.Backoff.EXPONENTIAL))
    def api_rides(context: dg.AssetExecutionContext) -> pd.DataFrame:
        frame = feed.fetch(day)
        context.add_output_metadata({"num_rows": len(frame), "attempt": context.retry_number + 1})
        return frame

    return api_rides
