# finding: step api: raised ConnectionError: the API is down
import dagster as dg

LINEAGE = {"api": []}


def build():
    @dg.asset(retry_policy=dg.RetryPolicy(max_retries=1, delay=0.05))
    def api() -> list:
        raise ConnectionError("the API is down")

    return [api]
