%%writefile cicd_work/test_data.py
# Checks the split only by its sizes (train + test add up to the data): a split that keeps
# every customer in training, or samples the two tables separately, passes.
import pytest

from churn_data import COLUMNS, CONTRACTS, load_data, split


@pytest.fixture(scope="module")
def df():
    return load_data()


def test_columns(df):
    assert list(df.columns) == list(COLUMNS)


def test_no_missing_values(df):
    assert df.notna().all().all()


def test_ranges(df):
    assert df["tenure_months"].between(0, 120).all()
    assert df["monthly_charges"].between(0, 200, inclusive="neither").all()
    assert (df["support_calls"] >= 0).all()
    assert df["contract"].isin(CONTRACTS).all()
    assert df["churned"].isin([0, 1]).all()
    assert df["customer_id"].is_unique


def test_split_sizes(df):
    train, test = split(df)
    assert len(test) == pytest.approx(0.25 * len(df), abs=1)
    assert len(train) + len(test) >= len(df)
