# Right on the four-week log, but returns NaN (not None) for the time to restore when no
# production deployment failed, and ignores the UTC offsets (hidden cases).
def delivery_metrics(log: pd.DataFrame, period_days: int = 28) -> dict:
    production = log[log["environment"] == "production"]
    committed = pd.to_datetime(production["commit_at"].str[:19])
    deployed = pd.to_datetime(production["deployed_at"].str[:19])
    restored = pd.to_datetime(production["restored_at"].str[:19])
    ok = production["status"] == "success"
    failed = production["status"] == "failed"
    lead = (deployed[ok] - committed[ok]).dt.total_seconds() / 3600
    restore = (restored[failed] - deployed[failed]).dt.total_seconds() / 3600
    return {
        "deployments_per_week": len(production) / period_days * 7,
        "lead_time_hours": float(lead.median()),
        "change_failure_rate": float(failed.sum() / len(production)),
        "time_to_restore_hours": float(restore.median()),
    }
