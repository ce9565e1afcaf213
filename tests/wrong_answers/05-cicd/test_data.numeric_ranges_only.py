%%writefile cicd_work/test_data.py
# Checks the numeric columns against a lower bound only and never checks `contract`: an
# unknown contract type or charges exported in cents go unnoticed (hidden variants).
import pytest

from churn_data import COLUMNS, load_data, split


@pytest.fixture(scope="module")
def df():
    return load_data()


def test_columns(df):
    assert list(df.columns) == list(COLUMNS)


def test_tenure_in_range(df):
    assert df["tenure_months"].between(0, 120).all()


def test_charges_and_calls_not_negative(df):
    assert (df["monthly_charges"] > 0).all()
    assert (df["support_calls"] >= 0).all()
    assert df["churned"].isin([0, 1]).all()


def test_split_is_disjoint(df):
    train, test = split(df)
    assert not set(train["customer_id"]) & set(test["customer_id"])
    assert len(train) + len(test) == len(df)
