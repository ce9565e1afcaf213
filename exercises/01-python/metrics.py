"""Ranking metrics for a recommender's offline evaluation."""


def precision_at_k(recommended: list, relevant: set, k: int) -> float:
    """Fraction of the first ``k`` recommended items that are relevant.

    Always divides by ``k``: a list shorter than ``k`` is penalised for the missing slots.
    Raises ``ValueError`` when ``k`` is not a positive integer.
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    hits = sum(1 for item in recommended[:k] if item in relevant)
    return hits / k
