"""The churn model: encode features, train, score and evaluate.

Every function is small and pure so that it can be tested on its own; `train.py` chains
them into the training job and `serve.py` uses `predict_proba` to answer requests.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from churn_data import CONTRACTS, TARGET

NUMERIC = ["tenure_months", "monthly_charges", "support_calls"]


def encode(df: pd.DataFrame) -> pd.DataFrame:
    """Model features: the numeric columns, then one 0/1 column per contract type.

    The columns are the same, in the same order, for any batch (even a single row), so a
    model trained on the full table can score one customer at a time.
    """
    features = df[NUMERIC].astype(float)
    for contract in CONTRACTS:
        features[f"contract_{contract}"] = (df["contract"] == contract).astype(float)
    return features


def train(df: pd.DataFrame, seed: int = 42) -> Pipeline:
    """Fit the model on a training table."""
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000, random_state=seed))
    return model.fit(encode(df), df[TARGET])


def predict_proba(model: Pipeline, df: pd.DataFrame) -> np.ndarray:
    """The probability that each customer churns (class 1)."""
    return model.predict_proba(encode(df))[:, 1]


def evaluate(model: Pipeline, df: pd.DataFrame) -> dict[str, float]:
    """Accuracy and churn recall of the model's predictions on a labelled table."""
    predicted = model.predict(encode(df))
    actual = df[TARGET].to_numpy()
    churners = actual == 1
    return {
        "accuracy": float((predicted == actual).mean()),
        "recall": float((predicted[churners] == 1).mean()) if churners.any() else 0.0,
    }
