%%writefile python_work/test_metrics.py
# Expects a short list to be divided by its own length, so the tests fail on correct code.
import pytest

from metrics import precision_at_k


def test_short_list():
    assert precision_at_k(["a"], {"a", "b"}, 4) == 1.0


def test_first_k_only():
    assert precision_at_k(["a", "x", "b"], {"a", "b"}, 2) == 0.5


def test_invalid_k():
    with pytest.raises(ValueError):
        precision_at_k(["a"], {"a"}, 0)
