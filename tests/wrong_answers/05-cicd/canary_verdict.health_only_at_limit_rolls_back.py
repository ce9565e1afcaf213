# Judges service health only (errors, latency), never model accuracy, and rolls back at
# exactly the limit (>=): caught by the hidden cases only.
def canary_verdict(baseline: dict, canary: dict, *, min_requests: int = 500,
                   max_error_increase: float = 0.01, max_latency_ratio: float = 1.2,
                   max_accuracy_drop: float = 0.02) -> str:
    if canary["requests"] < min_requests:
        return "wait"
    baseline_rate = baseline["errors"] / baseline["requests"]
    canary_rate = canary["errors"] / canary["requests"]
    if canary_rate >= baseline_rate + max_error_increase:
        return "rollback"
    if canary["p95_ms"] >= baseline["p95_ms"] * max_latency_ratio:
        return "rollback"
    return "promote"
