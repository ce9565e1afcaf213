# Lets one failing call raise out of executor.map, losing the whole batch.
from concurrent.futures import ThreadPoolExecutor


def score_concurrently(records, predict, max_workers: int = 4) -> list:
    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        return list(pool.map(predict, records))
