%%writefile cicd_work/test_model.py
# The unit test of encode() looks at the full table only, where every contract type occurs:
# an encoding that depends on the batch (pd.get_dummies) passes (a hidden variant).
import numpy as np
import pytest

from churn_data import load_data, split
from churn_model import encode, evaluate, predict_proba, train


@pytest.fixture(scope="module")
def tables():
    return split(load_data())


@pytest.fixture(scope="module")
def model(tables):
    return train(tables[0])


def test_quality_gate(model, tables):
    assert evaluate(model, tables[1])["accuracy"] >= 0.80


def test_customer_id_is_ignored(model, tables):
    test_df = tables[1]
    renamed = test_df.assign(customer_id="C0000")
    np.testing.assert_allclose(predict_proba(model, renamed), predict_proba(model, test_df))


def test_more_support_calls_raise_the_risk(model, tables):
    test_df = tables[1]
    more = test_df.assign(support_calls=test_df["support_calls"] + 3)
    assert (predict_proba(model, more) >= predict_proba(model, test_df)).all()


def test_encode_columns(tables):
    features = encode(tables[0])
    assert list(features.columns) == [
        "tenure_months", "monthly_charges", "support_calls",
        "contract_month-to-month", "contract_one-year", "contract_two-year",
    ]
    assert (features.filter(like="contract_").sum(axis=1) == 1).all()
