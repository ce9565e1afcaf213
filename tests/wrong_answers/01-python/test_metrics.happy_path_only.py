%%writefile python_work/test_metrics.py
# Tests only ordinary inputs, so bugs on short lists and invalid k go unnoticed.
from metrics import precision_at_k


def test_half_of_the_top_two():
    assert precision_at_k(["a", "x", "b"], {"a", "b"}, 2) == 0.5


def test_all_relevant():
    assert precision_at_k(["a", "b"], {"a", "b"}, 2) == 1.0


def test_none_relevant():
    assert precision_at_k(["x", "y"], {"a"}, 2) == 0.0
