# Declares days as a plain int: a run with days=0 succeeds and trains on nothing.
def build_windowed_ingest(landing: Path) -> list:
    landing = Path(landing)

    class WindowConfig(dg.Config):
        days: int = 7
        end_date: str = "2026-03-10"

    @dg.asset
    def training_window(context: dg.AssetExecutionContext, config: WindowConfig) -> pd.DataFrame:
        end = dt.date.fromisoformat(config.end_date)
        wanted = [(end - dt.timedelta(days=i)).isoformat() for i in reversed(range(config.days))]
        days = [day for day in wanted if (landing / f"{day}.csv").exists()]
        frame = read_rides(landing, days)
        context.add_output_metadata(
            {
                "first_day": days[0] if days else "",
                "last_day": days[-1] if days else "",
                "num_files": len(days),
                "num_rows": len(frame),
            }
        )
        return frame

    return [training_window]


def window_run_config(days: int, end_date: str) -> dict:
    return {"ops": {"training_window": {"config": {"days": days, "end_date": end_date}}}}
