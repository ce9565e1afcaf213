# finding: did not finish within the time limit
import time

import dagster as dg

LINEAGE = {"slow": []}
TIMEOUT = 4  # seconds: the grader must stop it, not wait for it


def build():
    @dg.asset
    def slow() -> int:
        time.sleep(600)
        return 1

    return [slow]
