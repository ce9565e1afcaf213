# Fails on its first attempt and succeeds on the retry: one retry recorded, metadata attempt=2.
import dagster as dg

LINEAGE = {"flaky": []}
METADATA = {"flaky": {"attempt": 2}}
RETRIES = {"flaky": 1}


def build():
    @dg.asset(retry_policy=dg.RetryPolicy(max_retries=2, delay=0.05))
    def flaky(context: dg.AssetExecutionContext) -> int:
        if context.retry_number == 0:
            raise ConnectionError("first call times out")
        context.add_output_metadata({"attempt": context.retry_number + 1})
        return 1

    return [flaky]
