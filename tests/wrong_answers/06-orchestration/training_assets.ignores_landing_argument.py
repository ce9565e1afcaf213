# Reads the module's LANDING folder instead of the landing argument (only other data shows it).
def build_training_assets(landing: Path) -> list:
    landing = LANDING

    @dg.asset
    def raw_rides(context: dg.AssetExecutionContext) -> pd.DataFrame:
        frame = read_rides(landing)
        context.add_output_metadata(
            {"num_rows": len(frame), "num_files": len(list(landing.glob("*.csv")))}
        )
        return frame

    @dg.asset
    def clean_rides(context: dg.AssetExecutionContext, raw_rides: pd.DataFrame) -> pd.DataFrame:
        clean = drop_bad_rows(raw_rides)
        context.add_output_metadata(
            {"num_rows": len(clean), "dropped_rows": len(raw_rides) - len(clean)}
        )
        return clean

    @dg.asset
    def ride_features(context: dg.AssetExecutionContext, clean_rides: pd.DataFrame) -> pd.DataFrame:
        features = add_features(clean_rides)
        context.add_output_metadata({"num_rows": len(features)})
        return features

    @dg.asset
    def duration_model(context: dg.AssetExecutionContext, ride_features: pd.DataFrame):
        train, _ = split_last_day(ride_features)
        context.add_output_metadata({"train_rows": len(train)})
        return fit_model(train)

    @dg.asset
    def model_evaluation(
        context: dg.AssetExecutionContext, duration_model, ride_features: pd.DataFrame
    ) -> dict:
        _, test = split_last_day(ride_features)
        scores = score_model(duration_model, test)
        context.add_output_metadata(scores)
        return scores

    return [raw_rides, clean_rides, ride_features, duration_model, model_evaluation]
