# A plain loop: correct results, but every call waits for the previous one.
def score_concurrently(records, predict, max_workers: int = 4) -> list:
    results = []
    for record in records:
        try:
            results.append(predict(record))
        except Exception:
            results.append(None)
    return results
