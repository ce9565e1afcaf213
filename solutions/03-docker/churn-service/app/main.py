"""The churn-prediction service: the HTTP face of the model in model/churn-model.joblib.

    uvicorn app.main:app --host 0.0.0.0 --port 8000

GET  /health    200 {"status": "ok", "model_version": ...} once the model is loaded
POST /predict   {"customers": [{"tenure_months": 3, "monthly_charges": 95.5,
                                "support_calls": 4, "contract_months": 1}, ...]}
                200 {"model_version": ..., "predictions": [{"churn": true, "probability": 0.93}]}

Configuration comes from environment variables, so one image runs unchanged on a laptop,
in CI and in production:

MODEL_PATH  the trained model (default model/churn-model.joblib, relative to the working
            directory); model/metadata.json next to it names the model version
LOG_LEVEL   debug, info, warning or error (default info)
"""

from __future__ import annotations

import json
import logging
import os
from contextlib import asynccontextmanager
from pathlib import Path

import joblib
import numpy as np
from fastapi import FastAPI
from pydantic import BaseModel, Field

FEATURES = ("tenure_months", "monthly_charges", "support_calls", "contract_months")
logger = logging.getLogger("churn_service")


class Customer(BaseModel):
    tenure_months: int = Field(ge=0, le=600)
    monthly_charges: float = Field(ge=0)
    support_calls: int = Field(ge=0)
    contract_months: int = Field(ge=1, le=36)


class PredictRequest(BaseModel):
    customers: list[Customer] = Field(min_length=1, max_length=1000)


class Prediction(BaseModel):
    churn: bool
    probability: float


class PredictResponse(BaseModel):
    model_version: str
    predictions: list[Prediction]


def configure_logging() -> None:
    """Log to stderr, which is what `docker logs` shows; the level comes from LOG_LEVEL."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.handlers[:] = [handler]
    logger.setLevel(os.environ.get("LOG_LEVEL", "info").upper())
    logger.propagate = False


@asynccontextmanager
async def lifespan(app: FastAPI):
    configure_logging()
    path = Path(os.environ.get("MODEL_PATH", "model/churn-model.joblib"))
    app.state.model = joblib.load(path)  # a missing model stops the service at startup
    metadata = path.with_name("metadata.json")
    app.state.version = (
        json.loads(metadata.read_text())["model_version"] if metadata.exists() else path.stem
    )
    logger.info("loaded model %s (version %s)", path, app.state.version)
    yield


app = FastAPI(title="churn-service", lifespan=lifespan)


@app.get("/health")
def health() -> dict:
    return {"status": "ok", "model_version": app.state.version}


@app.post("/predict", response_model=PredictResponse)
def predict(request: PredictRequest) -> PredictResponse:
    X = np.array([[getattr(c, name) for name in FEATURES] for c in request.customers], dtype=float)
    labels = app.state.model.predict(X)
    probabilities = app.state.model.predict_proba(X)[:, 1]
    logger.info("scored %d customers", len(X))
    return PredictResponse(
        model_version=app.state.version,
        predictions=[
            Prediction(churn=bool(label), probability=round(float(p), 4))
            for label, p in zip(labels, probabilities, strict=True)
        ],
    )
