# Drops duplicates on the raw text, so rows that only differ by spaces or case survive twice.
import re


def clean_readings(raw: pd.DataFrame) -> pd.DataFrame:
    df = raw.drop_duplicates().copy()
    df.columns = [re.sub(r"[^0-9a-z]+", "_", str(c).strip().lower()).strip("_") for c in df.columns]
    df["timestamp"] = pd.to_datetime(df["timestamp"], utc=True, errors="coerce", format="ISO8601")
    df["temp_c"] = pd.to_numeric(df["temp_c"], errors="coerce")
    df["device_id"] = df["device_id"].str.strip()
    df["status"] = df["status"].str.strip().str.lower()
    df = df.dropna(subset=["timestamp", "temp_c"])
    return df.sort_values(["timestamp", "device_id"]).reset_index(drop=True)
