"""Training job: train on the training split, report test metrics, save the model.

Run it with `python train.py`: it writes models/model.joblib and models/metrics.json.
"""

from __future__ import annotations

import json
from pathlib import Path

import joblib

from churn_data import load_data, split
from churn_model import evaluate, train

MODELS = Path(__file__).parent / "models"


def main() -> dict[str, float]:
    train_df, test_df = split(load_data())
    model = train(train_df)
    metrics = evaluate(model, test_df)
    MODELS.mkdir(exist_ok=True)
    joblib.dump(model, MODELS / "model.joblib")
    (MODELS / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    return metrics


if __name__ == "__main__":
    print(json.dumps(main()))
