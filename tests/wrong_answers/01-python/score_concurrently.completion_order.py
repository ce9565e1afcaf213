# Collects results with as_completed, i.e. in the order calls finish, not the input order.
from concurrent.futures import ThreadPoolExecutor, as_completed


def score_concurrently(records, predict, max_workers: int = 4) -> list:
    def safe_predict(record):
        try:
            return predict(record)
        except Exception:
            return None

    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        futures = [pool.submit(safe_predict, record) for record in records]
        return [future.result() for future in as_completed(futures)]
