"""The ride-duration model's building blocks, for module 06 (orchestration).

These are the plain functions a training *script* would call one after the other. The
module's exercises do not change them: they turn them into an orchestrated pipeline, where
Dagster decides what runs, in what order, with what data, and records what happened.

Everything here is deliberately small (a few thousand rows, a linear model) so that every
pipeline run takes a second or two.
"""

from __future__ import annotations

import builtins
from pathlib import Path

import dagster as dg
import pandas as pd
from sklearn.linear_model import LinearRegression
from sklearn.metrics import mean_absolute_error

# Absolute, so that it still points at the data when a run happens in another folder.
LANDING = (Path(__file__).parent / "data" / "rides").resolve()
RIDE_COLUMNS = ["ride_id", "started_at", "distance_km", "passengers", "duration_min"]
FEATURES = ["distance_km", "rush_hour", "weekend"]


def read_rides(landing: str | Path, days: list[str] | None = None) -> pd.DataFrame:
    """The raw rides of ``days`` (``"2026-03-04"``, ...) or of every file in ``landing``."""
    landing = Path(landing)
    if days is None:
        files = sorted(landing.glob("*.csv"))
    else:
        files = [landing / f"{day}.csv" for day in days]
    frames = [pd.read_csv(file, dtype={"ride_id": str}) for file in files]
    if not frames:
        return pd.DataFrame(columns=RIDE_COLUMNS)
    return pd.concat(frames, ignore_index=True)


def drop_bad_rows(raw: pd.DataFrame) -> pd.DataFrame:
    """Rides with a distance and a positive duration, each ride once."""
    df = raw.dropna(subset=["distance_km", "duration_min"])
    df = df[(df["distance_km"] > 0) & (df["duration_min"] > 0)]
    return df.drop_duplicates("ride_id").reset_index(drop=True)


def add_features(clean: pd.DataFrame) -> pd.DataFrame:
    """The model's inputs (and its target, ``duration_min``), with the ride's ``day``."""
    started = pd.to_datetime(clean["started_at"])
    hour = started.dt.hour
    return pd.DataFrame(
        {
            "day": started.dt.strftime("%Y-%m-%d"),
            "distance_km": clean["distance_km"].astype(float),
            "rush_hour": (hour.between(7, 9) | hour.between(16, 18)).astype(int),
            "weekend": (started.dt.dayofweek >= 5).astype(int),
            "duration_min": clean["duration_min"].astype(float),
        }
    )


def split_last_day(features: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train on every day but the last; test on the last (the most recent) day."""
    last = features["day"].max()
    return features[features["day"] < last], features[features["day"] == last]


def fit_model(train: pd.DataFrame) -> LinearRegression:
    return LinearRegression().fit(train[FEATURES], train["duration_min"])


def score_model(model: LinearRegression, test: pd.DataFrame) -> dict:
    """``{"mae": ..., "test_rows": ...}`` of ``model`` on ``test``."""
    predicted = model.predict(test[FEATURES])
    return {
        "mae": float(mean_absolute_error(test["duration_min"], predicted)),
        "test_rows": len(test),
    }


class ModelStore(dg.ConfigurableResource):
    """Where models go: an interface. Pipelines ask for a ``ModelStore``; which one they get
    (a local folder, a bucket, an in-memory double in a test) is decided when they run."""

    def save(self, name: str, payload: bytes) -> str:
        """Store ``payload`` under ``name`` (may contain ``/``); return where it went."""
        raise TypeError(f"{type(self).__name__} has no storage: use a subclass of ModelStore")

    def load(self, name: str) -> bytes:
        raise TypeError(f"{type(self).__name__} has no storage: use a subclass of ModelStore")

    def names(self) -> list[str]:
        """Every stored name, sorted."""
        raise TypeError(f"{type(self).__name__} has no storage: use a subclass of ModelStore")


_SHELVES: dict[str, dict[str, bytes]] = {}


class MemoryStore(ModelStore):
    """A test double: keeps models in this Python process, on a named shelf."""

    shelf: str = "default"

    def save(self, name: str, payload: bytes) -> str:
        _SHELVES.setdefault(self.shelf, {})[name] = bytes(payload)
        return f"memory://{self.shelf}/{name}"

    def load(self, name: str) -> bytes:
        return _SHELVES.get(self.shelf, {})[name]

    def names(self) -> list[str]:
        return sorted(_SHELVES.get(self.shelf, {}))


class FlakyFeed:
    """The rides API: serves a day's rides, after failing ``failures`` times with ``error``
    (``ConnectionError``: the network; ``ValueError``: the API sent data it cannot parse),
    an exception class or the name of a built-in one."""

    def __init__(
        self,
        failures: int = 0,
        error: type[Exception] | str = ConnectionError,
        landing: str | Path = LANDING,
    ) -> None:
        self.failures = failures
        self.error = _builtin_error(error) if isinstance(error, str) else error
        self.landing = Path(landing)
        self.calls = 0

    def fetch(self, day: str) -> pd.DataFrame:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error(f"call {self.calls} to the rides API failed")
        return read_rides(self.landing, [day])


def _builtin_error(name: str) -> type[Exception]:
    error = getattr(builtins, name, None)
    if not (isinstance(error, type) and issubclass(error, Exception)):
        raise ValueError(f"{name!r} is not a built-in exception")
    return error
