"""Values between the trusted checker and a learner's kernel, as data and nothing else.

One format for both directions: JSON, where every JSON object is a tagged value
(``{"$dict": [[key, value], ...]}``, ``{"$frame": "<Arrow IPC, base64>"}``, ...) and a
JSON array is a list. What is not data (a function, a fitted model, a class, an open
file) travels as a *handle*: an id into the sender's table of objects, which the receiver
turns into a proxy (:mod:`graders.remote.peer`).

Decoding builds plain values only: numbers, strings, containers, paths, dates, numpy
arrays (``allow_pickle=False``), pandas frames (from Arrow), and the result classes the
graders declare with :func:`remote_data`. It never imports, unpickles or calls anything
the sender names, so a learner's kernel can send wrong answers but no code.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import decimal
import io
import math
import pathlib
from collections.abc import Callable
from typing import Any

MAX_DEPTH = 64

# Result classes graders return from code that runs beside a learner's objects (see
# ``graders.remote.student_side``), by qualified name: the only classes decoding builds.
REMOTE_DATA: dict[str, type] = {}


def remote_data(cls: type) -> type:
    """Declare a dataclass of plain values as data that may cross between the sides."""
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls.__name__} must be a dataclass to cross as data")
    REMOTE_DATA[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return cls


class CodecError(ValueError):
    """A message that is not in the format (from a learner's kernel: it is a finding)."""


Export = Callable[[Any], dict]  # an object that is not data -> its handle descriptor
Import = Callable[[dict], Any]  # a handle descriptor -> a proxy, or one of our own objects


def encode(value: Any, export: Export, depth: int = 0) -> Any:
    """``value`` as JSON-able data; objects that are not data become handles."""
    if depth > MAX_DEPTH:
        raise CodecError("the value is nested too deeply to send")
    kind = type(value)
    if value is None or kind in (bool, str):
        return value
    if kind is int:
        return value
    if kind is float:
        return value if math.isfinite(value) else {"$float": repr(value)}
    if kind is list:
        return [encode(item, export, depth + 1) for item in value]
    if kind is tuple:
        return {"$tuple": [encode(item, export, depth + 1) for item in value]}
    if kind is dict:
        return {
            "$dict": [
                [encode(k, export, depth + 1), encode(v, export, depth + 1)]
                for k, v in value.items()
            ]
        }
    if kind in (set, frozenset):
        return {f"${kind.__name__}": [encode(item, export, depth + 1) for item in value]}
    if kind in (bytes, bytearray):
        return {"$bytes": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, pathlib.PurePath):
        return {"$path": str(value)}
    if kind is dt.datetime:
        return {"$datetime": value.isoformat()}
    if kind is dt.date:
        return {"$date": value.isoformat()}
    if kind is dt.time:
        return {"$time": value.isoformat()}
    if kind is dt.timedelta:
        return {"$timedelta": [value.days, value.seconds, value.microseconds]}
    if kind is decimal.Decimal:
        return {"$decimal": str(value)}
    qualified = f"{kind.__module__}.{kind.__qualname__}"
    if qualified in REMOTE_DATA and kind is REMOTE_DATA[qualified]:
        return {
            "$data": qualified,
            "fields": {
                f.name: encode(getattr(value, f.name), export, depth + 1)
                for f in dataclasses.fields(value)
            },
        }
    encoded = _encode_numeric(value, kind)
    if encoded is not None:
        return encoded
    return export(value)


def is_data(value: Any) -> bool:
    """``value`` crosses as data (no part of it would become a handle)."""

    def refuse(_: Any) -> dict:
        raise CodecError("not data")

    try:
        encode(value, refuse)
    except CodecError:
        return False
    return True


def _encode_numeric(value: Any, kind: type) -> dict | None:
    """numpy and pandas values, without importing either unless the value is theirs."""
    module = kind.__module__.split(".", 1)[0]
    if module == "numpy":
        import numpy as np

        if isinstance(value, np.ndarray) and value.dtype != object:
            buffer = io.BytesIO()
            np.save(buffer, value, allow_pickle=False)
            return {"$ndarray": base64.b64encode(buffer.getvalue()).decode()}
        if isinstance(value, np.generic) and not isinstance(value, np.object_):
            return {"$np": [value.dtype.str, _scalar(value.item())]}
        return None
    if module == "pandas":
        import pandas as pd

        if value is pd.NaT:
            return {"$nat": True}
        if isinstance(value, pd.Timestamp):
            return {"$timestamp": [value.value, str(value.tz) if value.tz else None]}
        if isinstance(value, pd.Timedelta):
            return {"$pdtimedelta": value.value}
        if isinstance(value, (pd.DataFrame, pd.Series)):
            return _encode_frame(value)
    return None


def _scalar(item: Any) -> Any:
    if isinstance(item, float) and not math.isfinite(item):
        return {"$float": repr(item)}
    if isinstance(item, (bytes, bytearray)):
        return {"$bytes": base64.b64encode(bytes(item)).decode()}
    if isinstance(item, (dt.datetime, dt.date, dt.timedelta)):
        return {"$text": str(item)}
    return item


def _encode_frame(value: Any) -> dict | None:
    """A DataFrame or Series as Arrow IPC; None (a handle) when Arrow cannot hold it."""
    import pandas as pd
    import pyarrow as pa

    frame = (
        value.to_frame(name="__series__" if value.name is None else value.name)
        if (isinstance(value, pd.Series))
        else value
    )
    try:
        table = pa.Table.from_pandas(frame, preserve_index=True)
    except (pa.ArrowException, TypeError, ValueError):
        return None
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    payload = base64.b64encode(sink.getvalue().to_pybytes()).decode()
    if isinstance(value, pd.Series):
        return {"$series": payload, "unnamed": value.name is None}
    return {"$frame": payload}


# Long by design: one branch per type tag of the wire format, mirroring encode(), so that
# what may cross the link can be read in one place.
def decode(data: Any, import_handle: Import, depth: int = 0) -> Any:
    """Build the value ``data`` describes, from plain types only."""
    if depth > MAX_DEPTH:
        raise CodecError("the value is nested too deeply")
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    if isinstance(data, list):
        return [decode(item, import_handle, depth + 1) for item in data]
    if not isinstance(data, dict) or not 1 <= len(data) <= 6:
        raise CodecError(f"not a value: {str(data)[:80]}")
    tag = next((key for key in data if key.startswith("$")), None)
    if tag is None:
        raise CodecError(f"an object without a type tag: {str(data)[:80]}")
    body = data[tag]
    inner = lambda item: decode(item, import_handle, depth + 1)  # noqa: E731
    if tag == "$dict":
        return {_hashable(inner(k)): inner(v) for k, v in _pairs(body)}
    if tag == "$tuple":
        return tuple(inner(item) for item in _items(body))
    if tag == "$set":
        return {_hashable(inner(item)) for item in _items(body)}
    if tag == "$frozenset":
        return frozenset(_hashable(inner(item)) for item in _items(body))
    if tag == "$float":
        if body not in ("nan", "inf", "-inf"):
            raise CodecError(f"not a float: {body!r}")
        return float(body)
    if tag == "$bytes":
        return base64.b64decode(_text(body))
    if tag == "$text":
        return _text(body)
    if tag == "$path":
        return pathlib.Path(_text(body))
    if tag == "$datetime":
        return dt.datetime.fromisoformat(_text(body))
    if tag == "$date":
        return dt.date.fromisoformat(_text(body))
    if tag == "$time":
        return dt.time.fromisoformat(_text(body))
    if tag == "$timedelta":
        days, seconds, micro = (int(x) for x in _items(body))
        return dt.timedelta(days=days, seconds=seconds, microseconds=micro)
    if tag == "$decimal":
        return decimal.Decimal(_text(body))
    if tag == "$data":
        cls = REMOTE_DATA.get(_text(body))
        if cls is None:
            raise CodecError(f"{body!r} is not a data class the graders declare")
        fields = data.get("fields")
        if not isinstance(fields, dict):
            raise CodecError("a data class without fields")
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{name: inner(value) for name, value in fields.items() if name in known})
    if tag in ("$ndarray", "$np"):
        return _decode_numpy(tag, body)
    if tag in ("$nat", "$timestamp", "$pdtimedelta", "$frame", "$series"):
        return _decode_pandas(tag, body, data)
    if tag in ("$handle", "$yours"):
        return import_handle(data)
    raise CodecError(f"unknown type tag {tag!r}")


def _decode_numpy(tag: str, body: Any) -> Any:
    import numpy as np

    if tag == "$ndarray":
        return np.load(io.BytesIO(base64.b64decode(_text(body))), allow_pickle=False)
    dtype, item = _items(body)
    numpy_type = np.dtype(_text(dtype))
    if numpy_type.kind in "OV":
        raise CodecError(f"not a plain numpy type: {dtype!r}")
    if isinstance(item, dict):
        item = decode(item, lambda _: None)
    return numpy_type.type(item)


def _decode_pandas(tag: str, body: Any, data: dict) -> Any:
    import pandas as pd

    if tag == "$nat":
        return pd.NaT
    if tag == "$timestamp":
        value, tz = _items(body)
        return pd.Timestamp(int(value), tz=_text(tz) if tz is not None else None)
    if tag == "$pdtimedelta":
        return pd.Timedelta(int(body))
    import pyarrow as pa

    reader = pa.ipc.open_stream(pa.py_buffer(base64.b64decode(_text(body))))
    frame = reader.read_all().to_pandas()
    if tag == "$series":
        series = frame.iloc[:, 0]
        return series.rename(None) if data.get("unnamed") else series
    return frame


def _items(body: Any) -> list:
    if not isinstance(body, list):
        raise CodecError(f"expected a list, found {type(body).__name__}")
    return body


def _pairs(body: Any) -> list:
    pairs = _items(body)
    if not all(isinstance(pair, list) and len(pair) == 2 for pair in pairs):
        raise CodecError("a dict must be a list of [key, value] pairs")
    return pairs


def _text(body: Any) -> str:
    if not isinstance(body, str):
        raise CodecError(f"expected text, found {type(body).__name__}")
    return body


def _hashable(key: Any) -> Any:
    """Keys decoded as lists (JSON has no tuples inside keys) become tuples."""
    if isinstance(key, list):
        return tuple(_hashable(item) for item in key)
    if isinstance(key, (dict, set)):
        raise CodecError("a dict key or set member that cannot be hashed")
    return key
