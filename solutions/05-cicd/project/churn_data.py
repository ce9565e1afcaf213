"""The churn data: its contract (columns, types, allowed values), loading and splitting.

Kept apart from the model so that data checks run without importing scikit-learn, and so
that the data contract is written down in one place that tests and code share.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

DATA = Path(__file__).parent / "data" / "churn.csv"
# Every column the data must have, with its pandas dtype.
COLUMNS = {
    "customer_id": "object",
    "tenure_months": "int64",
    "monthly_charges": "float64",
    "support_calls": "int64",
    "contract": "object",
    "churned": "int64",
}
CONTRACTS = ("month-to-month", "one-year", "two-year")
TARGET = "churned"


def load_data(path: Path = DATA) -> pd.DataFrame:
    """The customer table, one row per customer."""
    return pd.read_csv(path, dtype={"customer_id": str, "contract": str})


def split(df: pd.DataFrame, test_size: float = 0.25, seed: int = 42):
    """Split customers into a training and a test table; each customer lands in exactly one."""
    test = df.sample(frac=test_size, random_state=seed)
    train = df.drop(index=test.index)
    return train.reset_index(drop=True), test.reset_index(drop=True)
