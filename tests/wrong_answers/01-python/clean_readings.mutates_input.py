# Renames the columns of the caller's DataFrame in place instead of working on a copy.
import re


def clean_readings(raw: pd.DataFrame) -> pd.DataFrame:
    raw.columns = [re.sub(r"[^0-9a-z]+", "_", str(c).strip().lower()).strip("_") for c in raw.columns]
    df = raw.copy()
    df["timestamp"] = pd.to_datetime(df["timestamp"], utc=True, errors="coerce", format="ISO8601")
    df["temp_c"] = pd.to_numeric(df["temp_c"], errors="coerce")
    df["device_id"] = df["device_id"].str.strip()
    df["status"] = df["status"].str.strip().str.lower()
    df = df.dropna(subset=["timestamp", "temp_c"]).drop_duplicates()
    return df.sort_values(["timestamp", "device_id"]).reset_index(drop=True)
