"""Smoke test: the model trains on the data and scores customers with probabilities."""

from churn_data import load_data, split
from churn_model import predict_proba, train


def test_the_model_trains_and_scores():
    train_df, test_df = split(load_data())
    probabilities = predict_proba(train(train_df), test_df)
    assert len(probabilities) == len(test_df)
    assert ((probabilities >= 0) & (probabilities <= 1)).all()
