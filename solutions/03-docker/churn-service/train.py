"""Train the churn model that the service serves, and write its metadata.

    python train.py        # writes data/churn.csv, model/churn-model.joblib, model/metadata.json

The data is synthetic (a fixed seed, so every run gives the same table and the same
model): customers of a subscription service, four numeric features and whether they
left. Training needs only what the service itself needs (numpy, scikit-learn, joblib).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import joblib
import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

HERE = Path(__file__).resolve().parent
FEATURES = ("tenure_months", "monthly_charges", "support_calls", "contract_months")
MODEL_VERSION = "churn-logreg-2026.11"


def make_data(n: int = 2000, seed: int = 42) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    tenure = rng.integers(0, 73, n)
    charges = np.round(rng.uniform(20, 120, n), 2)
    calls = rng.poisson(1.5, n)
    contract = rng.choice([1, 12, 24], n, p=[0.5, 0.3, 0.2])
    logit = 0.2 - 0.05 * tenure + 0.025 * charges + 0.5 * calls - 0.12 * contract
    churned = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int)
    return np.column_stack([tenure, charges, calls, contract]).astype(float), churned


def main() -> None:
    X, y = make_data()
    (HERE / "data").mkdir(exist_ok=True)
    with open(HERE / "data" / "churn.csv", "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow([*FEATURES, "churned"])
        for row, label in zip(X, y, strict=True):
            writer.writerow([int(row[0]), f"{row[1]:.2f}", int(row[2]), int(row[3]), label])

    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=0, stratify=y
    )
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    model.fit(X_train, y_train)
    accuracy = float(model.score(X_test, y_test))

    (HERE / "model").mkdir(exist_ok=True)
    joblib.dump(model, HERE / "model" / "churn-model.joblib")
    metadata = {
        "model_version": MODEL_VERSION,
        "features": list(FEATURES),
        "scikit_learn": sklearn.__version__,
        "test_accuracy": round(accuracy, 4),
    }
    (HERE / "model" / "metadata.json").write_text(json.dumps(metadata, indent=2) + "\n")
    print(json.dumps(metadata))


if __name__ == "__main__":
    main()
