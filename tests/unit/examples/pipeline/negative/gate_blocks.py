# finding: blocking asset check failed
import dagster as dg

LINEAGE = {"batch": [], "batch:positive": ["batch"], "training": ["batch"]}


def build():
    @dg.asset
    def batch() -> list:
        return [1, -2, 3]

    @dg.asset_check(asset="batch", blocking=True)
    def positive(batch: list) -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=min(batch) > 0)

    @dg.asset
    def training(batch: list) -> int:
        return len(batch)

    return [batch, positive, training]
