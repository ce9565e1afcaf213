"""The scoring service the Docker module packages: POST a customer, get a churn probability.

Run it with `uvicorn serve:app --host 0.0.0.0 --port 8000`.
"""

from __future__ import annotations

from pathlib import Path

import joblib
import pandas as pd
from fastapi import FastAPI
from pydantic import BaseModel, Field

from churn_model import predict_proba

MODEL_PATH = Path(__file__).parent / "models" / "model.joblib"
app = FastAPI(title="churn model")


class Customer(BaseModel):
    customer_id: str
    tenure_months: int = Field(ge=0)
    monthly_charges: float = Field(gt=0)
    support_calls: int = Field(ge=0)
    contract: str


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/predict")
def predict(customer: Customer) -> dict[str, float]:
    model = joblib.load(MODEL_PATH)
    row = pd.DataFrame([customer.model_dump()])
    return {"churn_probability": float(predict_proba(model, row)[0])}
