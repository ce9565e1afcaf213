# Averages the lead time (mean, not median), so the one change that waited 190 hours
# makes the team look four times slower than it usually is.
def delivery_metrics(log: pd.DataFrame, period_days: int = 28) -> dict:
    production = log[log["environment"] == "production"]
    committed = pd.to_datetime(production["commit_at"], utc=True)
    deployed = pd.to_datetime(production["deployed_at"], utc=True)
    restored = pd.to_datetime(production["restored_at"], utc=True)
    ok = production["status"] == "success"
    failed = production["status"] == "failed"
    lead = (deployed[ok] - committed[ok]).dt.total_seconds() / 3600
    restore = (restored[failed] - deployed[failed]).dt.total_seconds() / 3600
    return {
        "deployments_per_week": len(production) / period_days * 7,
        "lead_time_hours": float(lead.mean()),
        "change_failure_rate": float(failed.mean()),
        "time_to_restore_hours": float(restore.median()) if failed.any() else None,
    }
